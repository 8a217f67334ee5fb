"""The commands of README.md and docs/*.md run as written, at test size (litgpt's ``test_readme``), so the pages
stay true.

Every ```` ```bash ```` block of these pages sits right under one marker line:

- ``<!-- test: skip REASON -->``: not run here (the whole job, a GPU, real data, a server; REASON says which);
- ``<!-- test: ARGS -->``: each command of the block runs with ARGS appended (test sizes: a later option overrides
  the block's), in page order, in one temporary folder per page (``$LIT_JEPA_CACHE`` inside it), so a block can use
  what an earlier block of its page wrote; ``<!-- test -->`` runs the block as written.
- ARGS may start with ``requires=MODULE``: the block is skipped while ``MODULE`` does not import.

A command is ``lit-jepa ...``, run in this process through :func:`lit_jepa.cli.main`; a trailing ``# comment`` and
``\\`` line continuations are allowed. Python blocks are not run.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from lit_jepa.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^<!-- test(?::\s*(?P<args>.*?))?\s*-->\n```bash\n(?P<body>.*?)^```", re.S | re.M)
CHANGELOG = ROOT / "CHANGELOG.md"


def bash_blocks(page: Path) -> list[str]:
    """Every ```bash block of ``page``, with the line above it."""
    return re.findall(r"^(.*)\n```bash\n", page.read_text(), flags=re.M)


def marked_blocks(page: Path) -> list[tuple[str, str]]:
    """``(marker arguments, block body)`` of every marked ```bash block of ``page``."""
    return [(m["args"] or "", m["body"]) for m in FENCE.finditer(page.read_text())]


def commands(body: str) -> list[list[str]]:
    """The block's commands as argv lists (continuations joined, comments dropped)."""
    lines = body.replace("\\\n", " ").splitlines()
    return [argv for line in lines if (argv := shlex.split(line, comments=True))]


BLOCKS = [pytest.param(page, args, body, id=f"{page.relative_to(ROOT)}:{i}")
          for page in PAGES for i, (args, body) in enumerate(marked_blocks(page))]


@pytest.fixture(scope="module")
def page_dirs(tmp_path_factory) -> dict[Path, Path]:
    """One working folder per page, shared by its blocks in order."""
    return {page: tmp_path_factory.mktemp(page.stem) for page in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_block_is_marked(page):
    unmarked = [line for line in bash_blocks(page) if not re.fullmatch(r"<!-- test(:.*?)? *-->", line)]
    assert not unmarked, f"{page.name}: a ```bash block without a <!-- test ... --> line above it: {unmarked}"


@pytest.mark.parametrize(("page", "args", "body"), BLOCKS)
def test_commands_run_at_test_size(page, args, body, page_dirs, monkeypatch):
    if args.startswith("skip"):
        pytest.skip(args)
    if args.startswith("requires="):
        module, _, args = args.partition(" ")
        if importlib.util.find_spec(module.removeprefix("requires=")) is None:
            pytest.skip(f"{module}: not in this checkout yet")
    workdir = page_dirs[page]
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("LIT_JEPA_CACHE", str(workdir / ".cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for argv in commands(body):
        assert argv[0] == "lit-jepa", f"{page.name}: only lit-jepa commands run here: {' '.join(argv)}"
        full = [str(ROOT / a) if a.startswith("recipes/") else a for a in argv[1:] + shlex.split(args)]
        assert main(full) == 0, " ".join(full)


def test_readme_is_a_short_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_changelog_is_a_changelog():
    text = CHANGELOG.read_text()
    versions = re.findall(r"^## \[(.+?)\]", text, flags=re.M)
    assert versions[:2] == ["Unreleased", "0.1.0"] and "## [0.1.0] - 2026-12-06" in text
    for line in text.splitlines():
        assert len(line) <= 200, line
        assert "Review:" not in line, line
        assert not re.search(r"\d\s?(%|s\b|min\b|ms\b|clips/s)|\d\.\d+x\b", line), f"a figure or timing: {line}"


def test_the_readme_weights_snippet_runs(tmp_path, monkeypatch):
    """The README's Python block, on a tiny model exported in the official layout as ``vitl.pt``."""
    import torch

    from lit_jepa import hub
    from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor

    monkeypatch.chdir(tmp_path)
    shape = {"img_size": 32, "num_frames": 4, "patch_size": 8, "embed_dim": 32, "num_heads": 2}
    hub.export_official("vitl.pt", encoder=VisionTransformer(**shape, depth=1),
                        predictor=VisionTransformerPredictor(**shape, predictor_embed_dim=32, depth=1))
    (snippet,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    scope = {"clip": torch.randn(1, 3, 4, 32, 32)}
    exec(snippet, scope)
    assert scope["tokens"].shape == (1, 16 * 2, 32)
    assert hub.load_encoder("vitl-hf/").embed_dim == 32


def test_the_readme_leaderboard_rows_come_from_the_published_leaderboard():
    """Every figure of the README's headline table appears in benchmarks/results/LEADERBOARD.md (regenerated from
    the records), so the summary cannot drift from the records."""
    readme = (ROOT / "README.md").read_text()
    board = (ROOT / "benchmarks" / "results" / "LEADERBOARD.md").read_text()
    table = re.search(r"^\| ToyWorld \|.*?\n\n", readme, flags=re.S | re.M)[0]
    figures = re.findall(r"\[\d+\.\d+, \d+\.\d+\]|\b\d+\.\d+\b", table)
    assert len(figures) >= 18
    assert [f for f in figures if f not in board] == []
