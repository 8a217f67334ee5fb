"""The VideoQA task: the toy recipe as a CLI smoke run, and the alignment stages' trainable parameters."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from lit_jepa.cli import main
from lit_jepa.data.vqa import ToyVQADataModule
from lit_jepa.nn.vit import VisionTransformer
from lit_jepa.tasks import VideoQA

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "vqa" / "toy-vitt-64px-16f.yaml"


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
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        main(["fit", *args, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
              "--trainer.check_val_every_n_epoch", "1"])
    assert not [w for w in seen if "in eval mode" in str(w.message)]  # frozen encoder only, tuned LM trains
    ckpt = next((tmp_path / "runs").rglob("last.ckpt"))
    state = torch.load(ckpt, map_location="cpu", weights_only=True)  # lit_jepa checkpoints run no code
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
    tuned = stage.get("lm_tuning", "frozen") != "frozen"  # from_pretrained's eval mode only for a frozen LM
    assert all(m.training == tuned for m in module.lm.modules() if "lora_" not in type(m).__name__.lower())


def test_building_the_toy_lm_in_the_run_does_not_change_the_projector_initialisation(tmp_path):
    def projector_after_seed():
        torch.manual_seed(0)
        module = VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1,
                         encoder=tiny_encoder(), num_queries=2)
        return torch.cat([p.flatten() for p in module.projector.parameters()])

    built = projector_after_seed()  # builds the LM folder
    loaded = projector_after_seed()  # loads it
    assert (tmp_path / "lm" / "config.json").is_file()
    torch.testing.assert_close(built, loaded, rtol=0, atol=0)


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


DDP_VALIDATE = """
import sys
import lightning as L
from lit_jepa.nn.vit import VisionTransformer
from lit_jepa.tasks import VideoQA
from lit_jepa.data.vqa import ToyVQADataModule
devices, lm, data = int(sys.argv[1]), sys.argv[2], sys.argv[3]
L.seed_everything(0)  # every rank builds the same weights
encoder = VisionTransformer(img_size=32, num_frames=16, patch_size=16, tubelet_size=2, embed_dim=24, depth=1,
                            num_heads=2)
model = VideoQA(lm, build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1, encoder=encoder, num_queries=2)
trainer = L.Trainer(accelerator="cpu", devices=devices, strategy="ddp" if devices > 1 else "auto", logger=False,
                    enable_progress_bar=False, enable_model_summary=False)
out = trainer.validate(model, ToyVQADataModule(data, num=4, num_val=8, resolution=32, batch_size=1), verbose=False)
if trainer.global_rank == 0:
    print("VAL", out[0]["val/loss"], out[0]["val/acc"], out[0]["val/num_questions"])
"""


@pytest.mark.slow
def test_two_process_validation_reports_the_loss_and_accuracy_of_all_questions(tmp_path):
    """2 DDP processes (4 questions each) report the same ``val/loss`` and ``val/acc`` as 1 process on all 8
    (batches of one question, so the loss is a mean over questions whatever the split)."""
    script = tmp_path / "ddp_vqa.py"
    script.write_text(DDP_VALIDATE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the LM folder and the data first: building the LM in a run draws random numbers and would shift its weights
    VideoQA(str(tmp_path / "lm"), build_toy_lm=True, toy_lm_hidden=32, toy_lm_layers=1, encoder=tiny_encoder())
    ToyVQADataModule(str(tmp_path / "data"), num=4, num_val=8, resolution=32).prepare_data()
    out = {}
    for devices in (1, 2):
        run = subprocess.run([sys.executable, str(script), str(devices), str(tmp_path / "lm"), str(tmp_path / "data")],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        out[devices] = [float(x) for x in next(v for v in run.stdout.splitlines() if v.startswith("VAL")).split()[1:]]
    assert out[2][2] == out[1][2] == 8
    assert out[2] == pytest.approx(out[1], abs=1e-5)
