"""Small ToyWorld datasets on disk, generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_jepa.data.toyworld import generate

TASKS = ("anticipation", "fine", "motion", "tabletop")


@pytest.fixture(scope="session")
def toy_seed() -> int:
    return 7


@pytest.fixture(scope="session")
def toy_num() -> dict[str, int]:
    """Training samples per task in ``toy_root`` (validation: a quarter)."""
    return {"motion": 48, "fine": 24, "anticipation": 6, "tabletop": 12}


@pytest.fixture(scope="session")
def toy_root(tmp_path_factory: pytest.TempPathFactory, toy_seed: int, toy_num: dict[str, int]) -> dict[str, Path]:
    """``{task: dataset folder}`` for every task, generated with ``toy_seed``."""
    root = tmp_path_factory.mktemp("toyworld")
    return {task: generate(task, root / task, toy_num[task], toy_seed) for task in TASKS}
