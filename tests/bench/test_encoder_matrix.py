"""The probe matrix over a list of encoders (V-JEPA 2 checkpoints, adapters, random twins) and its leaderboard."""

import pytest

from lit_jepa.bench import records, runner, tables
from tests.bench.test_kinds import TINY_PROBE, VITT, calls, suite  # noqa: F401 - calls is a fixture

PROBE = {"recipe": "toy/probe-motion-vitt-64px-16f", "metric": "top1", "overrides": TINY_PROBE}
HF = {"class_path": "lit_jepa.encoders.HFVideoEncoder", "init_args": {"path": "/data/hf/vjepa2"}}


def test_matrix_adds_a_run_per_encoder_and_the_random_twins():
    expanded = runner.expand_probe_matrix({"suite": "s", "probe_matrix": {"recipes": {"motion": PROBE}, "encoders": {
        "native": {"encoder_ckpt": "vitl.pt", "random_twin": True},
        "hf": {"encoder": HF, "random_twin": {"random_init": True}},
        "plain": {"encoder": {"class_path": "lit_jepa.encoders.ModuleEncoder", "init_args": {"target": "m.E"}}}}}})
    runs = {r["name"]: r["params"] for r in expanded["runs"]}
    assert list(runs) == ["probe-motion-native", "probe-motion-native-random", "probe-motion-hf",
                          "probe-motion-hf-random", "probe-motion-plain"]
    assert runs["probe-motion-native-random"]["encoder_from"] is None
    assert "encoder_ckpt" not in runs["probe-motion-native-random"]
    assert runs["probe-motion-hf-random"]["encoder"]["init_args"] == {"path": "/data/hf/vjepa2", "random_init": True}
    assert runs["probe-motion-hf"]["encoder"] == HF  # the twin's overrides stay out of the encoder itself
    assert runs["probe-motion-hf-random"]["random_twin_of"] == "hf" and runs["probe-motion-plain"]["encoder_label"]
    with pytest.raises(ValueError, match="random_twin of an adapter"):
        twin_true = {"hf": {"encoder": HF, "random_twin": True}}
        runner.expand_probe_matrix({"suite": "s", "probe_matrix": {"recipes": {"motion": PROBE},
                                                                   "encoders": twin_true}})


def test_encoders_suite_probes_a_checkpoint_its_twin_and_a_per_frame_adapter(tmp_path, calls):  # noqa: F811
    per_frame = {"class_path": "lit_jepa.encoders.FrameEncoder",
                 "init_args": {"target": "lit_jepa.hub.load_encoder",
                               "kwargs": {"path": "{workdir}/enc/vjepa2.pt", "key": "target_encoder"}}}
    s = {**suite(("enc", "encoder", {"arch": VITT, "seed": 1})), "probe_matrix": {
        "recipes": {"motion": PROBE},
        "encoders": {"toy": {"encoder_from": "enc", "random_twin": True},
                     "toy-per-frame": {"uses": "enc", "encoder": per_frame}}}}
    out = runner.run_suite(runner.expand_probe_matrix(s), tmp_path / "records", tmp_path / "work")
    assert [r["status"] for r in out] == ["done"] * 4
    by_name = {r["name"]: r for r in out}
    frames = by_name["probe-motion-toy-per-frame"]
    assert frames["extra"]["encoder_class"] == "lit_jepa.encoders.module.FrameEncoder"
    assert frames["upstream"] == {"enc": out[0]["checkpoint_sha256"]}  # a new encoder export reruns it
    assert "lit_jepa.encoders.module.FrameEncoder" in frames["protocol"]
    assert by_name["probe-motion-toy"]["extra"]["encoder_class"] == "lit_jepa.nn.vit.VisionTransformer"
    assert len(list((tmp_path / "work" / "feature_cache").glob("train-*"))) == 3  # one cache per encoder
    board = tables.leaderboard(records.load_records(tmp_path / "records"))
    for label in ("toy", "toy-random", "toy-per-frame"):
        assert f"| motion | {label} |" in board
    assert "(probe-motion-toy against probe-motion-toy-random)" in board
    assert "probe-motion-toy-per-frame against" not in board  # no twin declared, none invented


def test_a_changed_adapter_weights_file_reruns_its_probes(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"one")
    params = {"encoder": {"class_path": "lit_jepa.encoders.ModuleEncoder",
                          "init_args": {"target": "m.E", "checkpoint": str(weights)}}}
    ctx = runner.Context(tmp_path)
    first = runner.upstream(params, ctx)
    weights.write_bytes(b"two!")
    assert first[str(weights)] and runner.upstream(params, ctx)[str(weights)] != first[str(weights)]


def test_a_changed_transformers_folder_reruns_its_probes(tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"one")
    ctx = runner.Context(tmp_path)
    for params, key in (({"encoder": {"class_path": "lit_jepa.encoders.HFVideoEncoder",
                                      "init_args": {"path": str(folder)}}}, str(folder)),
                        ({"encoder_ckpt": str(folder)}, str(folder))):
        (folder / "model.safetensors").write_bytes(b"one")
        first = runner.upstream(params, ctx)[key]
        (folder / "model.safetensors").write_bytes(b"two!")
        assert first and runner.upstream(params, ctx)[key] != first
