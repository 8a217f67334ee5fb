"""No code runs from a checkpoint: a pickle payload through every entry point that reads one.

The payload's ``__reduce__`` creates a marker file (harmless). Loaded safely, the marker never appears and the
error names the file and the object torch refused; with ``trust_checkpoint=True`` the file loads (and the
marker appears, which proves the payload is really in the file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lit_jepa import hub
from lit_jepa.checkpoint_io import AtomicCheckpointIO
from lit_jepa.cli import dispatch
from lit_jepa.masks.multiblock import MaskSpec
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.tasks import AttentiveProbe, JepaPretrain, VideoQA
from lit_jepa.tasks.world_model import ACWorldModel


class Payload:
    """Unpickling this object calls ``open(marker, "w")``: it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def encoder() -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(img_size=32, num_frames=2, patch_size=16, embed_dim=32, depth=1, num_heads=2)


def predictor() -> VisionTransformerPredictor:
    return VisionTransformerPredictor(img_size=32, patch_size=16, num_frames=2, embed_dim=32, predictor_embed_dim=16,
                                      depth=1, num_heads=2, num_mask_tokens=2)


def ac_predictor() -> ACPredictor:
    return ACPredictor(img_size=32, patch_size=16, embed_dim=32, predictor_embed_dim=16, depth=1, num_heads=2)


def poison(obj: dict, path: Path, marker: Path) -> Path:
    torch.save({**obj, "note": Payload(marker)}, path)
    return path


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PAYLOAD_RAN"


@pytest.fixture
def export(tmp_path) -> dict:
    """An official-layout export (encoder, target encoder, predictor) as a dict."""
    path = hub.export_official(tmp_path / "clean.pt", encoder=encoder(), target_encoder=encoder(),
                               predictor=predictor())
    return torch.load(path, weights_only=True)


def refused(marker: Path, path: Path, err: BaseException) -> None:
    assert not marker.exists(), "the payload ran"
    assert isinstance(err, hub.UnsafeCheckpointError)
    assert str(path) in str(err) and "object io.open" in str(err) and "trust_checkpoint=True" in str(err)


def check(load, marker: Path, path: Path) -> None:
    """``load(trust)`` refuses the file safely and loads it when trusted."""
    with pytest.raises(hub.UnsafeCheckpointError) as err:
        load(False)
    refused(marker, path, err.value)
    load(True)
    assert marker.exists()


@pytest.mark.parametrize("name", ["vjepa2.pt", "last.ckpt"])
def test_hub_loaders(tmp_path, marker, export, name):
    path = poison(export, tmp_path / name, marker)
    check(lambda trust: hub.load_encoder(path, trust_checkpoint=trust), marker, path)
    marker.unlink()
    check(lambda trust: hub.load_predictor(path, trust_checkpoint=trust), marker, path)


def test_lightning_checkpoint(tmp_path, marker):
    sd = {f"encoder.{k}": v for k, v in encoder().state_dict().items()}
    meta = {"encoder": hub.encoder_config(encoder())}
    path = poison({"state_dict": sd, "lit_jepa": meta}, tmp_path / "epoch=0-step=1.ckpt", marker)
    check(lambda trust: hub.load_encoder(path, key="encoder", trust_checkpoint=trust), marker, path)
    with pytest.raises(hub.UnsafeCheckpointError) as err:  # resuming through lit-jepa fit's CheckpointIO
        AtomicCheckpointIO().load_checkpoint(path)
    assert str(path) in str(err.value)


def test_transformers_folder(tmp_path, marker):
    folder = hub.export_hf(tmp_path / "hf", encoder(), predictor())
    from safetensors.torch import load_file

    sd = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    path = poison(sd, folder / "pytorch_model.bin", marker)
    check(lambda trust: hub.load_encoder(folder, trust_checkpoint=trust), marker, path)


def test_plan_cli(tmp_path, marker):
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=64, num_frames=2, patch_size=8, embed_dim=32, depth=1, num_heads=2)
    pred = ACPredictor(img_size=32, patch_size=8, embed_dim=32, predictor_embed_dim=16, depth=1, num_heads=2)
    path = poison(torch.load(hub.export_official(tmp_path / "wm.pt", encoder=enc, predictor=pred), weights_only=True),
                  tmp_path / "wm.pt", marker)
    out = tmp_path / "plan.json"
    args = ["--checkpoint", str(path), "--env", "tabletop", "--episodes", "1", "--budget", "1", "--samples", "4",
            "--iterations", "1", "--elites", "2", "--landscape_trajectories", "1", "--device", "cpu",
            "--out", str(out), "--logdir", str(tmp_path / "tb")]
    with pytest.raises(hub.UnsafeCheckpointError) as err:
        dispatch(["plan", *args])
    refused(marker, path, err.value)
    assert not out.exists()
    assert dispatch(["plan", *args, "--trust_checkpoint"]) == 0
    assert marker.exists() and json.loads(out.read_text())["episodes"] == 1


def test_probe_encoder_ckpt(tmp_path, marker, export):
    path = poison(export, tmp_path / "enc.pt", marker)
    check(lambda trust: AttentiveProbe(encoder_ckpt=str(path), encoder=encoder(), num_classes=3, lrs=(1e-3,),
                                       weight_decays=(0.0,), num_heads=2, depth=1, trust_checkpoint=trust),
          marker, path)


def test_probe_predictor_ckpt(tmp_path, marker, export):
    clean = tmp_path / "clean.pt"
    path = poison(export, tmp_path / "pred.pt", marker)
    check(lambda trust: AttentiveProbe(encoder_ckpt=str(clean), predictor_ckpt=str(path), task="anticipation",
                                       num_classes=3, num_verbs=2, num_nouns=2, lrs=(1e-3,), weight_decays=(0.0,),
                                       num_heads=2, depth=1, trust_checkpoint=trust), marker, path)


def test_pretrain_init_from(tmp_path, marker, export):
    path = poison(export, tmp_path / "stage1.pt", marker)

    def load(trust: bool) -> None:
        module = JepaPretrain(encoder(), predictor(), masks=[MaskSpec()], init_from=str(path), trust_checkpoint=trust)
        module.setup("fit")

    check(load, marker, path)


def test_world_model_encoder(tmp_path, marker, export):
    path = poison(export, tmp_path / "enc.pt", marker)
    check(lambda trust: ACWorldModel(encoder(), ac_predictor(), encoder_path=str(path), trust_checkpoint=trust),
          marker, path)


def test_video_qa_encoder(tmp_path, marker, export):
    path = poison(export, tmp_path / "enc.pt", marker)
    check(lambda trust: VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1,
                                encoder_ckpt=str(path), encoder=encoder(), num_queries=2, trust_checkpoint=trust),
          marker, path)


@pytest.mark.parametrize("name", ["random.pt", "random.ckpt", "random.safetensors"])
def test_random_bytes_name_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                   dtype=torch.uint8).numpy().tobytes())
    with pytest.raises(hub.CheckpointReadError) as err:
        hub.load_encoder(path)
    assert str(err.value).startswith(f"{path}: not a readable")
    assert "mmap" not in str(err.value)


def test_own_lightning_checkpoints_load_safely(tmp_path):
    """Hyperparameters with lit_jepa's classes (MaskSpec) are allowed without trusting the file."""
    module = JepaPretrain(encoder(), predictor(), masks=[MaskSpec()])
    ckpt = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
            "lit_jepa": {"encoder": hub.encoder_config(module.encoder)}}
    path = tmp_path / "last.ckpt"
    torch.save(ckpt, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == ["lit_jepa.masks.multiblock.MaskSpec"]
    assert AtomicCheckpointIO().load_checkpoint(path)["hyper_parameters"]["masks"] == [MaskSpec()]
    assert hub.load_encoder(path, key="target_encoder").embed_dim == 32
