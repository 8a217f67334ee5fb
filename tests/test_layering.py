"""The import layering stated in ``lit_jepa/__init__.py`` holds: every ``lit_jepa`` import (lazy ones included,
found by walking each module's ``ast``) points to the importer's own layer or a lower one."""

from __future__ import annotations

import ast
from pathlib import Path

import lit_jepa

PACKAGE = Path(lit_jepa.__file__).parent

# top to bottom; a module belongs to the layer of its longest matching prefix
LAYERS = [
    ("commands", ["lit_jepa.cli", "lit_jepa.bench", "lit_jepa.planning.cli", "lit_jepa.vqa.cli",
                  "lit_jepa.data.toyworld.cli"]),
    ("tasks", ["lit_jepa.tasks"]),
    ("task parts", ["lit_jepa.callbacks", "lit_jepa.probe_curve", "lit_jepa.planning", "lit_jepa.vqa"]),
    ("data", ["lit_jepa.data"]),
    ("models", ["lit_jepa.encoders", "lit_jepa.hub", "lit_jepa.checkpoint_io", "lit_jepa.planning.env"]),
    ("foundations", ["lit_jepa.nn", "lit_jepa.masks", "lit_jepa.losses", "lit_jepa.metrics", "lit_jepa.monitors",
                     "lit_jepa.optim", "lit_jepa.schedules", "lit_jepa.geometry", "lit_jepa.objects",
                     "lit_jepa.atomic", "lit_jepa._keymap", "lit_jepa._warnings", "lit_jepa.envs",
                     "lit_jepa.pictures", "lit_jepa.progress", "lit_jepa.recipes"]),
]


def layer_of(module: str) -> int:
    """Index in ``LAYERS`` of ``module`` (``lit_jepa`` itself sits on top)."""
    best, level = -1, 0
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, level = len(p), i
    if best < 0:
        raise AssertionError(f"{module} is in no layer of tests/test_layering.py: add it there and to the "
                             "docstring of lit_jepa/__init__.py")
    return level


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``lit_jepa`` import in ``path`` (module ``name``); ``from lit_jepa import x``
    counts as ``lit_jepa.x``, relative imports are resolved."""
    package = name.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] if node.level else [])
            module = ".".join(p for p in (base, node.module or "") if p)
            found += [(node.lineno, f"{module}.{a.name}") for a in node.names] if module == "lit_jepa" else \
                [(node.lineno, module)]
    return [(line, m) for line, m in found if m == "lit_jepa" or m.startswith("lit_jepa.")]


def test_every_import_points_down_or_sideways():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == "lit_jepa":
            continue
        mine = layer_of(name)
        for line, target in imports(path, name):
            if target != "lit_jepa.__version__" and layer_of(target) < mine:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {name} ({LAYERS[mine][0]}) imports "
                              f"{target} ({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_the_checker_sees_an_upward_import(tmp_path):
    assert layer_of("lit_jepa.data.toyworld.render") > layer_of("lit_jepa.tasks.probe")
    assert layer_of("lit_jepa.planning.env") > layer_of("lit_jepa.planning.mpc") > layer_of("lit_jepa.planning.cli")
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n\ndef f():\n    from lit_jepa.tasks import AttentiveProbe\n    from ..nn import x\n")
    assert imports(bad, "lit_jepa.data.bad") == [(4, "lit_jepa.tasks"), (5, "lit_jepa.nn")]


def test_the_docstring_states_these_layers():
    doc = lit_jepa.__doc__
    for name, prefixes in LAYERS:
        assert name in doc, name
        for p in prefixes:
            assert f"``{p.removeprefix('lit_jepa.')}``" in doc, p
