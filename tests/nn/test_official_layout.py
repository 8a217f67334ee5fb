"""The shared official-layout check (a ViT-L in the release layout against transformers), when ../shared exists."""

import os
import subprocess
import sys


def test_official_layout_parity_check(shared_dir, tmp_path):
    check = shared_dir / "checks" / "official_layout_parity.py"
    # the check writes a 2.4 GB ViT-L file into a temporary folder it does not remove: keep it under tmp_path,
    # and remove it here, so test runs do not fill the disk
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, str(check)], capture_output=True, text=True, timeout=600, env=env)
    leftovers = list(tmp_path.rglob("*.pt"))
    for f in leftovers:
        f.unlink()
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "(ok)" in run.stdout
