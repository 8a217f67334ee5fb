"""The shared official-layout check (a ViT-L in the release layout against transformers), when ../shared exists."""

import subprocess
import sys


def test_official_layout_parity_check(shared_dir):
    check = shared_dir / "checks" / "official_layout_parity.py"
    run = subprocess.run([sys.executable, str(check)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "(ok)" in run.stdout
