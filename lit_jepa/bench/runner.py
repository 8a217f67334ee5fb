"""The benchmark runner: runs a suite, one JSON record per run, then regenerates the leaderboard.

Records go to ``<workdir>/records/<suite>/<run>.json`` (default ``runs/bench/records``); the records behind the
published figures are kept in a clone's ``benchmarks/results/records`` (pass ``records`` to write or read there).
The outputs (``LEADERBOARD.md``, ``leaderboard.csv`` and ``plots/``) are regenerated from the records folder used and
written beside it (``out``, default the records folder's parent), so your runs never overwrite the published tables.

Suites are YAML files shipped in ``lit_jepa/bench/suites/`` (a list of runs: ``name``, ``kind``, ``params``), or any
suite file by path. A run whose finished record has the same parameters, and the same checkpoints of the earlier
runs it uses (``encoder_from``), is not redone, so an interrupted suite resumes where it stopped and a retrained
encoder reruns its evaluations.

A suite run locks its records folder and its workdir (``LOCK`` in each): a second run on either is refused at
once with the lock's path, so two runs never write the same logs, checkpoints or records.
"""

from __future__ import annotations

import sys
import time
import traceback
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import yaml

from lit_jepa.atomic import locked
from lit_jepa.bench import records
from lit_jepa.bench.kinds import KINDS, Context, encoder_ckpt_path
from lit_jepa.bench.tables import write_outputs

# params that name an earlier run whose checkpoint the run uses
REFERENCES = ("encoder_from", "uses", "random_like")
LOCK = ".lit-jepa-bench.lock"


def suite_names() -> list[str]:
    """The names of the suites shipped with the package."""
    return sorted(p.name[:-5] for p in resources.files("lit_jepa.bench.suites").iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str) -> dict:
    """The suite ``name_or_path`` (a shipped suite's name, or a suite YAML file), its probe matrix expanded and the
    suite it ``extends`` (a name or path) under it (:func:`extend`).

    Args:
        name_or_path: a name of :func:`suite_names` or the path of a suite YAML file.
    """
    if Path(name_or_path).is_file():
        path, text = name_or_path, Path(name_or_path).read_text()
    elif name_or_path in suite_names():
        shipped = resources.files("lit_jepa.bench.suites") / f"{name_or_path}.yaml"
        path, text = f"lit_jepa/bench/suites/{name_or_path}.yaml", shipped.read_text()
    else:
        raise FileNotFoundError(f"no suite {name_or_path!r} (neither a file nor a shipped suite); shipped: "
                                f"{', '.join(suite_names())}")
    suite = yaml.safe_load(text)
    if not isinstance(suite, dict) or "suite" not in suite:
        raise ValueError(f"{path}: a suite is a mapping with a 'suite' name and 'runs', got {type(suite).__name__}")
    if suite.get("extends"):
        suite = extend(load_suite(suite["extends"]), suite)
    suite = expand_probe_matrix(suite)
    for i, run in enumerate(suite.get("runs", [])):
        missing = [k for k in ("name", "kind") if k not in run]
        if missing or run["kind"] not in KINDS:
            raise ValueError(f"{path}: run {i} needs name and a kind in {sorted(KINDS)}, got {run}")
    return suite


def extend(base: dict, suite: dict) -> dict:
    """``suite`` (a mapping with ``extends: <base suite>``) on top of ``base``: a run of the same name replaces the
    base's run in place, the others follow the base's runs; the name and every other key are ``suite``'s."""
    own = {run["name"]: run for run in suite.get("runs", [])}
    runs = [own.pop(run["name"], run) for run in base.get("runs", [])] + list(own.values())
    inherited = {k: v for k, v in base.items() if k != "probe_matrix"}  # the base's matrix is expanded in its runs
    return {**inherited, **{k: v for k, v in suite.items() if k != "extends"}, "runs": runs}


def expand_probe_matrix(suite: dict) -> dict:
    """Append a ``probe`` run ``probe-<recipe>-<encoder>`` for every pair of ``probe_matrix``'s ``encoders`` and
    ``recipes`` (name -> ``{recipe, metric, overrides}``). An encoder is ``{encoder_ckpt: path}`` or
    ``{encoder_from: run}`` (a V-JEPA 2 checkpoint, optional ``checkpoint_key``), ``{encoder: {class_path,
    init_args}}`` (any frozen encoder, e.g. an adapter of ``lit_jepa.encoders``) or null (the recipe's
    architecture at random initialisation). ``random_twin`` adds the run ``probe-<recipe>-<encoder>-random`` on
    the same architecture at random initialisation: ``true`` for a V-JEPA 2 checkpoint, or the ``init_args`` that
    make an adapter its own twin (``{random_init: true}``, ``{checkpoint: null}``). ``uses: RUN`` names an earlier
    run whose checkpoint an adapter reads (by its ``{workdir}`` path), so a retrained checkpoint reruns the probe."""
    matrix = suite.get("probe_matrix")
    if not matrix:
        return suite
    runs = list(suite.get("runs", []))
    for recipe_name, recipe in matrix["recipes"].items():
        for encoder_name, encoder in matrix["encoders"].items():
            encoder = dict(encoder or {"encoder_from": None})
            twin = encoder.pop("random_twin", None)
            params = {**recipe, **encoder, "encoder_label": encoder_name}
            runs.append({"name": f"probe-{recipe_name}-{encoder_name}", "kind": "probe", "params": params})
            if twin:
                runs.append({"name": f"probe-{recipe_name}-{encoder_name}-random", "kind": "probe",
                             "params": {**recipe, **random_twin(encoder, twin, encoder_name),
                                        "encoder_label": f"{encoder_name}-random", "random_twin_of": encoder_name}})
    return {**suite, "runs": runs}


def random_twin(encoder: dict, twin: bool | dict, name: str) -> dict:
    """The matrix encoder entry of ``encoder``'s random-initialised twin (see :func:`expand_probe_matrix`)."""
    if "encoder" not in encoder:
        return {"encoder_from": None}
    if not isinstance(twin, dict):
        raise ValueError(f"probe_matrix encoder {name!r}: random_twin of an adapter is the init_args that make it "
                         "random (e.g. {random_init: true} or {checkpoint: null}), not " + repr(twin))
    spec = encoder["encoder"]
    return {"encoder": {**spec, "init_args": {**spec.get("init_args", {}), **twin}}}


def referenced(params: dict) -> set[str]:
    """The earlier runs that ``params`` name (``REFERENCES``)."""
    return {params[k] for k in REFERENCES if params.get(k)}


def upstream(params: dict, ctx: Context) -> dict[str, str | None]:
    """The sha256 of the checkpoints of the earlier runs that ``params`` name (``REFERENCES``)."""
    used = {r: ctx.previous.get(r, {}).get("checkpoint_sha256") for r in sorted(referenced(params))}
    if params.get("encoder_ckpt"):  # a file's content, or every file of a folder (transformers)
        used[str(params["encoder_ckpt"])] = records.sha256_path(encoder_ckpt_path(params["encoder_ckpt"]))
    init_args = (params.get("encoder") or {}).get("init_args", {})
    for weights in (init_args.get("checkpoint"), init_args.get("path")):
        if weights:  # an adapter's weights file or model folder, as the adapter reads it
            used[str(weights)] = records.sha256_path(str(weights).replace("{workdir}", str(ctx.workdir)))
    return used


def run_suite(suite: dict, records_dir: Path, workdir: Path, force: bool = False, only: list[str] | None = None
              ) -> list[dict]:
    ctx = Context(workdir)
    done = []
    for run in suite["runs"]:
        name, params = run["name"], {**run.get("params", {}), "name": run["name"]}
        used = upstream(params, ctx)
        rerun = force and (not only or name in only)  # --force with --only reruns just those runs
        previous = None if rerun else records.finished(records_dir, suite["suite"], name, params, used)
        missing = sorted(referenced(params) - set(ctx.previous))
        if previous is None and missing and not (only and name not in only):
            error = (f"needs the finished run(s) {', '.join(missing)} of suite {suite['suite']!r}, which have no "
                     f"finished record in {records_dir}; run them first (add them to --only, or drop --only)")
            print(f"[{suite['suite']}] {name}: skipped: {error}", file=sys.stderr)
            done.append({"suite": suite["suite"], "name": name, "kind": run["kind"], "status": "skipped",
                         "error": error})
            continue
        if previous is not None or (only and name not in only):
            if previous is not None:
                path = records.record_path(records_dir, suite["suite"], name)
                print(f"[{suite['suite']}] {name}: finished earlier, reusing {path}")
                ctx.previous[name] = previous
                done.append(previous)
            continue
        print(f"[{suite['suite']}] {name}: running ({run['kind']})", flush=True)
        started = time.time()
        try:
            result = KINDS[run["kind"]](params, ctx)
            record = records.make_record(suite["suite"], name, run["kind"], params, result, started, used)
        except Exception as err:  # noqa: BLE001 - recorded as failed, the suite goes on, the exit status says so
            traceback.print_exc()
            record = {"suite": suite["suite"], "name": name, "kind": run["kind"], "params": params,
                      "status": "failed", "error": f"{type(err).__name__}: {err}"}
            records.save(records_dir, record)
            done.append(record)
            continue
        path = records.save(records_dir, record)
        ctx.previous[name] = record
        done.append(record)
        print(f"[{suite['suite']}] {name}: done in {record['wall_time_s']:.0f} s -> {path}", flush=True)
    return done


def run(suite: str, only: list[str] | None, workdir: Path, records_dir: Path, out: Path | None, force: bool,
        tables_only: bool) -> int:
    """Lock the folders, run the suite (unless ``tables_only``), then write the leaderboard outputs; returns the exit
    status (1 when a run failed). The arguments are :func:`lit_jepa.bench.bench`'s."""
    with ExitStack() as stack:
        if not tables_only:
            folders = {workdir.resolve(): "benchmark workdir",
                       records_dir.resolve(): "benchmark records folder"}  # one lock when they are one folder
            for folder, what in folders.items():
                stack.enter_context(locked(folder / LOCK, f"{what} {folder}", wait=False))
        failed = []
        if not tables_only:
            loaded = load_suite(suite)
            unknown = sorted(set(only or ()) - {r["name"] for r in loaded["runs"]})
            if unknown:
                raise ValueError(f"only: no run(s) {', '.join(unknown)} in suite {loaded['suite']!r}")
            started = time.time()
            results = run_suite(loaded, records_dir, workdir / loaded["suite"], force, only)
            failed = [r["name"] for r in results if r.get("status") != "done"]
            print(f"suite {loaded['suite']}: {len(results) - len(failed)} runs done, {len(failed)} failed, "
                  f"{time.time() - started:.0f} s")
        outputs = write_outputs(records.load_records(records_dir) if records_dir.is_dir() else [],
                                out or records_dir.resolve().parent, records_dir, workdir / "tensorboard")
    print(outputs[0].read_text())
    print("written: " + ", ".join(str(p) for p in outputs))
    if failed:
        print(f"failed runs: {', '.join(failed)} (see their records)", file=sys.stderr)
    return 1 if failed else 0
