"""Warnings from dependencies that a lit_jepa user can do nothing about, ignored precisely (message, category and
the module the warning points at), so the ones that matter stay visible."""

from __future__ import annotations

import warnings


def ignore_upstream_warnings() -> None:
    """Ignore Lightning's use of ``torch.utils._pytree.LeafSpec``, deprecated in recent torch (2.13, the build
    ``scripts/bootstrap.sh`` installs): Lightning 2.6.6, the newest release, builds one in its ``CombinedLoader`` on
    every ``fit``, so no pin of Lightning removes it, and it is harmless until torch drops the class."""
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
                            category=FutureWarning, module=r"lightning\.pytorch\.utilities\._pytree")
