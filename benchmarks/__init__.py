"""lit_jepa benchmarks: each script measures lit_jepa against its baseline in one process."""
