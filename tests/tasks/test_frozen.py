"""Lightning's eval-mode warning is silenced for exactly the frozen parts."""

import warnings

from lightning.pytorch.utilities.warnings import PossibleUserWarning
from torch import nn

from lit_jepa.tasks.frozen import expect_eval_mode


def warned(n: int) -> bool:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        expect_eval_mode(nn.Sequential(nn.Linear(1, 1), nn.ReLU()), None)  # 3 modules
        warnings.warn(f"Found {n} module(s) in eval mode at the start of training. This may lead to unexpected "
                      "behavior during training.", PossibleUserWarning, stacklevel=1)
    return any("in eval mode" in str(w.message) for w in seen)


def test_only_the_frozen_count_is_silenced():
    assert not warned(3)
    assert warned(4) and warned(2)  # another module in eval mode (or one fewer) still warns
