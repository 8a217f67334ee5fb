"""``lit_jepa.recipes``: the shipped recipes, found by name."""

from pathlib import Path

import pytest
from lit_jepa.recipes import names, resolve

CLONE_RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_every_recipe_of_the_folder_is_shipped_under_its_name():
    assert names() == sorted(f"{p.parent.name}/{p.stem}" for p in CLONE_RECIPES.glob("*/*.yaml"))
    path = resolve("toy/pretrain-vitt-64px-16f")
    assert path.name == "pretrain-vitt-64px-16f.yaml" and path.is_file()
    assert resolve("toy/pretrain-vitt-64px-16f.yaml") == resolve("recipes/toy/pretrain-vitt-64px-16f") == path


def test_an_existing_path_is_returned_as_is(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("seed_everything: 0\n")
    assert resolve(str(mine)) == mine


def test_an_unknown_name_lists_the_closest(tmp_path):
    with pytest.raises(FileNotFoundError, match="no recipe 'toy/pretrain-vitt-64px'.*closest: toy/pretrain-vitt"):
        resolve("toy/pretrain-vitt-64px")
    with pytest.raises(FileNotFoundError, match="shipped recipes: ac/droid-256px-16f"):
        resolve(str(tmp_path / "nothing-like-it"))
