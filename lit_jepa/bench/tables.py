"""Leaderboard outputs generated from run records (never edited by hand): ``LEADERBOARD.md``,
``leaderboard.csv`` and PNG plots in ``plots/`` of an output folder, and TensorBoard hparams entries."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lit_jepa.metrics import mean_interval, metric_spec, paired_difference_interval

# Quoted from the V-JEPA 2 paper (arXiv 2506.09985, Tables 4 and 5): frozen attentive probes, official protocol.
PAPER = [
    ("ViT-L/16 256", "73.7", "89.0", "85.1", "86.8", "83.5", "57.8 / 53.8 / 32.7"),
    ("ViT-H/16 256", "74.0", "89.8", "85.3", "87.9", "83.8", "59.2 / 54.6 / 36.5"),
    ("ViT-g/16 256", "75.3", "90.1", "86.6", "90.7", "84.6", "61.2 / 55.7 / 38.0"),
    ("ViT-g/16 384", "77.3", "90.2", "87.3", "91.1", "85.1", "63.6 / 57.1 / 39.7"),
]


def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-2 or abs(value) >= 1e4 else f"{value:.{digits}f}"
    return "-" if value is None else str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(r: dict) -> str:
    m = r["machine"]
    return f"{m.get('gpu') or m.get('cpu_model', m.get('processor'))}, {m.get('cpu_count')} cores"


def _probe_curve(r: dict) -> str:
    """``top-1 % at step s -> ...`` of the run's probe curve (``ProbeCurve``), or ``-``."""
    points = r.get("extra", {}).get("curves", {}).get("probe_curve/top1") or []
    return " -> ".join(f"{100 * v:.1f} @{s}" for s, v in points) or "-"


def pretrain_section(recs: list[dict]) -> str:
    rows = [[r["name"], r["metrics"].get("first_train_loss"), r["metrics"].get("final_train_loss"),
             r["metrics"].get("final_val_loss"), r["metrics"].get("final_collapse_target_effective_rank"),
             _probe_curve(r), f"{r['wall_time_s']:.0f}", f"`{r['protocol']}`", _machine(r)] for r in recs]
    return "## Pretraining\n\n" + table(["run", "first train loss", "final train loss", "final val loss",
                                         "target effective rank", "probe curve (ridge top-1 % @ step)", "wall s",
                                         "command", "machine"], rows)


def perf_section(recs: list[dict]) -> str:
    rows = []
    for r in recs:
        ratios = {k: v for k, v in r["metrics"].items() if "ratio" in k or "per_s" in k or "per_second" in k}
        rows.append([r["name"], "; ".join(f"{k} {fmt(v)}" for k, v in ratios.items()), f"`{r['protocol']}`",
                     _machine(r)])
    return ("## Performance (lit_jepa against its baseline in the same process; ratio > 1: lit_jepa faster)\n\n"
            + table(["run", "figures", "command", "machine"], rows))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _interval(bounds: list[float] | None, scale: float = 100, digits: int = 1) -> str:
    return "-" if not bounds else f"[{scale * bounds[0]:.{digits}f}, {scale * bounds[1]:.{digits}f}]"


def _encoder(r: dict) -> str:
    """The frozen encoder of a run: its probe-matrix name (``encoder_label``), else ``encoder_ckpt`` (a path),
    ``encoder_from`` (a run) or random init."""
    p = r["params"]
    return p.get("encoder_label") or p.get("encoder_ckpt") or p.get("encoder_from") or "random init"


def _random_twin(r: dict, recs: list[dict]) -> dict | None:
    """The run on ``r``'s architecture at random initialisation with the same task and headline: the probe
    matrix's ``random_twin`` of ``r``'s encoder, else a run of the recipe's architecture at random init."""
    same = [q for q in recs if q is not r and q["extra"]["task"] == r["extra"]["task"]
            and q["extra"]["headline"] == r["extra"]["headline"]]
    label = r["params"].get("encoder_label")
    twins = [q for q in same if label and q["params"].get("random_twin_of") == label]
    if twins:
        return twins[0]
    if r["params"].get("encoder") or r["params"].get("random_twin_of") or _encoder(r) == "random init":
        return None  # an adapter has no twin unless the matrix names one; twins have none
    native = [q for q in same if not q["params"].get("encoder") and not q["params"].get("encoder_ckpt")
              and not q["params"].get("encoder_from")]
    return native[0] if native else None


def _notes(recs: list[dict]) -> str:
    return "\n".join(f"- {r['name']}: {r['protocol']}. Selection: {r['selection_rule']}. Machine: {_machine(r)}."
                      for r in recs)


def _paired_interval(a: dict, b: dict, metric: str) -> tuple[float, float] | None:
    """Bootstrap interval of ``a - b`` on the headline metric when both records hold per-sample hits of the same
    validation samples (the best head of each run)."""
    sa, sb = a["extra"].get("per_sample"), b["extra"].get("per_sample")
    if not sa or not sb or sa["index"] != sb["index"] or sa["label"] != sb["label"]:
        return None
    _, mean_class = metric_spec(metric)
    return paired_difference_interval(np.array(sa["hit"], bool), np.array(sb["hit"], bool), np.array(sa["label"]),
                                      mean_class)


def probe_section(recs: list[dict]) -> str:
    rows, deltas = [], []
    for r in recs:
        x, metric = r["extra"], r["extra"]["headline"]
        others = "; ".join(f"{k} {_pct(v)}" for k, v in r["metrics"].items() if k != metric)
        rows.append([x["task"], _encoder(r), x.get("encoder_class") or "-", metric, _pct(r["metrics"][metric]),
                     _interval(x.get("interval")),
                     others or "-", r["protocol"], r["selection_rule"], _machine(r)])
    for r in recs:
        x, metric = r["extra"], r["extra"]["headline"]
        random = _random_twin(r, recs)
        if random is not None:
            delta = 100 * (r["metrics"][metric] - random["metrics"][metric])
            paired = _paired_interval(r, random, metric)
            deltas.append(f"- {x['task']}, {metric}: pretrained minus random: {delta:+.1f} points "
                          + (f"(paired 95 % bootstrap interval {_interval(paired)}) " if paired else "")
                          + f"({r['name']} against {random['name']})")
    return ("## Frozen-encoder probes (values in %: each encoder against the same architecture at random "
            "initialisation where it has one)\n\n"
            + table(["task", "encoder", "encoder class", "headline metric", "value", "95 % interval", "other metrics",
                     "protocol", "selection rule", "machine"], rows)
            + ("\n\n" + "\n".join(deltas) if deltas else ""))


def linear_groups(recs: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """``linear`` records by ``(task, group)`` in suite order, each group's runs sorted by ``pair``."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in recs:
        groups.setdefault((r["extra"]["task"], r["extra"]["group"]), []).append(r)
    return {k: sorted(v, key=lambda r: (r["extra"].get("pair") is None, r["extra"].get("pair") or 0))
            for k, v in groups.items()}


def linear_summary(runs: list[dict]) -> tuple[float, tuple[float, float] | None]:
    """Mean headline of a group's runs and the Student-t 95 % interval of that mean over runs (None for one run)."""
    values = [r["metrics"][r["extra"]["headline"]] for r in runs]
    return float(np.mean(values)), mean_interval(values)


def linear_differences(runs: list[dict], twins: list[dict]) -> tuple[list[tuple[Any, float, Any]], float,
                                                                      tuple[float, float] | None]:
    """Each run minus its twin of the same ``pair`` on the headline: ``[(pair, difference, paired bootstrap
    interval)]``, their mean and its Student-t 95 % interval over pairs."""
    by_pair = {t["extra"].get("pair"): t for t in twins}
    rows = []
    for r in runs:
        twin = by_pair.get(r["extra"].get("pair"))
        if twin is not None:
            metric = r["extra"]["headline"]
            rows.append((r["extra"].get("pair"), r["metrics"][metric] - twin["metrics"][metric],
                         _paired_interval(r, twin, metric)))
    diffs = [d for _, d, _ in rows]
    return rows, float(np.mean(diffs)) if diffs else float("nan"), mean_interval(diffs)


def linear_section(recs: list[dict]) -> str:
    groups = linear_groups(recs)
    rows, lines = [], []
    for (task, group), runs in groups.items():
        x, metric = runs[0]["extra"], runs[0]["extra"]["headline"]
        mean, interval = linear_summary(runs)
        per_run = "; ".join(f"{_pct(r['metrics'][metric])} {_interval(r['extra'].get('interval'))}" for r in runs)
        others = "; ".join(f"{k} {_pct(float(np.mean([r['metrics'][k] for r in runs])))}"
                           for k in runs[0]["metrics"] if k != metric)
        rows.append([task, group, len(runs), metric, _pct(mean), _interval(interval), per_run, others or "-"])
        twins = groups.get((task, x.get("twin")))
        if twins:
            pairs, diff, diff_interval = linear_differences(runs, twins)
            seeds = "; ".join(f"pair {p}: {100 * d:+.1f}" + (f" {_interval(iv)}" if iv else "") for p, d, iv in pairs)
            lines.append(f"- {task}, {metric}: {group} minus {x['twin']}: mean {100 * diff:+.1f} points over "
                         f"{len(pairs)} pair(s)" + (f", Student-t 95 % interval over pairs {_interval(diff_interval)}"
                                                    if diff_interval else "")
                         + f" (each pair: paired 95 % bootstrap interval of the held-out samples; {seeds})")
    notes = [f"- {task} / {group}: {runs[0]['protocol']}. Selection: {runs[0]['selection_rule']}. "
             f"Machine: {_machine(runs[0])}." for (task, group), runs in groups.items()]
    return ("## Linear probes (values in %: mean over a group's runs, e.g. pretraining seeds, with the Student-t 95 % "
            "interval of the mean; each run's own 95 % interval beside its value)\n\n"
            + table(["task", "encoder", "runs", "headline metric", "mean", "95 % interval of the mean",
                     "per run [95 % interval]", "other metrics (mean)"], rows)
            + ("\n\n" + "\n".join(lines) if lines else "") + "\n\n" + "\n".join(notes))


def plan_section(recs: list[dict]) -> str:
    rows = []
    for r in recs:
        m, intervals, planning = r["metrics"], r["extra"].get("intervals", {}), r["extra"].get("planning", {})
        for key in (k for k in m if k.endswith(".sr_final")):
            task, planner = key.split(".")[:2]
            result = planning.get(task, {}).get(planner, {})
            seconds = result.get("plan_seconds_per_env_step")
            if seconds is None and planner == "world_model_pretrained_encoder":
                seconds = m.get(f"{task}.plan_s_per_env_step")
            any_key = f"{task}.{planner}.sr_any"
            rows.append([r["name"], task, planner, f"{m[key]:.2f} {_interval(intervals.get(key), 1, 2)}",
                         f"{m[any_key]:.2f} {_interval(intervals.get(any_key), 1, 2)}" if any_key in m else "-",
                         seconds, result.get("seconds_per_episode")])
    return ("## Planning (ToyWorld tabletop and Two-Rooms; success rate with its Wilson 95 % interval over "
            "episodes)\n\n"
            + table(["run", "task", "planner", "SR at end of budget", "SR any time", "plan s/env-step", "s/episode"],
                    rows)
            + "\n\n" + _notes(recs))


def vqa_section(recs: list[dict]) -> str:
    rows = []
    for r in recs:
        results, intervals = r["extra"].get("results", {}), r["extra"].get("intervals", {})
        for key in (k for k in r["metrics"] if k.startswith("acc_")):
            setting = key[4:]
            rows.append([r["name"], setting, _pct(r["metrics"][key]), _interval(intervals.get(setting)),
                         results.get(setting, {}).get("n", r["metrics"].get("n"))])
    return ("## Video QA (ToyWorld multiple choice; accuracy in % with its Wilson 95 % interval)\n\n"
            + table(["run", "setting", "accuracy", "Wilson 95 %", "n"], rows) + "\n\n" + _notes(recs))


def generic_section(title: str, recs: list[dict]) -> str:
    rows = [[r["name"], "; ".join(f"{k} {fmt(v)}" for k, v in r["metrics"].items()), r["protocol"],
             r["selection_rule"], _machine(r)] for r in recs]
    return f"## {title}\n\n" + table(["run", "metrics", "protocol", "selection rule", "machine"], rows)


SECTIONS: dict[str, Callable[[list[dict]], str]] = {
    "pretrain": pretrain_section, "probe": probe_section, "linear": linear_section, "plan": plan_section,
    "vqa": vqa_section, "perf": perf_section}


def leaderboard(records: list[dict], source: str = "benchmarks/results/records") -> str:
    parts = ["# lit_jepa leaderboard", "",
             f"Generated by `lit-jepa bench` from the records in `{source}/`; do not edit. Each row names "
             "its protocol, selection rule, command and machine."]
    kinds = sorted({r["kind"] for r in records}, key=lambda k: list(SECTIONS).index(k) if k in SECTIONS else 99)
    for kind in kinds:
        recs = [r for r in records if r["kind"] == kind]
        parts += ["", SECTIONS.get(kind, lambda rs, k=kind: generic_section(k, rs))(recs)]
    parts += ["", "## Reference: V-JEPA 2 paper (quoted, not measured here)", "",
              "Frozen attentive probes, official protocol (top-1 %; EK100 mean-class recall@5 verb / noun / action).",
              "", table(["model", "SSv2", "Diving-48", "K400", "COIN", "IN1K", "EK100"], [list(p) for p in PAPER])]
    return "\n".join(parts) + "\n"


def write_csv(records: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["suite", "name", "kind", "metric", "value", "protocol", "selection_rule", "git_sha",
                         "checkpoint_sha256", "wall_time_s", "machine"])
        for r in records:
            for k, v in r["metrics"].items():
                writer.writerow([r["suite"], r["name"], r["kind"], k, v, r["protocol"], r["selection_rule"],
                                 r["git_sha"], r["checkpoint_sha256"], r["wall_time_s"], _machine(r)])
    return path


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the headless backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curves(records: list[dict], out: Path) -> list[Path]:
    plt = _pyplot()
    paths = []
    for r in records:
        curves = r.get("extra", {}).get("curves", {})
        if r["kind"] != "pretrain" or not curves:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for tag, points in curves.items():
            if tag.endswith("loss") and points:
                steps, values = zip(*points)
                ax.plot(steps, values, label=tag)
        ax.set(xlabel="optimizer step", ylabel="L1 loss", title=f"{r['name']} ({_machine(r)})")
        ax.legend(loc="upper left")
        if curves.get("probe_curve/top1"):  # the probe curve on a second axis: learning, not only a loss
            steps, values = zip(*curves["probe_curve/top1"])
            twin = ax.twinx()
            twin.plot(steps, [100 * v for v in values], "o-", color="tab:green", label="probe top-1 %")
            twin.set_ylabel("ridge probe top-1 % (held-out)")
            twin.legend(loc="upper right")
        paths.append(_save(fig, out / f"{r['name']}-curves.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    """Write a figure as a PNG and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _bars(ax: Any, groups: list[str], series: dict[str, dict[str, tuple[float, list[float] | None]]]) -> None:
    """Grouped bars: ``series[label][group] = (value, interval or None)``, interval as error bars."""
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g, name in enumerate(groups) if name in values]
        vals = [values[name] for name in groups if name in values]
        nan = [float("nan")] * 2  # no interval recorded: no error bar
        # clipped at 0: a rounded bound, or a percentile-bootstrap interval, may leave out its own value
        err = [[max(v - (iv or nan)[0], 0) for v, iv in vals], [max((iv or nan)[1] - v, 0) for v, iv in vals]]
        ax.bar(xs, [v for v, _ in vals], width, yerr=err, capsize=3, label=label)
    ax.set_xticks(range(len(groups)), groups)
    ax.legend(fontsize="small")


def plot_probes(records: list[dict], out: Path) -> list[Path]:
    """Probe headline metrics by task, one bar per encoder, 95 % intervals where recorded."""
    recs = [r for r in records if r["kind"] == "probe"]
    if not recs:
        return []
    plt = _pyplot()
    groups = list(dict.fromkeys(f"{r['extra']['task']}\n{r['extra']['headline']}" for r in recs))
    series: dict[str, dict] = {}
    for r in sorted(recs, key=lambda r: _encoder(r) == "random init"):
        iv = r["extra"].get("interval")
        series.setdefault(_encoder(r), {})[f"{r['extra']['task']}\n{r['extra']['headline']}"] = (
            100 * r["metrics"][r["extra"]["headline"]], [100 * b for b in iv] if iv else None)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    _bars(ax, groups, series)
    ax.set(ylabel="headline metric (%)", title=f"Frozen-encoder probes, 95 % intervals where recorded "
                                              f"({_machine(recs[0])})")
    return [_save(fig, out / "probes.png")]


def plot_linear(records: list[dict], out: Path) -> list[Path]:
    """Linear-probe headlines by task, one bar per encoder group (mean over its runs), the Student-t 95 % interval
    of the mean as error bars (a single run's own interval when the group has one run)."""
    recs = [r for r in records if r["kind"] == "linear"]
    if not recs:
        return []
    plt = _pyplot()
    series: dict[str, dict] = {}
    for (task, group), runs in linear_groups(recs).items():
        mean, interval = linear_summary(runs)
        interval = interval or runs[0]["extra"].get("interval")  # one run: no interval of the mean, its own
        label = f"{task}\n{runs[0]['extra']['headline']}"
        series.setdefault(group, {})[label] = (100 * mean, [100 * b for b in interval] if interval else None)
    groups = list(dict.fromkeys(f"{r['extra']['task']}\n{r['extra']['headline']}" for r in recs))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    _bars(ax, groups, series)
    ax.set(ylabel="headline metric (%)", title=f"Linear probes, mean over runs with 95 % intervals "
                                              f"({_machine(recs[0])})")
    return [_save(fig, out / "linear-probes.png")]


def plot_planning(records: list[dict], out: Path) -> list[Path]:
    """Success at the end of the budget per task and planner, with Wilson 95 % error bars (one plot per run)."""
    paths = []
    for r in (r for r in records if r["kind"] == "plan"):
        plt = _pyplot()
        intervals, series = r["extra"].get("intervals", {}), {}
        for key, value in r["metrics"].items():
            if key.endswith(".sr_final"):
                task, planner = key.split(".")[:2]
                series.setdefault(planner, {})[task] = (value, intervals.get(key))
        groups = list(dict.fromkeys(t for values in series.values() for t in values))
        fig, ax = plt.subplots(figsize=(7, 3.5))
        _bars(ax, groups, series)
        ax.set(ylabel="success at end of budget", ylim=(0, 1.05), title=f"{r['name']} ({_machine(r)})")
        paths.append(_save(fig, out / f"{r['name']}-planning.png"))
    return paths


def write_hparams(records: list[dict], log_dir: Path) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(log_dir)) as writer:
        for r in records:
            hp = {"suite": r["suite"], "kind": r["kind"], "protocol": r["protocol"][:200],
                  "selection_rule": r["selection_rule"]}
            metrics = {f"bench/{k}": float(v) for k, v in r["metrics"].items() if isinstance(v, int | float)}
            writer.add_hparams(hp, metrics, run_name=f"{r['suite']}-{r['name']}")
    return log_dir


def write_outputs(records: list[dict], out: Path, source: Path, tensorboard: Path) -> list[Path]:
    """``out/LEADERBOARD.md`` (first in the returned list), ``out/leaderboard.csv``, ``out/plots/`` and TensorBoard
    hparams under ``tensorboard``, from ``records`` (read from folder ``source``)."""
    where, here = source.resolve(), Path.cwd().resolve()
    label = where.relative_to(here) if where.is_relative_to(here) else where
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    board = out / "LEADERBOARD.md"
    board.write_text(leaderboard(records, str(label)))
    return [board, write_csv(records, out / "leaderboard.csv"), *plot_training_curves(records, plots),
            *plot_probes(records, plots), *plot_linear(records, plots), *plot_planning(records, plots),
            write_hparams(records, tensorboard)]
