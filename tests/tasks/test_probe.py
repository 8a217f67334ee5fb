"""Attentive probes: token layout, frozen encoder, feature cache, and tiny toy sweeps through `lit-jepa fit`."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_jepa import hub
from lit_jepa._warnings import ignore_upstream_warnings
from lit_jepa.cli import main
from lit_jepa.data.datamodule import ClassificationDataModule
from lit_jepa.data.features import FeatureCacheDataModule, check_no_augmentation
from lit_jepa.data.transforms import RandomResizedCrop
from lit_jepa.metrics import metric_from_hits, sample_hits
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.tasks import AttentiveProbe

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "toy"
TINY = {"img_size": 32, "num_frames": 8, "patch_size": 8, "tubelet_size": 2, "embed_dim": 32, "depth": 2,
        "num_heads": 2}


def tiny_encoder() -> VisionTransformer:
    return VisionTransformer(**TINY)


def tiny_predictor() -> VisionTransformerPredictor:
    return VisionTransformerPredictor(img_size=32, patch_size=8, num_frames=8, tubelet_size=2, embed_dim=32,
                                      predictor_embed_dim=16, depth=1, num_heads=2)


def test_segments_concatenate_per_view_and_views_stay_apart():
    probe = AttentiveProbe(encoder=tiny_encoder(), num_classes=3, num_segments=2, lrs=[1e-3], weight_decays=[0.1],
                           num_heads=2, depth=1)
    b, s, w, n, d = 2, 2, 3, 4, 32
    feats = torch.arange(s * w, dtype=torch.float).view(1, s * w, 1, 1).expand(b, -1, n, d)  # clip v holds v
    x = probe.probe_inputs({"features": feats})
    assert x.shape == (b, w, s * n, d)
    for view in range(w):  # segment-major clips: view `view` of segment `seg` is clip seg * w + view
        assert x[0, view, :n].unique().tolist() == [view] and x[0, view, n:].unique().tolist() == [w + view]


def test_encoder_is_frozen_and_features_follow_layers_and_anticipation():
    probe = AttentiveProbe(encoder=tiny_encoder(), task="anticipation", predictor=tiny_predictor(), num_classes=6,
                           num_verbs=2, num_nouns=3, lrs=[1e-3, 3e-4], weight_decays=[0.1], num_heads=2, depth=1,
                           out_layers=[0, 1], anticipation_s=0.5, fps=8)
    probe.train()
    assert not probe.encoder.training and not probe.predictor.training and probe.classifiers.training
    assert not any(p.requires_grad for p in [*probe.encoder.parameters(), *probe.predictor.parameters()])
    video = torch.randn(2, 1, 3, 8, 32, 32)
    feats = probe.clip_features(video)
    n, hw = 4 * 16, 16  # tokens per layer, tokens in one tubelet slot
    assert feats.shape == (2, 1, 2 * n + hw, 32)  # two layers + the predicted slot
    assert len(probe.classifiers) == 2 and probe.selection_rule.startswith("best of 2 heads")


def test_missing_encoder_and_class_count_are_reported():
    with pytest.raises(ValueError, match="encoder_ckpt"):
        AttentiveProbe(num_classes=3)
    probe = AttentiveProbe(encoder=tiny_encoder())  # heads wait for the DataModule's num_classes
    assert probe.classifiers is None
    with pytest.raises(ValueError, match="model.init_args.num_classes"):
        probe.setup("fit")


def test_cache_refuses_training_augmentation():
    class Data(torch.utils.data.Dataset):
        transform = RandomResizedCrop(32)

        def __len__(self):
            return 1

    data = ClassificationDataModule(train_dataset=Data())
    with pytest.raises(ValueError, match="augmentation"):
        check_no_augmentation(data)
    assert FeatureCacheDataModule(ClassificationDataModule(), dtype="float32").dtype == "float32"


def tiny_config(tmp_path: Path, task: str, cached: bool, name: str, max_steps: int | None = None) -> Path:
    cfg = yaml.safe_load((RECIPES / f"probe-{task}-vitt-64px-16f.yaml").read_text())
    cfg["trainer"].update(max_epochs=2, enable_progress_bar=False, log_every_n_steps=1)
    if max_steps is not None:  # stop on steps: Lightning sets max_epochs to -1
        cfg["trainer"].pop("max_epochs")
        cfg["trainer"]["max_steps"] = max_steps
    cfg["trainer"]["logger"]["init_args"].update(save_dir=str(tmp_path / "runs"), name=name, version=0)
    model = cfg["model"]["init_args"]
    model.update(encoder_ckpt=None, encoder={"class_path": "lit_jepa.nn.VisionTransformer", "init_args": TINY},
                 num_heads=2, embedding_samples=8)
    if "predictor" in model:  # class counts from the DataModule
        for name in ("num_classes", "num_verbs", "num_nouns"):
            model.pop(name)
        model["predictor"]["init_args"].update(img_size=32, num_frames=8, embed_dim=32, predictor_embed_dim=16,
                                               depth=1, num_heads=2)
    data = cfg["data"]["init_args"]
    data.update(cache_dir=str(tmp_path / "cache"), dtype="float32")
    toy = data["data"]["init_args"]
    toy.update(num=2 if task == "anticipation" else 16, num_val=1 if task == "anticipation" else 8, resolution=32,
               root=str(tmp_path / "toy"), batch_size=4, spec={"frames_per_clip": 8, "frame_step": 2})
    if not cached:
        cfg["data"] = data["data"]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run(tmp_path: Path, task: str, cached: bool, name: str, max_steps: int | None = None) -> tuple[dict, Path]:
    main(["fit", "--config", str(tiny_config(tmp_path, task, cached, name, max_steps))])
    folder = tmp_path / "runs" / name / "version_0"
    return json.loads((folder / "probe_results.json").read_text()), folder


def test_toy_sweep_through_cli_cached_equals_uncached(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ignore_upstream_warnings()  # what importing lit_jepa installs (pytest resets filters around each test)
        cached, folder = run(tmp_path, "motion", True, "cached")
    noise = [str(w.message) for w in seen if "in eval mode" in str(w.message) or "LeafSpec" in str(w.message)]
    assert not noise, noise  # the frozen encoder's eval mode and Lightning's pytree use are not reported
    err = capsys.readouterr().err
    assert "caching train features: 4/4 batch" in err and "caching val features: 2/2 batch" in err
    uncached, _ = run(tmp_path, "motion", False, "uncached")
    assert len(cached["heads"]) == 4 and cached["selection_rule"].startswith("best of 4 heads on val")
    # same batches, same head initialisations: the cache changes nothing but the cost
    assert [h["top1"] for h in cached["heads"]] == pytest.approx([h["top1"] for h in uncached["heads"]], abs=1e-6)
    best = cached["metrics"]["top1"]
    assert best["value"] == max(h["top1"] for h in cached["heads"]) and 0 <= best["value"] <= 1
    assert len(list((tmp_path / "cache").glob("*/rank0.npy"))) == 2  # train and val, computed once
    probe = hub.load_probe(folder / "export" / "probe.pt", key=f"classifiers.{best['head']}")
    assert probe.linear.out_features == 24
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0}).Reload()
    expected = {"val/head00/top1", "val/head03/top1", "val/best/top1", "val/best_head/top1", "train/head00/loss"}
    assert expected <= set(events.Tags()["scalars"])
    assert "val/confusion_matrix" in events.Tags()["images"]  # the best head's, written by ProbeResults
    assert list(folder.rglob("metadata.tsv")), "embedding projector dump missing"
    pred = np.load(folder / cached["predictions"])  # per-sample top-5 of every head, last validation epoch
    assert pred["index"].tolist() == list(range(8)) and pred["label_top5"].shape == (4, 8, 5)
    hits = pred["label_top5"][:, :, 0] == pred["label_label"]
    assert hits.mean(1).tolist() == pytest.approx([h["top1"] for h in cached["heads"]], abs=1e-6)


def test_a_probe_stopped_on_max_steps_keeps_its_last_validation(tmp_path):
    result, folder = run(tmp_path, "motion", True, "steps", max_steps=8)  # 16 clips, batch 4: 2 epochs
    assert result["predictions"] == "val_predictions.npz"
    pred = np.load(folder / result["predictions"])
    hits = pred["label_top5"][:, :, 0] == pred["label_label"]
    assert hits.mean(1).tolist() == pytest.approx([h["top1"] for h in result["heads"]], abs=1e-6)
    assert list(folder.rglob("metadata.tsv")), "embedding projector dump missing"


def test_toy_anticipation_sweep_through_cli(tmp_path):
    result, folder = run(tmp_path, "anticipation", True, "anticipation")
    assert {f"{n}_recall5" for n in ("verb", "noun", "action")} <= set(result["metrics"])
    assert all(0 <= v["value"] <= 1 for v in result["metrics"].values())
    assert result["metrics"]["verb_recall5"]["value"] == pytest.approx(1.0)  # 5 verbs: all in any top 5
    pred = np.load(folder / result["predictions"])
    best = result["metrics"]["action_recall5"]
    hits = sample_hits(pred["action_top5"][best["head"]], pred["action_label"], 5)
    assert metric_from_hits(hits, pred["action_label"], mean_class=True) == pytest.approx(best["value"], abs=1e-6)
