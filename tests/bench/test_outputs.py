"""A suite run writes only under its work directory: no tracked file of the clone changes (perf records included)."""

import subprocess
from pathlib import Path

import pytest

from lit_jepa.bench import bench

ROOT = Path(__file__).resolve().parents[2]
TINY_SUITE = """suite: tiny
runs:
  - {name: toyworld-data, kind: toyworld, params: {tasks: [motion], num: {motion: 4}, seed: 0}}
  - {name: toyworld-generation, kind: perf, params: {script: toyworld_generation, record: toyworld_generation,
                                                     args: [--num, 2]}}
"""


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_a_suite_run_from_the_clone_leaves_git_status_unchanged(tmp_path, monkeypatch):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(TINY_SUITE)
    monkeypatch.chdir(ROOT)  # the perf kind runs the clone's benchmarks/ scripts
    before = git_status()
    assert bench(suite=str(suite), workdir=str(tmp_path / "work")) == 0
    assert git_status() == before
    assert (tmp_path / "work" / "tiny" / "perf" / "toyworld_generation.json").is_file()
    assert (tmp_path / "work" / "records" / "tiny" / "toyworld-generation.json").is_file()
    assert (tmp_path / "work" / "LEADERBOARD.md").is_file()
    assert (tmp_path / "work" / "tiny" / "data" / "motion").is_dir()


def test_the_perf_kind_outside_a_clone_names_the_missing_script(tmp_path, monkeypatch, capsys):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(TINY_SUITE)
    monkeypatch.chdir(tmp_path)
    assert bench(suite=str(suite), workdir=str(tmp_path / "work"), only=["toyworld-generation"]) == 1
    assert "the perf suite runs the scripts of a clone's benchmarks/ folder" in capsys.readouterr().err
