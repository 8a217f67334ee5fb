"""Probe metrics against hand-computed values and the official ClassMeanRecall formula; exactly-once under DDP."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DistributedSampler
from torchmetrics.aggregation import SumMetric

from lit_jepa.data.loader import ResumableSampler
from lit_jepa.metrics import (
    ClassMeanRecall,
    anticipation_metrics,
    bootstrap_interval,
    mean_class_recall,
    metric_from_hits,
    metric_spec,
    paired_difference_interval,
    sample_hits,
    top1,
)


def official_class_mean_recall(scores: torch.Tensor, target: torch.Tensor, k: int = 5) -> float:
    """The official ``ClassMeanRecall`` loop (evals/action_anticipation_frozen/metrics.py), written out."""
    tp, fn = {}, {}
    for s, t in zip(scores.tolist(), target.tolist()):
        top = sorted(range(len(s)), key=lambda c: -s[c])[:k]
        tp[t], fn[t] = tp.get(t, 0) + (t in top), fn.get(t, 0) + (t not in top)
    recalls = [tp[c] / (tp[c] + fn[c] + 1e-8) for c in tp]
    return sum(recalls) / len(recalls)


def test_top1_is_micro_accuracy():
    # 5 samples, 3 correct; class 0 has 4 samples (3 right), class 1 has 1 (wrong): micro 0.6, macro would be 0.375
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    target = torch.tensor([0, 0, 0, 0, 1])
    assert top1(2)(scores, target).item() == pytest.approx(0.6)


def test_mean_class_recall5_averages_over_present_classes_only():
    # 10 classes; only 0, 1, 2 occur. Scores rank classes 9, 8, ..., so the top-5 is {5..9} unless boosted.
    base = torch.arange(10, dtype=torch.float)
    scores = base.repeat(4, 1)
    scores[0, 0] = 100  # class-0 sample, hit
    scores[2, 1] = 100  # class-1 sample, hit; sample 1 (class 0) and sample 3 (class 2) miss
    target = torch.tensor([0, 0, 1, 2])
    # per class: 0 -> 1/2, 1 -> 1/1, 2 -> 0/1; mean over the 3 present classes = 0.5 (over all 10: 0.15)
    for metric in (mean_class_recall(10), ClassMeanRecall(10)):
        assert metric(scores, target).item() == pytest.approx(0.5)
    assert official_class_mean_recall(scores, target) == pytest.approx(0.5)


def test_recall5_matches_official_formula_over_batches():
    g = torch.Generator().manual_seed(0)
    tm, ref = mean_class_recall(30), ClassMeanRecall(30)
    all_scores, all_targets = [], []
    for _ in range(4):  # cumulative over batches, classes 25..29 never occur
        scores, target = torch.randn(16, 30, generator=g), torch.randint(0, 25, (16,), generator=g)
        tm.update(scores, target)
        ref.update(scores, target)
        all_scores.append(scores)
        all_targets.append(target)
    expected = official_class_mean_recall(torch.cat(all_scores), torch.cat(all_targets))
    assert tm.compute().item() == pytest.approx(expected, abs=1e-6)
    assert ref.compute().item() == pytest.approx(expected, abs=1e-6)


def test_verb_noun_action_metrics():
    metrics = anticipation_metrics({"verb": 5, "noun": 6, "action": 30})
    assert set(metrics.keys()) == {f"{n}_{m}" for n in ("verb", "noun", "action") for m in ("recall5", "top1")}
    verb_scores = torch.randn(3, 5)
    noun_scores = torch.tensor([[0, 1, 2, 3, 4, 5.0]] * 3)  # top-5 = nouns 1..5
    action_scores = torch.zeros(3, 30)
    action_scores[:, 7] = 1  # top-1 is action 7
    targets = {"verb": torch.tensor([0, 4, 4]), "noun": torch.tensor([0, 5, 5]), "action": torch.tensor([7, 7, 3])}
    scores = {"verb": verb_scores, "noun": noun_scores, "action": action_scores}
    for key, metric in metrics.items():
        name = key.split("_")[0]
        metric.update(scores[name], targets[name])
    values = {k: m.compute().item() for k, m in metrics.items()}
    assert values["verb_recall5"] == pytest.approx(1.0)  # 5 verbs: every verb is in the top 5
    assert values["noun_recall5"] == pytest.approx(0.5)  # noun 0 missed, noun 5 hit twice: (0 + 1) / 2
    assert values["noun_top1"] == pytest.approx(2 / 3)
    assert values["action_top1"] == pytest.approx(2 / 3)
    # action 7: 2/2 hits; action 3 (score 0, ties with 28 others) is outside the top 5 -> (1 + 0) / 2
    assert values["action_recall5"] == pytest.approx(0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _count_once(rank: int, world: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    n = 7  # not divisible by 2: a padding sampler would repeat one sample
    scores = torch.eye(4)[torch.arange(n) % 4] + 0.1 * torch.arange(n)[:, None] / n
    target = torch.tensor([0, 1, 2, 3, 0, 1, 1])  # row i predicts class i % 4: only sample 6 is wrong
    metric, recall, count, padded = top1(4), ClassMeanRecall(4, k=1), SumMetric(), SumMetric()
    for i in ResumableSampler(range(n), shuffle=False, num_replicas=world, rank=rank, pad=False):
        metric.update(scores[i : i + 1], target[i : i + 1])
        recall.update(scores[i : i + 1], target[i : i + 1])
        count.update(1.0)
    for _ in DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False):
        padded.update(1.0)
    results[rank] = (metric.compute().item(), recall.compute().item(), count.compute().item(), padded.compute().item())
    dist.destroy_process_group()


def test_unpadded_evaluation_counts_each_sample_once_with_two_gloo_processes():
    results = mp.Manager().dict()
    mp.spawn(_count_once, args=(2, _free_port(), results), nprocs=2, join=True)
    for acc, recall, count, padded in results.values():
        assert count == 7 and padded == 8  # 4 + 3 samples; DistributedSampler would repeat one
        assert acc == pytest.approx(6 / 7)
        assert recall == pytest.approx((1 + 2 / 3 + 1 + 1) / 4)  # class 1: samples 1, 5 hit, 6 missed


def test_unpadded_sampler_shards():
    shards = [list(ResumableSampler(range(7), False, num_replicas=3, rank=r, pad=False)) for r in range(3)]
    assert shards == [[0, 3, 6], [1, 4], [2, 5]]
    assert [len(ResumableSampler(range(7), False, num_replicas=3, rank=r, pad=False)) for r in range(3)] == [3, 2, 2]


def test_offline_scores_from_top5_predictions_match_the_metrics_and_bootstrap_sensibly():
    g = torch.Generator().manual_seed(0)
    scores, target = torch.rand(200, 12, generator=g), torch.randint(0, 12, (200,), generator=g)
    target[:40] = 3  # an unbalanced class, so mean-class and micro recall differ
    top = scores.topk(5, dim=-1).indices.numpy()
    labels = target.numpy()
    assert metric_spec("action_recall5") == (5, True) and metric_spec("top1") == (1, False)
    assert metric_spec("verb_top1") == (1, False)
    with pytest.raises(ValueError, match="unknown probe metric"):
        metric_spec("f1")
    recall = metric_from_hits(sample_hits(top, labels, 5), labels, mean_class=True)
    assert recall == pytest.approx(official_class_mean_recall(scores, target), abs=1e-6)
    reference = mean_class_recall(12, 5)
    reference.update(scores, target)
    assert recall == pytest.approx(reference.compute().item(), abs=1e-6)
    accuracy = metric_from_hits(sample_hits(top, labels, 1), labels, mean_class=False)
    assert accuracy == pytest.approx((scores.argmax(-1) == target).float().mean().item())
    hits = sample_hits(top, labels, 5)
    low, high = bootstrap_interval(hits, labels, mean_class=True)
    assert low < recall < high and high - low < 0.3
    assert paired_difference_interval(hits, hits, labels, True) == (0.0, 0.0)
    better = hits.copy()
    better[~hits] = True  # every miss turned into a hit: clearly better on the same samples
    assert paired_difference_interval(better, hits, labels, True)[0] > 0


def _gather_once(rank: int, world: int, port: int, results) -> None:
    from lit_jepa.tasks.probe import gather_predictions
    from lit_jepa.vqa.scoring import QAScores

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    # rank 0 holds samples 2, 0 (one batch); rank 1 holds sample 1 (one batch); a third rank would hold none
    parts = ([{"index": torch.tensor([2, 0]), "label_label": torch.tensor([5, 3]),
               "label_top5": torch.tensor([[[5, 1, 2, 3, 4], [0, 1, 2, 4, 6]]])}] if rank == 0 else
             [{"index": torch.tensor([1]), "label_label": torch.tensor([7]), "label_top5": torch.tensor([[[7] * 5]])}])
    pred = gather_predictions(parts)
    scores = QAScores()
    for i in ((0, 1) if rank == 0 else (1, 2)):  # question 1 reaches both ranks: counted once
        scores.add(i, correct=i != 2, kind="k", group=f"g{i // 2}")
    results[rank] = (pred["index"].tolist(), pred["label_label"].tolist(), pred["label_top5"][0, :, 0].tolist(),
                     scores.gather().summary())
    dist.destroy_process_group()


def test_predictions_and_qa_scores_gather_over_two_gloo_processes():
    results = mp.Manager().dict()
    mp.spawn(_gather_once, args=(2, _free_port(), results), nprocs=2, join=True)
    for index, labels, first, summary in results.values():
        assert index == [0, 1, 2] and labels == [3, 7, 5] and first == [0, 7, 5]
        assert summary["num_questions"] == 3 and summary["acc"] == pytest.approx(2 / 3)
        assert summary["paired_acc"] == pytest.approx(0.5)  # g0 = {0, 1} right; g1 = {2} wrong


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    from lit_jepa.metrics import confusion_matrix

    m = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        confusion_matrix([0, 1, 2], [0, 1], 3)


def test_mean_interval_is_students_t_over_the_values():
    from lit_jepa.metrics import mean_interval

    assert mean_interval([0.5]) is None
    low, high = mean_interval([9.0, 14.8, 16.8])  # 3 seeds: t(0.975, 2) = 4.303
    assert (low + high) / 2 == pytest.approx(13.5333, abs=1e-3)
    assert (high - low) / 2 == pytest.approx(4.303 * 4.0501 / 3 ** 0.5, rel=1e-3)
    assert mean_interval([1.0] * 50) == (1.0, 1.0)
