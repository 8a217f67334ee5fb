"""Linear probes of frozen encoders on ToyWorld (the ``linear`` kind of the benchmark runner).

A closed-form ridge readout (:func:`lit_jepa.probe_curve.ridge_scores`) of time-ordered features: the encoder's
tokens averaged over space per time step and the steps concatenated (``readout="time"``,
:func:`lit_jepa.probe_curve.time_pooled`), or every token (``"all"``). Nothing is trained but the readout, so the
figure measures what the features hold, not how well an attentive probe trains on them; it also reads encoders whose
features are small in scale, which attentive probes on a fixed learning-rate grid can miss.

The ridge strength is chosen on the train clips only: fitted on their first two thirds, scored on the last third;
the chosen ridge is refitted on all train clips and scored once on the held-out clips. Tasks: ``motion`` (24
classes; headline ``top1``) and ``anticipation`` (headline ``action_recall5``, the mean-class recall@5 of EK100, with
``verb_top1`` and ``noun_top1``). Each headline carries per-sample hits for intervals and paired differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import Tensor, nn

from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule
from lit_jepa.metrics import metric_from_hits, metric_spec
from lit_jepa.probe_curve import check_readout, clip_features, ridge_scores
from lit_jepa.progress import progress_bar

RIDGES = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


@dataclass(frozen=True)
class Target:
    """One probed label: the batch key, its class count attribute on the DataModule, the metric's name."""

    key: str
    classes: str
    metric: str


TARGETS: dict[str, list[Target]] = {
    "motion": [Target("label", "num_classes", "top1")],
    "anticipation": [Target("action", "num_classes", "action_recall5"), Target("verb", "num_verbs", "verb_top1"),
                     Target("noun", "num_nouns", "noun_top1")],
}
HEADLINES = {task: targets[0].metric for task, targets in TARGETS.items()}


def features(encoder: nn.Module, data: ToyWorldDataModule, split: str, keys: list[str], readout: str,
             desc: str = "") -> tuple[Tensor, dict[str, Tensor]]:
    """:func:`lit_jepa.probe_curve.clip_features` of ``split`` with a progress bar."""
    check_readout(readout)
    with progress_bar(len(data.datasets[split]), desc or f"encoding {split} clips", "clip") as bar:
        return clip_features(encoder, data, split, keys, readout, bar)


def hits(scores: Tensor, labels: Tensor, k: int) -> np.ndarray:
    """Whether each sample's label is among its ``k`` highest scores."""
    return (scores.topk(min(k, scores.shape[1]), dim=1).indices == labels[:, None]).any(1).numpy()


def fit_and_score(train_x: Tensor, train_y: Tensor, val_x: Tensor, val_y: Tensor, num_classes: int, metric: str,
                  ridges: tuple[float, ...] = RIDGES) -> dict[str, Any]:
    """The ridge readout with its ridge chosen on the train clips (module docstring); returns ``value`` on the
    held-out clips, ``ridge``, ``hits`` (per held-out sample) and, for reference, ``value_best_ridge``: the best
    held-out value over ``ridges`` (optimistic: chosen on the held-out clips, as the probe curve does)."""
    k, mean_class = metric_spec(metric)
    cut = 2 * len(train_y) // 3
    labels = train_y[cut:].numpy()
    inner = [metric_from_hits(hits(s, train_y[cut:], k), labels, mean_class)
             for s in ridge_scores(train_x[:cut], train_y[:cut], train_x[cut:], num_classes, list(ridges))]
    held = [hits(s, val_y, k) for s in ridge_scores(train_x, train_y, val_x, num_classes, list(ridges))]
    values = [metric_from_hits(h, val_y.numpy(), mean_class) for h in held]
    chosen = max(range(len(ridges)), key=inner.__getitem__)  # the smallest ridge on ties
    return {"value": values[chosen], "ridge": ridges[chosen], "hits": held[chosen],
            "value_best_ridge": max(values), "num_train": len(train_y), "num_val": len(val_y)}


def toyworld_data(task: str, num: int, num_val: int, seed: int, root: str | None,
                  batch_size: int = 16) -> ToyWorldDataModule:
    """The labelled ToyWorld clips of a linear probe, generated into ``root`` once."""
    if task not in TARGETS:
        raise ValueError(f"linear probes read ToyWorld tasks {sorted(TARGETS)}, got {task!r}")
    data = ToyWorldDataModule(task=task, num=num, num_val=num_val, seed=seed, root=root, batch_size=batch_size)
    data.prepare_data()
    data.setup("fit")
    return data


def run(encoder: nn.Module, data: ToyWorldDataModule, readout: str = "time",
        ridges: tuple[float, ...] = RIDGES) -> dict[str, dict[str, Any]]:
    """``{metric: fit_and_score result}`` of every target of ``data``'s task, the headline first."""
    encoder.eval()
    targets = TARGETS[data.task]
    keys = [t.key for t in targets]
    train_x, train_y = features(encoder, data, "train", keys, readout, f"linear probe {data.task}: train clips")
    val_x, val_y = features(encoder, data, "val", keys, readout, f"linear probe {data.task}: held-out clips")
    return {t.metric: fit_and_score(train_x, train_y[t.key], val_x, val_y[t.key], getattr(data, t.classes), t.metric,
                                    ridges) | {"labels": val_y[t.key].numpy()} for t in targets}
