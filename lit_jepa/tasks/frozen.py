"""Frozen parts of a task module stay in eval mode on purpose; Lightning's start-of-``fit`` warning about modules
in eval mode is silenced for exactly them."""

from __future__ import annotations

import re
import warnings

from lightning.pytorch.utilities.warnings import PossibleUserWarning
from torch import nn


def expect_eval_mode(*frozen: nn.Module | None) -> None:
    """Ignore Lightning's ``Found N module(s) in eval mode at the start of training`` when ``N`` is the number of
    modules inside ``frozen`` (kept in eval mode by the task's ``train``), so any other module left in eval mode
    changes ``N`` and still warns.

    Args:
        frozen: the frozen sub-modules (``None`` entries are skipped).
    """
    n = sum(1 for part in frozen if part is not None for _ in part.modules())
    if n:
        warnings.filterwarnings("ignore", message=re.escape(f"Found {n} module(s) in eval mode at the start of "
                                                            "training"), category=PossibleUserWarning)
