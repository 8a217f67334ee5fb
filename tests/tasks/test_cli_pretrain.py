"""The toy pretraining recipe end to end through `lit-jepa fit`, shrunk to a few steps."""

from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_jepa import hub
from lit_jepa.cli import main

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "toy" / "pretrain-vitt-64px-16f.yaml"


def test_toy_recipe_runs_logs_and_exports(tmp_path, capsys):
    main(["fit", "--config", str(RECIPE), "--trainer.max_steps", "3", "--trainer.val_check_interval", "3",
          "--trainer.limit_val_batches", "1", "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
          "--trainer.callbacks+=lit_jepa.callbacks.MaskVisualizer", "--trainer.callbacks.every_n_steps", "1",
          "--trainer.callbacks+=lit_jepa.callbacks.StatusLine", "--trainer.callbacks.every_s", "0",
          "--trainer.enable_progress_bar", "false", "--trainer.log_every_n_steps", "1",
          "--model.init_args.encoder.init_args.depth", "1", "--model.init_args.predictor.init_args.depth", "1",
          "--model.init_args.monitor_every_n_steps", "1",
          "--data.init_args.num", "16", "--data.init_args.root", str(tmp_path / "toy"),
          "--data.init_args.batch_size", "2", "--data.init_args.num_workers", "0"])
    run = next((tmp_path / "runs").rglob("events.out.tfevents.*")).parent
    events = EventAccumulator(str(run), size_guidance={"images": 0, "scalars": 0}).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/loss", "val/loss", "train/lr", "train/ema_momentum", "collapse/target_effective_rank",
            "train/context_tokens_mask0"} <= scalars
    assert {"masks/generator0", "masks/generator1", "masks/clip"} <= set(events.Tags()["images"])
    clip = events.Images("masks/clip")[-1]  # the clip and its two masked copies (a frame grid without moviepy)
    assert clip.width in (64 * 3, 16 * 64 + 15 * 2) and clip.height in (64, 3 * 64 + 2 * 2)
    status = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[pretrain-vitt-64px-16f/")]
    assert status[0] == "[pretrain-vitt-64px-16f/version_0] validation batch 1/1"  # the sanity check
    assert status[1].startswith("[pretrain-vitt-64px-16f/version_0] training started at step 0/3")
    assert any(" step 2/3 (epoch 0), ETA " in line for line in status) and "training ended at step 3/3" in status[-1]
    assert any(p.name == "hparams.yaml" for p in run.iterdir())
    encoder = hub.load_encoder(run / "export" / "vjepa2.pt")
    assert len(encoder.blocks) == 1 and encoder.embed_dim == 192
    assert (run / "checkpoints").is_dir()
    # lit-jepa fit writes checkpoints with AtomicCheckpointIO; they load without trusting them (weights_only=True)
    written = sorted((run / "checkpoints").iterdir())
    assert written and all(p.suffix == ".ckpt" for p in written)
    safe = {f"{g.__module__}.{g.__qualname__}" for g in hub.SAFE_GLOBALS}
    for ckpt in written:
        assert set(torch.serialization.get_unsafe_globals_in_checkpoint(ckpt)) <= safe
        assert hub.load_encoder(ckpt, key="encoder").embed_dim == 192
