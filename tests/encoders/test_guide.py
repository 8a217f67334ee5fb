"""docs/benchmark-your-encoder.md: its encoder, its `lit-jepa fit` command and its suite run as written, at test
size (a few 32-pixel clips of 8 frames, one epoch)."""

import json
import re
import shlex
import shutil
from pathlib import Path

import torch
import yaml

from lit_jepa.cli import main

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "benchmark-your-encoder.md"
SMALL = ["--data.init_args.data.init_args.num", "8", "--data.init_args.data.init_args.num_val", "4",
         "--data.init_args.data.init_args.batch_size", "4", "--data.init_args.data.init_args.resolution", "32",
         "--data.init_args.data.init_args.spec.frames_per_clip", "8", "--trainer.max_epochs", "1",
         "--trainer.enable_progress_bar", "false", "--model.init_args.num_heads", "2"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


def command(text: str) -> list[str]:
    """A shell block's command as argv without the program name; recipes resolve in the repository."""
    args = shlex.split(text.replace("\\\n", " "))[1:]
    return [str(ROOT / a) if a.startswith("recipes/") else a for a in args]


def test_the_guide_runs_as_written(tmp_path, monkeypatch, hf_folders):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "my_encoder.py").write_text(blocks("python")[0])
    from my_encoder import TubeletEncoder

    torch.save(TubeletEncoder().state_dict(), "my_encoder.pt")
    shutil.copytree(hf_folders["videomae"], tmp_path / "videomae-folder")
    fit, bench = (command(b) for b in blocks("bash"))

    main([*fit, *SMALL, "--data.init_args.cache_dir", "cache", "--data.init_args.data.init_args.root", "toy",
          "--trainer.logger.init_args.save_dir", "runs", "--trainer.logger.init_args.version", "guide"])
    result = json.loads(next(Path("runs").rglob("guide/probe_results.json")).read_text())
    assert result["encoder_class"] == "lit_jepa.encoders.module.ModuleEncoder"
    assert 0 <= result["metrics"]["top1"]["value"] <= 1

    suite = yaml.safe_load(blocks("yaml")[0])
    for recipe in suite["probe_matrix"]["recipes"].values():
        recipe["overrides"] = [*recipe.get("overrides", []), *SMALL]
    Path("my-encoders.yaml").write_text(yaml.safe_dump(suite))
    assert bench[:2] == ["bench", "--suite"] and main(bench) == 0
    board = (Path("runs/my-encoders") / "LEADERBOARD.md").read_text()
    for label, cls in (("tubelet", "ModuleEncoder"), ("tubelet-random", "ModuleEncoder"),
                       ("videomae", "HFVideoEncoder"), ("videomae-random", "HFVideoEncoder")):
        assert re.search(rf"\| motion \| {label} \| lit_jepa\.encoders\.\w+\.{cls} \| top1 \|", board), label
    assert "(probe-motion-tubelet against probe-motion-tubelet-random)" in board
    assert "(probe-motion-videomae against probe-motion-videomae-random)" in board
