"""Frozen-encoder evaluation: a sweep of attentive probes trained in one pass (V-JEPA 2 section 6 protocol).

One step: the frozen encoder (eval mode, no grad) encodes every clip of the batch ``(B, V, C, T, H, W)``,
``V = num_segments x num_views`` segment-major; for each spatial view the token sets of all temporal segments are
concatenated along the token axis (with ``out_layers``, the listed blocks' normed outputs are concatenated too).
For EK100 anticipation the frozen predictor fills the tubelet slot ``anticipation_s`` after the context and its
tokens are appended. Every probe head of the ``lrs x weight_decays`` grid sees the same tokens; the loss is the
sum over heads (cross-entropy, or the sigmoid focal loss for verb + noun + action) and over views.

Heads share one AdamW with two parameter groups per head (decayed weights, and biases/norms without decay), each
with its own warmup-cosine learning rate and weight decay. AdamW is per-parameter, so this equals one optimizer
per head (the official code) at a fraction of the bookkeeping. Evaluation averages the per-view probabilities
(softmax, or sigmoid for anticipation) and updates torchmetrics per head; the reported number is the maximum
over heads of the last validation epoch's metric (``SELECTION_RULE``), each metric maximised independently.
The last validation of ``fit`` (whether it stops on ``max_epochs`` or ``max_steps``) also keeps every head's top-5
classes per sample (gathered over ranks, by sample index), written with ``probe_results.json`` as
``val_predictions.npz`` for offline intervals (:class:`lit_jepa.callbacks.ProbeResults` writes the files).

Batches may also carry precomputed ``"features"`` ``(B, V, N, D)`` instead of ``"video"``: see
:class:`lit_jepa.data.features.FeatureCacheDataModule`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import SumMetric

from lit_jepa import hub
from lit_jepa.callbacks import ProbeResults
from lit_jepa.encoders import encoder_metadata, task_encoder
from lit_jepa.losses import sigmoid_focal_loss
from lit_jepa.metrics import ANTICIPATION_TARGETS, anticipation_metrics, classification_metrics
from lit_jepa.nn import (
    AnticipationClassifier,
    AttentiveClassifier,
    FrozenEncoder,
    VisionTransformerPredictor,
    module_sha256,
)
from lit_jepa.optim import named_param_groups
from lit_jepa.schedules import WarmupCosine
from lit_jepa.tasks.frozen import expect_eval_mode

TOP_K = 5  # per-sample predictions keep each head's 5 best classes (top-1 and recall@5 follow from them)
SELECTION_RULE = ("best of {n} heads on val (protocol: max over heads of the last-epoch val metric, each metric "
                  "maximised independently, as the official code)")


def _join(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Concatenate prediction records along the samples (dim -2 of the ``(heads, B, k)`` top-k arrays)."""
    return {k: torch.cat([p[k] for p in parts], dim=-2 if k.endswith(f"_top{TOP_K}") else 0) for k in parts[0]}


def gather_predictions(parts: list[dict[str, Tensor]]) -> dict[str, np.ndarray] | None:
    """One rank's per-batch prediction records, joined over all ranks (a collective: every rank calls it, with or
    without records) and ordered by sample index; ``None`` when no rank has any."""
    local = _join(parts) if parts else None
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        everyone: list[dict | None] = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, local)
        found = [e for e in everyone if e is not None]
        local = _join(found) if found else None
    if local is None:
        return None
    order = local["index"].argsort()
    return {k: (v[:, order] if k.endswith(f"_top{TOP_K}") else v[order]).numpy() for k, v in local.items()}


class AttentiveProbe(L.LightningModule):
    """Frozen encoder + a grid of attentive probe heads.

    Args:
        encoder_ckpt: any checkpoint ``lit_jepa.hub`` reads (official ``.pt``, ``transformers`` folder, lit_jepa
            Lightning checkpoint); ``None``: the ``encoder`` as built (a ``VisionTransformer`` at random
            initialisation, an adapter with its own weights).
        checkpoint_key: which encoder of the file (``target_encoder``, as the official evaluations).
        encoder: any frozen encoder (:mod:`lit_jepa.nn.encoder` contract: ``VisionTransformer`` or an adapter of
            :mod:`lit_jepa.encoders`, by class path or short name); a ``VisionTransformer`` gets the weights of
            ``encoder_ckpt`` (strictly, with overrides such as ``img_size``) or stays randomly initialised without
            it; an adapter loads its own weights (``encoder_ckpt`` must then be ``None``).
        trust_checkpoint: let a pickled ``encoder_ckpt``/``predictor_ckpt`` run code (``weights_only=False``);
            only for files you trust.
        task: ``classification`` (one query, top-1) or ``anticipation`` (EK100: three queries, focal loss,
            mean-class recall@5 of verb, noun and action).
        num_classes: classes (anticipation: actions); unset, read from the DataModule's attribute of the same name
            in ``setup`` (as are ``num_verbs`` and ``num_nouns``).
        num_verbs: the anticipation verb vocabulary's size.
        num_nouns: the anticipation noun vocabulary's size.
        num_segments: temporal segments per sample (the data's ``ClipSpec.num_segments``); views are the rest of V.
        out_layers: encoder blocks whose normed outputs are concatenated along tokens (Diving-48: the last of
            each quarter); ``None``: the final output.
        lrs: learning rates of the head grid (the grid is ``lrs x weight_decays``, lr-major, as the official
            ``multihead_kwargs``).
        weight_decays: weight decays of the head grid (constant per head).
        start_lr: learning rate at the start of each head's linear warmup (default: the head's lr).
        warmup_epochs: epochs of the linear warmup, then cosine.
        final_lr: learning rate at the end of the cosine.
        betas: AdamW's betas.
        num_heads: attention heads of the probe.
        depth: probe blocks (depth - 1 self-attention + 1 cross-attention).
        use_activation_checkpointing: recompute the probe blocks in the backward pass (official: on).
        predictor_ckpt: checkpoint of the frozen predictor for anticipation (default: ``encoder_ckpt``).
        predictor_key: which predictor of that file.
        predictor: the predictor's architecture (alone, without a checkpoint: random initialisation).
        anticipation_s: seconds between the context and the predicted slot, which starts
            ``int(anticipation_s * fps / tubelet)`` tubelets after the context (official ``anticipation_steps``),
            one tubelet long.
        fps: frame rate of the clips, for ``anticipation_s``.
        focal_alpha: alpha of the anticipation focal loss (official: 0.25, summed).
        focal_gamma: gamma of the anticipation focal loss (official: 2).
        embedding_samples: pooled features of the last validation dumped to TensorBoard's projector when ``fit``
            ends (0: off).
    """

    def __init__(
        self,
        encoder_ckpt: str | None = None,
        checkpoint_key: str = "target_encoder",
        trust_checkpoint: bool = False,
        encoder: FrozenEncoder | None = None,
        task: Literal["classification", "anticipation"] = "classification",
        num_classes: int | None = None,
        num_verbs: int | None = None,
        num_nouns: int | None = None,
        num_segments: int = 1,
        out_layers: list[int] | None = None,
        lrs: Sequence[float] = (5e-3, 3e-3, 1e-3, 3e-4, 1e-4),
        weight_decays: Sequence[float] = (0.01, 0.1, 0.4, 0.8),
        start_lr: float | None = None,
        warmup_epochs: float = 0.0,
        final_lr: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        num_heads: int = 16,
        depth: int = 4,
        use_activation_checkpointing: bool = False,
        predictor_ckpt: str | None = None,
        predictor_key: str = "predictor",
        predictor: VisionTransformerPredictor | None = None,
        anticipation_s: float = 1.0,
        fps: float = 8.0,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        embedding_samples: int = 512,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["encoder", "predictor"])
        self.encoder = self._frozen(task_encoder(encoder_ckpt, encoder, checkpoint_key,
                                                 "AttentiveProbe: encoder_ckpt or encoder", trust_checkpoint))
        self.predictor = None
        if task == "anticipation":
            predictor = hub.load_or_build(predictor_ckpt or encoder_ckpt, predictor, "predictor", predictor_key,
                                          "AttentiveProbe(task='anticipation'): predictor_ckpt or predictor",
                                          trust_checkpoint)
            self.predictor = self._frozen(predictor)
        self.grid = list(itertools.product(lrs, weight_decays))
        self.classifiers: nn.ModuleList | None = None
        self.val_metrics: nn.ModuleList | None = None
        if self._class_counts_known():
            self._build_heads()
        self.selection_rule = SELECTION_RULE.format(n=len(self.grid))
        self._embeddings: list[tuple[Tensor, Tensor]] = []
        self.last_embeddings: list[tuple[Tensor, Tensor]] = []
        self._predictions: list[dict[str, Tensor]] = []
        self.predictions: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------------------------------ building
    @staticmethod
    def _frozen(module: nn.Module) -> nn.Module:
        return module.eval().requires_grad_(False)

    def _count_names(self) -> tuple[str, ...]:
        return ("num_classes",) if self.hparams.task == "classification" else ("num_classes", "num_verbs", "num_nouns")

    def _class_counts_known(self) -> bool:
        return all(self.hparams[name] is not None for name in self._count_names())

    def _build_heads(self) -> None:
        self.classifiers = nn.ModuleList(self._head() for _ in self.grid)
        self.val_metrics = nn.ModuleList(self._metrics() for _ in self.grid)
        self.val_samples = SumMetric()  # validation samples, summed over ranks (the n behind top-1)

    def setup(self, stage: str) -> None:
        """Class counts left unset come from the DataModule (stored in the hyperparameters, so checkpoints
        rebuild the same heads)."""
        if self.classifiers is not None:
            return
        data = getattr(self._trainer, "datamodule", None)
        for name in self._count_names():
            if self.hparams[name] is None:
                if not hasattr(data, name):
                    raise ValueError(f"AttentiveProbe(task={self.hparams.task!r}): set model.init_args.{name} or use "
                                     f"a DataModule with a {name!r} attribute (got {type(data).__name__})")
                self.hparams[name] = int(getattr(data, name))
        self._build_heads()

    def _head(self) -> nn.Module:
        h, dim = self.hparams, self.encoder.embed_dim
        if dim % h.num_heads:
            raise ValueError(f"AttentiveProbe: num_heads={h.num_heads} does not divide the width {dim} of the "
                             f"{type(self.encoder).__name__} encoder; set model.init_args.num_heads")
        if h.task == "classification":
            return AttentiveClassifier(dim, h.num_classes, h.num_heads, h.depth,
                                       use_activation_checkpointing=h.use_activation_checkpointing)
        return AnticipationClassifier(dim, h.num_verbs, h.num_nouns, h.num_classes, h.num_heads, h.depth,
                                      use_activation_checkpointing=h.use_activation_checkpointing)

    def _metrics(self) -> nn.Module:
        if self.hparams.task == "classification":
            return classification_metrics(self.hparams.num_classes)
        h = self.hparams
        return anticipation_metrics({"verb": h.num_verbs, "noun": h.num_nouns, "action": h.num_classes})

    def on_fit_start(self) -> None:
        expect_eval_mode(self.encoder, self.predictor)

    def train(self, mode: bool = True) -> AttentiveProbe:
        """The frozen encoder and predictor stay in eval mode."""
        super().train(mode)
        self.encoder.eval()
        if self.predictor is not None:
            self.predictor.eval()
        return self

    def feature_signature(self) -> dict[str, Any]:
        """What determines ``clip_features`` (the feature-cache key)."""
        h = self.hparams
        sig = {"encoder": self.encoder.identity(), "out_layers": h.out_layers, "task": h.task}
        if self.predictor is not None:
            sig.update(predictor=module_sha256(self.predictor), anticipation_s=h.anticipation_s, fps=h.fps)
        return sig

    # ------------------------------------------------------------------------------------------ features
    @torch.no_grad()
    def clip_features(self, video: Tensor) -> Tensor:
        """Frozen tokens of every clip: ``(B, V, C, T, H, W)`` -> ``(B, V, N, D)``."""
        b, v = video.shape[:2]
        clips = video.flatten(0, 1)
        out = self.encoder(clips, out_layers=self.hparams.out_layers)
        tokens = torch.cat(out, dim=1) if isinstance(out, list) else out
        if self.predictor is not None:
            tokens = torch.cat([tokens, self.anticipated_tokens(tokens, clips.shape)], dim=1)
        return tokens.unflatten(0, (b, v))

    def anticipated_tokens(self, context: Tensor, shape: torch.Size) -> Tensor:
        """The predictor's tokens for the tubelet slot ``anticipation_steps`` after the context (mask token 1)."""
        enc = self.encoder
        grid = enc.token_grid(*shape[-3:])
        if grid is None:
            raise ValueError(f"anticipation needs an encoder with a token grid; {type(enc).__name__} has none")
        t, h, w = grid
        n, hw = t * h * w, h * w
        steps = int(self.hparams.anticipation_s * self.hparams.fps / enc.tubelet_size)
        ctx = torch.arange(n, device=context.device).expand(context.shape[0], -1)
        tgt = torch.arange(n + hw * steps, n + hw * (steps + 1), device=context.device).expand(context.shape[0], -1)
        return self.predictor(context[:, :n], ctx, tgt, mask_index=1, grid_hw=(h, w))

    def probe_inputs(self, batch: dict[str, Tensor]) -> Tensor:
        """Tokens per spatial view, segments concatenated: ``(B, W, S * N, D)``."""
        feats = batch["features"] if "features" in batch else self.clip_features(batch["video"])
        b, v, n, d = feats.shape
        s = self.hparams.num_segments
        if v % s:
            raise ValueError(f"batch holds {v} clips per sample, not a multiple of num_segments={s}")
        return feats.float().view(b, s, v // s, n, d).transpose(1, 2).reshape(b, v // s, s * n, d)

    # ------------------------------------------------------------------------------------------ losses
    def head_loss(self, out: Tensor | dict[str, Tensor], batch: dict[str, Tensor], views: int) -> Tensor:
        """Per-view losses summed over views (official: each view's loss back-propagated)."""
        if self.hparams.task == "classification":
            labels = batch["label"]
            return F.cross_entropy(out, labels.repeat_interleave(views), reduction="sum") / labels.numel()
        loss = out["verb"].new_zeros(())
        for name in ANTICIPATION_TARGETS:
            onehot = F.one_hot(batch[name].repeat_interleave(views), out[name].shape[-1])
            loss = loss + sigmoid_focal_loss(out[name], onehot, self.hparams.focal_alpha, self.hparams.focal_gamma)
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        x = self.probe_inputs(batch)
        views, bsz = x.shape[1], x.shape[0]
        losses = torch.stack([self.head_loss(head(x.flatten(0, 1)), batch, views) for head in self.classifiers])
        self.log_dict({f"train/head{i:02d}/loss": loss for i, loss in enumerate(losses)}, batch_size=bsz)
        self.log("train/loss_min", losses.min(), prog_bar=True, batch_size=bsz)
        return losses.sum()

    def _fit_validation(self) -> bool:
        """A validation run inside ``fit`` (not the sanity check): its per-sample predictions and pooled features are
        kept until the next one, so the results describe the last validation whether ``fit`` stops on
        ``max_epochs`` or ``max_steps``."""
        t = self._trainer
        return t is not None and not t.sanity_checking and t.state.fn == "fit"

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        x = self.probe_inputs(batch)
        b, views = x.shape[:2]
        self.val_samples.update(b)
        targets = ("label",) if self.hparams.task == "classification" else ANTICIPATION_TARGETS
        keep = self._fit_validation()
        top = {t: [] for t in targets}
        for head, metrics in zip(self.classifiers, self.val_metrics):
            out = head(x.flatten(0, 1))
            if self.hparams.task == "classification":
                probs = {"label": out.softmax(-1).view(b, views, -1).mean(1)}
                metrics["top1"].update(probs["label"], batch["label"])
            else:
                probs = {name: out[name].sigmoid().view(b, views, -1).mean(1) for name in ANTICIPATION_TARGETS}
                for key, metric in metrics.items():
                    name = key.split("_")[0]
                    metric.update(probs[name], batch[name])
            if keep:
                for t in targets:
                    top[t].append(probs[t].topk(min(TOP_K, probs[t].shape[-1]), dim=-1).indices)
        if keep:
            record = {"index": batch["index"].cpu()}
            for t in targets:
                record[f"{t}_label"] = batch[t].cpu()
                record[f"{t}_top{TOP_K}"] = torch.stack(top[t]).cpu()  # (heads, B, k)
            self._predictions.append(record)
        if self.hparams.embedding_samples and len(self._embeddings) * b < self.hparams.embedding_samples:
            label = batch["action" if "action" in batch else "label"]
            self._embeddings.append((x.mean(dim=(1, 2)).cpu(), label.cpu()))

    def on_validation_epoch_end(self) -> None:
        values = [{k: float(m.compute()) for k, m in metrics.items()} for metrics in self.val_metrics]
        for metrics in self.val_metrics:
            metrics.reset()
        self.num_val_samples = int(self.val_samples.compute())
        self.val_samples.reset()
        logged = {f"val/head{i:02d}/{k}": v for i, vals in enumerate(values) for k, v in vals.items()}
        self.head_values, self.best = values, {}
        for k in values[0]:
            i = max(range(len(values)), key=lambda j: values[j][k])
            self.best[k] = {"value": values[i][k], "head": i, "lr": self.grid[i][0], "weight_decay": self.grid[i][1]}
            logged.update({f"val/best/{k}": values[i][k], f"val/best_head/{k}": float(i)})
        self.log_dict(logged, prog_bar=False)
        if self._fit_validation():
            self.predictions = gather_predictions(self._predictions)
            self.last_embeddings = self._embeddings
        self._embeddings, self._predictions = [], []

    # ------------------------------------------------------------------------------------------ optimisation
    def configure_optimizers(self) -> torch.optim.Optimizer:
        h = self.hparams
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        per_epoch = total / max(self.trainer.max_epochs or 1, 1)
        warmup = round(h.warmup_epochs * per_epoch)
        self.lr_schedules = [WarmupCosine(h.start_lr if h.start_lr is not None else lr, lr, h.final_lr, warmup, total)
                             for lr, _ in self.grid]
        groups = []
        for i, (head, (lr, wd)) in enumerate(zip(self.classifiers, self.grid)):
            groups += [{**g, "head": i, "lr": lr} for g in named_param_groups({f"head{i:02d}": head}, wd)]
        return torch.optim.AdamW(groups, betas=tuple(h.betas))

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        step = self.trainer.global_step + 1  # official schedulers step before each iteration
        for group in self.trainer.optimizers[0].param_groups:
            group["lr"] = self.lr_schedules[group["head"]](step)

    # ------------------------------------------------------------------------------------------ results
    def configure_callbacks(self) -> list[L.Callback]:
        """:class:`~lit_jepa.callbacks.ProbeResults` writes the results when ``fit`` ends (unless the Trainer
        already has one)."""
        present = self._trainer is not None and any(isinstance(c, ProbeResults) for c in self._trainer.callbacks)
        return [] if present else [ProbeResults()]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Architectures for ``lit_jepa.hub`` (the frozen encoder is saved but never optimised; an adapter is
        described by class and config)."""
        checkpoint["lit_jepa"] = encoder_metadata(self.encoder)
        if self.predictor is not None:
            checkpoint["lit_jepa"]["predictor"] = hub.predictor_config(self.predictor)
