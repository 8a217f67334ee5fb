"""A frozen-encoder probe sweep through ``lit-jepa fit`` (the ``probe`` kind of the benchmark runner)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from lit_jepa.bench.common import clear_run_folder
from lit_jepa.cli import main


def probe(recipe: str, encoder: str | Path | None, extra: Sequence[str] = (), save_dir: str | Path = "runs/toy",
          name: str | None = None, version: str = "probe") -> tuple[dict, float, list[str], Path]:
    """One probe sweep through the CLI; returns its ``probe_results.json``, wall seconds, the command's arguments and
    the log folder ``save_dir/name/version``.

    Args:
        recipe: the probe recipe's path.
        encoder: the frozen encoder's checkpoint (None: the recipe's architecture at random initialisation).
        extra: further command-line overrides.
        save_dir: the TensorBoard logger's folder.
        name: the run's name (default: the recipe's file name).
        version: the run's version folder; not a number (the logger would write to ``version_<n>``).
    """
    name = name or Path(recipe).stem
    if version.isdigit():
        raise ValueError(f"probe version {version!r} is a number; TensorBoard would log to version_{version}")
    args = ["fit", "--config", str(recipe), "--trainer.logger.init_args.save_dir", str(save_dir),
            "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", version,
            "--model.init_args.encoder_ckpt", str(encoder) if encoder else "null", *extra]
    clear_run_folder(Path(save_dir) / name / version)
    start = time.perf_counter()
    main(args)
    wall = time.perf_counter() - start
    log_dir = Path(save_dir) / name / version
    return json.loads((log_dir / "probe_results.json").read_text()), wall, args, log_dir
