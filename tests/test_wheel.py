"""The wheel built from the clone works without it: installed non-editable into a folder of its own and run from a
directory outside the clone, ``lit-jepa bench --help``, the shipped recipes and suites, ``fit --print_config`` on a
resolved recipe, and a tiny bench suite all work."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY_SUITE = "suite: tiny\nruns:\n  - {name: data, kind: toyworld, params: {tasks: [motion], num: {motion: 4}}}\n"


def clone_files() -> list[str]:
    """The files a fresh clone of this checkout would hold (tracked, and untracked files git does not ignore)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_the_wheel_runs_outside_the_clone(tmp_path):
    source = tmp_path / "clone"
    for name in clone_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("lit_jepa-*.whl"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=outside, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    lit_jepa = [sys.executable, "-c", "import sys; from lit_jepa.cli import main; sys.exit(main())"]
    assert "--suite" in run(*lit_jepa, "bench", "--help")
    where = run(sys.executable, "-c", "import lit_jepa.bench.runner as r; from lit_jepa.recipes import resolve; "
                "print(resolve('toy/pretrain-vitt-64px-16f')); print(r.suite_names()); print(r.__file__)")
    recipe, suites, runner = where.splitlines()
    assert recipe.startswith(str(site)) and runner.startswith(str(site))  # the wheel's files, not the clone's
    assert suites == str(["encoders", "perf", "planning", "probe", "toy", "toy-full"])
    assert "JepaPretrain" in run(*lit_jepa, "fit", "--config", recipe, "--print_config")
    (outside / "tiny.yaml").write_text(TINY_SUITE)
    run(*lit_jepa, "bench", "--suite", "tiny.yaml", "--workdir", "work")
    assert (outside / "work" / "records" / "tiny" / "data.json").is_file()
    assert sorted(p.name for p in outside.iterdir()) == ["tiny.yaml", "work"]  # nothing written beside the workdir
