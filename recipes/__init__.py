"""The recipes shipped with lit_jepa, importable as ``lit_jepa.recipes`` (this folder is mapped onto that package in
``pyproject.toml``, so a clone and an installed wheel read the same files).

    from lit_jepa.recipes import resolve
    resolve("toy/pretrain-vitt-64px-16f")   # -> .../recipes/toy/pretrain-vitt-64px-16f.yaml
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path


def names() -> list[str]:
    """Every shipped recipe's name (``<folder>/<stem>``, e.g. ``toy/pretrain-vitt-64px-16f``)."""
    root = resources.files(__name__)
    return sorted(f"{folder.name}/{f.name[:-5]}" for folder in root.iterdir() if folder.is_dir()
                  for f in folder.iterdir() if f.name.endswith(".yaml"))


def resolve(name_or_path: str) -> Path:
    """The recipe file ``name_or_path`` names: an existing file as is, else a shipped recipe by name.

    Args:
        name_or_path: a YAML file's path, or a shipped recipe's name with or without ``.yaml`` and with or without a
            leading ``recipes/`` (``toy/pretrain-vitt-64px-16f``, ``recipes/toy/pretrain-vitt-64px-16f.yaml``).

    Raises:
        FileNotFoundError: neither a file nor a shipped recipe; the message lists the closest names.
    """
    if Path(name_or_path).is_file():
        return Path(name_or_path)
    name = name_or_path.removeprefix("recipes/").removesuffix(".yaml")
    if name in names():
        return Path(str(resources.files(__name__).joinpath(f"{name}.yaml")))
    close = difflib.get_close_matches(name, names(), n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else f"shipped recipes: {', '.join(names())}"
    raise FileNotFoundError(f"no recipe {name_or_path!r}: neither a file nor a shipped recipe name; {hint}")
