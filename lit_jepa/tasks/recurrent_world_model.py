"""End-to-end action-conditioned JEPA world model (EB-JEPA's ``ac_video_jepa`` recipe, arXiv 2602.03604).

Encoder and predictor (:class:`~lit_jepa.nn.recurrent.RecurrentWorldModel`) train together on walks of frames and
actions, with no EMA teacher and no stop-gradient; what keeps the encoder from collapsing is the regulariser on the
encodings ``z`` of every frame (EB-JEPA's ``VC_IDM_Sim_Regularizer``)::

    loss = rollout error (MSE; see rollout_exp) over rollout_steps steps from z_0 (.. z_{rollout_starts - 1})
           + std_coeff * VICReg variance + cov_coeff * covariance (mean over off-diagonal pairs)
           + smooth_coeff * MSE(z_t, z_t+1) + idm_coeff * MSE(inverse_dynamics(z_t, z_t+1), a_t / action_scale)

EB-JEPA's ablation: without the inverse-dynamics term planning success falls from 97 % to 1 %, without either
variance or covariance to under 50 %. ``freeze_encoder`` keeps the encoder at its random initialisation and trains
the predictor alone: the random-encoder control.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor

from lit_jepa.losses import vicreg_covariance, vicreg_variance
from lit_jepa.nn.recurrent import CONFIG_KEY, RecurrentWorldModel
from lit_jepa.optim import apply_lr_wd
from lit_jepa.schedules import WarmupCosine


class RecurrentWorldModelTask(L.LightningModule):
    """Train a :class:`~lit_jepa.nn.recurrent.RecurrentWorldModel` end to end (batches ``frames`` uint8
    ``(B, T + 1, H, W, C)`` and ``actions`` ``(B, T, A)``, e.g. :class:`lit_jepa.data.toyworld.TwoRoomsWalkData`).

    Args:
        model: the world model.
        rollout_steps: steps of the autoregressive rollout from the first frame (EB-JEPA: 8).
        rollout_starts: frames a rollout starts from, the walk's first ``rollout_starts`` (EB-JEPA: 1, the first);
            more starts train the predictor on more rollouts per encoded frame (walks need ``rollout_steps +
            rollout_starts`` frames), but also pull the encoder harder toward what is easy to predict: on Two-Rooms
            13 starts made the latent's position readout 4 x worse (``experiments/toy-planning/README.md``).
        std_coeff: weight of the variance hinge (16).
        cov_coeff: weight of the covariance term, the mean of squared off-diagonal covariances (8).
        smooth_coeff: weight of the temporal smoothness, the MSE between consecutive encodings (12).
        idm_coeff: weight of the inverse-dynamics MSE (1).
        lr: peak AdamW learning rate (1e-3), reached after a linear warmup, then a cosine decay to 0.
        warmup_fraction: the warmup's share of the run's steps (0.1).
        weight_decay: AdamW's weight decay (1e-5).
        freeze_encoder: keep the encoder (and its LayerNorm) at initialisation; the random-encoder control.
        rollout_noise: std of Gaussian noise added to every latent the predictor reads in training rollouts (not in
            validation), so that it learns to pull drifted latents back (noise injection against compounding
            rollout errors, as in learned simulators); 0: none (EB-JEPA).
        rollout_exp: exponent of the rollout error, ``mean(|prediction - target| ** rollout_exp)``: 2 is the MSE
            (EB-JEPA), 1 the L1 (V-JEPA 2-AC's); ``stay`` is scored with the same exponent. On Two-Rooms neither
            option kept imagined agents from passing the wall (``experiments/toy-planning/README.md``).
        mode_coeff: for a multiple-hypothesis model (``RecurrentWorldModel(hypotheses > 1)``), the weight of the
            cross-entropy that teaches its logits which proposal wins; the rollout error is then the winners'
            (:meth:`~lit_jepa.nn.recurrent.RecurrentWorldModel.rollout_wta`).
        wta_relax: relaxed winner-takes-all: the rollout error is ``(1 - wta_relax)`` times the winners' plus
            ``wta_relax`` times the mean over every proposal, so that no proposal is left untrained (0: hard).
    """

    def __init__(self, model: RecurrentWorldModel, rollout_steps: int = 8, rollout_starts: int = 1,
                 std_coeff: float = 16.0, cov_coeff: float = 8.0, smooth_coeff: float = 12.0, idm_coeff: float = 1.0,
                 lr: float = 1e-3, warmup_fraction: float = 0.1, weight_decay: float = 1e-5,
                 freeze_encoder: bool = False, rollout_noise: float = 0.0, rollout_exp: float = 2.0,
                 mode_coeff: float = 0.01, wta_relax: float = 0.0) -> None:
        super().__init__()
        if rollout_steps < 1 or rollout_starts < 1:
            raise ValueError(f"rollout_steps and rollout_starts must be >= 1, got {rollout_steps}, {rollout_starts}")
        if rollout_noise < 0 or rollout_exp <= 0 or mode_coeff < 0:
            raise ValueError(f"need rollout_noise >= 0, rollout_exp > 0 and mode_coeff >= 0, got {rollout_noise}, "
                             f"{rollout_exp} and {mode_coeff}")
        if not 0.0 <= wta_relax <= 1.0:
            raise ValueError(f"wta_relax must be in [0, 1], got {wta_relax}")
        if not 0.0 <= warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}")
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        if freeze_encoder:
            model.encoder.requires_grad_(False)
            model.norm.requires_grad_(False)

    def loss_terms(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """The loss and its terms; ``stay`` is what predicting "nothing moves" would score in the rollout's
        units."""
        h, k, n = self.hparams, self.hparams.rollout_steps, self.hparams.rollout_starts
        frames, actions = batch["frames"], batch["actions"].float()
        if frames.shape[1] < k + n:
            raise ValueError(f"walks of {frames.shape[1]} frames are too short for rollout_steps={k} and "
                             f"rollout_starts={n} (need {k + n})")
        z = self.model.encode(frames)  # (B, T + 1, D)
        target = torch.stack([z[:, s + 1 : s + k + 1] for s in range(n)], 1).flatten(0, 1)  # (B * n, k, D)
        starts = z[:, :n].flatten(0, 1)
        plans = torch.stack([actions[:, s : s + k] for s in range(n)], 1).flatten(0, 1)
        noise = h.rollout_noise if self.training else 0.0
        extra = {}
        if self.model.hypotheses > 1:
            cands, logits, winner = self.model.rollout_wta(starts, plans, target, noise, h.rollout_exp)
            errors = (cands - target.unsqueeze(2)).abs().pow(h.rollout_exp).mean(-1)  # (B, k, K)
            rollout = errors.gather(-1, winner.unsqueeze(-1)).mean()
            if h.wta_relax:
                rollout = (1 - h.wta_relax) * rollout + h.wta_relax * errors.mean()
            extra["mode"] = F.cross_entropy(logits.flatten(0, 1), winner.flatten())
            extra["mode_accuracy"] = (logits.argmax(-1) == winner).float().mean()
        else:
            rollout = (self.model.rollout(starts, plans, noise) - target).abs().pow(h.rollout_exp).mean()
        var = vicreg_variance(z)
        cov = vicreg_covariance(z, normalize="pairs")
        smooth = F.mse_loss(z[:, 1:], z[:, :-1])
        idm = F.mse_loss(self.model.inverse_dynamics(z[:, :-1], z[:, 1:]), actions / self.model.action_scale)
        loss = rollout + h.std_coeff * var + h.cov_coeff * cov + h.smooth_coeff * smooth + h.idm_coeff * idm
        if extra:
            loss = loss + h.mode_coeff * extra["mode"]
            extra["mode_accuracy"] = extra["mode_accuracy"].detach()
        stay = (starts.unsqueeze(1) - target).abs().pow(h.rollout_exp).mean()
        return {"loss": loss, "rollout": rollout, "variance": var, "covariance": cov, "smoothness": smooth,
                "inverse_dynamics": idm, "stay": stay.detach(), **extra}

    def _step(self, batch: dict[str, Tensor], prefix: str) -> Tensor:
        terms = self.loss_terms(batch)
        self.log_dict({f"{prefix}/{k}": v for k, v in terms.items()}, prog_bar=prefix == "train",
                      batch_size=len(batch["actions"]))
        return terms["loss"]

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        h = self.hparams
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        self.lr_schedule = WarmupCosine(0.0, h.lr, 0.0, max(1, round(h.warmup_fraction * total)), total)
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=h.lr, weight_decay=h.weight_decay)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        lr = self.lr_schedule(self.trainer.global_step + 1)
        apply_lr_wd(self.trainer.optimizers[0], lr, self.hparams.weight_decay)
        self.log("train/lr", lr, on_step=True, on_epoch=False)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """The model's constructor arguments, so :func:`lit_jepa.planning.model.load_recurrent` rebuilds it."""
        checkpoint["lit_jepa"] = {CONFIG_KEY: self.model.config()}
