"""Atomic writes on any filesystem: a kill -9 mid-write, a full disk and an interrupt leave the previous file
loadable, nothing partial under a final name and no orphan temporary file.

The run folder is a small tmpfs mounted by the test, so it is on another filesystem than ``$TMPDIR`` (where
Lightning's own CheckpointIO stages its files); these tests skip where mounting is not allowed.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lit_jepa import hub
from lit_jepa.atomic import atomic_save, atomic_write_json, temp_path
from lit_jepa.checkpoint_io import AtomicCheckpointIO
from lit_jepa.nn import VisionTransformer

WRITER = """
import sys, torch
from lit_jepa.checkpoint_io import AtomicCheckpointIO
io = AtomicCheckpointIO()
io.save_checkpoint({"step": 1, "state_dict": {"w": torch.ones(4)}}, sys.argv[1])
print("saved", flush=True)
sys.stdin.readline()
# about 300 MB in 3000 records: the parent kills this process while the temporary file grows
io.save_checkpoint({"step": 2, "state_dict": {f"w{i}": torch.full((25_000,), float(i)) for i in range(3000)}},
                   sys.argv[1])
print("done", flush=True)
"""


@pytest.fixture
def small_fs(tmp_path):
    """Mount a tmpfs of the given size at ``tmp_path/mnt``; unmounted when the test ends."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True,
                              text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(mnt)
        assert os.stat(mnt).st_dev != os.stat(tmp_path).st_dev
        return mnt

    try:
        yield mount
    finally:
        for mnt in mounted:
            subprocess.run(["umount", str(mnt)], check=True)


def load(path: Path) -> dict:
    return AtomicCheckpointIO().load_checkpoint(path)


def test_kill_9_while_a_checkpoint_is_replaced(tmp_path, small_fs):
    run = small_fs("1g") / "checkpoints"
    staging = tmp_path / "tmpdir"  # the writer's $TMPDIR, on the other filesystem
    staging.mkdir()
    last = run / "last.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(last)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "TMPDIR": str(staging)})
    try:
        assert writer.stdout.readline().strip() == "saved"
        writer.stdin.write("\n")
        writer.stdin.flush()
        tmp, deadline = temp_path(last), time.monotonic() + 60
        while not (tmp.exists() and tmp.stat().st_size > 20_000_000):
            assert writer.poll() is None and time.monotonic() < deadline, "the write ended before it was caught"
            time.sleep(0.001)
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    assert load(last)["step"] == 1  # the previous checkpoint, whole
    assert sorted(p.name for p in run.iterdir()) == [".last.ckpt.tmp", "last.ckpt"]
    assert list(staging.iterdir()) == []
    # the resumed run's first save replaces the checkpoint and removes what the killed one left
    AtomicCheckpointIO().save_checkpoint({"step": 3}, run / "epoch=0-step=3.ckpt")
    assert sorted(p.name for p in run.iterdir()) == ["epoch=0-step=3.ckpt", "last.ckpt"]


def test_full_disk(small_fs):
    run = small_fs("8m")
    big = {"state_dict": {"w": torch.zeros(4_000_000)}}  # 16 MB
    last = run / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1}, last)
    free = os.statvfs(run).f_bavail
    for path in (last, run / "epoch=0-step=2.ckpt"):
        with pytest.raises(OSError) as err:
            io.save_checkpoint(big, path)
        assert err.value.errno == errno.ENOSPC and str(err.value) == f"[Errno 28] No space left on device: {path}"
    assert load(last)["step"] == 1
    assert sorted(p.name for p in run.iterdir()) == ["last.ckpt"]
    assert os.statvfs(run).f_bavail == free  # the space is given back
    export = run / "export" / "vjepa2.pt"
    encoder = VisionTransformer(img_size=32, num_frames=2, patch_size=16, embed_dim=32, depth=1, num_heads=2)
    hub.export_official(export, encoder=encoder)
    with pytest.raises(OSError, match=f"No space left on device: {export}"):
        atomic_save(big, export)
    assert hub.load_encoder(export, key="encoder").embed_dim == 32
    record = run / "record.json"
    atomic_write_json(record, {"ok": 1})
    with pytest.raises(OSError, match=f"No space left on device: {record}"):
        atomic_write_json(record, {"x": "y" * 20_000_000})
    assert json.loads(record.read_text()) == {"ok": 1}
    assert sorted(p.name for p in run.rglob("*")) == ["export", "last.ckpt", "record.json", "vjepa2.pt"]


class Interrupt:
    def __reduce__(self):
        raise KeyboardInterrupt


def test_interrupt_mid_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "a.pt"
    atomic_save({"step": 1}, path)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"w": torch.zeros(1000), "x": Interrupt()}, path)
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]
