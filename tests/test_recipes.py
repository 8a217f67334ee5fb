"""Every recipe parses through the real CLI (``--print_config`` validates types without building models)."""

from pathlib import Path

import pytest
import yaml

from lit_jepa.cli import main
from lit_jepa.masks.multiblock import VJEPA2_MASKS

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").rglob("*.yaml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 8


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recipe_parses(recipe, capsys):
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", str(recipe), "--print_config"])
    assert done.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "class_path: lit_jepa.tasks." in printed and "trainer:" in printed
    config = yaml.safe_load(printed)
    assert config["trainer"]["plugins"] == [{"class_path": "lit_jepa.checkpoint_io.AtomicCheckpointIO"}]


@pytest.mark.parametrize("recipe", [r for r in RECIPES if "pretrain" in r.name or "cooldown" in r.name],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pretraining_recipes_build_the_official_number_of_mask_tokens(recipe):
    """The official training code builds len(cfgs_mask) x len(dataset_fpcs) mask tokens (6 for its configs) and
    loads predictors strictly: exports from these recipes must carry as many."""
    config = yaml.safe_load(recipe.read_text())
    model = config["model"]["init_args"]
    masks = len(model.get("masks") or VJEPA2_MASKS)
    data = config["data"]["init_args"].get("train_dataset", {})
    sources = len(data["init_args"]["datasets"]) if data.get("class_path", "").endswith("WeightedMixture") else 1
    assert model["predictor"]["init_args"]["num_mask_tokens"] == masks * sources


def test_cli_rejects_a_wrong_argument(capsys):
    recipe = next(r for r in RECIPES if r.parent.name == "toy")
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", str(recipe), "--model.init_args.lr", "fast", "--print_config"])
    assert done.value.code != 0


def test_data_commands_dispatch(capsys):
    with pytest.raises(SystemExit) as done:
        main(["data", "toyworld", "--help"])
    assert done.value.code == 0 and "--task" in capsys.readouterr().out
    assert main(["nonsense"]) == 2
    assert "lit-jepa: error: unknown command 'nonsense'; the commands: fit, " in capsys.readouterr().err


def test_linked_arguments_follow_the_data_and_the_encoder():
    from lit_jepa.cli import lightning_cli

    recipe = next(r for r in RECIPES if r.name.startswith("pretrain-vitt"))
    cli = lightning_cli(["--config", str(recipe), "--data.init_args.spec.frames_per_clip", "8",
                         "--data.init_args.resolution", "32", "--model.init_args.encoder.init_args.patch_size", "16",
                         "--model.init_args.encoder.init_args.embed_dim", "96"], run=False)
    enc, pred = cli.model.encoder, cli.model.predictor
    assert (enc.num_frames, enc.img_size, enc.patch_size, enc.embed_dim) == (8, 32, 16, 96)
    assert (pred.num_frames, pred.img_size, pred.patch_size) == (8, 32, 16)
    assert pred.predictor_embed.in_features == pred.predictor_proj.out_features == 96
