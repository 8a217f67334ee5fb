"""ToyWorldDataModule: generates into the cache on first use, then reads the official files back."""

import subprocess
import sys

import torch

from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule


def test_defaults_to_the_cache_and_reads_official_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LIT_JEPA_CACHE", str(tmp_path))
    dm = ToyWorldDataModule(task="fine", num=8, batch_size=4)
    dm.prepare_data()
    folders = [p for p in (tmp_path / "toyworld").iterdir() if not p.name.startswith(".")]  # (.<folder>.lock)
    assert len(folders) == 1 and folders[0].name.startswith("fine-")
    assert (folders[0] / "Diving48_V2_train.json").is_file()
    dm.setup("fit")
    assert dm.num_classes == 24 and len(dm.datasets["train"]) == 8 and len(dm.datasets["val"]) == 2
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (4, 1, 3, 16, 64, 64) and batch["video"].dtype == torch.uint8
    dm.prepare_data()  # second call: reused, not regenerated
    assert [p for p in (tmp_path / "toyworld").iterdir() if not p.name.startswith(".")] == folders


def test_in_memory_toyworld_needs_no_video_decoder():
    """PyAV is imported only when MP4s are written or read: in-memory trajectories and the planner work without it
    (as on a GPU machine that lacks it)."""
    code = ("import sys; sys.modules['av'] = None\n"
            "from lit_jepa.data.toyworld.memory import ToyTrajectories\n"
            "import lit_jepa.planning.mpc, lit_jepa.tasks.world_model\n"
            "assert ToyTrajectories(1, 0, 'val', num_frames=3)[0]['video'].shape[2] == 3\n"
            "from lit_jepa.data.toyworld.video import write_mp4\n"
            "try:\n    write_mp4('x.mp4', None, 1)\nexcept ImportError as e:\n    print('needs av:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "needs av" in out.stdout
