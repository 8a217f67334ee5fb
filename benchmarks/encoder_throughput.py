"""Encoder throughput: lit_jepa against `transformers` VJEPA2 on the same configuration and weights.

Both models run in one process on identical inputs; calls are interleaved and the median is reported.
Weights are created in `transformers` and moved into lit_jepa through `lit_jepa.hub` (so the comparison
is at equal numerics, checked before timing). Ratios > 1 mean lit_jepa is faster.

    python benchmarks/encoder_throughput.py --preset vits-64px            # ViT-S, 8 x 64 x 64, patch 8, batch 2
    python benchmarks/encoder_throughput.py --preset vitl-256px --repeats 3
    python benchmarks/encoder_throughput.py --preset all --compile        # adds torch.compile(lit_jepa)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

from lit_jepa import hub
from lit_jepa.bench.common import add_out_argument, command, machine, sync, time_interleaved, write_record
from lit_jepa.progress import transformers_bars_in_terminals_only

PRESETS = {
    # name: (hidden, depth, heads, patch, frames, size, batch)
    "vits-64px": (384, 12, 6, 8, 8, 64, 2),
    "vitl-256px": (1024, 24, 16, 16, 16, 256, 1),
}


def build_pair(preset: str, device: torch.device):
    from transformers import VJEPA2Config, VJEPA2Model

    hidden, depth, heads, patch, frames, size, _ = PRESETS[preset]
    cfg = VJEPA2Config(crop_size=size, frames_per_clip=frames, patch_size=patch, hidden_size=hidden,
                       num_hidden_layers=depth, num_attention_heads=heads, pred_num_hidden_layers=1,
                       attn_implementation="sdpa")
    torch.manual_seed(0)
    ref = VJEPA2Model(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp, transformers_bars_in_terminals_only():
        ref.save_pretrained(tmp)
        ours = hub.load_encoder(tmp).eval()
    return ours.to(device), ref.to(device)


def step_fns(ours, ref, x, backward: bool, amp: torch.dtype | None):
    x_hf = x.permute(0, 2, 1, 3, 4)

    def run(model, inp, call):
        with torch.autocast(x.device.type, dtype=amp or torch.float32, enabled=amp is not None):
            if backward:
                model.zero_grad(set_to_none=True)
                call(model, inp).float().mean().backward()
            else:
                with torch.no_grad():
                    call(model, inp)

    def lit(m=ours):
        return run(m, x, lambda mod, inp: mod(inp))

    def hf():
        return run(ref, x_hf, lambda mod, inp: mod(inp, skip_predictor=True).last_hidden_state)

    return lit, hf


def bench(preset: str, repeats: int, compile_: bool, device: torch.device, amp: torch.dtype | None = None,
          batch: int | None = None, modes: tuple[str, ...] = ("forward", "forward+backward")) -> dict:
    *_, patch, frames, size, default_batch = PRESETS[preset]
    batch = batch or default_batch
    ours, ref = build_pair(preset, device)
    x = torch.randn(batch, 3, frames, size, size, device=device)
    with torch.no_grad():
        diff = (ours(x) - ref(x.permute(0, 2, 1, 3, 4), skip_predictor=True).last_hidden_state).abs().max().item()
    result = {"preset": preset, "input": [batch, 3, frames, size, size], "patch": patch, "amp": str(amp),
              "tokens_per_clip": (frames // 2) * (size // patch) ** 2, "max_abs_diff": diff, "modes": {}}
    compiled = None
    if compile_:
        try:
            compiled = torch.compile(ours)
            start = time.perf_counter()
            with torch.no_grad(), torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                compiled(x)
            sync(device)
            result["compile_seconds_first_call"] = time.perf_counter() - start
        except Exception as err:  # noqa: BLE001 - recorded and printed, never hidden
            result["compile_error"] = f"{type(err).__name__}: {err}"[:500]
            compiled = None
    for mode in modes:
        backward = mode == "forward+backward"
        lit, hf = step_fns(ours, ref, x, backward, amp)
        fns = {"lit_jepa": lit, "transformers": hf}
        if compiled is not None:
            fns["lit_jepa_compiled"] = step_fns(compiled, ref, x, backward, amp)[0]
        for fn in fns.values():  # warm-up (and compile of the backward graph)
            fn()
        t = time_interleaved(fns, repeats, device)
        row = {f"{k}_s": v for k, v in t.items()}
        row["ratio_eager"] = t["transformers"] / t["lit_jepa"]
        if "lit_jepa_compiled" in t:
            row["ratio_compiled"] = t["transformers"] / t["lit_jepa_compiled"]
        row["clips_per_s_lit_jepa"] = batch / t["lit_jepa"]
        result["modes"][mode] = row
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="vits-64px", choices=[*PRESETS, "all"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(lit_jepa encoder)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--amp", choices=["bf16", "fp16"], default=None, help="autocast dtype (default fp32)")
    parser.add_argument("--batch", type=int, default=None, help="override the preset's batch size")
    parser.add_argument("--modes", nargs="+", default=["forward", "forward+backward"],
                        choices=["forward", "forward+backward"])
    parser.add_argument("--name", default="encoder_throughput", help="results/<name>.json")
    add_out_argument(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    amp = {"bf16": torch.bfloat16, "fp16": torch.float16, None: None}[args.amp]
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # fp32 means fp32
    presets = list(PRESETS) if args.preset == "all" else [args.preset]
    record = {"benchmark": "encoder_throughput", "command": command(__file__, argv), "machine": machine(),
              "device": str(device),
              "results": [bench(p, args.repeats, args.compile, device, amp, args.batch, tuple(args.modes))
                          for p in presets]}
    print(f"machine: {record['machine'].get('cpu_model', record['machine']['processor'])} "
          f"({record['machine']['cpu_count']} cores, {args.threads} threads), device {device}")
    print(f"{'preset':12} {'mode':17} {'lit_jepa s':>10} {'hf s':>8} {'ratio':>6} {'compiled s':>10} {'ratio':>6}")
    for r in record["results"]:
        for mode, row in r["modes"].items():
            comp = (f"{row['lit_jepa_compiled_s']:10.3f} {row['ratio_compiled']:6.2f}"
                    if "lit_jepa_compiled_s" in row else f"{'-':>10} {'-':>6}")
            print(f"{r['preset']:12} {mode:17} {row['lit_jepa_s']:10.3f} {row['transformers_s']:8.3f} "
                  f"{row['ratio_eager']:6.2f} {comp}")
        print(f"{r['preset']:12} max |lit_jepa - transformers| = {r['max_abs_diff']:.2e}"
              + (f"; compile error: {r['compile_error']}" if "compile_error" in r else ""))
    print(f"record: {write_record(args.out, args.name, record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
