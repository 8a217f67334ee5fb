"""Run a benchmark suite from a clone: ``python benchmarks/run.py --suite toy`` is ``lit-jepa bench --suite toy``
(the runner is :mod:`lit_jepa.bench`)."""

import sys

from lit_jepa.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
