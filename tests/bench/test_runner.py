"""The benchmark runner: record schema, resumption, failures, and tables generated from records."""

import csv
import json
import time

import pytest

from lit_jepa.atomic import locked
from lit_jepa.bench import bench, records, runner, tables
from lit_jepa.bench.kinds import KINDS
from lit_jepa.cli import main


@pytest.fixture
def counting_kind(monkeypatch):
    calls = []

    def kind(params, ctx):
        calls.append(params["name"])
        if params.get("fail"):
            raise RuntimeError("boom")
        return {"metrics": {"top1": 0.5 + params.get("x", 0)}, "protocol": "toy protocol",
                "selection_rule": "best of 2 heads on val", "seed": 3}

    monkeypatch.setitem(KINDS, "dummy", kind)
    return calls


def suite(*runs):
    return {"suite": "t", "runs": [{"name": n, "kind": "dummy", "params": p} for n, p in runs]}


def test_record_schema(tmp_path):
    rec = records.make_record("t", "a", "dummy", {"x": 1}, {"metrics": {"m": 1.0}, "protocol": "p"}, time.time())
    assert set(records.REQUIRED) <= set(rec)
    assert rec["versions"]["torch"] and rec["machine"]["cpu_count"] >= 1 and rec["peak_memory_mb"] > 0
    assert rec["params_hash"] == records.params_hash({"x": 1}) != records.params_hash({"x": 2})
    bad = dict(rec)
    del bad["protocol"]
    with pytest.raises(ValueError, match="protocol"):
        records.validate(bad)
    ckpt = tmp_path / "c.pt"
    ckpt.write_bytes(b"abc")
    assert records.sha256_file(ckpt) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_finished_runs_are_reused_and_changed_ones_rerun(tmp_path, counting_kind):
    s = suite(("a", {"x": 0.1}), ("b", {"x": 0.2}))
    runner.run_suite(s, tmp_path, tmp_path / "work")
    runner.run_suite(s, tmp_path, tmp_path / "work")
    assert counting_kind == ["a", "b"]
    s["runs"][1]["params"]["x"] = 0.3
    out = runner.run_suite(s, tmp_path, tmp_path / "work")
    assert counting_kind == ["a", "b", "b"]
    assert [r["metrics"]["top1"] for r in out] == [pytest.approx(0.6), pytest.approx(0.8)]
    runner.run_suite(s, tmp_path, tmp_path / "work", force=True)
    assert counting_kind[-2:] == ["a", "b"]


def test_force_with_only_reruns_just_those_runs_on_their_finished_upstream(tmp_path, counting_kind):
    s = suite(("a", {"x": 0.1}), ("b", {"uses": "a"}))
    runner.run_suite(s, tmp_path, tmp_path / "work")
    out = runner.run_suite(s, tmp_path, tmp_path / "work", force=True, only=["b"])
    assert counting_kind == ["a", "b", "b"] and out[-1]["status"] == "done"


def test_failures_are_recorded_and_the_suite_goes_on(tmp_path, counting_kind):
    out = runner.run_suite(suite(("a", {"fail": True}), ("b", {})), tmp_path, tmp_path / "work")
    assert [r["status"] for r in out] == ["failed", "done"]
    assert json.loads((tmp_path / "t" / "a.json").read_text())["error"] == "RuntimeError: boom"
    assert [r["name"] for r in records.load_records(tmp_path)] == ["b"]  # the tables skip failed runs
    runner.run_suite(suite(("a", {"fail": False}), ("b", {})), tmp_path, tmp_path / "work")
    assert counting_kind == ["a", "b", "a"]  # a failed run is retried, a finished one is not


def test_tables_are_generated_from_records(tmp_path, counting_kind):
    runner.run_suite(suite(("a", {"x": 0.1}), ("b", {"x": 0.25})), tmp_path, tmp_path / "work")
    recs = records.load_records(tmp_path)
    board = tables.leaderboard(recs)
    assert "from the records in `runs/bench/records/`" in tables.leaderboard(recs, "runs/bench/records")
    assert "| a | top1 0.600 | toy protocol | best of 2 heads on val |" in board
    assert "ViT-g/16 384 | 77.3" in board and "quoted" in board
    path = tables.write_csv(recs, tmp_path / "board.csv")
    rows = list(csv.DictReader(open(path)))
    assert [(r["name"], float(r["value"])) for r in rows] == [("a", 0.6), ("b", 0.75)]


def test_unknown_suite_and_kind_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="shipped: .*perf"):
        runner.load_suite("no-such-suite")
    bad = tmp_path / "s.yaml"
    bad.write_text("suite: s\nruns:\n  - {name: a, kind: nope}\n")
    with pytest.raises(ValueError, match="kind"):
        runner.load_suite(str(bad))


def test_a_suite_extends_another_replacing_runs_of_the_same_name_in_place(tmp_path, counting_kind):
    base = tmp_path / "base.yaml"
    base.write_text("suite: base\nruns:\n  - {name: a, kind: dummy, params: {x: 1}}\n"
                    "  - {name: b, kind: dummy, params: {x: 2}}\n")
    full = tmp_path / "full.yaml"
    full.write_text(f"suite: full\nextends: {base}\nruns:\n  - {{name: c, kind: dummy}}\n"
                    "  - {name: a, kind: dummy, params: {x: 9}}\n")
    loaded = runner.load_suite(str(full))
    assert loaded["suite"] == "full" and "extends" not in loaded
    assert [(r["name"], r.get("params")) for r in loaded["runs"]] == [("a", {"x": 9}), ("b", {"x": 2}), ("c", None)]
    shipped = runner.load_suite("toy-full")
    names = [r["name"] for r in shipped["runs"]]
    assert set(r["name"] for r in runner.load_suite("toy")["runs"]) < set(names) and len(names) == len(set(names))
    by_name = {r["name"]: r["params"] for r in shipped["runs"]}
    assert by_name["linear-anticipation-pretrained-s0"]["num"] == 480  # replaced: more labelled videos
    for name, params in by_name.items():  # every run a run uses comes before it
        assert all(names.index(used) < names.index(name) for used in runner.referenced(params)), name


def test_a_changed_upstream_checkpoint_reruns_the_runs_that_use_it(tmp_path, counting_kind, monkeypatch):
    def export(params, ctx):
        counting_kind.append(params["name"])
        path = ctx.workdir / "enc.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(params["weights"].encode())
        return {"metrics": {}, "protocol": "export", "checkpoint": path}

    monkeypatch.setitem(KINDS, "export", export)
    s = {"suite": "t", "runs": [{"name": "enc", "kind": "export", "params": {"weights": "a", "note": 1}},
                                {"name": "pre", "kind": "dummy", "params": {"encoder_from": "enc"}},
                                {"name": "rand", "kind": "dummy", "params": {"encoder_from": None}}]}
    first = runner.run_suite(s, tmp_path, tmp_path / "work")
    assert first[1]["upstream"] == {"enc": records.sha256_file(tmp_path / "work" / "enc.pt")}
    runner.run_suite(s, tmp_path, tmp_path / "work")
    assert counting_kind == ["enc", "pre", "rand"]
    s["runs"][0]["params"]["note"] = 2  # reruns the upstream, but its checkpoint is the same
    runner.run_suite(s, tmp_path, tmp_path / "work")
    assert counting_kind[3:] == ["enc"]
    s["runs"][0]["params"]["weights"] = "b"  # a new checkpoint: the run that uses it reruns, the other does not
    out = runner.run_suite(s, tmp_path, tmp_path / "work")
    assert counting_kind[4:] == ["enc", "pre"]
    assert out[1]["upstream"]["enc"] != first[1]["upstream"]["enc"]
    assert out[1]["params_hash"] != first[1]["params_hash"] and out[2]["params_hash"] == first[2]["params_hash"]


def test_probe_suite_matrix_expands_every_encoder_on_every_recipe(tmp_path):
    loaded = runner.load_suite("probe")
    names = [r["name"] for r in loaded["runs"]]
    assert len(names) == 6 and "probe-motion-random" in names and "probe-fine-toy-pretrained" in names
    by_name = {r["name"]: r["params"] for r in loaded["runs"]}
    assert by_name["probe-motion-random"]["encoder_from"] is None
    assert by_name["probe-anticipation-toy-pretrained"]["metric"] == "action_recall5"
    # an encoder file: relative to the current directory, and its content enters the resumption key
    from lit_jepa.bench.kinds import Context, frozen_encoder

    ckpt = tmp_path / "enc.pt"
    ckpt.write_bytes(b"weights")
    params = {"encoder_ckpt": str(ckpt)}
    assert frozen_encoder(params, Context(tmp_path)) == str(ckpt)
    assert frozen_encoder({"encoder_ckpt": "x/y.pt"}, Context(tmp_path)) == "x/y.pt"
    first = runner.upstream(params, Context(tmp_path))
    ckpt.write_bytes(b"other weights")
    assert runner.upstream(params, Context(tmp_path)) != first


def test_only_skips_a_run_whose_upstream_never_finished(tmp_path, counting_kind):
    s = {"suite": "t", "runs": [{"name": "enc", "kind": "dummy", "params": {}},
                                {"name": "pre", "kind": "dummy", "params": {"encoder_from": "enc"}}]}
    out = runner.run_suite(s, tmp_path, tmp_path / "work", only=["pre"])
    assert counting_kind == [] and out[0]["status"] == "skipped" and "enc" in out[0]["error"]
    assert not (tmp_path / "t" / "pre.json").exists()  # no record: nothing ran
    runner.run_suite(s, tmp_path, tmp_path / "work", only=["enc"])
    out = runner.run_suite(s, tmp_path, tmp_path / "work", only=["pre"])
    assert counting_kind == ["enc", "pre"] and out[-1]["status"] == "done"


def test_bench_writes_the_leaderboard_beside_the_records_it_reads(tmp_path, counting_kind, monkeypatch, capsys):
    monkeypatch.setattr(runner, "load_suite", lambda name: suite(("a", {"x": 0.1})))
    records_dir, work = tmp_path / "bench" / "records", tmp_path / "bench"
    assert bench(records=str(records_dir), workdir=str(work)) == 0
    board = (tmp_path / "bench" / "LEADERBOARD.md").read_text()
    assert "| a | top1 0.600 |" in board and (tmp_path / "bench" / "leaderboard.csv").is_file()
    assert main(["bench", "--records", str(records_dir), "--workdir", str(work), "--only", "nope"]) == 2
    assert "only: no run(s) nope in suite 't'" in capsys.readouterr().err


def test_only_needs_a_run_name(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--only"])
    assert exit_.value.code == 2 and "--only/--only+: expected one argument" in capsys.readouterr().err


@pytest.mark.parametrize("shared", ["records", "workdir"])
def test_a_second_run_on_a_records_folder_or_workdir_in_use_is_refused(tmp_path, counting_kind, monkeypatch, capsys,
                                                                      shared):
    monkeypatch.setattr(runner, "load_suite", lambda name: suite(("a", {"x": 0.1})))
    records_dir, work = tmp_path / "records", tmp_path / "work"
    other = ["--records", str(records_dir), "--workdir", str(tmp_path / "elsewhere")] if shared == "records" else \
        ["--records", str(tmp_path / "elsewhere" / "records"), "--workdir", str(work)]
    held = (records_dir if shared == "records" else work).resolve() / runner.LOCK
    with locked(held, "the first run"):  # a first run in progress (a lock file is per open file, even in-process)
        assert main(["bench", *other]) == 2
    assert counting_kind == []  # refused before running anything
    assert f"is in use by another process (lock {held})" in capsys.readouterr().err
    assert main(["bench", *other]) == 0 and counting_kind == ["a"]  # free again once the first run ends
