"""Stand-in for branch i28-bench's ``lit_jepa.recipes`` (the lead keeps that branch's version): recipes by name."""

from __future__ import annotations

import difflib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "recipes"


def resolve(name_or_path: str) -> Path:
    """An existing path as is, else the recipe ``recipes/<name>[.yaml]`` (``FileNotFoundError`` listing close names).

    Args:
        name_or_path: a file path or a recipe name such as ``toy/pretrain-vitt-64px-16f``.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidate = ROOT / (name_or_path if name_or_path.endswith((".yaml", ".yml")) else f"{name_or_path}.yaml")
    if candidate.is_file():
        return candidate
    names = sorted(str(p.relative_to(ROOT).with_suffix("")) for p in ROOT.rglob("*.yaml"))
    close = difflib.get_close_matches(name_or_path.removesuffix(".yaml"), names, n=3, cutoff=0.5)
    raise FileNotFoundError(f"{name_or_path}: no such file and no recipe of that name"
                            + (f"; did you mean {', '.join(close)}?" if close else ""))
