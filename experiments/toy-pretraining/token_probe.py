"""How much a frozen encoder's tokens vary, and whether each token's place is still in them: the token norm, the
variance of features across tokens, and ridge readouts (:func:`lit_jepa.bench.linear.fit_and_score`) of each token's
time step (8 classes) and spatial place (16 classes) from the token alone, for an export and for the same
architecture at random initialisation (torch seed 0). Tokens of 96 ToyWorld ``motion`` clips (seed 2): the first half
of the clips fits the readout, the second half scores it.

    python experiments/toy-pretraining/token_probe.py --export runs/exp27/cs16-paper/version_0/export/vjepa2.pt
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import DataLoader

from lit_jepa import hub
from lit_jepa.bench import linear


@torch.no_grad()
def tokens(encoder: torch.nn.Module, data) -> torch.Tensor:
    """``(N, tokens, D)`` of every train clip of ``data`` (its first view)."""
    out = []
    for batch in DataLoader(data.datasets["train"], batch_size=16):
        out.append(encoder(data.batch_transform(batch["video"], training=False)[:, 0]))
    return torch.cat(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--export", required=True)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    data = linear.toyworld_data("motion", 96, 48, 2, root=None)
    pretrained = hub.load_encoder(a.export)
    torch.manual_seed(0)
    for name, encoder in (("pretrained", pretrained), ("random init", type(pretrained)(**pretrained.config()))):
        x = tokens(encoder.eval(), data)
        n, count, width = x.shape
        t, h, w = encoder.token_grid(encoder.num_frames, encoder.img_size, encoder.img_size)
        flat, half = x.reshape(-1, width).double(), n // 2 * count
        places = {"time step": (torch.arange(count) // (h * w), t), "spatial place": (torch.arange(count) % (h * w),
                                                                                        h * w)}
        for label, (y, classes) in places.items():
            y = y.repeat(n)
            r = linear.fit_and_score(flat[:half], y[:half], flat[half:], y[half:], classes, "top1")
            print(f"{name}: {label} from one token, ridge top-1 {100 * r['value']:.1f} %")
        print(f"{name}: token norm {x.norm(dim=-1).mean():.2f}, variance across tokens {x.var(dim=(0, 1)).mean():.4f}")


if __name__ == "__main__":
    main()
