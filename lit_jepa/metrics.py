"""Evaluation metrics of the frozen probes, on torchmetrics (synchronised across DDP ranks at ``compute``).

* top-1: ``MulticlassAccuracy(average="micro")`` (torchmetrics' default ``"macro"`` is not the papers' top-1);
* mean-class recall@5 (EK100): ``MulticlassRecall(top_k=5, average="macro")``; with ``top_k > 1`` torchmetrics
  1.9 averages over the classes with at least one sample (``tp + fn > 0``), exactly the official
  ``ClassMeanRecall``: ``sum_c TP_c / (TP_c + FN_c) / #{c: TP_c + FN_c > 0}``.
* :class:`ClassMeanRecall`: a hand-written stateful copy of the official formula, the reference the tests
  compare torchmetrics against (also used when ``k >= num_classes``, where torchmetrics refuses ``top_k``).

Values are fractions in ``[0, 1]`` (the official logs print percentages).

Offline, from the per-sample top-5 predictions a probe run saves (``val_predictions.npz``): :func:`sample_hits`,
:func:`metric_from_hits`, and percentile-bootstrap intervals for a metric (:func:`bootstrap_interval`) and for the
difference of two runs on the same samples (:func:`paired_difference_interval`). For success rates (planning,
VQA): the Wilson score interval of a binomial proportion (:func:`wilson`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassRecall

ANTICIPATION_TARGETS = ("verb", "noun", "action")


class ClassMeanRecall(Metric):
    """Official EK100 mean-class recall@k: per class, the fraction of its samples whose class is among the
    ``k`` highest scores; averaged over the classes that have samples."""

    full_state_update = False

    def __init__(self, num_classes: int, k: int = 5) -> None:
        super().__init__()
        self.num_classes, self.k = num_classes, k
        self.add_state("tp", torch.zeros(num_classes), dist_reduce_fx="sum")
        self.add_state("support", torch.zeros(num_classes), dist_reduce_fx="sum")

    def update(self, scores: Tensor, target: Tensor) -> None:
        top = scores.topk(min(self.k, scores.shape[-1]), dim=-1).indices
        hit = (top == target[:, None]).any(dim=-1).float()
        self.tp.index_add_(0, target, hit)
        self.support.index_add_(0, target, torch.ones_like(hit))

    def compute(self) -> Tensor:
        present = self.support > 0
        return (self.tp[present] / self.support[present]).mean() if present.any() else self.tp.new_tensor(0.0)


def top1(num_classes: int) -> Metric:
    """Micro-averaged top-1 accuracy (the fraction of correct samples)."""
    return MulticlassAccuracy(num_classes=num_classes, top_k=1, average="micro")


def mean_class_recall(num_classes: int, k: int = 5) -> Metric:
    """Mean-class recall@k over the classes present (torchmetrics; the reference when ``k >= num_classes``)."""
    if k >= num_classes:
        return ClassMeanRecall(num_classes, k)
    return MulticlassRecall(num_classes=num_classes, top_k=k, average="macro")


def classification_metrics(num_classes: int) -> MetricCollection:
    """``top1`` of one probe head."""
    return MetricCollection({"top1": top1(num_classes)}, compute_groups=False)


def anticipation_metrics(num_classes: dict[str, int], k: int = 5) -> MetricCollection:
    """``{verb,noun,action}_recall5`` (mean-class recall@k) and ``{...}_top1`` of one anticipation head."""
    metrics: dict[str, Metric] = {}
    for name in ANTICIPATION_TARGETS:
        metrics[f"{name}_recall{k}"] = mean_class_recall(num_classes[name], k)
        metrics[f"{name}_top1"] = top1(num_classes[name])
    return MetricCollection(metrics, compute_groups=False)


def metric_spec(metric: str) -> tuple[int, bool]:
    """``(k, mean_class)`` of a probe metric name: ``top1`` / ``*_top1`` micro top-1, ``*_recall<k>`` mean-class."""
    if metric == "top1" or metric.endswith("_top1"):
        return 1, False
    head, sep, k = metric.rpartition("_recall")
    if sep and k.isdigit():
        return int(k), True
    raise ValueError(f"unknown probe metric {metric!r}; expected top1, <target>_top1 or <target>_recall<k>")


def sample_hits(top: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Whether each sample's label is among its ``k`` first predictions: ``top`` ``(N, >= k)``, ``labels`` ``(N,)``."""
    return (top[:, :k] == labels[:, None]).any(axis=1)


def metric_from_hits(hits: np.ndarray, labels: np.ndarray, mean_class: bool) -> float:
    """Micro average of ``hits``, or (``mean_class``) the mean over the classes present of each class's average."""
    if not mean_class:
        return float(hits.mean())
    _, inverse = np.unique(labels, return_inverse=True)
    return float((np.bincount(inverse, weights=hits) / np.bincount(inverse)).mean())


def _bootstrap(statistic, n: int, level: float, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over ``resamples`` draws of ``n`` indices with replacement."""
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    low, high = np.quantile([statistic(i) for i in draws], [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def bootstrap_interval(hits: np.ndarray, labels: np.ndarray, mean_class: bool, level: float = 0.95,
                       resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`metric_from_hits` over samples drawn with replacement."""
    return _bootstrap(lambda i: metric_from_hits(hits[i], labels[i], mean_class), len(hits), level, resamples, seed)


def paired_difference_interval(hits_a: np.ndarray, hits_b: np.ndarray, labels: np.ndarray, mean_class: bool,
                               level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(a) - metric(b)`` for two runs scored on the same samples (the
    same resampled samples enter both terms, so the shared difficulty of the samples cancels)."""
    return _bootstrap(lambda i: metric_from_hits(hits_a[i], labels[i], mean_class)
                      - metric_from_hits(hits_b[i], labels[i], mean_class), len(labels), level, resamples, seed)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default); ``(0, 1)`` when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# two-sided 95 % quantiles of Student's t by degrees of freedom (beyond 30: the normal's 1.96)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
       12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def mean_interval(values: list[float]) -> tuple[float, float] | None:
    """Student-t 95 % interval of the mean of ``values`` (e.g. one figure per pretraining seed), or None for fewer
    than 2 values; for degrees of freedom between the tabled ones the next smaller one's (wider) quantile is used."""
    if len(values) < 2:
        return None
    df = len(values) - 1
    t = T95[max(k for k in T95 if k <= df)] if df <= 30 else 1.96
    mean, half = float(np.mean(values)), t * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return mean - half, mean + half


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``(num_classes, num_classes)`` int64: row = true class, column = predicted class.

    Args:
        labels: true classes ``(N,)``.
        predicted: predicted classes ``(N,)``.
        num_classes: the number of classes (rows and columns).
    """
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"confusion_matrix: {labels.shape[0]} labels but {predicted.shape[0]} predictions")
    out = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(out, (labels, predicted), 1)
    return out
