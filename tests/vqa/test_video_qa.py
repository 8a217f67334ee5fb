"""The VideoQA task: the toy recipe as a CLI smoke run, and the alignment stages' trainable parameters."""

from pathlib import Path

import pytest
import torch

from lit_jepa.cli import main
from lit_jepa.nn.vit import VisionTransformer
from lit_jepa.tasks import VideoQA

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "vqa" / "toy-vitt-64px-16f.yaml"


def tiny_encoder() -> VisionTransformer:
    return VisionTransformer(img_size=32, num_frames=4, patch_size=16, tubelet_size=2, embed_dim=24, depth=1,
                             num_heads=2)


def test_toy_recipe_smoke_fit_and_test(tmp_path):
    """fit then test through ``lit-jepa`` with the recipe, shrunk: random encoder, 16 questions, 2 steps."""
    args = ["--config", str(RECIPE), "--model.init_args.encoder_ckpt", "null",
            "--model.init_args.lm_path", str(tmp_path / "lm"), "--model.init_args.toy_lm_hidden", "32",
            "--model.init_args.generate_max_tokens", "3",
            "--data.init_args.root", str(tmp_path / "data"), "--data.init_args.num", "16",
            "--data.init_args.num_val", "4", "--data.init_args.batch_size", "4",
            "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")]
    main(["fit", *args, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
          "--trainer.check_val_every_n_epoch", "1"])
    ckpt = next((tmp_path / "runs").rglob("last.ckpt"))
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert state["global_step"] == 2 and state["hyper_parameters"]["lm_tuning"] == "full"
    assert any(k.startswith("projector.pooler.") for k in state["state_dict"])
    main(["test", *args, "--ckpt_path", str(ckpt)])
    assert (tmp_path / "lm" / "tokenizer.json").is_file() and (tmp_path / "data" / "val.jsonl").is_file()


@pytest.mark.parametrize("stage, trainable", [
    ({}, {"projector"}),
    ({"train_encoder": True}, {"projector", "encoder"}),
    ({"lm_tuning": "lora"}, {"projector", "lm.lora"}),
    ({"lm_tuning": "full"}, {"projector", "lm"}),
])
def test_alignment_stages(tmp_path, stage, trainable):
    module = VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1,
                     encoder=tiny_encoder(), num_queries=2, **stage)
    names = {n for n, p in module.named_parameters() if p.requires_grad}
    found = {"lm.lora" if "lora_" in n else n.split(".")[0] for n in names}
    assert found == trainable
    assert module.encoder.training == stage.get("train_encoder", False)  # as built, before any train() call
    module.eval().train()
    assert module.encoder.training == stage.get("train_encoder", False)


def test_text_only_ignores_the_video_and_choose_scores_every_option(tmp_path):
    kw = dict(build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1, encoder=tiny_encoder(), num_queries=2)
    qa = ['{"question": "which way ?", "answer": "up", "choices": ["left", "up", "down"], "kind": "direction"}'] * 2
    video = torch.randn(2, 1, 3, 4, 32, 32)
    torch.manual_seed(0)
    text_only = VideoQA(str(tmp_path / "lm"), use_video=False, **kw).eval()
    a = text_only.choose({"video": video, "qa": qa})
    b = text_only.choose({"video": torch.zeros_like(video), "qa": qa})
    assert a == b and a[1] == [1, 1] and len(a[0]) == 2
    with pytest.raises(ValueError, match="without choices"):
        text_only.choose({"video": video, "qa": ['{"question": "q", "answer": "up", "choices": [], "kind": ""}']})


def test_the_answer_loss_reaches_the_projector(tmp_path):
    module = VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1,
                     encoder=tiny_encoder(), num_queries=2)
    qa = ['{"question": "which way ?", "answer": "up", "choices": ["left", "up"], "kind": "direction"}'] * 2
    module.loss({"video": torch.randn(2, 1, 3, 4, 32, 32), "qa": qa}).backward()
    assert module.projector.proj.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in module.encoder.parameters())
