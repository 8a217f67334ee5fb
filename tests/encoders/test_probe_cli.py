"""Foreign encoders through `lit-jepa fit`: a toy probe per encoder that checkpoints, resumes and caches its
features under its own key; the VJEPA2 adapter gives the native loader's probe metrics."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from lit_jepa.cli import main

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "toy" / "probe-motion-vitt-64px-16f.yaml"
SHAPE = ["--model.init_args.encoder.img_size", "32", "--model.init_args.encoder.num_frames", "8"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict[str, Path]:
    """One ToyWorld data folder and one feature cache for every encoder of this module."""
    root = tmp_path_factory.mktemp("probe_cli")
    return {"toy": root / "toy", "cache": root / "cache", "runs": root / "runs"}


def tiny_recipe(shared: dict[str, Path], name: str) -> Path:
    """The toy motion probe at test size: 16 + 8 clips of 8 x 32 x 32, one head, one epoch, checkpoints on."""
    cfg = yaml.safe_load(RECIPE.read_text())
    cfg["trainer"].update(max_epochs=1, enable_progress_bar=False, log_every_n_steps=1, enable_checkpointing=True)
    cfg["trainer"]["logger"]["init_args"].update(save_dir=str(shared["runs"]), name=name)
    cfg["model"]["init_args"].update(lrs=[1e-3], weight_decays=[0.01], num_heads=2, embedding_samples=0)
    data = cfg["data"]["init_args"]
    data.update(cache_dir=str(shared["cache"]), dtype="float32")
    data["data"]["init_args"].update(num=16, num_val=8, resolution=32, root=str(shared["toy"]), batch_size=4,
                                     spec={"frames_per_clip": 8, "frame_step": 2})
    path = shared["runs"].parent / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def fit(recipe: Path, *args: str) -> None:
    main(["fit", "--config", str(recipe), *args])


TIMM_ARGS = {"img_size": 32, "patch_size": 8, "embed_dim": 24, "depth": 1, "num_heads": 2}


def timm_or_skip():
    """The real ``timm``, or a skip where it does not import: it needs a torchvision built for the installed torch,
    which the CPU torch of the test machines does not have (``operator torchvision::nms does not exist``)."""
    try:
        import timm
    except Exception as err:  # noqa: BLE001 - ImportError, or torchvision's RuntimeError beside a mismatched torch
        pytest.skip(f"timm does not import here ({type(err).__name__}: {err})")
    return timm


def encoder_args(kind: str, hf_folders: dict[str, Path], tmp_path: Path) -> list[str]:
    """``--model.init_args.encoder`` for each kind of foreign encoder (class paths and short names)."""
    if kind == "timm":  # a tiny real timm ViT, weights from a local safetensors file
        from safetensors.torch import save_file

        timm = timm_or_skip()
        torch.manual_seed(0)
        model = timm.create_model("vit_tiny_patch16_224", num_classes=0, **TIMM_ARGS)
        save_file(model.state_dict(), tmp_path / "vit.safetensors")
        return ["--model.init_args.encoder", "TimmFrameEncoder", "--model.init_args.encoder.model_name",
                "vit_tiny_patch16_224", "--model.init_args.encoder.checkpoint", str(tmp_path / "vit.safetensors"),
                "--model.init_args.encoder.kwargs", json.dumps(TIMM_ARGS), *SHAPE]
    if kind in ("vjepa2", "videomae"):
        return ["--model.init_args.encoder", "HFVideoEncoder", "--model.init_args.encoder.path", str(hf_folders[kind])]
    if kind == "timm-per-frame":
        return ["--model.init_args.encoder", "lit_jepa.encoders.FrameEncoder",
                "--model.init_args.encoder.target", "tests.encoders.tiny_models.TinyImageViT", *SHAPE]
    from tests.encoders.tiny_models import TinyClipEncoder

    torch.manual_seed(0)
    torch.save(TinyClipEncoder().state_dict(), tmp_path / "clip_encoder.pt")
    return ["--model.init_args.encoder", "ModuleEncoder", "--model.init_args.encoder.target",
            "tests.encoders.tiny_models.TinyClipEncoder", "--model.init_args.encoder.checkpoint",
            str(tmp_path / "clip_encoder.pt"), "--model.init_args.encoder.frames_per_token", "2",
            "--model.init_args.encoder.pixels_per_token", "8", *SHAPE]


@pytest.mark.parametrize("kind", ["vjepa2", "videomae", "timm-per-frame", "timm", "module"])
def test_foreign_encoder_probe_checkpoints_resumes_and_caches_under_its_own_key(kind, hf_folders, shared, tmp_path):
    recipe = tiny_recipe(shared, kind)
    args = ["--model.init_args.encoder_ckpt", "null", *encoder_args(kind, hf_folders, tmp_path)]
    before = set(shared["cache"].glob("*")) if shared["cache"].is_dir() else set()
    fit(recipe, *args, "--trainer.logger.init_args.version", "first")
    new = set(shared["cache"].glob("*")) - before
    assert len(new) == 2, f"{kind}: expected its own train and val caches, found {sorted(new)}"
    folder = shared["runs"] / kind / "first"
    ckpts = sorted((folder / "checkpoints").glob("*.ckpt"))
    assert len(ckpts) == 1
    saved = torch.load(ckpts[0], map_location="cpu", weights_only=False)
    assert saved["lit_jepa"]["encoder_adapter"]["class"].startswith("lit_jepa.encoders.")
    assert saved["global_step"] == 4  # 16 clips, batch 4
    fit(recipe, *args, "--trainer.logger.init_args.version", "resumed", "--trainer.max_epochs", "2",
        "--ckpt_path", str(ckpts[0]))
    assert set(shared["cache"].glob("*")) - before == new  # the resumed run reads the same cache
    resumed = shared["runs"] / kind / "resumed"
    result = json.loads((resumed / "probe_results.json").read_text())
    assert result["epochs"] == 2 and result["encoder_class"].startswith("lit_jepa.encoders.")
    last = torch.load(sorted((resumed / "checkpoints").glob("*.ckpt"))[0], map_location="cpu", weights_only=False)
    assert last["global_step"] == 8
    encoder_keys = [k for k in last["state_dict"] if k.startswith("encoder.")]
    assert encoder_keys and all(torch.equal(last["state_dict"][k], saved["state_dict"][k]) for k in encoder_keys)


def test_vjepa2_adapter_and_native_loader_give_the_same_probe_metrics(hf_folders, shared, tmp_path):
    recipe = tiny_recipe(shared, "equal")
    folder = str(hf_folders["vjepa2"])
    cache, seen = tmp_path / "cache", set()  # a cache of its own: the other tests may have cached these encoders

    def new_caches() -> list[Path]:
        found = sorted(set(cache.glob("*")) - seen)
        seen.update(found)
        return found

    # the native loader builds the architecture the folder describes (no recipe architecture, no random draw)
    fit(recipe, "--model.init_args.encoder_ckpt", folder, "--model.init_args.encoder", "null",
        "--data.init_args.cache_dir", str(cache), "--trainer.logger.init_args.version", "native")
    native_caches = new_caches()
    fit(recipe, "--model.init_args.encoder_ckpt", "null", "--model.init_args.encoder",
        "lit_jepa.encoders.HFVideoEncoder", "--model.init_args.encoder.path", folder,
        "--data.init_args.cache_dir", str(cache), "--trainer.logger.init_args.version", "adapter")
    adapter_caches = new_caches()
    assert len(native_caches) == len(adapter_caches) == 2  # train and val each, under two keys
    for a, b in zip(native_caches, adapter_caches):
        np.testing.assert_allclose(np.load(b / "rank0.npy"), np.load(a / "rank0.npy"), atol=1e-5)
    native, adapter = (json.loads((shared["runs"] / "equal" / v / "probe_results.json").read_text())
                       for v in ("native", "adapter"))
    assert native["encoder_class"] == "lit_jepa.nn.vit.VisionTransformer"
    assert adapter["encoder_class"] == "lit_jepa.encoders.hf.HFVideoEncoder"
    assert adapter["metrics"] == native["metrics"] and adapter["heads"] == native["heads"]


def test_timm_adapter_tokens_are_the_models_patch_tokens_per_frame(tmp_path):
    """The real timm path: ``TimmFrameEncoder`` loads a local file through ``timm.create_model`` and returns each
    frame's patch tokens (prefix tokens dropped), in (t, h, w) order."""
    from safetensors.torch import save_file

    from lit_jepa.encoders import TimmFrameEncoder

    timm = timm_or_skip()
    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", num_classes=0, **TIMM_ARGS).eval()
    save_file(model.state_dict(), tmp_path / "vit.safetensors")
    enc = TimmFrameEncoder("vit_tiny_patch16_224", str(tmp_path / "vit.safetensors"), TIMM_ARGS, img_size=32,
                           num_frames=4).eval()
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        tokens = enc(clip)
        frames = clip.permute(0, 2, 1, 3, 4).flatten(0, 1)
        expected = model.forward_features(frames)[:, model.num_prefix_tokens:].reshape(2, 4 * 16, 24)
    assert tokens.shape == (2, 64, 24) and enc.token_grid(4, 32, 32) == (4, 4, 4)
    torch.testing.assert_close(tokens, expected)
