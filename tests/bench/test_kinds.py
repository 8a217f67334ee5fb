"""The toy suite's kinds ``probe``, ``plan`` and ``vqa`` at smoke sizes through ``run_suite``, and their
leaderboard sections and plots from hand-made records."""

import time
from pathlib import Path

import pytest
import torch

from lit_jepa import hub
from lit_jepa.bench import records, runner, tables
from lit_jepa.bench.kinds import KINDS
from lit_jepa.nn import VisionTransformer

VITT = {"img_size": 64, "num_frames": 16, "patch_size": 16, "tubelet_size": 2, "embed_dim": 192, "depth": 6,
        "num_heads": 3, "conv_stem": True, "abs_pos_embed": True}  # the toy recipes' encoder
TINY = {"img_size": 64, "num_frames": 2, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}
TINY_PROBE = ["--data.init_args.data.init_args.root", "{workdir}/data/probe-motion",
              "--data.init_args.data.init_args.num", "8", "--data.init_args.data.init_args.num_val", "4",
              "--data.init_args.data.init_args.batch_size", "4", "--trainer.max_epochs", "1"]


@pytest.fixture
def calls(monkeypatch):
    """Kind ``encoder`` (a stand-in for pretraining: exports a random encoder of ``arch``), and a log of the
    runs each kind actually ran."""
    log = []

    def encoder(params, ctx):
        torch.manual_seed(params.get("seed", 0))
        path = hub.export_official(ctx.workdir / params["name"] / "vjepa2.pt",
                                   target_encoder=VisionTransformer(**params["arch"]))
        return {"metrics": {}, "protocol": "random encoder export", "checkpoint": path}

    monkeypatch.setitem(KINDS, "encoder", encoder)
    for kind in ("encoder", "probe", "linear", "plan", "vqa"):
        monkeypatch.setitem(KINDS, kind, lambda p, c, f=KINDS[kind]: log.append(p["name"]) or f(p, c))
    return log


def suite(*runs):
    return {"suite": "t", "runs": [{"name": n, "kind": k, "params": p} for n, k, p in runs]}


def test_probe_kind_pretrained_and_random_then_reused(tmp_path, calls, capsys):
    probe = {"recipe": "toy/probe-motion-vitt-64px-16f", "metric": "top1", "overrides": TINY_PROBE}
    s = suite(("enc", "encoder", {"arch": VITT, "seed": 1}), ("probe-pre", "probe", {**probe, "encoder_from": "enc"}),
              ("probe-rand", "probe", {**probe, "encoder_from": None}))
    out = runner.run_suite(s, tmp_path / "records", tmp_path / "work")
    assert [r["status"] for r in out] == ["done"] * 3 and calls == ["enc", "probe-pre", "probe-rand"]
    err = capsys.readouterr().err  # progress bars are off: status lines say what runs
    assert "[probe-pre/bench] training started at step 0/" in err and "[probe-rand/bench] training ended" in err
    pre, rand = out[1:]
    for r in (pre, rand):
        assert set(r["metrics"]) == {"top1"} and r["extra"]["task"] == "motion" and r["extra"]["n_val"] == 4
        lo, hi = r["extra"]["interval"]
        assert lo <= r["metrics"]["top1"] <= hi and "Wilson 95 % interval over n = 4" in r["protocol"]
        assert r["selection_rule"].startswith("best of 4 heads") and r["checkpoint_sha256"]
        assert (tmp_path / "work" / "runs" / r["name"] / "bench" / "probe_results.json").is_file()
    assert pre["upstream"] == {"enc": out[0]["checkpoint_sha256"]} and rand["upstream"] == {}
    assert "checkpoint of run enc" in pre["protocol"] and "random initialisation" in rand["protocol"]
    assert pre["extra"]["encoder_sha256"] != rand["extra"]["encoder_sha256"]
    assert any((tmp_path / "work" / "feature_cache").iterdir())
    again = runner.run_suite(s, tmp_path / "records", tmp_path / "work")
    assert calls == ["enc", "probe-pre", "probe-rand"] and again[1]["metrics"] == pre["metrics"]
    assert pre["extra"]["per_sample"]["index"] == rand["extra"]["per_sample"]["index"] == [0, 1, 2, 3]
    hits = pre["extra"]["per_sample"]["hit"]
    assert sum(hits) / 4 == pytest.approx(pre["metrics"]["top1"])  # the best head's per-sample hits
    board = tables.leaderboard(records.load_records(tmp_path / "records"))
    assert "motion, top1: pretrained minus random:" in board and "paired 95 % bootstrap interval" in board


def test_pretrain_kind_takes_numbers_in_its_overrides(tmp_path):
    """Suite YAML gives numbers as numbers (``[--seed_everything, 1]``): the command and the protocol take them."""
    small = ["--trainer.max_steps", 2, "--trainer.val_check_interval", 1, "--trainer.limit_val_batches", 1,
             "--data.init_args.num", 8, "--data.init_args.num_val", 4, "--data.init_args.batch_size", 4,
             "--data.init_args.num_workers", 0, "--data.init_args.resolution", 32,
             "--data.init_args.spec.frames_per_clip", 8, "--trainer.callbacks.init_args.data.init_args.num", 8,
             "--trainer.callbacks.init_args.data.init_args.num_val", 8,
             "--trainer.callbacks.init_args.data.init_args.resolution", 32, "--seed_everything", 1]
    s = suite(("pre", "pretrain", {"recipe": "toy/pretrain-vitt-64px-16f", "seed": 1,
                                   "overrides": ["--data.init_args.root", "{workdir}/data/motion", *small]}))
    (rec,) = runner.run_suite(s, tmp_path / "records", tmp_path / "work")
    assert rec["status"] == "done", rec.get("error")
    assert rec["protocol"].endswith("--seed_everything 1") and rec["checkpoint_sha256"]
    assert hub.load_encoder(rec["checkpoint"]).config()["conv_stem"]
    log_dir = tmp_path / "work" / "runs" / "pre" / "bench"
    (log_dir / "left-by-a-failed-try").write_text("")
    (again,) = runner.run_suite(s, tmp_path / "records", tmp_path / "work", force=True)
    assert again["status"] == "done" and not (log_dir / "left-by-a-failed-try").exists()
    assert len(list(log_dir.glob("events.out.tfevents.*"))) == 1  # one try's curves, not two


def test_linear_kind_pretrained_random_twins_and_pixels_then_grouped(tmp_path, calls):
    tiny = {**TINY, "num_frames": 16, "tubelet_size": 2}
    sizes = {"task": "motion", "num": 12, "num_val": 8, "seed": 2}
    s = suite(("enc0", "encoder", {"arch": tiny, "seed": 0}), ("enc1", "encoder", {"arch": tiny, "seed": 1}),
              *[(f"lin-pre{i}", "linear", {**sizes, "encoder_from": f"enc{i}", "group": "toy", "twin": "random",
                                           "pair": i}) for i in (0, 1)],
              *[(f"lin-rand{i}", "linear", {**sizes, "random_like": "enc0", "init_seed": i, "group": "random",
                                            "pair": i}) for i in (0, 1)],
              ("lin-pix", "linear", {**sizes, "group": "pixels", "encoder": {
                  "class_path": "lit_jepa.encoders.PixelTubelets", "init_args": {"patch_size": 16}}}),
              ("ant", "linear", {"task": "anticipation", "num": 4, "num_val": 2, "seed": 1, "encoder_from": "enc0"}))
    out = runner.run_suite(s, tmp_path / "records", tmp_path / "work")
    assert [r["status"] for r in out] == ["done"] * 8, [r.get("error") for r in out]
    pre0, pre1, rand0, rand1, pix, ant = out[2:]
    for r in (pre0, rand0, pix):
        hits = r["extra"]["per_sample"]["hit"]
        assert r["extra"]["n_val"] == len(hits) == 8 and r["metrics"]["top1"] == pytest.approx(sum(hits) / 8)
        lo, hi = r["extra"]["interval"]
        assert lo <= r["metrics"]["top1"] <= hi and "Wilson 95 % interval over n = 8" in r["protocol"]
        assert "ridge strength chosen on the train clips" in r["selection_rule"]
    assert rand0["upstream"] == {"enc0": out[0]["checkpoint_sha256"]} and "random initialisation (torch seed 0)" in \
        rand0["protocol"]
    assert "the target_encoder of run enc1" in pre1["protocol"] and "PixelTubelets" in pix["protocol"]
    assert rand0["metrics"] != rand1["metrics"] or rand0["extra"]["per_sample"] != rand1["extra"]["per_sample"]
    assert set(ant["metrics"]) == {"action_recall5", "verb_top1", "noun_top1"} and "bootstrap" in ant["protocol"]
    assert (tmp_path / "work" / "data" / "linear-motion").is_dir()
    board = tables.leaderboard(records.load_records(tmp_path / "records"))
    diff = 100 * (pre0["metrics"]["top1"] + pre1["metrics"]["top1"] - rand0["metrics"]["top1"]
                  - rand1["metrics"]["top1"]) / 2
    assert f"- motion, top1: toy minus random: mean {diff:+.1f} points over 2 pair(s)" in board
    assert "| motion | toy | 2 | top1 |" in board and "| motion | pixels | 1 | top1 |" in board
    assert [p.name for p in tables.plot_linear(records.load_records(tmp_path / "records"), tmp_path)] == [
        "linear-probes.png"]


def test_linear_readout_chooses_its_ridge_on_the_train_clips_only():
    from lit_jepa.bench import linear

    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 3
    x = torch.nn.functional.one_hot(y, 3).double() * 3 + torch.randn(60, 3, generator=g, dtype=torch.float64)
    vy = torch.arange(30) % 3
    vx = torch.nn.functional.one_hot(vy, 3).double() * 3 + torch.randn(30, 3, generator=g, dtype=torch.float64)
    good = linear.fit_and_score(x, y, vx, vy, 3, "top1")
    assert good["value"] > 0.9 and good["hits"].shape == (30,) and good["num_train"] == 60
    # held-out labels that contradict the train clips cannot change the chosen ridge, only the score
    flipped = linear.fit_and_score(x, y, vx, (vy + 1) % 3, 3, "top1")
    assert flipped["ridge"] == good["ridge"] and flipped["value"] < 0.1
    recall = linear.fit_and_score(x, y, vx, vy, 3, "action_recall5")
    assert recall["value"] == 1.0  # 5 >= 3 classes: every label is in the top 5
    with pytest.raises(ValueError, match="readout"):
        linear.features(torch.nn.Identity(), None, "train", [], "mean")


def test_plan_kind_smoke(tmp_path, calls):
    s = suite(("enc", "encoder", {"arch": TINY}),
              ("plan", "plan", {"encoder_from": "enc", "smoke": True, "tasks": ["reach"], "threads": 1}))
    rec = runner.run_suite(s, tmp_path / "records", tmp_path / "work")[1]
    assert rec["status"] == "done", rec.get("error")
    planners = ("replay", "random", "simulator_cem", "world_model_pretrained_encoder", "world_model_random_encoder")
    assert set(rec["metrics"]) == {f"reach.{p}.{k}" for p in planners for k in ("sr_final", "sr_any")} | {
        "reach.plan_s_per_env_step"}
    assert all(len(rec["extra"]["intervals"][k]) == 2 for k in rec["metrics"] if ".sr_" in k)
    assert "4 episodes per task" in rec["protocol"] and "run enc" in rec["protocol"]
    assert rec["checkpoint"] is None  # smoke: no world-model export
    assert "| plan | reach | world_model_pretrained_encoder |" in tables.leaderboard([rec])


def test_plan_kind_two_rooms_solvers_and_costs(tmp_path, calls):
    s = suite(("enc", "encoder", {"arch": TINY}),
              ("rooms", "plan", {"encoder_from": "enc", "smoke": True, "world": "two_rooms", "threads": 1,
                                 "encoders": ["pretrained"], "solvers": ["cem", "mppi"], "costs": ["final", "sum"]}),
              ("rooms-random", "plan", {"encoder_from": None, "smoke": True, "world": "two_rooms", "threads": 1,
                                        "encoders": ["random"]}))
    rooms, rooms_random = runner.run_suite(s, tmp_path / "records", tmp_path / "work")[1:]
    assert rooms["status"] == rooms_random["status"] == "done", (rooms.get("error"), rooms_random.get("error"))
    planners = ("replay", "random", "simulator_cem", "world_model_pretrained_encoder",
                "world_model_pretrained_encoder_cem_sum", "world_model_pretrained_encoder_mppi_final",
                "world_model_pretrained_encoder_mppi_sum")
    assert set(rooms["metrics"]) == {f"two_rooms.{p}.{k}" for p in planners for k in ("sr_final", "sr_any")} | {
        "two_rooms.plan_s_per_env_step"}
    assert "Two-Rooms" in rooms["protocol"] and "solvers cem/mppi, costs final/sum" in rooms["protocol"]
    assert rooms["extra"]["world_model"]["recipe"] == "toy/ac-two-rooms-64px-6f"  # the world's recipe
    assert "recipe toy/ac-two-rooms-64px-6f --trainer.max_steps 10: 10 steps on 4 trajectories" in rooms["protocol"]
    assert "two_rooms.world_model_random_encoder.sr_final" in rooms_random["metrics"]
    assert rooms_random["extra"]["world_model"]["encoder"] is None


def test_plan_kind_recurrent_world_model_on_two_rooms(tmp_path, calls):
    s = suite(("gru", "plan", {"model": "recurrent", "smoke": True, "threads": 1, "solvers": ["mppi"],
                               "costs": ["final", "sum"]}))
    rec = runner.run_suite(s, tmp_path / "records", tmp_path / "work")[0]
    assert rec["status"] == "done", rec.get("error")
    planners = ("replay", "random", "simulator_cem", *(f"world_model_{e}_mppi_{c}" for e in ("pretrained_encoder",
                                                                                           "random_encoder")
                                                      for c in ("final", "sum")))
    assert set(rec["metrics"]) == {f"two_rooms.{p}.{k}" for p in planners for k in ("sr_final", "sr_any")} | {
        "two_rooms.plan_s_per_env_step"}
    assert "end-to-end recurrent world models (recipe toy/wm-two-rooms-gru" in rec["protocol"]
    assert "planning_recurrent.run" in rec["protocol"] and "held 5 model steps" in rec["protocol"]
    training = rec["extra"]["training"]
    assert training["pretrained_encoder"]["hparams"]["freeze_encoder"] is False
    assert training["random_encoder"]["hparams"]["freeze_encoder"] is True
    assert str(rec["checkpoint"]).endswith("last.ckpt") and Path(rec["checkpoint"]).is_file()
    assert "| gru | two_rooms | world_model_pretrained_encoder_mppi_final |" in tables.leaderboard([rec])
    with pytest.raises(ValueError, match="model must be"):
        KINDS["plan"]({"name": "x", "model": "rnn"}, None)


def test_vqa_kind_smoke(tmp_path, calls):
    s = suite(("enc", "encoder", {"arch": VITT}),
              ("vqa", "vqa", {"encoder_from": "enc", "num": 8, "num_val": 4, "epochs": 1, "batch_size": 4}))
    rec = runner.run_suite(s, tmp_path / "records", tmp_path / "work")[1]
    assert rec["status"] == "done", rec.get("error")
    settings = ("pretrained", "random", "text_only", "answer_code_control")
    assert set(rec["metrics"]) == {f"acc_{k}" for k in settings} | {"n"} and rec["metrics"]["n"] == 4
    assert set(rec["extra"]["intervals"]) == set(settings) and "checkpoint of run enc" in rec["protocol"]
    assert (tmp_path / "work" / "vqa" / "tiny-lm").is_dir()


def record(name, kind, params, metrics, extra, protocol="p"):
    result = {"metrics": metrics, "protocol": protocol, "selection_rule": "rule", "extra": extra}
    return records.make_record("toy", name, kind, params, result, time.time())


def hand_made():
    probe = [record("motion-pre", "probe", {"encoder_from": "pretrain"}, {"top1": 0.6},
                    {"task": "motion", "headline": "top1", "interval": [0.55, 0.65]}),
             record("motion-rand", "probe", {"encoder_from": None}, {"top1": 0.45},
                    {"task": "motion", "headline": "top1", "interval": [0.4, 0.5]}),
             record("ant-pre", "probe", {"encoder_from": "pretrain"}, {"action_recall5": 0.3, "verb_top1": 0.5},
                    {"task": "anticipation", "headline": "action_recall5", "interval": None}),
             record("ant-rand", "probe", {"encoder_from": None}, {"action_recall5": 0.35, "verb_top1": 0.4},
                    {"task": "anticipation", "headline": "action_recall5", "interval": None})]
    plan = record("plan", "plan", {"encoder_from": "pretrain"},
                  {"reach.replay.sr_final": 1.0, "reach.replay.sr_any": 1.0,
                   "reach.world_model_pretrained_encoder.sr_final": 0.2,
                   "reach.world_model_pretrained_encoder.sr_any": 0.3, "reach.plan_s_per_env_step": 0.05},
                  {"intervals": {"reach.replay.sr_final": [0.93, 1.0], "reach.replay.sr_any": [0.93, 1.0],
                                 "reach.world_model_pretrained_encoder.sr_final": [0.11, 0.33],
                                 "reach.world_model_pretrained_encoder.sr_any": [0.19, 0.44]}}, "plan protocol")
    vqa = record("vqa", "vqa", {"encoder_from": "pretrain"}, {"acc_pretrained": 0.7, "acc_text_only": 0.4, "n": 480},
                 {"intervals": {"pretrained": [0.66, 0.74], "text_only": [0.36, 0.44]}}, "vqa protocol")
    return [*probe, plan, vqa]


def test_tables_of_probes_planning_and_vqa(tmp_path):
    recs = hand_made()
    board = tables.leaderboard(recs)
    assert "| motion | pretrain | - | top1 | 60.0 | [55.0, 65.0] | - | p | rule |" in board
    assert "| motion | random init | - | top1 | 45.0 | [40.0, 50.0] |" in board
    assert "| anticipation | random init | - | action_recall5 | 35.0 | - | verb_top1 40.0 |" in board
    assert "- motion, top1: pretrained minus random: +15.0 points" in board
    assert "- anticipation, action_recall5: pretrained minus random: -5.0 points" in board
    assert "| plan | reach | replay | 1.00 [0.93, 1.00] | 1.00 [0.93, 1.00] | - |" in board
    assert "| plan | reach | world_model_pretrained_encoder | 0.20 [0.11, 0.33] | 0.30 [0.19, 0.44] | 0.050 |" in board
    assert "| vqa | pretrained | 70.0 | [66.0, 74.0] | 480 |" in board and "| vqa | text_only | 40.0 |" in board
    assert "- plan: plan protocol." in board and "- vqa: vqa protocol." in board
    assert board.index("## Frozen-encoder probes") < board.index("## Planning") < board.index("## Video QA")
    recs[0]["metrics"]["top1"] = 0.54999  # below its rounded interval [0.55, 0.65]: the error bar is clipped
    paths = tables.plot_probes(recs, tmp_path) + tables.plot_planning(recs, tmp_path)
    assert [p.name for p in paths] == ["probes.png", "plan-planning.png"] and all(p.stat().st_size for p in paths)


def test_per_sample_hits_of_the_best_head_for_a_mean_class_metric(tmp_path):
    import numpy as np

    from lit_jepa.bench.kinds import per_sample_hits

    top = np.zeros((2, 3, 5), np.int64)
    top[1, :, 0] = [4, 0, 0]  # head 1 ranks class 4 first for sample 0 only
    labels = np.array([4, 2, 7])
    np.savez_compressed(tmp_path / "val_predictions.npz", index=np.arange(3), action_label=labels, action_top5=top)
    result = {"predictions": "val_predictions.npz", "metrics": {"action_recall5": {"head": 1, "value": 1 / 3}}}
    assert per_sample_hits(tmp_path, result, "action_recall5") == {"index": [0, 1, 2], "label": [4, 2, 7],
                                                                "hit": [1, 0, 0]}
    assert per_sample_hits(tmp_path, {"predictions": None}, "action_recall5") is None


def test_planning_suite_runs_match_the_benchmark_signature():
    import inspect

    from lit_jepa.bench import planning, planning_recurrent

    suite = runner.load_suite("planning")
    plans = [r for r in suite["runs"] if r["kind"] == "plan"]
    for r in plans:
        run = planning_recurrent.run if r["params"].get("model") == "recurrent" else planning.run
        assert set(r["params"]) <= set(inspect.signature(run).parameters) | {"name", "encoder_from", "model"}, r
    assert {r["params"].get("world", "two_rooms") for r in plans} == {"two_rooms"}
    assert {r["params"].get("model", "ac") for r in plans} == {"ac", "recurrent"}


def test_pretraining_rows_show_the_probe_curve_and_plot_it(tmp_path):
    curves = {"train/loss": [[0, 0.5], [100, 0.2]], "probe_curve/top1": [[0, 0.25], [100, 0.375]]}
    rec = {"name": "pre", "kind": "pretrain", "metrics": {"first_train_loss": 0.5, "final_train_loss": 0.2},
           "wall_time_s": 10.0, "protocol": "p", "machine": {"cpu_model": "cpu", "cpu_count": 2},
           "extra": {"curves": curves}}
    board = tables.pretrain_section([rec])
    assert "| 25.0 @0 -> 37.5 @100 |" in board
    without = tables.pretrain_section([{**rec, "extra": {"curves": {"train/loss": curves["train/loss"]}}}])
    assert "| - |" in without
    (path,) = tables.plot_training_curves([rec], tmp_path)
    assert path.name == "pre-curves.png" and path.stat().st_size > 0


def test_recurrent_planning_run_checks_its_world_and_encoders():
    from lit_jepa.bench import planning_recurrent

    with pytest.raises(ValueError, match="two_rooms only"):
        planning_recurrent.run(world="tabletop", smoke=True)
    with pytest.raises(ValueError, match="encoders must be"):
        planning_recurrent.run(encoders=["pretrained"], smoke=True)
    with pytest.raises(ValueError, match="5 environment steps per model step, the planners frame_step=1"):
        planning_recurrent.run(recipe="toy/wm-two-rooms-gru-fs5", smoke=True, frame_step=1)


def test_recurrent_planning_run_with_a_frameskip_recipe(tmp_path):
    from lit_jepa.bench import planning_recurrent

    rec = planning_recurrent.run(logdir=str(tmp_path), recipe="toy/wm-two-rooms-gru-fs5", smoke=True, frame_step=5,
                                 hold=1, encoders=["pretrained_encoder"], solvers=["mppi"], costs=["final"],
                                 ensemble=2)
    assert rec["protocol"]["frame_step"] == 5 and "model steps of 5 env steps" in rec["protocol"]["mpc"]
    first, (second,) = rec["training"]["pretrained_encoder"], rec["training"]["pretrained_encoder"]["ensemble"]
    assert first["data"]["seed"] == 0 and second["data"]["seed"] == 1 and first["checkpoint"] != second["checkpoint"]
    assert rec["world_model"]["ensemble"] == 2
    with pytest.raises(ValueError, match="ensemble must be"):
        planning_recurrent.run(ensemble=0, smoke=True)
    assert list(rec["protocol"]["world_model_cem"]["scale"]) == [5 * x for x in rec["protocol"]["cem"]["scale"]]
    assert rec["training"]["pretrained_encoder"]["data"]["frame_step"] == 5
    assert "world_model_pretrained_encoder_mppi_final" in rec["planning"]["two_rooms"]
