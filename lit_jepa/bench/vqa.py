"""ToyWorld VQA: multiple-choice accuracy of the tiny language model aligned with the toy-pretrained frozen encoder,
against the same pipeline on a random-initialised encoder and against a text-only model (visual tokens removed
from the prompt: it measures answer priors).

The recipe is ``vqa/toy-vitt-64px-16f`` (:func:`lit_jepa.recipes.resolve`; same model arguments). The encoder is
frozen, so its tokens are computed once per clip and fed to the same :class:`lit_jepa.tasks.VideoQA`
(``batch["tokens"]``) to keep each run to minutes; training uses a Lightning ``Trainer``. The ``vqa`` kind of the
benchmark runner calls :func:`run`.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter

import lightning as L
import torch
import yaml
from torch.utils.data import DataLoader

from lit_jepa.callbacks import StatusLine
from lit_jepa.data.loader import collate_clips
from lit_jepa.data.vqa import ToyVQADataModule
from lit_jepa.data.vqa.dataset import qa_fields
from lit_jepa.metrics import wilson
from lit_jepa.progress import progress_bar
from lit_jepa.recipes import resolve
from lit_jepa.tasks import VideoQA
from lit_jepa.vqa.scoring import QAScores

RECIPE = "vqa/toy-vitt-64px-16f"
SETTINGS = ("pretrained", "random", "text_only")
PROTOCOL = ("ToyWorld VQA (8 question kinds, balanced answers, 2-4 options), 64 px 16 f; frozen ViT-tiny encoder "
            "-> attentive pooler (8 queries) -> tiny Llama (trained in full from random init, word tokenizer); "
            "option scored by summed answer log-likelihood; same seed, data, order and steps for every setting; "
            "text_only removes the visual tokens from the prompt; answer_code_control feeds a noisy random code of "
            "the answer instead of encoder tokens (checks that the pipeline can read visual tokens at all)")
SELECTION = "fixed recipe hyperparameters, model after the last epoch; no selection on the evaluated split"


def model_args(overrides: dict) -> dict:
    """The recipe's model ``init_args`` (encoder as built by the CLI) with ``overrides``."""
    args = dict(yaml.safe_load(resolve(RECIPE).read_text())["model"]["init_args"])
    from lit_jepa.nn.vit import VisionTransformer

    args["encoder"] = VisionTransformer(**args["encoder"]["init_args"])
    return {**args, **overrides}


@torch.inference_mode()
def cache_tokens(module: VideoQA, dm: ToyVQADataModule, split: str, desc: str = "encoding clips") -> list[dict]:
    """Per-sample frozen-encoder tokens (float16) and the ``qa`` string; progress on stderr, labelled ``desc``."""
    loader = DataLoader(dm.datasets[split], batch_size=32, collate_fn=collate_clips)
    module.eval()
    out = []
    with progress_bar(len(dm.datasets[split]), f"{desc} ({split})", "clip") as bar:
        for batch in loader:
            video = dm.batch_transform(batch["video"], training=False)[:, 0]
            tokens = module.encode(video).half()
            out += [{"tokens": t, "qa": q} for t, q in zip(tokens, batch["qa"])]
            bar.update(len(batch["qa"]))
    return out


def answer_code(cache: list[dict], seed: int, noise: float = 0.5) -> list[dict]:
    """Control: the cached samples with tokens replaced by a fixed random code of the answer text (the same in
    every split) plus Gaussian noise (``noise`` std, drawn from ``seed``). A pipeline that can read visual tokens
    at all scores near 100 % on it."""
    gen = torch.Generator().manual_seed(seed)
    shape = cache[0]["tokens"].shape
    out = []
    for s in cache:
        answer = qa_fields([s["qa"]])[0]["answer"]
        code = torch.randn(1, shape[1], generator=torch.Generator().manual_seed(zlib.crc32(answer.encode())))
        out.append({"tokens": (code + noise * torch.randn(shape, generator=gen)).half(), "qa": s["qa"]})
    return out


def collate(samples: list[dict]) -> dict:
    return {"tokens": torch.stack([s["tokens"] for s in samples]), "qa": [s["qa"] for s in samples]}


def train_and_score(module: VideoQA, train: list[dict], test: list[dict], epochs: int, batch_size: int,
                    seed: int) -> dict:
    L.seed_everything(seed, verbose=False)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, collate_fn=collate, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    trainer = L.Trainer(accelerator="cpu", max_epochs=epochs, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, deterministic=True,
                        callbacks=[StatusLine()])
    start = time.perf_counter()
    module.train()  # token caching left it in eval mode, which Lightning would keep
    trainer.fit(module, loader)
    module.eval()
    scores = QAScores()
    for i in range(0, len(test), 64):
        batch = collate(test[i:i + 64])
        for n, (q, p, t) in enumerate(zip(qa_fields(batch["qa"]), *module.choose(batch))):
            scores.add(i + n, p == t, q["kind"])
    out = scores.summary()
    n = int(out["num_questions"])
    low, high = wilson(round(out["acc"] * n), n)
    per_kind = Counter(q["kind"] for q in qa_fields([s["qa"] for s in test]))
    return {"accuracy": round(out["acc"], 4), "wilson95": [round(low, 4), round(high, 4)], "n": n,
            "per_kind": {k: {"accuracy": round(out[f"acc/{k}"], 4), "n": m} for k, m in sorted(per_kind.items())},
            "final_train_loss": round(float(trainer.callback_metrics["train/loss"]), 4),
            "wall_s": round(time.perf_counter() - start, 1)}


def run(encoder_ckpt: str, root: str, num: int = 1440, num_val: int = 480, epochs: int = 10, batch_size: int = 32,
        seed: int = 0, threads: int = 1, pooler_pos_embed: bool = False) -> dict:
    """Train and score the three settings and the answer-code control; returns the record, with the benchmark
    runner's keys (``metrics``, ``protocol``, ``selection_rule``, ``seed``, ``extra``).

    Args:
        encoder_ckpt: the pretrained setting's frozen encoder, an official-layout export.
        root: folder of the generated questions and the tiny language model.
        num: training questions.
        num_val: validation questions (the scored split).
        epochs: training epochs of every setting.
        batch_size: questions per training step.
        seed: seed of the data, the initialisation and the batch order.
        threads: torch CPU threads.
        pooler_pos_embed: the projector's pooler gets a learned position embedding over the encoder tokens
            (``VideoQA(pooler_pos_embed=True)``).
    """
    torch.set_num_threads(threads)
    dm = ToyVQADataModule(root=f"{root}/data-{num}-{num_val}-{seed}", num=num, num_val=num_val, seed=seed)
    dm.prepare_data()
    dm.setup("fit")
    results, caches = {}, {}
    shared = {"lm_path": f"{root}/tiny-lm", "pooler_pos_embed": pooler_pos_embed}
    for setting in SETTINGS:
        L.seed_everything(seed, verbose=False)
        ckpt = encoder_ckpt if setting == "pretrained" else None
        module = VideoQA(**model_args({**shared, "encoder_ckpt": ckpt, "use_video": setting != "text_only"}))
        if setting != "text_only":
            start = time.perf_counter()
            caches[setting] = tuple(cache_tokens(module, dm, split, f"{setting}: encoding clips")
                                    for split in ("train", "val"))
            print(f"{setting}: encoded {sum(map(len, caches[setting]))} clips in {time.perf_counter() - start:.0f} s",
                  flush=True)
        train, test = caches.get(setting, caches["pretrained"])
        results[setting] = train_and_score(module, train, test, epochs, batch_size, seed)
        r = results[setting]
        print(f"{setting:10s} accuracy {r['accuracy']:.3f} (Wilson 95% {r['wilson95']}, n={r['n']}) "
              f"in {r['wall_s']:.0f} s; per kind {r['per_kind']}", flush=True)
    L.seed_everything(seed, verbose=False)
    control = VideoQA(**model_args({**shared, "encoder_ckpt": None}))
    train, test = caches["pretrained"]
    results["answer_code_control"] = train_and_score(control, answer_code(train, seed), answer_code(test, seed + 1),
                                                     epochs, batch_size, seed)
    print(f"answer-code control accuracy {results['answer_code_control']['accuracy']:.3f}", flush=True)
    margin = {k: round(100 * (results["pretrained"]["accuracy"] - results[k]["accuracy"]), 1)
              for k in ("random", "text_only")}
    record = {
        "benchmark": "toy_vqa", "recipe": RECIPE,
        "params": {"num": num, "num_val": num_val, "epochs": epochs, "batch_size": batch_size, "seed": seed,
                   "threads": threads, "encoder_ckpt": encoder_ckpt, "pooler_pos_embed": pooler_pos_embed},
        "protocol": PROTOCOL + ("; the pooler adds a learned position embedding over the encoder tokens"
                                if pooler_pos_embed else ""), "selection_rule": SELECTION, "results": results,
        "metrics": {f"acc_{k}": results[k]["accuracy"] for k in SETTINGS} | {"n": results["pretrained"]["n"]},
        "pretrained_minus_points": margin, "goal_points": 10.0, "met": min(margin.values()) >= 10.0, "seed": seed,
    }
    record["extra"] = {k: record[k] for k in ("results", "pretrained_minus_points", "goal_points", "met")}
    print(f"pretrained minus random / text-only: {margin} points (goal 10)")
    return record

