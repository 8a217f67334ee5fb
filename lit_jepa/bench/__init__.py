"""Stand-in for branch i28-bench's ``lit_jepa.bench`` (the lead keeps that branch's version): the entry point
``lit-jepa bench`` calls, running ``benchmarks/run.py`` of the clone this package is installed from."""

from __future__ import annotations

import sys
from pathlib import Path


def bench(suite: str = "toy", only: list[str] | None = None, workdir: str = "runs/bench", records: str | None = None,
          out: str | None = None, force: bool = False, tables_only: bool = False) -> int:
    """Run a benchmark suite and write its records and leaderboard tables.

    Args:
        suite: suite name or path of a suite YAML.
        only: run only these runs of the suite.
        workdir: folder of the data, logs and checkpoints.
        records: folder of run records (default: ``workdir/records``).
        out: folder for the leaderboard outputs (default: the records folder).
        force: rerun runs that already have a finished record.
        tables_only: only regenerate the leaderboard outputs.
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "run.py").is_file():
        raise FileNotFoundError(f"no benchmarks/run.py next to {root / 'lit_jepa'}: run lit-jepa bench from a clone")
    sys.path.insert(0, str(root))
    from benchmarks.run import main

    argv = ["--suite", suite, "--workdir", workdir, *(["--only", *only] if only else []),
            *(["--records", records] if records else []), *(["--out", out] if out else []),
            *(["--force"] if force else []), *(["--tables-only"] if tables_only else [])]
    return main(argv)
