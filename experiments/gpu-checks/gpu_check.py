"""GPU checks of the model zoo (run on a CUDA machine; prints a report and writes results/gpu_check.json).

1. fp32 parity (TF32 off) of a ViT-L encoder and predictor against `transformers` at 16 x 256 x 256.
2. bf16 autocast agreement with `transformers` (lit_jepa computes RoPE angles in fp32; the official code and
   `transformers` compute them in the activation dtype, so bf16 outputs differ slightly: reported, not hidden).
3. SDPA: the encoder runs under the flash-attention backend alone (bf16), and the AC predictor's boolean
   block-causal mask runs under the memory-efficient backend alone.
4. A ViT-g-sized AC predictor step (8 frames at 256 px, bf16): forward+backward time and peak memory.

    python experiments/gpu-checks/gpu_check.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lit_jepa import hub
from lit_jepa.bench.common import machine, write_record
from lit_jepa.nn import ACPredictor

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


def main() -> int:
    from transformers import VJEPA2Config, VJEPA2Model

    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    out: dict = {"benchmark": "gpu_check", "command": "python experiments/gpu-checks/gpu_check.py",
                 "machine": machine()}
    cfg = VJEPA2Config(crop_size=256, frames_per_clip=16)
    torch.manual_seed(0)
    ref = VJEPA2Model(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        ref.save_pretrained(tmp)
        enc, pred = hub.load_encoder(tmp).eval().to(dev), hub.load_predictor(tmp).eval().to(dev)
    ref = ref.to(dev)
    x = torch.randn(2, 3, 16, 256, 256, device=dev)
    n = 8 * 16 * 16
    ctx = torch.randperm(n, device=dev)[: n // 3].sort().values.expand(2, -1)
    tgt = torch.tensor(sorted(set(range(n)) - set(ctx[0].tolist())), device=dev).expand(2, -1)
    with torch.no_grad():
        r = ref(x.permute(0, 2, 1, 3, 4), context_mask=[ctx], target_mask=[tgt])
        z = enc(x)
        p = pred(z.gather(1, ctx.unsqueeze(-1).expand(-1, -1, z.shape[-1])), [ctx], [tgt])
        out["fp32_encoder_max_abs_diff"] = (z - r.last_hidden_state).abs().max().item()
        out["fp32_predictor_max_abs_diff"] = (p - r.predictor_output.last_hidden_state).abs().max().item()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            zb = enc(x).float()
            rb = ref(x.permute(0, 2, 1, 3, 4), skip_predictor=True).last_hidden_state.float()
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                zf = enc(x).float()
        out["bf16_encoder_max_abs_diff_vs_transformers"] = (zb - rb).abs().max().item()
        out["bf16_encoder_mean_cosine_vs_transformers"] = F.cosine_similarity(zb, rb, dim=-1).mean().item()
        out["bf16_encoder_mean_cosine_vs_fp32"] = F.cosine_similarity(zb, z, dim=-1).mean().item()
        out["bf16_flash_only_matches_default"] = (zf - zb).abs().max().item()
    del ref, enc, pred
    torch.cuda.empty_cache()
    ac = ACPredictor(img_size=256, embed_dim=1408, use_activation_checkpointing=True).to(dev)
    T = 8
    tokens = torch.randn(4, T * 256, 1408, device=dev)
    actions, states = torch.randn(4, T, 7, device=dev), torch.randn(4, T, 7, device=dev)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(4):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16), sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            ac(tokens, actions, states).float().abs().mean().backward()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    out["ac_vitg_step_batch4_8f_seconds"] = sorted(times[1:])[1]
    out["ac_vitg_step_peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    out["ac_mask_cache_shapes"] = [list(m.shape) for m in ac._masks.values()]
    for k, v in out.items():
        print(f"{k}: {v}")
    print(f"record: {write_record(RESULTS, 'gpu_check', out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
