"""``lit-jepa data toyworld`` and the generate-once cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lit_jepa.cli import dispatch
from lit_jepa.data.toyworld import ensure_generated, generate
from lit_jepa.data.toyworld.writers import WRITERS


def test_cli_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["data", "toyworld", "--task", "fine", "--out", str(tmp_path / "fine"), "--num", "3",
                     "--seed", "1"]) == 0
    manifest = json.loads((tmp_path / "fine" / "toyworld.json").read_text())
    assert manifest["num"] == {"train": 3, "val": 1} and manifest["seed"] == 1
    assert len(json.loads((tmp_path / "fine" / "Diving48_V2_train.json").read_text())) == 3
    assert "frames/s" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown ToyWorld task 'nope'"):
        dispatch(["data", "toyworld", "--task", "nope", "--out", str(tmp_path)])


def test_ensure_generated_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIT_JEPA_CACHE", str(tmp_path / "cache"))
    train = ensure_generated("motion", num=4, seed=3)
    assert train.name == "train.csv" and train.parent.parent == tmp_path / "cache" / "toyworld"
    assert train.parent.name.startswith("motion-")
    stamp = train.stat().st_mtime_ns
    assert ensure_generated("motion", num=4, seed=3, split="val") == train.parent / "val.csv"
    assert train.stat().st_mtime_ns == stamp  # reused, not regenerated
    assert ensure_generated("motion", num=4, seed=4).parent != train.parent
    with pytest.raises(ValueError, match="other parameters"):
        ensure_generated("motion", root=train.parent, num=5, seed=3)


def _run_all(*commands: list[str], env: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for each."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for c in commands]
    return [subprocess.CompletedProcess(p.args, p.wait(), *p.communicate()) for p in procs]


def test_generate_refuses_an_occupied_folder_and_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = generate("fine", tmp_path / "fine", 2, 1, num_val=1, resolution=32)
    with pytest.raises(FileExistsError, match=r"not empty \(a ToyWorld fine dataset, seed 1, .*not overwritten"):
        generate("fine", out, 2, 2, num_val=1, resolution=32)
    assert json.loads((out / "toyworld.json").read_text())["seed"] == 1

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(WRITERS, "motion", disk_full)
    with pytest.raises(OSError, match="No space"):
        generate("motion", tmp_path / "motion", 2, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fine"]  # no temp folder, no partial dataset


def test_concurrent_generations_into_one_folder_give_one_dataset_or_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "fine"
    runs = _run_all(*([sys.executable, "-m", "lit_jepa.cli", "data", "toyworld", "--task", "fine", "--out", str(out),
                       "--num", "3", "--num_val", "1", "--resolution", "32", "--seed", str(seed)] for seed in (1, 2)))
    assert sorted(r.returncode for r in runs) == [0, 2], [r.stderr for r in runs]
    refused = next(r for r in runs if r.returncode == 2)
    error = refused.stderr.strip().splitlines()[-1]
    assert error.startswith(f"lit-jepa data toyworld: error: {out}: already exists and is not empty")
    assert "Traceback" not in refused.stderr
    seed = json.loads((out / "toyworld.json").read_text())["seed"]
    assert seed == int(next(r for r in runs if r.returncode == 0).args[-1])
    reference = generate("fine", tmp_path / "reference", 3, seed, num_val=1, resolution=32)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (reference / f).read_bytes() for f in files)  # every video of that seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fine", "reference"]  # no temp folder left


def test_two_processes_on_one_cache_both_get_the_same_complete_data(tmp_path: Path) -> None:
    code = "from lit_jepa.data.toyworld import ensure_generated; print(ensure_generated('motion', num=6, seed=3))"
    env = {**os.environ, "LIT_JEPA_CACHE": str(tmp_path / "cache")}
    runs = _run_all([sys.executable, "-c", code], [sys.executable, "-c", code], env=env)
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout
    train = Path(runs[0].stdout.strip())
    assert len(train.read_text().splitlines()) == 6 and all(Path(line.split()[0]).is_file()
                                                              for line in train.read_text().splitlines())
    cache = tmp_path / "cache" / "toyworld"
    assert {p.name for p in cache.iterdir()} - {f".{train.parent.name}.lock"} == {train.parent.name}  # no temp
