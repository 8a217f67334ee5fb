"""Multiple-choice scores: paired accuracy, per-kind accuracy, one count per question, and the VideoQA test loop."""

import json

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from lit_jepa.nn.vit import VisionTransformer
from lit_jepa.tasks import VideoQA
from lit_jepa.vqa.scoring import QAScores, paired_accuracy


def test_paired_accuracy_counts_a_pair_only_when_both_are_right():
    groups = ["p1", "p1", "p2", "p2", "p3", "p3", ""]  # the last question has no group: scored on its own
    correct = [True, True, True, False, False, False, True]
    # p1 right, p2 half right, p3 wrong, the lone question right: 2 of 4 groups (single accuracy would be 4 / 7)
    assert paired_accuracy(groups, correct) == 0.5
    assert paired_accuracy(groups[:2], [True, True]) == 1.0
    with pytest.raises(ValueError, match="7 groups and 6 correctness flags"):
        paired_accuracy(groups, correct[:6])


def test_scores_count_each_question_once_and_break_down_by_kind():
    scores = QAScores()
    for index, right, kind in [(0, True, "a"), (1, False, "a"), (2, True, "b"), (0, True, "a")]:  # index 0 twice
        scores.add(index, right, kind)
    out = scores.summary()
    assert out == {"acc": 2 / 3, "num_questions": 3.0, "exact_match": 0.0, "acc/a": 0.5, "acc/b": 1.0}
    assert QAScores().summary() == {}


def test_videoqa_test_loop_reports_paired_and_per_kind_accuracy(tmp_path):
    """``trainer.test`` logs what the module's own option choices imply, pair by pair."""
    torch.manual_seed(0)
    encoder = VisionTransformer(img_size=32, num_frames=4, patch_size=16, tubelet_size=2, embed_dim=24, depth=1,
                                num_heads=2)
    module = VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1, encoder=encoder,
                     num_queries=2)
    qa = [json.dumps({"question": "which way ?", "answer": a, "choices": ["left", "up", "down"],
                      "kind": "dir" if n < 4 else "other", "group": f"pair{n // 2}"})
          for n, a in enumerate(["up", "left", "down", "up", "left", "left"])]
    batches = [{"video": torch.randn(3, 1, 3, 4, 32, 32), "qa": qa[i:i + 3], "index": torch.arange(i, i + 3)}
               for i in (0, 3)]
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    logged = trainer.test(module, DataLoader(batches, batch_size=None), verbose=False)[0]
    module.eval()
    right = [p == t for b in batches for p, t in zip(*module.choose(b))]
    assert logged["test/num_questions"] == 6 and logged["test/num_groups"] == 3
    assert logged["test/acc"] == pytest.approx(sum(right) / 6)
    assert logged["test/acc/dir"] == pytest.approx(sum(right[:4]) / 4)
    assert logged["test/paired_acc"] == pytest.approx(sum(right[k] and right[k + 1] for k in (0, 2, 4)) / 3)
    assert "test/exact_match" not in logged
