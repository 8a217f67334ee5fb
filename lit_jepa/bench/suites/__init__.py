"""The benchmark suites shipped with lit_jepa (YAML files read by :func:`lit_jepa.bench.runner.load_suite`)."""
