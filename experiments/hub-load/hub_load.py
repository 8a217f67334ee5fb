"""Time to get a ViT-L: load an official-layout ``.pt`` through ``lit_jepa.hub`` (meta-device build, memory-mapped
tensors assigned) against building it with random initialisation (lit_jepa's truncated-normal sampler, and
``torch.nn.init.trunc_normal_`` for comparison).

    python experiments/hub-load/hub_load.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from lit_jepa import hub
from lit_jepa.bench.common import command, machine, write_record
from lit_jepa.nn import vit_large

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    build = seconds(vit_large)
    with torch.device("meta"):
        shapes = [p.shape for p in vit_large().parameters() if p.ndim > 1]
    torch_init = seconds(lambda: [torch.nn.init.trunc_normal_(torch.empty(s), std=0.02, a=-0.04, b=0.04)
                                  for s in shapes])
    with tempfile.TemporaryDirectory() as tmp:
        path = hub.export_official(Path(tmp) / "vitl.pt", target_encoder=vit_large())
        load = min(seconds(lambda: hub.load_encoder(path)) for _ in range(3))
    record = {"benchmark": "hub_load", "command": command(__file__, argv), "machine": machine(),
              "build_random_vitl_s": build, "torch_trunc_normal_vitl_weights_s": torch_init,
              "load_official_vitl_s": load}
    print(f"ViT-L: random build {build:.1f} s (torch trunc_normal_ on the same weights alone {torch_init:.1f} s); "
          f"hub.load_encoder of an official .pt {load:.2f} s  [{record['machine'].get('cpu_model')}, "
          f"{record['machine']['cpu_count']} cores]")
    print(f"record: {write_record(RESULTS, 'hub_load', record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
