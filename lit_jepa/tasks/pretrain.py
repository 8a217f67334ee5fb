"""V-JEPA 2 pretraining: masked latent prediction from video with an EMA target encoder.

One step (paper Eq. 1): the target encoder sees the whole clip, its tokens are layer-normed (no affine);
for each mask generator the context encoder sees only the context tokens, the predictor fills in the target
positions, and the loss is the L1 distance at the targets, averaged over generators. After every optimizer
step the target encoder follows the context encoder by EMA (in place, ``torch._foreach``).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor

from lit_jepa import hub
from lit_jepa.data.masking import MaskCollator
from lit_jepa.losses import (
    jepa_loss,
    motion_token_weights,
    normalize_targets,
    sigreg,
    vicreg_covariance,
    vicreg_variance,
)
from lit_jepa.masks import VJEPA2_MASKS, MaskSpec, context_weights
from lit_jepa.monitors import feature_stats
from lit_jepa.nn import AttentiveClassifier, VisionTransformer, VisionTransformerPredictor
from lit_jepa.nn.vit import gather_tokens
from lit_jepa.optim import apply_lr_wd, named_param_groups
from lit_jepa.schedules import CosineWD, Linear, LinearDecay, WarmupCosine


class JepaPretrain(L.LightningModule):
    """V-JEPA 2 pretraining module.

    Args:
        encoder: the context encoder (the target encoder starts as its copy).
        predictor: the predictor; its RoPE grid follows the input clip, so one predictor serves every stage
            of progressive resolution.
        masks: mask generators (default: the official 8 x 0.15 short-range and 2 x 0.7 long-range tubes).
        mask_seed: seed of the mask generator; masks are drawn from it and the batch's sample indices, so a
            resumed run draws the same masks.
        lr: peak learning rate.
        start_lr: learning rate at the start of the warmup (``schedule="warmup_cosine"``).
        final_lr: learning rate at the end of the run (``final_lr == lr``: constant, V-JEPA 2 phase 1).
        warmup_steps: steps of the linear warmup from ``start_lr`` to ``lr``.
        schedule: ``"warmup_cosine"``: linear warmup then cosine to ``final_lr``; ``"linear_decay"``: the cooldown,
            ``lr`` to ``final_lr`` over ``decay_scale`` times the run.
        decay_scale: length of the linear decay in runs (``1.25`` reproduces the official code, which stops at
            about 1.06e-4).
        weight_decay: weight decay at the start of the cosine weight-decay schedule (constant 0.04 in V-JEPA 2);
            biases and norms are not decayed.
        final_weight_decay: weight decay at the end of the run.
        ema: EMA momentum, linear from ``ema[0]`` to ``ema[1]`` over the run (constant 0.99925).
        betas: AdamW's betas.
        eps: AdamW's epsilon.
        loss_exp: exponent of the regression loss (1: L1).
        init_from: checkpoint of a previous stage (any format ``lit_jepa.hub`` reads) whose encoder, target
            encoder and predictor weights start this run, e.g. a cooldown with longer clips or larger frames
            (its architecture must match this run's; ``img_size`` and ``num_frames`` may differ). When the file
            carries the optimizer state (a Lightning checkpoint's, or an official checkpoint's ``opt``), AdamW
            continues from it, as the official anneal does; exports carry none, so AdamW starts afresh.
        trust_checkpoint: let a pickled ``init_from`` run code (``weights_only=False``); only for files you trust.
        monitor_every_n_steps: how often to log the feature-collapse statistics of the targets.
        online_probe_classes: with ``> 0``, an attentive probe (one cross-attention block) learns to classify
            the batch's labels from the stop-gradient target features, a health signal for unlabelled
            pretraining (``train/online_probe_acc``, ``val/online_probe_acc``; samples with label -1 are ignored).
        online_probe_lr: its learning rate (it follows the schedule's shape, scaled to this peak).
        target: ``"ema"``: targets from the EMA target encoder under stop-gradient (the paper); ``"online"``:
            targets from the context encoder itself, with gradients and no EMA (LeJEPA); the target encoder then
            mirrors the encoder after every step, so exports hold the trained weights. Use ``"online"`` only with
            a regulariser, which is what keeps it from collapsing.
        regularizer: anti-collapse term on the context encoder's output tokens: ``"none"`` (the paper),
            ``"sigreg"`` (LeJEPA's SIGReg, :func:`lit_jepa.losses.sigreg`) or ``"vicreg"`` (VICReg's variance plus
            covariance terms, as EB-JEPA uses them).
        regularizer_weight: weight of the regulariser added to the prediction loss.
        vicreg_covariance_weight: weight of VICReg's covariance term relative to its variance term.
        context_loss_weight: weight of V-JEPA 2.1's dense context loss: the predictor's outputs at the context
            positions regress the targets there, each token weighted ``1 / sqrt(d)``, ``d`` its grid distance to
            the nearest predicted token (0: off, the V-JEPA 2 objective).
        motion_weight: emphasis of the prediction loss on moving content: each predicted token's loss is
            weighted ``1 - motion_weight + motion_weight * e``, ``e`` its pixel motion energy relative to the
            clip's mean (:func:`lit_jepa.losses.motion_token_weights`; 0: off, the V-JEPA 2 objective).
    """

    def __init__(
        self,
        encoder: VisionTransformer,
        predictor: VisionTransformerPredictor,
        masks: list[MaskSpec] | None = None,
        mask_seed: int = 0,
        lr: float = 5.25e-4,
        start_lr: float = 1e-4,
        final_lr: float = 5.25e-4,
        warmup_steps: int = 12_000,
        schedule: Literal["warmup_cosine", "linear_decay"] = "warmup_cosine",
        decay_scale: float = 1.0,
        weight_decay: float = 0.04,
        final_weight_decay: float = 0.04,
        ema: tuple[float, float] = (0.99925, 0.99925),
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        loss_exp: float = 1.0,
        init_from: str | None = None,
        trust_checkpoint: bool = False,
        monitor_every_n_steps: int = 50,
        online_probe_classes: int = 0,
        online_probe_lr: float = 1e-3,
        target: Literal["ema", "online"] = "ema",
        regularizer: Literal["none", "sigreg", "vicreg"] = "none",
        regularizer_weight: float = 0.0,
        vicreg_covariance_weight: float = 0.04,
        context_loss_weight: float = 0.0,
        motion_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["encoder", "predictor"])
        self.encoder, self.predictor = encoder, predictor
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.masker = MaskCollator(masks or VJEPA2_MASKS, encoder.patch_size, encoder.tubelet_size, mask_seed)
        self.online_probe = (AttentiveClassifier(encoder.embed_dim, online_probe_classes, encoder.num_heads, depth=1)
                             if online_probe_classes > 0 else None)

    # ------------------------------------------------------------------------------------------ set-up
    def setup(self, stage: str) -> None:
        if stage == "fit" and self.hparams.init_from:
            ckpt = hub.read_checkpoint(self.hparams.init_from, self.hparams.trust_checkpoint)
            for name, part in (("encoder", "encoder"), ("target_encoder", "encoder"), ("predictor", "predictor")):
                hub.load_or_build(ckpt, getattr(self, name), part, name, "JepaPretrain(init_from)")
            self._carried_optimizer = (ckpt.path, ckpt.optimizer)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        h = self.hparams
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        if h.schedule == "warmup_cosine":
            self.lr_schedule = WarmupCosine(h.start_lr, h.lr, h.final_lr, h.warmup_steps, total)
        else:
            self.lr_schedule = LinearDecay(h.lr, h.final_lr, round(h.decay_scale * total))
        self.wd_schedule = CosineWD(h.weight_decay, h.final_weight_decay, total)
        self.ema_schedule = Linear(h.ema[0], h.ema[1], total)
        modules = {"encoder": self.encoder, "predictor": self.predictor}
        if self.online_probe is not None:
            modules["online_probe"] = self.online_probe
        groups = named_param_groups(modules, h.weight_decay)
        for group in groups:
            if group["name"].startswith("online_probe"):
                group["lr_scale"] = h.online_probe_lr / h.lr
        optimizer = torch.optim.AdamW(groups, lr=h.lr, betas=h.betas, eps=h.eps)
        path, state = getattr(self, "_carried_optimizer", (None, None))
        if state is not None:
            carried = [len(g["params"]) for g in state["param_groups"]]
            ours = [len(g["params"]) for g in groups]
            if carried != ours:
                raise hub.CheckpointMismatchError(
                    f"{path}: its optimizer state has parameter groups of sizes {carried}, this module's are {ours} "
                    f"({', '.join(g['name'] for g in groups)}); init_from needs the previous stage's architecture")
            optimizer.load_state_dict(state)
        return optimizer

    # ------------------------------------------------------------------------------------------ steps
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        step = self.trainer.global_step + 1  # official schedulers step before each iteration: 1 is the first
        lr, wd = self.lr_schedule(step), self.wd_schedule(step)
        apply_lr_wd(self.trainer.optimizers[0], lr, wd)
        self.log_dict({"train/lr": lr, "train/weight_decay": wd}, on_step=True, on_epoch=False)

    def jepa_losses(self, batch: dict[str, Tensor], prefix: str) -> Tensor:
        clips = batch["video"][:, 0] if batch["video"].ndim == 6 else batch["video"]  # first view
        masks_enc, masks_pred = self.masker.draw(batch["index"].cpu(), clips.shape)
        grid_hw = (clips.shape[-2] // self.encoder.patch_size, clips.shape[-1] // self.encoder.patch_size)
        h = self.hparams
        with torch.set_grad_enabled(h.target == "online" and torch.is_grad_enabled()):
            teacher = self.encoder if h.target == "online" else self.target_encoder
            targets = normalize_targets(teacher(clips))
        motion = (motion_token_weights(clips, self.encoder.patch_size, self.encoder.tubelet_size, h.motion_weight)
                  if h.motion_weight > 0 else None)
        losses, regs, contexts = [], [], []
        for j, (m_enc, m_pred) in enumerate(zip(masks_enc, masks_pred)):
            m_enc, m_pred = m_enc.to(self.device), m_pred.to(self.device)
            context = self.encoder(clips, masks=m_enc)
            # mask token 0: the official pretraining indexes mask tokens by clip-length group (one here)
            z = self.predictor(context, m_enc, m_pred, mask_index=0, grid_hw=grid_hw,
                               return_context=h.context_loss_weight > 0)
            if h.context_loss_weight > 0:
                z, z_ctx = z
                weights = context_weights(m_enc, m_pred, self.masker.grid(clips.shape))
                contexts.append(jepa_loss(z_ctx, gather_tokens(targets, m_enc), h.loss_exp, weights))
            weights = gather_tokens(motion.unsqueeze(-1), m_pred)[..., 0] if motion is not None else None
            losses.append(jepa_loss(z, gather_tokens(targets, m_pred), h.loss_exp, weights))
            if h.regularizer != "none":
                regs.append(self.regularizer(context))
            self.log_dict({f"{prefix}/loss_mask{j}": losses[-1], f"{prefix}/context_tokens_mask{j}": m_enc.shape[1],
                           f"{prefix}/target_tokens_mask{j}": m_pred.shape[1]}, batch_size=clips.shape[0])
        loss = pred_loss = torch.stack(losses).mean()
        if contexts:
            context_loss = torch.stack(contexts).mean()
            loss = loss + h.context_loss_weight * context_loss
            self.log(f"{prefix}/context_loss", context_loss, batch_size=clips.shape[0])
        if regs:
            reg = torch.stack(regs).mean()
            loss = loss + h.regularizer_weight * reg
            self.log(f"{prefix}/{h.regularizer}", reg, batch_size=clips.shape[0])
        self.log(f"{prefix}/pred_loss", pred_loss, batch_size=clips.shape[0])
        self.log(f"{prefix}/loss", loss, prog_bar=True, batch_size=clips.shape[0])
        if self.online_probe is not None and "label" in batch:
            loss = loss + self.online_probe_loss(targets.detach(), batch["label"], prefix)
        every = self.hparams.monitor_every_n_steps
        if prefix == "train" and every and self.trainer.global_step % every == 0:
            self.log_dict({f"collapse/target_{k}": v for k, v in feature_stats(targets).items()})
        return loss

    def regularizer(self, tokens: Tensor) -> Tensor:
        """The configured anti-collapse term on encoder output tokens ``(B, N, D)``, pooled over batch and tokens."""
        if self.hparams.regularizer == "sigreg":
            return sigreg(tokens)
        return vicreg_variance(tokens) + self.hparams.vicreg_covariance_weight * vicreg_covariance(tokens)

    def online_probe_loss(self, targets: Tensor, labels: Tensor, prefix: str) -> Tensor:
        """Cross-entropy of the online probe on the (already stop-gradient) target features."""
        keep = labels >= 0
        if not keep.any():
            return targets.new_zeros(())
        logits = self.online_probe(targets[keep])
        loss = F.cross_entropy(logits, labels[keep])
        acc = (logits.argmax(-1) == labels[keep]).float().mean()
        self.log_dict({f"{prefix}/online_probe_loss": loss, f"{prefix}/online_probe_acc": acc},
                      batch_size=int(keep.sum()))
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self.jepa_losses(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self.jepa_losses(batch, "val")

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """The optimizer step, then the EMA update of the target encoder. Lightning calls this only on
        gradient-accumulation boundaries, and before any ``on_train_batch_end`` callback, so a checkpoint taken
        there already holds the updated target (exact resume)."""
        super().optimizer_step(*args, **kwargs)
        self.update_target(0.0 if self.hparams.target == "online" else self.ema_schedule(self.trainer.global_step))

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        """``target <- m * target + (1 - m) * encoder``, in place over all parameters at once."""
        target, online = list(self.target_encoder.parameters()), list(self.encoder.parameters())
        torch._foreach_mul_(target, momentum)
        torch._foreach_add_(target, online, alpha=1.0 - momentum)
        self.log("train/ema_momentum", momentum, on_step=True, on_epoch=False)

    def on_train_end(self) -> None:
        """Hyperparameters with the final losses, for TensorBoard's HPARAMS tab."""
        if self.logger is not None:
            final = {f"hp/{k.replace('/', '_')}": float(v) for k, v in self.trainer.callback_metrics.items()
                     if k in ("train/loss", "val/loss")}
            self.logger.log_hyperparams(self.hparams, final)

    # ------------------------------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the architectures so ``lit_jepa.hub`` rebuilds the modules from a Lightning checkpoint."""
        checkpoint["lit_jepa"] = {"encoder": hub.encoder_config(self.encoder),
                                  "target_encoder": hub.encoder_config(self.target_encoder),
                                  "predictor": hub.predictor_config(self.predictor)}
