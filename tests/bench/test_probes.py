"""``lit_jepa.bench.probes``: one probe sweep through ``lit-jepa fit``."""

import pytest
from lit_jepa.recipes import resolve

from lit_jepa.bench.probes import probe


def test_probe_refuses_a_numeric_log_version():
    with pytest.raises(ValueError, match="version_0"):
        probe(str(resolve("toy/probe-motion-vitt-64px-16f")), None, version="0")
