import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The developers' ../shared folder; tests that need it skip where it is absent (users' clones)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture
def record_instances(monkeypatch):
    """``record_instances(owner, "Name")`` replaces the class ``owner.Name`` with a subclass that appends every
    instance it builds to the returned list (for tests that check what a benchmark constructs)."""

    def patch(owner, name: str) -> list:
        built, cls = [], getattr(owner, name)

        class Recording(cls):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                built.append(self)

        monkeypatch.setattr(owner, name, Recording)
        return built

    return patch
