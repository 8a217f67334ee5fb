"""Objects named in configurations: ``module:attr`` (gymnasium's entry-point form) or a dotted
``package.module.Name`` (jsonargparse's class-path form)."""

from __future__ import annotations

import importlib
from typing import Any


def load_object(spec: str) -> Any:
    """The object ``spec`` names, as ``module:attr`` or ``package.module.Name``; ``ValueError`` naming ``spec`` when
    the module or the attribute is missing."""
    module, sep, attr = spec.partition(":") if ":" in spec else spec.rpartition(".")
    if not module or not attr:
        raise ValueError(f"{spec!r} names no object: write module:attr or package.module.Name")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load {spec!r}: {err}") from err
