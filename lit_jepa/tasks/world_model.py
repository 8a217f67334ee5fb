"""V-JEPA 2-AC post-training: an action-conditioned predictor on the features of a frozen encoder.

One step (paper §3, official ``app/vjepa_droid/train.py``), with ``h`` the layer-normed frame features:
teacher forcing predicts frames ``1 .. T-1`` from frames ``0 .. T-2`` with actions and states, each prediction
layer-normed; the rollout starts from ``h_0`` and feeds back its own predictions for ``rollout_steps`` frames
(the PR #25 fix); loss = L1(teacher forcing) + L1(rollout). Every frame of every trajectory is encoded once
(:class:`~lit_jepa.data.trajectory_features.FeatureDataModule`), so training never runs the encoder.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor

from lit_jepa import hub
from lit_jepa.encoders import encoder_metadata, task_encoder
from lit_jepa.losses import jepa_loss
from lit_jepa.nn import FrozenEncoder
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.optim import apply_lr_wd, named_param_groups
from lit_jepa.planning.energy import blur_matrix
from lit_jepa.planning.model import POOL_MODES, encode_frames, predict_next, token_maps, token_width
from lit_jepa.schedules import WSD
from lit_jepa.tasks.frozen import expect_eval_mode


class ACWorldModel(L.LightningModule):
    """Frozen encoder + trainable AC predictor.

    Args:
        encoder: the frozen encoder (:mod:`lit_jepa.nn.encoder` contract, with a token grid); a
            ``VisionTransformer`` without ``encoder_path`` keeps its random initialisation (the control); an adapter
            of :mod:`lit_jepa.encoders` loads its own weights.
        encoder_path: any ``lit_jepa.hub`` checkpoint that gives a ``VisionTransformer`` encoder its weights.
        encoder_key: which encoder of that file.
        trust_checkpoint: let a pickled ``encoder_path`` run code (``weights_only=False``); only for files you trust.
        predictor: the AC predictor; its grid is the encoder grid divided by ``pool``, its ``embed_dim`` the encoder
            width (times ``pool ** 2`` for ``pool_mode="stack"``).
        pool: merge ``pool`` x ``pool`` windows of the encoder's token grid before the predictor (1 = official).
        pool_mode: ``avg`` averages each window; ``stack`` concatenates its tokens along features, so the L1 loss
            and planning energy stay those of the full grid (:func:`lit_jepa.planning.model.merge_tokens`).
        rollout_steps: frames predicted autoregressively in the rollout loss (official ``auto_steps`` 2).
        lr: learning rate of the stable phase of the warmup-stable-decay schedule (which fills the rest of the run).
        start_lr: learning rate at the start of the warmup.
        final_lr: learning rate at the end of the decay.
        warmup_steps: steps of the linear warmup.
        decay_steps: steps of the final linear decay.
        weight_decay: AdamW's weight decay (constant, 0.04 officially).
        betas: AdamW's betas.
        eps: AdamW's epsilon.
        loss_exp: exponent of the regression loss (1: L1).
        loss_blur_sigmas: the loss is summed over copies of predicted and target token maps blurred at each sigma
            (token units, :func:`lit_jepa.planning.energy.gaussian_blur`; ``stack`` tokens are unstacked to the
            encoder grid first), like the planner's multi-scale energy; ``(0,)``, the default, is the plain loss.
    """

    def __init__(self, encoder: FrozenEncoder, predictor: ACPredictor, encoder_path: str | None = None,
                 encoder_key: str = "target_encoder", trust_checkpoint: bool = False, pool: int = 1,
                 pool_mode: str = "avg", rollout_steps: int = 2,
                 lr: float = 4.25e-4, start_lr: float = 7.5e-5, final_lr: float = 0.0, warmup_steps: int = 4500,
                 decay_steps: int = 4500, weight_decay: float = 0.04, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, loss_exp: float = 1.0, loss_blur_sigmas: tuple[float, ...] = (0.0,)) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["encoder", "predictor"])
        encoder = task_encoder(encoder_path, encoder, encoder_key, "ACWorldModel: encoder_path or encoder",
                               trust_checkpoint)
        grid = encoder.token_grid(encoder.tubelet_size, encoder.img_size, encoder.img_size)
        if grid is None or grid[1] != predictor.grid * pool:
            raise ValueError(f"predictor grid {predictor.grid} x pool {pool} must equal the encoder grid "
                             f"{grid and grid[1]} at img_size {encoder.img_size} ({type(encoder).__name__})")
        if pool_mode not in POOL_MODES:
            raise ValueError(f"pool_mode must be one of {POOL_MODES}, got {pool_mode!r}")
        width = token_width(encoder.embed_dim, pool, pool_mode)
        if predictor.predictor_embed.in_features != width:
            raise ValueError(f"predictor embed_dim {predictor.predictor_embed.in_features} must be {width} "
                             f"(encoder width {encoder.embed_dim}, pool {pool}, pool_mode {pool_mode!r})")
        if rollout_steps < 1:
            raise ValueError(f"rollout_steps must be >= 1, got {rollout_steps}")
        if not loss_blur_sigmas or min(loss_blur_sigmas) < 0:
            raise ValueError(f"loss_blur_sigmas must be one or more sigmas >= 0, got {loss_blur_sigmas}")
        self.encoder = encoder.eval().requires_grad_(False)
        self.predictor = predictor

    def on_fit_start(self) -> None:
        expect_eval_mode(self.encoder)

    def train(self, mode: bool = True) -> ACWorldModel:
        super().train(mode)
        self.encoder.eval()  # frozen: never in training mode
        return self

    def encode(self, frames: Tensor) -> Tensor:
        """Layer-normed tokens of uint8 frames ``(B, H, W, 3)``."""
        return encode_frames(self.encoder, frames.to(self.device), self.hparams.pool,
                             pool_mode=self.hparams.pool_mode)

    # ------------------------------------------------------------------------------------------ maths
    def teacher_forcing(self, h: Tensor, actions: Tensor, states: Tensor) -> Tensor:
        """Predictions of frames ``1 .. T-1`` ``(B, (T-1) * N, D)`` from ground-truth frames ``0 .. T-2``."""
        out = self.predictor(h[:, :-1].flatten(1, 2), actions, states[:, :-1])
        return F.layer_norm(out, out.shape[-1:])

    def rollout(self, h0: Tensor, z1: Tensor, actions: Tensor, states: Tensor) -> Tensor:
        """Frames ``1 .. k`` ``(B, k * N, D)``, ``k = rollout_steps``: starts from ``h0`` and the first teacher-forced
        prediction ``z1`` and feeds back its own predictions (ground-truth states, as in training officially)."""
        preds, context = [z1], torch.cat([h0, z1], dim=1)
        for j in range(2, self.hparams.rollout_steps + 1):
            preds.append(predict_next(self.predictor, context, actions[:, :j], states[:, :j]))
            context = torch.cat([context, preds[-1]], dim=1)
        return torch.cat(preds, dim=1)

    def regression_loss(self, pred: Tensor, target: Tensor, p: float) -> Tensor:
        """``jepa_loss`` of frames ``(B, T * N, D)``, summed over ``loss_blur_sigmas`` blurs of their token maps."""
        sigmas = tuple(self.hparams.loss_blur_sigmas)
        if sigmas == (0.0,):
            return jepa_loss(pred, target, p)
        n = self.predictor.grid**2
        pool, mode = self.hparams.pool, self.hparams.pool_mode
        pred_maps, target_maps = (token_maps(x.reshape(-1, n, x.shape[-1]), pool, mode) for x in (pred, target))
        size = pred_maps.shape[-1]
        pred_maps, target_maps = pred_maps.flatten(2), target_maps.flatten(2)
        loss = pred.new_zeros(())
        for s in sigmas:
            m = blur_matrix(s, size, pred.device, pred.dtype)
            loss = loss + jepa_loss(pred_maps @ m, target_maps @ m, p)
        return loss

    def losses(self, batch: dict[str, Tensor], prefix: str) -> Tensor:
        terms = self.loss_terms(batch)
        self.log_dict({f"{prefix}/{k}": v for k, v in terms.items()}, prog_bar=prefix == "train",
                      batch_size=len(batch["features"]))
        return terms["loss"]

    def loss_terms(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """``loss`` = ``loss_teacher_forcing`` + ``loss_rollout``; ``copy_last`` is what predicting "nothing
        moves" would score in the same units as ``loss_teacher_forcing``, ``copy_last_l1`` the same in L1."""
        h, actions, states = batch["features"].float(), batch["actions"], batch["states"]
        _, T, N, _ = h.shape
        k, p = self.hparams.rollout_steps, self.hparams.loss_exp
        if T < k + 1:
            raise ValueError(f"clips of {T} frames are too short for rollout_steps={k} (need {k + 1})")
        z_tf = self.teacher_forcing(h, actions, states)
        tf = self.regression_loss(z_tf, h[:, 1:].flatten(1, 2), p)
        ar = self.regression_loss(self.rollout(h[:, 0], z_tf[:, :N], actions, states), h[:, 1 : k + 1].flatten(1, 2),
                                  p)
        copy_last = self.regression_loss(h[:, :-1].flatten(1, 2), h[:, 1:].flatten(1, 2), p)
        return {"loss": tf + ar, "loss_teacher_forcing": tf, "loss_rollout": ar,
                "copy_last": copy_last, "copy_last_l1": jepa_loss(h[:, :-1], h[:, 1:])}

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self.losses(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self.losses(batch, "val")

    # ------------------------------------------------------------------------------------------ optimisation
    def configure_optimizers(self) -> torch.optim.Optimizer:
        h = self.hparams
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warmup, decay = min(h.warmup_steps, total), min(h.decay_steps, total)
        self.lr_schedule = WSD(h.start_lr, h.lr, h.final_lr, warmup, max(total - warmup - decay, 0), decay)
        groups = named_param_groups({"predictor": self.predictor}, h.weight_decay)
        return torch.optim.AdamW(groups, lr=h.lr, betas=h.betas, eps=h.eps)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        lr = self.lr_schedule(self.trainer.global_step + 1)
        apply_lr_wd(self.trainer.optimizers[0], lr, self.hparams.weight_decay)
        self.log("train/lr", lr, on_step=True, on_epoch=False)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Constructor arguments of both networks, so ``hub.load_encoder(ckpt, key="encoder")`` and
        ``hub.load_ac_predictor(ckpt)`` (and :meth:`LatentWorldModel.load`) rebuild them from the checkpoint."""
        checkpoint["lit_jepa"] = {**encoder_metadata(self.encoder),
                                  "predictor": hub.ac_predictor_config(self.predictor)}
