"""GPU checks of the pretraining module (run on a CUDA machine; writes results/gpu_pretrain_check.json).

1. FSDP through Lightning's `FSDPStrategy` (one process, blocks auto-wrapped, `use_orig_params`): a few steps
   of a small ViT; the EMA target must move and stay finite.
2. bf16-mixed DDP-free single-GPU training of the same model: the loss must fall over 30 steps.

    python experiments/gpu-checks/gpu_pretrain_check.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.strategies import FSDPStrategy
from pretrain_step import RandomClips

from lit_jepa.bench.common import machine, write_record
from lit_jepa.data.datamodule import ClipDataModule
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.nn.blocks import Block
from lit_jepa.tasks import JepaPretrain

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


def module() -> JepaPretrain:
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=128, num_frames=16, patch_size=16, embed_dim=384, depth=6, num_heads=6)
    pred = VisionTransformerPredictor(img_size=128, num_frames=16, patch_size=16, embed_dim=384,
                                      predictor_embed_dim=192, depth=4, num_heads=6)
    return JepaPretrain(enc, pred, lr=1e-3, start_lr=1e-4, final_lr=1e-3, warmup_steps=5, ema=(0.99, 0.99))


def run(strategy, precision: str, steps: int) -> dict:
    m = module()
    before = m.target_encoder.blocks[0].attn.qkv.weight.detach().clone()
    losses = []

    class Record(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, i):
            losses.append(float(outputs["loss"]))

    trainer = L.Trainer(accelerator="gpu", devices=1, strategy=strategy, precision=precision, max_steps=steps,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False, callbacks=[Record()])
    trainer.fit(m, ClipDataModule(RandomClips(64, 16, 128), batch_size=8))
    after = m.target_encoder.blocks[0].attn.qkv.weight.detach().float().cpu()
    moved = float((after - before.float().cpu()).abs().sum())
    return {"first_losses": losses[:3], "last_losses": losses[-3:], "target_moved": moved,
            "finite": bool(torch.isfinite(after).all())}


def main() -> int:
    out = {"benchmark": "gpu_pretrain_check", "command": "python experiments/gpu-checks/gpu_pretrain_check.py",
           "machine": machine()}
    out["fsdp_bf16"] = run(FSDPStrategy(auto_wrap_policy={Block}, use_orig_params=True), "bf16-mixed", 6)
    out["single_gpu_bf16"] = run("auto", "bf16-mixed", 30)
    for k, v in out.items():
        print(f"{k}: {v}")
    print(f"record: {write_record(RESULTS, 'gpu_pretrain_check', out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
