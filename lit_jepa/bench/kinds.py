"""What each kind of benchmark run does. A kind takes the run's ``params`` and a :class:`Context` and returns
``{"metrics": {...}, "protocol": str, "selection_rule": str, "checkpoint": path | None, "seed": int, "extra": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_jepa.bench.common import clear_run_folder
from lit_jepa.recipes import resolve


@dataclass
class Context:
    """Where a suite writes, and the records of the runs before this one (for ``from_run`` references)."""

    workdir: Path
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)

    def checkpoint_of(self, run: str) -> str:
        if run not in self.previous or not self.previous[run].get("checkpoint"):
            raise KeyError(f"run {run!r} has no checkpoint; runs so far: {sorted(self.previous)}")
        return self.previous[run]["checkpoint"]


def toyworld(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Generate ToyWorld tasks into the suite's data folder (reused when present)."""
    from lit_jepa.data.toyworld import ensure_generated

    out = {}
    for task in params["tasks"]:
        ann = ensure_generated(task, ctx.workdir / "data" / task, params["num"][task], params.get("seed", 0))
        out[task] = str(ann.parent)
    return {"metrics": {f"num_{t}": params["num"][t] for t in params["tasks"]}, "seed": params.get("seed", 0),
            "protocol": "ToyWorld generation, 64 px, official formats", "extra": {"folders": out}}


def _scalars(log_dir: Path, tags: list[str]) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0}).Reload()
    have = set(events.Tags()["scalars"])
    return {t: [(e.step, e.value) for e in events.Scalars(t)] for t in tags if t in have}


def pretrain(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run a pretraining recipe through ``lit-jepa fit``; the official-layout export is the checkpoint.
    ``{workdir}`` in an override is the suite's working folder."""
    from lit_jepa.cli import main

    save_dir = ctx.workdir / "runs"
    name = params["name"]
    overrides = _overrides(params, ctx)
    log_dir = save_dir / name / "bench"
    clear_run_folder(log_dir)
    args = ["fit", "--config", str(resolve(params["recipe"])), "--trainer.logger.init_args.save_dir", str(save_dir),
            "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", "bench",
            "--trainer.enable_progress_bar", "false", *overrides,
            # after the overrides: --trainer.callbacks.init_args.X there addresses the recipe's last callback
            "--trainer.callbacks+=lit_jepa.callbacks.StatusLine"]
    main(args)
    curves = _scalars(log_dir, ["train/loss", "val/loss", "collapse/target_effective_rank", "probe_curve/top1"])
    metrics = {f"final_{k.replace('/', '_')}": v[-1][1] for k, v in curves.items() if v}
    metrics.update({f"first_{k.replace('/', '_')}": v[0][1] for k, v in curves.items() if v})
    return {"metrics": metrics, "checkpoint": log_dir / "export" / "vjepa2.pt", "seed": params.get("seed", 0),
            "protocol": f"lit-jepa fit --config {params['recipe']} " + " ".join(map(str, params.get("overrides", []))),
            "extra": {"curves": curves, "log_dir": str(log_dir)}}


def _overrides(params: dict[str, Any], ctx: Context) -> list[str]:
    return [str(o).format(workdir=ctx.workdir) for o in params.get("overrides", [])]


def encoder_ckpt_path(path: str) -> Path:
    """An ``encoder_ckpt`` of a suite: absolute, or relative to the current directory."""
    return Path(path)


def frozen_encoder(params: dict[str, Any], ctx: Context) -> str | None:
    """The frozen encoder: ``encoder_ckpt`` (any checkpoint ``lit_jepa.hub`` reads: official ``.pt``,
    ``transformers`` folder, lit_jepa checkpoint), else the checkpoint of the run named by ``encoder_from``, else
    None (random initialisation)."""
    if params.get("encoder_ckpt"):
        return str(encoder_ckpt_path(params["encoder_ckpt"]))
    return ctx.checkpoint_of(params["encoder_from"]) if params.get("encoder_from") else None


def per_sample_hits(log_dir: Path, result: dict, metric: str) -> dict[str, list[int]] | None:
    """``{"index", "label", "hit"}`` of the headline metric's best head, from the run's ``val_predictions.npz``."""
    from lit_jepa.metrics import metric_spec, sample_hits

    if not result.get("predictions"):
        return None
    with np.load(log_dir / result["predictions"]) as pred:
        target = metric.split("_")[0] if "_" in metric else "label"
        k, _ = metric_spec(metric)
        top = pred[f"{target}_top5"][result["metrics"][metric]["head"]]
        labels = pred[f"{target}_label"]
        return {"index": pred["index"].tolist(), "label": labels.tolist(),
                "hit": sample_hits(top, labels, k).astype(int).tolist()}


def probe(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A frozen-encoder probe sweep (``recipe``) through ``lit-jepa fit`` on the checkpoint of run ``encoder_from``
    or ``encoder_ckpt``, or on the frozen encoder ``encoder`` (``{class_path, init_args}``: any
    ``lit_jepa.encoders`` adapter), else the recipe's architecture at random initialisation; ``metric`` is the
    headline, with a 95 % interval where the record allows one."""
    import yaml

    from lit_jepa.bench.probes import probe as probe_sweep
    from lit_jepa.metrics import bootstrap_interval, metric_spec, wilson

    encoder, metric = frozen_encoder(params, ctx), params["metric"]
    extra_args = ["--trainer.enable_progress_bar", "false", "--trainer.callbacks+=lit_jepa.callbacks.StatusLine",
                  "--data.init_args.cache_dir",
                  str(ctx.workdir / "feature_cache"), *_overrides(params, ctx)]
    if params.get("checkpoint_key"):
        extra_args += ["--model.init_args.checkpoint_key", params["checkpoint_key"]]
    if params.get("encoder"):  # "{workdir}" in its paths is the suite's working folder, as in overrides
        spec = json.dumps(params["encoder"]).replace("{workdir}", str(ctx.workdir))
        extra_args += ["--model.init_args.encoder", spec]
    result, wall, args, log_dir = probe_sweep(str(resolve(params["recipe"])), encoder, extra_args,
                                              ctx.workdir / "runs", params["name"], "bench")
    n, task = result["num_val_samples"], result["data_task"]
    value = result["metrics"][metric]["value"]
    per_sample = per_sample_hits(log_dir, result, metric)
    if metric.endswith("top1"):  # micro-averaged: a fraction of the n validation samples
        interval: list[float] | None = [round(v, 4) for v in wilson(round(value * n), n)]
        how = f"Wilson 95 % interval over n = {n} val samples (it ignores the max over heads)"
    elif per_sample is not None:
        _, mean_class = metric_spec(metric)
        hits, labels = np.array(per_sample["hit"], bool), np.array(per_sample["label"])
        interval = [round(v, 4) for v in bootstrap_interval(hits, labels, mean_class)]
        how = (f"95 % percentile-bootstrap interval (2,000 resamples of the n = {n} val samples, the best head's "
               f"per-sample predictions; it ignores the max over heads)")
    else:
        interval = None
        how = f"no interval: the probe run saved no per-sample predictions (n = {n} val samples)"
    source = (params.get("encoder_ckpt") or f"the checkpoint of run {params['encoder_from']}" if encoder
              else f"{result.get('encoder_class')} {json.dumps(params['encoder'].get('init_args', {}))}"
              if params.get("encoder") else "random initialisation")
    protocol = (f"frozen encoder ({source}), attentive probe grid: lit-jepa fit --config {params['recipe']} "
                + " ".join(map(str, params.get("overrides", []))) + f"; headline {metric}, {how}")
    recipe = yaml.safe_load(resolve(params["recipe"]).read_text())
    return {"metrics": {k: v["value"] for k, v in result["metrics"].items()}, "protocol": protocol,
            "selection_rule": result["selection_rule"], "checkpoint": log_dir / "export" / "probe.pt",
            "seed": recipe.get("seed_everything"),
            "extra": {"task": task or Path(params["recipe"]).stem, "headline": metric, "value": value,
                      "interval": interval, "n_val": n, "encoder": encoder, "per_sample": per_sample,
                      "encoder_sha256": result.get("encoder_sha256"), "encoder_class": result.get("encoder_class"),
                      "best_heads": {k: v["head"] for k, v in result["metrics"].items()},
                      "wall_s": round(wall, 1), "command": "lit-jepa " + " ".join(args), "log_dir": str(log_dir)}}


def linear_encoder(params: dict[str, Any], ctx: Context) -> tuple[Any, str]:
    """The frozen encoder of a ``linear`` run and its description: the checkpoint of run ``encoder_from``
    (``checkpoint_key``, default ``target_encoder``), the architecture of run ``random_like``'s checkpoint at random
    initialisation (torch seed ``init_seed``), or ``encoder`` (``{class_path, init_args}``, e.g. an adapter of
    ``lit_jepa.encoders``; ``{workdir}`` in its arguments is the suite's folder)."""
    import torch

    from lit_jepa import hub
    from lit_jepa.objects import load_object

    key = params.get("checkpoint_key", "target_encoder")
    if params.get("encoder_from"):
        return hub.load_encoder(ctx.checkpoint_of(params["encoder_from"]), key=key), \
            f"the {key} of run {params['encoder_from']}"
    if params.get("random_like"):
        shape = hub.load_encoder(ctx.checkpoint_of(params["random_like"]), key=key)
        torch.manual_seed(params.get("init_seed", 0))
        return type(shape)(**shape.config()), (f"the architecture of run {params['random_like']} at random "
                                               f"initialisation (torch seed {params.get('init_seed', 0)})")
    if params.get("encoder"):
        spec = json.loads(json.dumps(params["encoder"]).replace("{workdir}", str(ctx.workdir)))
        return load_object(spec["class_path"])(**spec.get("init_args", {})), \
            f"{spec['class_path']} {json.dumps(spec.get('init_args', {}))}"
    raise ValueError(f"linear run {params.get('name')!r} needs encoder_from, random_like or encoder")


def linear(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A linear probe (:mod:`lit_jepa.bench.linear`) of one frozen encoder (:func:`linear_encoder`) on ToyWorld
    ``task`` (``num`` / ``num_val`` clips or videos of seed ``seed``, generated once into the suite's
    ``data/linear-<task>``), with a 95 % interval on the headline. In the leaderboard, runs of one ``group`` (e.g.
    pretraining seeds) are averaged, and a group's ``twin`` group (its random-initialised twins) is subtracted
    seed by seed, runs paired by ``pair``."""
    import time

    from lit_jepa.bench import linear as probes
    from lit_jepa.metrics import bootstrap_interval, metric_spec, wilson

    start = time.perf_counter()
    encoder, source = linear_encoder(params, ctx)
    task, readout = params["task"], params.get("readout", "time")
    folder = ctx.workdir / "data" / f"linear-{task}"
    data = probes.toyworld_data(task, params["num"], params["num_val"], params.get("seed", 2), str(folder))
    results = probes.run(encoder, data, readout)
    headline = probes.HEADLINES[task]
    best, n = results[headline], len(results[headline]["labels"])
    _, mean_class = metric_spec(headline)
    if mean_class:
        interval = bootstrap_interval(best["hits"], best["labels"], True)
        how = f"95 % percentile-bootstrap interval (2,000 resamples of the n = {n} held-out samples)"
    else:
        interval = wilson(int(best["hits"].sum()), n)
        how = f"Wilson 95 % interval over n = {n} held-out clips"
    protocol = (f"linear probe (closed-form ridge readout of {readout}-pooled features, lit_jepa.bench.linear) of "
                f"{source} on ToyWorld {task}: {best['num_train']} train / {n} held-out samples (seed "
                f"{params.get('seed', 2)}); headline {headline}, {how}")
    return {"metrics": {k: r["value"] for k, r in results.items()}, "protocol": protocol, "seed": params.get("pair"),
            "selection_rule": "ridge strength chosen on the train clips (fit on 2/3, scored on 1/3), refit on all of "
                              "them, scored once on the held-out clips",
            "extra": {"task": task, "headline": headline, "value": best["value"],
                      "interval": [round(v, 4) for v in interval], "n_val": n, "readout": readout,
                      "group": params.get("group") or params["name"], "twin": params.get("twin"),
                      "pair": params.get("pair"), "encoder": source,
                      "ridges": {k: r["ridge"] for k, r in results.items()},
                      "value_best_ridge": {k: r["value_best_ridge"] for k, r in results.items()},
                      "per_sample": {"index": list(range(n)), "label": best["labels"].tolist(),
                                     "hit": best["hits"].astype(int).tolist()},
                      "wall_s": round(time.perf_counter() - start, 1)}}


def plan(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """:func:`lit_jepa.bench.planning.run` (its arguments from the params; ``{workdir}`` in ``overrides`` is the
    suite's working folder) on the encoder of run ``encoder_from`` (``null``: only ``encoders: [random]``): AC world
    models on it and on a random-initialised encoder, tabletop reach/push or Two-Rooms planning against the
    baselines. With ``model: recurrent``: :func:`lit_jepa.bench.planning_recurrent.run` instead (an end-to-end
    recurrent world model and its frozen-random-encoder control; no ``encoder_from``)."""
    from lit_jepa.bench import planning, planning_recurrent

    model = params.get("model", "ac")
    if model not in ("ac", "recurrent"):
        raise ValueError(f"run {params['name']}: model must be 'ac' or 'recurrent', got {model!r}")
    recurrent = model == "recurrent"
    sizes = {k: v for k, v in params.items() if k not in ("name", "encoder_from", "model")}
    sizes["overrides"] = _overrides(params, ctx)
    logdir = ctx.workdir / "runs" / params["name"]
    if recurrent:
        rec = planning_recurrent.run(**sizes, logdir=str(logdir))
    else:
        encoder = ctx.checkpoint_of(params["encoder_from"]) if params["encoder_from"] else None
        rec = planning.run(**sizes, encoder=encoder, logdir=str(logdir))
    metrics, intervals = {}, {}
    for task, planners in rec["planning"].items():
        for planner, r in planners.items():
            for key in ("sr_final", "sr_any"):
                metrics[f"{task}.{planner}.{key}"] = r[key]
                intervals[f"{task}.{planner}.{key}"] = r[f"{key}_wilson95"]
        first = next(r for name, r in planners.items() if name.startswith("world_model_"))
        metrics[f"{task}.plan_s_per_env_step"] = first["plan_seconds_per_env_step"]
    p, wm = rec["protocol"], rec["world_model"]
    cem = p["cem"]
    members = f", each an ensemble of {wm['ensemble']} models" if wm.get("ensemble", 1) > 1 else ""
    models = (f"end-to-end recurrent world models (recipe {wm['recipe']} {' '.join(wm['overrides'])}: "
              f"{wm['train_steps']} steps, {wm['data']}), trained whole and with the encoder frozen at random "
              f"initialisation{members}; world-model search {p['world_model_cem']['samples']} samples x "
              f"{p['world_model_cem']['iterations']} iterations, {p['world_model_cem']['elites']} elites"
              if recurrent else
              f"AC world models (recipe {wm['recipe']} {' '.join(wm['overrides'])}: {wm['train_steps']} steps on "
              f"{wm['train_trajectories']} trajectories) on the frozen encoder of run {params['encoder_from']} and "
              f"on a random-initialised one")
    protocol = (f"{p['env']} {'/'.join(p['tasks'])}: {p['episodes']} episodes per task, goal: {p['goal']}, "
                f"budget {p['budget_env_steps']} env steps; solvers {'/'.join(p['solvers'])}, costs "
                f"{'/'.join(p['costs'])}; SR final: "
                f"success at the end of the budget, SR any: at any step; Wilson 95 % intervals over episodes; "
                f"planners: ground-truth replay, random actions, CEM through the simulator, search through {models}; "
                f"CEM {cem['samples']} samples x {cem['iterations']} iterations, {cem['elites']} elites; energy: "
                f"{p['energy']}; world models: {p['mpc']} "
                f"(lit_jepa.bench.planning{'_recurrent' if recurrent else ''}.run, seed {p['seed']})")
    pretrained = logdir / "pretrained_encoder.pt"
    if recurrent:  # the end-to-end model's last Lightning checkpoint (`lit-jepa plan --checkpoint` reads it)
        pretrained = Path(rec["training"].get("pretrained_encoder", {}).get("checkpoint") or logdir / "none")
    return {"metrics": metrics, "protocol": protocol, "seed": p["seed"],
            "selection_rule": "none: fixed sizes and CEM settings, world models after their last step, one seed",
            "checkpoint": pretrained if pretrained.is_file() else None,
            "extra": {"intervals": intervals, "encoder_from": params.get("encoder_from"), **{
                k: rec[k] for k in ("planning", "training", "landscape", "protocol", "world_model", "wall_seconds")}}}


def vqa(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """:func:`lit_jepa.bench.vqa.run` (params as its arguments) on the encoder of run ``encoder_from``:
    pretrained, random-initialised, text-only and the answer-code control."""
    from lit_jepa.bench import vqa as toy_vqa

    kwargs = {k: v for k, v in params.items() if k not in ("name", "encoder_from")}
    rec = toy_vqa.run(**kwargs, root=str(ctx.workdir / "vqa"), encoder_ckpt=ctx.checkpoint_of(params["encoder_from"]))
    results = rec["results"]
    metrics = {f"acc_{k}": r["accuracy"] for k, r in results.items()} | {"n": results["pretrained"]["n"]}
    a = rec["params"]
    protocol = (f"{rec['protocol']}; pretrained: the checkpoint of run {params['encoder_from']}; {a['num']} train / "
                f"{a['num_val']} val questions, {a['epochs']} epochs, batch {a['batch_size']}; Wilson 95 % intervals "
                f"over the val questions (lit_jepa.bench.vqa.run)")
    return {"metrics": metrics, "protocol": protocol, "selection_rule": rec["selection_rule"],
            "seed": rec["seed"], "extra": {**rec["extra"], "encoder_from": params["encoder_from"],
                                           "intervals": {k: r["wilson95"] for k, r in results.items()}}}


def perf(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run a throughput script of a clone's ``benchmarks/`` folder (``script``: its name, found relative to the
    current directory; its ``main(argv)``) with ``--out`` in the suite's folder, and read the record it wrote."""
    import importlib.util

    path = Path("benchmarks") / f"{params['script']}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path.resolve()}: the perf suite runs the scripts of a clone's benchmarks/ folder; "
                                "run it from the clone's root")
    spec = importlib.util.spec_from_file_location(f"lit_jepa_perf_{params['script']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = ctx.workdir / "perf"
    argv = [str(a) for a in params.get("args", [])]
    module.main([*argv, "--out", str(out)])
    record = json.loads((out / f"{params['record']}.json").read_text())
    return {"metrics": {k: v for k, v in _flatten(record).items() if isinstance(v, int | float)},
            "protocol": f"python {path} {' '.join(argv)}",
            "selection_rule": "median of interleaved repeats", "extra": {"record": record}}


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in ("machine", "command"):
                continue
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            key = v.get("preset", i) if isinstance(v, dict) else i
            out.update(_flatten(v, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: obj}


KINDS: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
    "toyworld": toyworld,
    "pretrain": pretrain,
    "perf": perf,
    "probe": probe,
    "linear": linear,
    "plan": plan,
    "vqa": vqa,
}
