"""The benchmark runner: suites of runs (``lit_jepa/bench/suites/*.yaml``), one schema'd JSON record per run
(:mod:`~lit_jepa.bench.records`), and the leaderboard generated from the records (:mod:`~lit_jepa.bench.tables`).
What each kind of run does is in :mod:`~lit_jepa.bench.kinds`; the suite-backed benchmarks are
:mod:`~lit_jepa.bench.probes`, :mod:`~lit_jepa.bench.planning` and :mod:`~lit_jepa.bench.vqa`.

    lit-jepa bench --suite toy
"""

from __future__ import annotations

from pathlib import Path


def bench(suite: str = "toy", only: list[str] | str | None = None, workdir: str = "runs/bench",
          records: str | None = None, out: str | None = None, force: bool = False, tables_only: bool = False) -> int:
    """Run a benchmark suite, one record per run, then regenerate the leaderboard from the records.

    Every file it writes goes under ``workdir``, ``records`` and ``out``; a finished run with the same parameters is
    reused, so an interrupted suite resumes where it stopped. Returns the exit status: 0, or 1 when a run failed.

    Args:
        suite: a shipped suite's name (toy, perf, planning, probe, encoders) or the path of a suite YAML file.
        only: run only these runs of the suite, one name or a list (``--only NAME``, ``--only '[A, B]'``); the
            others reuse their finished records.
        workdir: folder of the suite's data, logs, checkpoints and perf results.
        records: folder of the run records (default: ``workdir/records``).
        out: folder for LEADERBOARD.md, leaderboard.csv and plots/ (default: the records folder's parent).
        force: rerun runs that already have a finished record.
        tables_only: only regenerate the leaderboard outputs from the records.
    """
    from lit_jepa.bench.runner import run

    only = [only] if isinstance(only, str) else only
    records_dir = Path(records) if records else Path(workdir) / "records"
    return run(suite, only, Path(workdir), records_dir, Path(out) if out else None, force, tables_only)
