"""Packages: everything under lit_jepa/, plus the clone's recipes/ folder shipped as lit_jepa.recipes with one
data-only package per recipe folder (the ``package-dir`` mapping is in pyproject.toml; ``packages.find`` there cannot
list a mapped package)."""

from pathlib import Path

from setuptools import find_packages, setup

recipe_folders = sorted(p.name for p in Path(__file__).resolve().parent.joinpath("recipes").iterdir() if p.is_dir()
                        and p.name != "__pycache__")
setup(packages=[*find_packages(include=["lit_jepa", "lit_jepa.*"]), "lit_jepa.recipes",
                *(f"lit_jepa.recipes.{name}" for name in recipe_folders)])
