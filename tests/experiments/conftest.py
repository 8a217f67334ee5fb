"""The studies of ``experiments/`` are scripts, not a package: their smoke tests load them by path."""

import importlib.util
from pathlib import Path
from types import ModuleType

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def load_study(script: str) -> ModuleType:
    """The module of ``experiments/<script>`` (e.g. ``toy-energy/toy_energy_ceiling.py``)."""
    path = EXPERIMENTS / script
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
