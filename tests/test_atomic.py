"""Shared outputs: unique temp names, atomic text and folder writes, file locks across processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from lit_jepa.atomic import FolderBusyError, atomic_write_text, locked, once, staged_folder, temp_path

HOLD_LOCK = """
import sys, time
from lit_jepa.atomic import locked
with locked(sys.argv[1], "test folder"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_temp_names_are_unique_and_hidden_beside_the_target(tmp_path: Path) -> None:
    names = {temp_path(tmp_path / "record.json") for _ in range(100)}
    assert len(names) == 100
    assert all(p.parent == tmp_path and p.name.startswith(".record.json.tmp-") for p in names)


def test_atomic_write_text_replaces_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = atomic_write_text(tmp_path / "sub" / "a.json", "one\n")
    atomic_write_text(path, "two\n")
    assert path.read_text() == "two\n" and [p.name for p in path.parent.iterdir()] == ["a.json"]

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lit_jepa.atomic.os.replace", fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(path, "three\n")
    assert path.read_text() == "two\n" and [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_staged_folder_publishes_whole_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()  # an empty folder may be filled
    with staged_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out
        (tmp / "a.txt").write_text("a")
        assert not (out / "a.txt").exists()  # nothing visible before the end
    assert (out / "a.txt").read_text() == "a"
    with pytest.raises(FileExistsError, match=f"{out}: already exists and is not empty \\(holds a.txt\\)"):
        with staged_folder(out, lambda o: f" (holds {next(o.iterdir()).name})"):
            pass
    other = tmp_path / "other"
    with pytest.raises(RuntimeError, match="boom"), staged_folder(other) as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temp folder, no half output


def test_staged_folder_refuses_when_another_writer_got_there_first(tmp_path: Path) -> None:
    out = tmp_path / "data"
    with pytest.raises(FileExistsError, match="not overwritten"), staged_folder(out) as tmp:
        (tmp / "mine.txt").write_text("mine")
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")  # another process published meanwhile
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_lock_held_by_another_process_is_refused_or_waited_for(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match=f"test folder is in use by another process \\(lock {lock}\\)"):
            with locked(lock, "test folder", wait=False):
                pass
        start = time.monotonic()
        with locked(lock, "test folder"):  # waits until the holder lets go (it holds the lock 3 s)
            assert time.monotonic() - start > 1.0
    finally:
        holder.wait()
    assert holder.returncode == 0


def test_once_makes_a_folder_only_while_incomplete(tmp_path: Path) -> None:
    out, calls = tmp_path / "data", []

    def make() -> None:
        calls.append(1)
        with staged_folder(out) as tmp:
            (tmp / "done.json").write_text("{}")

    once(out, "done.json", make)
    once(out, "done.json", make)
    assert calls == [1] and (out / "done.json").is_file()
