"""Video question answering: a frozen V-JEPA encoder aligned with a causal language model through a projector.

``loss = -mean log p(answer tokens | prompt with projected video tokens)``; prompt tokens are never labels.
Multiple-choice questions are scored by the summed log-probability of each option as the answer: ``acc``, per
question ``kind`` (``acc/<kind>``) and, for questions with a ``group`` (MVP's minimal pairs), ``paired_acc``, each
question counted once over DDP ranks; free generation (greedy) is optional at test time (exact match).

Stages: the projector always trains; ``train_encoder`` adds the encoder; ``lm_tuning`` is ``frozen``, ``lora``
(a minimal LoRA on ``lora_targets``) or ``full`` (needed for the toy language model, which starts from random
weights and has no language knowledge).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor

from lit_jepa.data.vqa.dataset import qa_fields
from lit_jepa.data.vqa.toy import toy_vocabulary
from lit_jepa.encoders import task_encoder
from lit_jepa.nn.encoder import FrozenEncoder
from lit_jepa.optim import named_param_groups
from lit_jepa.schedules import WarmupCosine
from lit_jepa.tasks.frozen import expect_eval_mode
from lit_jepa.vqa.lora import add_lora
from lit_jepa.vqa.projector import build_projector
from lit_jepa.vqa.scoring import QAScores
from lit_jepa.vqa.sequence import PromptEncoder, answer_logprob, answer_loss, assemble
from lit_jepa.vqa.tiny_lm import build_tiny_lm, load_lm


def _squash(text: str) -> str:
    """Lower case without whitespace: word-level decoders put spaces around punctuation."""
    return re.sub(r"\s+", "", text.lower())


class VideoQA(L.LightningModule):
    """Encoder -> projector -> visual embeddings at ``{video}`` in the prompt -> causal LM.

    Args:
        lm_path: local folder of any ``AutoModelForCausalLM`` and its tokenizer (``save_pretrained`` layout).
        build_toy_lm: when ``lm_path`` holds no model, build the tiny ToyWorld LM there (random init, word-level
            tokenizer over the ToyWorld VQA vocabulary).
        toy_lm_hidden: width of the tiny ToyWorld LM.
        toy_lm_layers: depth of the tiny ToyWorld LM.
        encoder_ckpt: a V-JEPA 2 checkpoint ``lit_jepa.hub`` reads, loaded into the ``VisionTransformer``
            ``encoder``.
        checkpoint_key: which encoder of that file.
        encoder: the video encoder; alone: random initialisation, or any frozen-encoder adapter of
            :mod:`lit_jepa.encoders` (which loads its own weights).
        trust_checkpoint: let a pickled ``encoder_ckpt`` run code (``weights_only=False``); only for files you trust.
        projector: ``pooler`` (attentive pooler to ``num_queries`` tokens) or ``mlp`` (per token).
        num_queries: visual tokens the pooler gives the LM.
        pooler_depth: blocks of the pooler.
        pooler_heads: attention heads of the pooler.
        pooler_pos_embed: add a learned position embedding over the encoder's ``num_tokens()`` tokens before
            pooling.
        train_encoder: train the encoder too (the projector always trains).
        lm_tuning: ``frozen``, ``lora`` (a minimal LoRA on ``lora_targets``) or ``full`` (needed for the toy LM,
            which starts from random weights).
        lora_rank: rank of the LoRA updates.
        lora_alpha: scale of the LoRA updates (``alpha / rank``).
        lora_targets: names of the LM's linear layers that get LoRA.
        use_video: ``False`` removes the visual tokens (text-only baseline: measures answer priors).
        template: prompt with ``{video}``, ``{question}``, ``{choices}`` (options joined by `` ; ``).
        lr: AdamW's peak learning rate, after a linear warmup.
        final_lr: learning rate at the end of the cosine.
        warmup_steps: steps of the linear warmup.
        weight_decay: AdamW's weight decay.
        length_normalize: score options by mean instead of summed token log-probability.
        generate_max_tokens: > 0: also greedy-generate answers at test time (``test/exact_match``).
    """

    def __init__(
        self,
        lm_path: str,
        build_toy_lm: bool = False,
        toy_lm_hidden: int = 128,
        toy_lm_layers: int = 2,
        encoder_ckpt: str | None = None,
        checkpoint_key: str = "target_encoder",
        encoder: FrozenEncoder | None = None,
        trust_checkpoint: bool = False,
        projector: Literal["pooler", "mlp"] = "pooler",
        num_queries: int = 8,
        pooler_depth: int = 1,
        pooler_heads: int = 4,
        pooler_pos_embed: bool = False,
        train_encoder: bool = False,
        lm_tuning: Literal["frozen", "lora", "full"] = "frozen",
        lora_rank: int = 8,
        lora_alpha: float = 16.0,
        lora_targets: tuple[str, ...] = ("q_proj", "v_proj"),
        use_video: bool = True,
        template: str = "{video} question : {question} options : {choices} answer :",
        lr: float = 1e-3,
        final_lr: float = 1e-5,
        warmup_steps: int = 50,
        weight_decay: float = 0.05,
        length_normalize: bool = False,
        generate_max_tokens: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["encoder"])
        with torch.random.fork_rng(devices=[]):  # building or loading must not shift the projector's init
            if build_toy_lm and not Path(lm_path, "config.json").is_file():
                build_tiny_lm(lm_path, toy_vocabulary(), toy_lm_hidden, toy_lm_layers)
            self.lm, self.tokenizer = load_lm(lm_path)
            self.lm.train(lm_tuning != "frozen")  # from_pretrained gives eval mode; a tuned LM trains in train mode
            self.encoder = task_encoder(encoder_ckpt, encoder, checkpoint_key, "VideoQA: encoder_ckpt or encoder",
                                        trust_checkpoint).requires_grad_(train_encoder)
        self.encoder.train(train_encoder)  # Lightning keeps the modes it finds: a frozen encoder stays in eval
        width = self.lm.get_input_embeddings().embedding_dim
        num_tokens = self.encoder.num_tokens() if pooler_pos_embed else None
        if pooler_pos_embed and num_tokens is None:
            raise ValueError(f"VideoQA(pooler_pos_embed=True) needs an encoder with a token grid; "
                             f"{type(self.encoder).__name__} has none")
        self.projector = build_projector(projector, self.encoder.embed_dim, width, num_queries, pooler_depth,
                                         pooler_heads, num_tokens)
        if lm_tuning == "lora":
            self.lm.requires_grad_(False)
            add_lora(self.lm, tuple(lora_targets), lora_rank, lora_alpha)
        else:
            self.lm.requires_grad_(lm_tuning == "full")
        self.prompt = PromptEncoder(self.tokenizer, template)
        tok = self.tokenizer
        self.pad_id = next(i for i in (tok.pad_token_id, tok.eos_token_id, 0) if i is not None)
        self.scores: dict[str, QAScores] = {}

    def on_fit_start(self) -> None:
        h = self.hparams
        expect_eval_mode(None if h.train_encoder else self.encoder, self.lm if h.lm_tuning == "frozen" else None)

    def train(self, mode: bool = True) -> VideoQA:
        super().train(mode)
        if not self.hparams.train_encoder:
            self.encoder.eval()
        if self.hparams.lm_tuning == "frozen":
            self.lm.eval()
        return self

    # ------------------------------------------------------------------------------------------ forward
    def encode(self, video: Tensor) -> Tensor:
        """Encoder tokens ``(B, N, D)`` of normalised clips ``(B, C, T, H, W)``."""
        with torch.set_grad_enabled(self.hparams.train_encoder and self.training):
            return self.encoder(video)

    def visual(self, batch: dict[str, Any]) -> Tensor | None:
        """Projected visual embeddings ``(B, M, H)`` (``None`` for the text-only model). A batch may carry
        precomputed ``"tokens"`` (frozen encoder) instead of ``"video"`` (first view used)."""
        if not self.hparams.use_video:
            return None
        tokens = batch["tokens"] if "tokens" in batch else self.encode(batch["video"][:, 0])
        return self.projector(tokens.float())

    def _logits(self, visual: Tensor | None, pieces: list) -> tuple[Tensor, Tensor]:
        embeds, mask, labels = assemble(self.lm.get_input_embeddings(), visual, pieces, self.pad_id)
        return self.lm(inputs_embeds=embeds, attention_mask=mask).logits, labels

    def loss(self, batch: dict[str, Any]) -> Tensor:
        qa = qa_fields(batch["qa"])
        pieces = [self.prompt(q["question"], q["choices"], q["answer"]) for q in qa]
        return answer_loss(*self._logits(self.visual(batch), pieces))

    @torch.no_grad()
    def choose(self, batch: dict[str, Any]) -> tuple[list[int], list[int]]:
        """Predicted and true option indices, by the likelihood of each option as the answer."""
        qa = qa_fields(batch["qa"])
        if any(not q["choices"] for q in qa):
            raise ValueError("VideoQA.choose: a question without choices (multiple-choice scoring needs them)")
        pieces = [self.prompt(q["question"], q["choices"], c) for q in qa for c in q["choices"]]
        visual = self.visual(batch)
        counts = torch.tensor([len(q["choices"]) for q in qa], device=self.device)
        if visual is not None:
            visual = visual.repeat_interleave(counts, dim=0)
        scores = answer_logprob(*self._logits(visual, pieces), self.hparams.length_normalize)
        preds = [int(s.argmax()) for s in scores.split(counts.tolist())]
        return preds, [q["choices"].index(q["answer"]) for q in qa]

    @torch.no_grad()
    def generate(self, batch: dict[str, Any]) -> list[str]:
        """Greedy answers (one sequence at a time, so no padding), ``generate_max_tokens`` at most."""
        qa = qa_fields(batch["qa"])
        visual = self.visual(batch)
        out = []
        for b, q in enumerate(qa):
            p = self.prompt(q["question"], q["choices"], "")
            p.answer = []
            embeds, mask, _ = assemble(self.lm.get_input_embeddings(), None if visual is None else visual[b:b + 1],
                                       [p], self.pad_id)
            ids = self.lm.generate(inputs_embeds=embeds, attention_mask=mask, do_sample=False,
                                   max_new_tokens=self.hparams.generate_max_tokens, pad_token_id=self.pad_id)
            out.append(self.tokenizer.decode(ids[0], skip_special_tokens=True).strip())
        return out

    # ------------------------------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["qa"]))
        return loss

    def _evaluate(self, batch: dict[str, Any], stage: str) -> None:
        self.log(f"{stage}/loss", self.loss(batch), batch_size=len(batch["qa"]), sync_dist=True)  # mean over ranks
        preds, targets = self.choose(batch)
        qa = qa_fields(batch["qa"])
        exact = [False] * len(qa)
        if stage == "test" and self.hparams.generate_max_tokens > 0:
            exact = [_squash(q["answer"]) == _squash(g) for q, g in zip(qa, self.generate(batch))]
        scores = self.scores.setdefault(stage, QAScores())
        for i, q, p, t, e in zip(batch["index"].tolist(), qa, preds, targets, exact):
            scores.add(i, p == t, q.get("kind", ""), q.get("group", ""), e)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def _log_scores(self, stage: str) -> None:
        """Scores over all ranks (each question once): ``acc``, ``num_questions``, ``acc/<kind>``, MVP's
        ``paired_acc`` when questions have groups, and ``exact_match`` when answers were generated."""
        summary = self.scores.pop(stage, QAScores()).gather().summary()
        if stage != "test" or self.hparams.generate_max_tokens <= 0:
            summary.pop("exact_match", None)
        for key, value in summary.items():
            self.log(f"{stage}/{key}", value)

    def on_validation_epoch_end(self) -> None:
        self._log_scores("val")

    def on_test_epoch_end(self) -> None:
        self._log_scores("test")

    def configure_optimizers(self) -> dict[str, Any]:
        h = self.hparams
        groups = named_param_groups({"projector": self.projector, "encoder": self.encoder, "lm": self.lm},
                                    h.weight_decay)
        optimizer = torch.optim.AdamW(groups, lr=h.lr)
        schedule = WarmupCosine(0.0, h.lr, h.final_lr, h.warmup_steps, int(self.trainer.estimated_stepping_batches))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: schedule(step) / h.lr)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
