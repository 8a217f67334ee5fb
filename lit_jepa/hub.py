"""Read and write V-JEPA 2 weights: official releases, ``transformers`` VJEPA2 folders, lit_jepa checkpoints.

Loading (:func:`load_encoder`, :func:`load_predictor`, :func:`load_ac_predictor`, :func:`load_probe`) accepts

- an official release or training ``.pt`` (keys ``encoder``, ``target_encoder``, ``predictor``,
  ``classifiers``; prefixes ``module.`` and ``module.backbone.`` are stripped);
- a ``transformers`` ``save_pretrained`` folder (``config.json`` + safetensors) of ``VJEPA2Model`` or
  ``VJEPA2ForVideoClassification``, or a bare state dict in either naming (``.safetensors`` or ``.pt``);
- a lit_jepa Lightning checkpoint (``state_dict`` with ``encoder.``, ``target_encoder.``, ... prefixes).

Modules are built on the meta device and the tensors are assigned, so even ViT-g loads in seconds.
Loading is strict: any missing or unexpected key or shape conflict raises :class:`CheckpointMismatchError`
listing them, with the architecture the checkpoint looks like. Pickled files are read with
``torch.load(weights_only=True)``, which runs no code from the file: one that needs other Python objects raises
:class:`UnsafeCheckpointError` naming the object, unless the caller passes ``trust_checkpoint=True``.
Architecture settings come from the file (lit_jepa metadata or the ``transformers`` config) or are inferred
from tensor shapes; keyword arguments override them (for example ``img_size=384`` for the ``vitg-384.pt``
predictor, whose RoPE grid is not visible in its shapes). :func:`load_or_build`, which tasks use to load a file
into a recipe's module, refuses a module whose architecture differs from the file's. :func:`export_official` and
:func:`export_hf` write the two public layouts, atomically (:mod:`lit_jepa.atomic`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lit_jepa._keymap import StateDict, hf_to_official, official_to_hf
from lit_jepa.atomic import atomic_path, atomic_save, atomic_write_json
from lit_jepa.masks.multiblock import MaskSpec
from lit_jepa.nn import (
    VIT_ARCHS,
    ACPredictor,
    AnticipationClassifier,
    AttentiveClassifier,
    VisionTransformer,
    VisionTransformerPredictor,
    build_vit,
)
from lit_jepa.nn.vit import ARCH_ALIASES

log = logging.getLogger(__name__)

PathLike = str | os.PathLike
# Tensors found in some official files that no V-JEPA 2 forward uses (position embeddings from the non-RoPE
# code path, the pooler's unused final norm). They are dropped on load and reported at INFO level.
UNUSED_KEYS = frozenset({"pos_embed", "predictor_pos_embed", "pooler.norm.weight", "pooler.norm.bias"})
# Heads cannot be read from shapes: the released widths map to known head counts; others assume 64 per head.
HEADS_BY_WIDTH = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16, 1408: 22}
ENCODER_KEYS = ("target_encoder", "encoder")
# lit_jepa's own classes that its Lightning checkpoints hold (in hyperparameters): safe to rebuild, no code runs
SAFE_GLOBALS = [MaskSpec]


class CheckpointMismatchError(ValueError):
    """Raised when a checkpoint does not fit the module it is loaded into."""


class CheckpointReadError(ValueError):
    """Raised when a file is not a readable checkpoint."""


class UnsafeCheckpointError(CheckpointReadError):
    """Raised when a pickled checkpoint needs Python objects that ``torch.load(weights_only=True)`` refuses."""


@dataclass
class Checkpoint:
    """A checkpoint normalised to official parameter names, one state dict per part."""

    path: str
    kind: str  # "official", "hf", "lightning" or "state_dict"
    parts: dict[str, StateDict]
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None  # the training optimizer's state dict, when the file carries one

    def part(self, key: str, aliases: tuple[str, ...] = ()) -> tuple[str, StateDict]:
        for name in (key, *aliases):
            if name in self.parts:
                return name, self.parts[name]
        raise KeyError(f"{self.path}: no {key!r} weights in this {self.kind} checkpoint; "
                       f"it holds: {', '.join(sorted(self.parts)) or 'nothing loadable'}")


# ----------------------------------------------------------------------------------------------- reading
def read_error(path: PathLike, err: Exception) -> CheckpointReadError:
    """The error to raise when ``torch.load(path, weights_only=True)`` failed with ``err``: what torch refused,
    or why the file is unreadable, naming the file.

    Args:
        path: the file.
        err: torch's exception.
    """
    refused = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([^\s]+)", str(err))
    if refused:
        return UnsafeCheckpointError(
            f"{path}: refused to load: it needs the Python object {refused.group(1)}, which the safe "
            "loader torch.load(weights_only=True) does not allow (unpickling it could run code). If you trust this "
            "file, pass trust_checkpoint=True (lit-jepa plan: --trust_checkpoint)")
    # torch's own first line suggests weights_only=False; the unpickler's reason follows "WeightsUnpickler error:"
    text = str(err).split("WeightsUnpickler error:")[-1].strip()
    detail = text.splitlines()[0] if text else type(err).__name__
    return CheckpointReadError(f"{path}: not a readable PyTorch checkpoint ({detail})")


def _torch_load(path: Path, trust_checkpoint: bool) -> Any:
    if trust_checkpoint:
        return torch.load(path, map_location="cpu", weights_only=False)
    try:  # files of torch < 1.6 (not zip archives) cannot be memory-mapped
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as err:  # noqa: BLE001 - every failure is re-raised with the file's name
        raise read_error(path, err) from err


def _strip(sd: dict[str, Any]) -> StateDict:
    out = {}
    for key, value in sd.items():
        for prefix in ("module.", "backbone."):
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def _split_hf(sd: StateDict) -> dict[str, StateDict]:
    sd = {k.removeprefix("vjepa2."): v for k, v in sd.items()}
    parts: dict[str, StateDict] = {}
    for prefix, part in (("encoder.", "encoder"), ("predictor.", "predictor")):
        sub = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
        if sub:
            parts[part] = hf_to_official(sub, part)
    probe = {k: v for k, v in sd.items() if k.startswith(("pooler.", "classifier."))}
    if probe:
        parts["probe"] = hf_to_official(probe, "probe")
    return parts


def _looks_hf(sd: dict[str, Any]) -> bool:
    return any(k.startswith(("vjepa2.", "encoder.layer.", "encoder.embeddings.", "predictor.layer.")) for k in sd)


def _read_safetensors(files: list[Path]) -> StateDict:
    from safetensors.torch import load_file

    sd: StateDict = {}
    for f in files:
        try:
            sd.update(load_file(str(f)))
        except Exception as err:  # noqa: BLE001 - safetensors' errors do not name the file
            raise CheckpointReadError(f"{f}: not a readable safetensors file ({err})") from err
    return sd


def _hf_config(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    enc = {"img_size": cfg.get("crop_size", 256), "num_frames": cfg.get("frames_per_clip", 64),
           "patch_size": cfg.get("patch_size", 16), "tubelet_size": cfg.get("tubelet_size", 2),
           "num_heads": cfg.get("num_attention_heads", 16), "norm_eps": cfg.get("layer_norm_eps", 1e-6)}
    pred = {"img_size": enc["img_size"], "num_frames": enc["num_frames"], "patch_size": enc["patch_size"],
            "tubelet_size": enc["tubelet_size"], "num_heads": cfg.get("pred_num_attention_heads", 12),
            "norm_eps": enc["norm_eps"]}
    probe = {"num_heads": enc["num_heads"], "depth": cfg.get("num_pooler_layers", 3) + 1, "norm_eps": enc["norm_eps"]}
    return {"encoder": enc, "predictor": pred, "probe": probe}


def read_checkpoint(path: PathLike | Checkpoint, trust_checkpoint: bool = False) -> Checkpoint:
    """Read any supported checkpoint into official-named parts (see the module docstring).

    Args:
        path: the file or ``transformers`` folder (a :class:`Checkpoint` is returned as it is).
        trust_checkpoint: unpickle any Python object the file holds (``weights_only=False``), which can run code
            from the file: only for files you trust.
    """
    if isinstance(path, Checkpoint):
        return path
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    if p.is_dir():
        cfg_file = p / "config.json"
        if not cfg_file.exists():
            raise FileNotFoundError(f"{p}: a transformers folder needs config.json")
        files = sorted(p.glob("*.safetensors"))
        if files:
            sd = _read_safetensors(files)
        elif (p / "pytorch_model.bin").exists():
            sd = _torch_load(p / "pytorch_model.bin", trust_checkpoint)
        else:
            raise FileNotFoundError(f"{p}: no *.safetensors or pytorch_model.bin weights")
        return Checkpoint(str(p), "hf", _split_hf(sd), _hf_config(json.loads(cfg_file.read_text())))
    obj = _read_safetensors([p]) if p.suffix == ".safetensors" else _torch_load(p, trust_checkpoint)
    if not isinstance(obj, dict):
        raise CheckpointMismatchError(f"{p}: expected a dict checkpoint, found {type(obj).__name__}")
    meta = obj.get("lit_jepa", {}) if isinstance(obj.get("lit_jepa"), dict) else {}
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        sd = obj["state_dict"]
        roots = sorted({k.split(".")[0] for k in sd})
        parts = {r: {k[len(r) + 1:]: v for k, v in sd.items() if k.startswith(r + ".")} for r in roots}
        states = obj.get("optimizer_states")
        return Checkpoint(str(p), "lightning", parts, meta, states[0] if isinstance(states, list) and states else None)
    official = {k: v for k, v in obj.items()
                if k in ("encoder", "target_encoder", "predictor") and isinstance(v, dict)}
    if official or isinstance(obj.get("classifiers"), list):
        parts = {k: _strip(v) for k, v in official.items()}
        for i, clf in enumerate(obj.get("classifiers") or []):
            parts[f"classifiers.{i}"] = _strip(clf)
        opt = obj.get("opt") if isinstance(obj.get("opt"), dict) else None
        return Checkpoint(str(p), "official", parts, meta, opt)
    tensors = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointMismatchError(f"{p}: no tensors and none of the keys encoder, target_encoder, predictor, "
                                      f"classifiers, state_dict (found: {', '.join(list(obj)[:10])})")
    if _looks_hf(tensors):
        return Checkpoint(str(p), "state_dict", _split_hf(tensors), meta)
    return Checkpoint(str(p), "state_dict", {"state_dict": _strip(tensors)}, meta)


# --------------------------------------------------------------------------------------- architectures
def _depth(sd: StateDict, block: str) -> int:
    ids = {int(m.group(1)) for k in sd if (m := re.match(rf"{block}\.(\d+)\.", k))}
    return max(ids) + 1 if ids else 0


def _need(sd: StateDict, key: str, path: str, what: str) -> Tensor:
    if key not in sd:
        raise CheckpointMismatchError(f"{path}: {key!r} not found; these weights do not look like {what} "
                                      f"(first keys: {', '.join(list(sd)[:8])})")
    return sd[key]


def _arch_name(dim: int, depth: int) -> str | None:
    return next((n for n, (d, k, _, _) in VIT_ARCHS.items() if (d, k) == (dim, depth)), None)


def infer_encoder_config(sd: StateDict, path: str = "<state dict>") -> dict[str, Any]:
    """Encoder constructor arguments readable from official-named tensor shapes."""
    if "patch_embed.net.0.weight" in sd:  # ConvStem3D: strided 3x3 convolutions, then a 1x1 projection
        convs = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"patch_embed\.net\.(\d+)\.weight", k))
                       and sd[k].ndim == 5)
        first, last = sd[f"patch_embed.net.{convs[0]}.weight"], sd[f"patch_embed.net.{convs[-1]}.weight"]
        stem = {"conv_stem": True, "in_chans": first.shape[1], "tubelet_size": first.shape[2],
                "patch_size": 2 ** (len(convs) - 1)}
        dim = last.shape[0]
    else:
        w = _need(sd, "patch_embed.proj.weight", path, "a V-JEPA 2 encoder")
        stem = {"in_chans": w.shape[1], "tubelet_size": w.shape[2], "patch_size": w.shape[3]}
        dim = w.shape[0]
    depth = _depth(sd, "blocks")
    return {"embed_dim": dim, **stem, "depth": depth,
            "mlp_ratio": sd["blocks.0.mlp.fc1.weight"].shape[0] / dim if depth else 4.0,
            "qkv_bias": "blocks.0.attn.qkv.bias" in sd, "num_heads": HEADS_BY_WIDTH.get(dim, max(dim // 64, 1))}


def infer_predictor_config(sd: StateDict, path: str = "<state dict>") -> dict[str, Any]:
    w = _need(sd, "predictor_embed.weight", path, "a V-JEPA 2 predictor")
    dim, depth = w.shape[0], _depth(sd, "predictor_blocks")
    return {"embed_dim": w.shape[1], "predictor_embed_dim": dim, "depth": depth,
            "mlp_ratio": sd["predictor_blocks.0.mlp.fc1.weight"].shape[0] / dim if depth else 4.0,
            "num_heads": max(dim // 32, 1), "num_mask_tokens": sum(k.startswith("mask_tokens.") for k in sd)}


def infer_ac_predictor_config(sd: StateDict, path: str = "<state dict>") -> dict[str, Any]:
    w = _need(sd, "action_encoder.weight", path, "a V-JEPA 2-AC predictor")
    dim, depth = w.shape[0], _depth(sd, "predictor_blocks")
    return {"embed_dim": sd["predictor_embed.weight"].shape[1], "predictor_embed_dim": dim, "depth": depth,
            "mlp_ratio": sd["predictor_blocks.0.mlp.fc1.weight"].shape[0] / dim if depth else 4.0,
            "num_heads": max(dim // 64, 1), "action_dim": w.shape[1]}


def infer_probe_config(sd: StateDict, path: str = "<state dict>") -> dict[str, Any]:
    q = _need(sd, "pooler.query_tokens", path, "an attentive probe")
    cfg = {"embed_dim": q.shape[-1], "depth": _depth(sd, "pooler.blocks") + 1, "num_heads": 16,
           "mlp_ratio": sd["pooler.cross_attention_block.mlp.fc1.weight"].shape[0] / q.shape[-1]}
    if "linear.weight" in sd:
        cfg["num_classes"] = sd["linear.weight"].shape[0]
    else:
        for head in ("verb", "noun", "action"):
            cfg[f"num_{head}s"] = _need(sd, f"{head}_classifier.weight", path, "an attentive probe").shape[0]
    return cfg


# ------------------------------------------------------------------------------------------- loading
def _listing(title: str, items: list[str]) -> str:
    more = f"\n    ... and {len(items) - 20} more" if len(items) > 20 else ""
    return f"\n  {title} ({len(items)}):\n    " + "\n    ".join(items[:20]) + more if items else ""


def _check_fit(module: nn.Module, sd: StateDict, path: str, part: str, hint: str = "") -> None:
    expected = module.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    conflicts = [f"{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(v.shape)}"
                 for k, v in expected.items() if k in sd and sd[k].shape != v.shape]
    if missing or unexpected or conflicts:
        raise CheckpointMismatchError(
            f"{path}: the {part} weights do not fit {type(module).__name__}"
            + _listing("missing", missing) + _listing("unexpected", unexpected)
            + _listing("shape conflicts", conflicts) + (f"\n  {hint}" if hint else ""))


def _assign(module: nn.Module, sd: StateDict, path: str, part: str, hint: str = "") -> nn.Module:
    sd = dict(sd)
    unused = sorted(k for k in sd if k in UNUSED_KEYS)
    for k in unused:
        del sd[k]
    if unused:
        log.info("%s: ignoring %s (not used by V-JEPA 2)", path, ", ".join(unused))
    _check_fit(module, sd, path, part, hint)
    module.load_state_dict(sd, strict=True, assign=True)
    return module


def _build(cls: type[nn.Module], cfg: dict[str, Any]) -> nn.Module:
    with torch.device("meta"):
        return cls(**cfg)


def _resolve(ckpt: Checkpoint, key: str, aliases: tuple[str, ...], meta_part: str) -> tuple[str, StateDict, dict]:
    if ckpt.kind == "hf" or (ckpt.kind == "state_dict" and key not in ckpt.parts):
        aliases = (*aliases, meta_part, "state_dict")
    name, sd = ckpt.part(key, aliases)
    return name, sd, dict(ckpt.config.get(name, ckpt.config.get(meta_part, {})))


# Constructor arguments a file fixes through its tensor shapes, whatever its metadata says.
SHAPE_FIELDS = {"encoder": frozenset({"embed_dim", "depth", "patch_size", "tubelet_size", "in_chans", "mlp_ratio",
                                      "qkv_bias", "conv_stem"}),
                "predictor": frozenset({"embed_dim", "predictor_embed_dim", "depth", "mlp_ratio", "num_mask_tokens"}),
                "ac_predictor": frozenset({"embed_dim", "predictor_embed_dim", "depth", "mlp_ratio", "action_dim"})}


def _encoder(ckpt: Checkpoint, key: str, arch: str | None = None,
             **overrides: Any) -> tuple[VisionTransformer, frozenset[str]]:
    name, sd, cfg = _resolve(ckpt, key, ENCODER_KEYS if ckpt.kind != "lightning" else (), "encoder")
    inferred = infer_encoder_config(_strip(sd), ckpt.path)
    guess = _arch_name(inferred["embed_dim"], inferred["depth"])
    hint = (f"the checkpoint looks like {guess or 'a custom ViT'} ({inferred['embed_dim']} wide, "
            f"{inferred['depth']} blocks, patch {inferred['patch_size']}, tubelet {inferred['tubelet_size']})")
    if arch is not None:
        name_ = ARCH_ALIASES.get(arch, arch)
        if name_ not in VIT_ARCHS:
            raise ValueError(f"unknown encoder architecture {arch!r}; known: {', '.join(VIT_ARCHS)}")
        nominal = {k: v for k, v in cfg.items() if k in ("img_size", "num_frames")}
        base = {"patch_size": inferred["patch_size"], "tubelet_size": inferred["tubelet_size"], **nominal, **overrides}
        with torch.device("meta"):
            model = build_vit(name_, **base)
    else:
        model = _build(VisionTransformer, {**inferred, **cfg, **overrides})
    # the head count of a released width is known (HEADS_BY_WIDTH); other widths without metadata are a guess
    known = {"num_heads"} if inferred["embed_dim"] in HEADS_BY_WIDTH else set()
    return _assign(model, _strip(sd), ckpt.path, name, hint), SHAPE_FIELDS["encoder"] | set(cfg) | known


def _predictor(ckpt: Checkpoint, key: str, **overrides: Any) -> tuple[VisionTransformerPredictor, frozenset[str]]:
    name, sd, cfg = _resolve(ckpt, key, (), "predictor")
    sd = _strip(sd)
    model = _build(VisionTransformerPredictor, {**infer_predictor_config(sd, ckpt.path), **cfg, **overrides})
    return _assign(model, sd, ckpt.path, name), SHAPE_FIELDS["predictor"] | set(cfg)


def _ac_predictor(ckpt: Checkpoint, key: str, **overrides: Any) -> tuple[ACPredictor, frozenset[str]]:
    name, sd, cfg = _resolve(ckpt, key, (), "ac_predictor")
    sd = _strip(sd)
    model = _build(ACPredictor, {**infer_ac_predictor_config(sd, ckpt.path), **cfg, **overrides})
    return _assign(model, sd, ckpt.path, name), SHAPE_FIELDS["ac_predictor"] | set(cfg)


def load_encoder(path: PathLike | Checkpoint, arch: str | None = None, key: str = "target_encoder",
                 trust_checkpoint: bool = False, **overrides: Any) -> VisionTransformer:
    """Load a V-JEPA 2 encoder; ``encoder(x, masks=None)`` maps ``(B, C, T, H, W)`` to tokens ``(B, N, D)``.

    Args:
        path: any supported checkpoint (see module docstring), or one :func:`read_checkpoint` returned.
        arch: expected architecture (``vit_large``, ``vit_huge``, ``vit_giant``, ...); None infers it.
        key: which encoder of a training checkpoint (``target_encoder``, the EMA teacher used by the
            official evaluations, or ``encoder``); ``transformers`` files hold one encoder (from ``encoder``).
        trust_checkpoint: allow a pickled file to run code (see :func:`read_checkpoint`).
        overrides: constructor arguments, e.g. ``num_heads`` for a width not in ``HEADS_BY_WIDTH``.
    """
    return _encoder(read_checkpoint(path, trust_checkpoint), key, arch, **overrides)[0]


def load_predictor(path: PathLike | Checkpoint, key: str = "predictor", trust_checkpoint: bool = False,
                   **overrides: Any) -> VisionTransformerPredictor:
    """Load the pretraining predictor: ``predictor(ctx_tokens, masks_ctx, masks_tgt)``.

    Its RoPE grid is ``img_size // patch_size`` (256 px unless the file says otherwise: pass ``img_size=384``
    for ``vitg-384.pt``).

    Args:
        path: any supported checkpoint, or one :func:`read_checkpoint` returned.
        key: the part holding the predictor.
        trust_checkpoint: allow a pickled file to run code (see :func:`read_checkpoint`).
        overrides: constructor arguments.
    """
    return _predictor(read_checkpoint(path, trust_checkpoint), key, **overrides)[0]


def load_ac_predictor(path: PathLike | Checkpoint, key: str = "predictor", trust_checkpoint: bool = False,
                      **overrides: Any) -> ACPredictor:
    """Load the action-conditioned predictor: ``ac_predictor(frame_tokens, actions, states)``.

    Args:
        path: any supported checkpoint, or one :func:`read_checkpoint` returned.
        key: the part holding the predictor.
        trust_checkpoint: allow a pickled file to run code (see :func:`read_checkpoint`).
        overrides: constructor arguments.
    """
    return _ac_predictor(read_checkpoint(path, trust_checkpoint), key, **overrides)[0]


def load_probe(path: PathLike | Checkpoint, key: str = "classifiers.0", trust_checkpoint: bool = False,
               **overrides: Any) -> nn.Module:
    """Load an attentive probe: :class:`AttentiveClassifier` (``linear`` head) or
    :class:`AnticipationClassifier` (verb/noun/action heads). Official probe files hold a list
    ``classifiers``: ``key="classifiers.1"`` picks the second head; ``transformers`` classification folders
    hold one probe. Official probes use 16 heads and LayerNorm eps 1e-5; ``transformers`` configs say theirs.

    Args:
        path: any supported checkpoint, or one :func:`read_checkpoint` returned.
        key: the part holding the probe.
        trust_checkpoint: allow a pickled file to run code (see :func:`read_checkpoint`).
        overrides: constructor arguments.
    """
    ckpt = read_checkpoint(path, trust_checkpoint)
    name, sd, cfg = _resolve(ckpt, key, ("probe",), "probe")
    sd = _strip(sd)
    full = {**infer_probe_config(sd, ckpt.path), **cfg, **overrides}
    cls = AttentiveClassifier if "num_classes" in full else AnticipationClassifier
    return _assign(_build(cls, full), sd, ckpt.path, name)


# ------------------------------------------------------------------------------------------- configs
def encoder_config(m: VisionTransformer) -> dict[str, Any]:
    """Constructor arguments that rebuild ``m`` (for checkpoint metadata and exports)."""
    return m.config()


def predictor_config(m: VisionTransformerPredictor) -> dict[str, Any]:
    return {"img_size": m.img_size, "patch_size": m.patch_size, "num_frames": m.num_frames,
            "tubelet_size": m.tubelet_size, "embed_dim": m.predictor_proj.out_features,
            "predictor_embed_dim": m.embed_dim, "depth": len(m.predictor_blocks), "num_heads": m.num_heads,
            "mlp_ratio": m.predictor_blocks[0].mlp.fc1.out_features / m.embed_dim,
            "norm_eps": m.predictor_norm.eps, "num_mask_tokens": len(m.mask_tokens)}


def ac_predictor_config(m: ACPredictor) -> dict[str, Any]:
    return {"img_size": m.img_size, "patch_size": m.patch_size, "embed_dim": m.predictor_proj.out_features,
            "predictor_embed_dim": m.embed_dim, "depth": len(m.predictor_blocks), "num_heads": m.num_heads,
            "mlp_ratio": m.predictor_blocks[0].mlp.fc1.out_features / m.embed_dim,
            "norm_eps": m.predictor_norm.eps, "action_dim": m.action_encoder.in_features,
            "use_extrinsics": m.use_extrinsics, "residual": m.residual, "action_scale": m.action_scale}


def probe_config(m: AttentiveClassifier | AnticipationClassifier) -> dict[str, Any]:
    pool = m.pooler
    dim = pool.query_tokens.shape[-1]
    cfg = {"embed_dim": dim, "num_heads": pool.cross_attention_block.xattn.num_heads, "depth": len(pool.blocks) + 1,
           "mlp_ratio": pool.cross_attention_block.mlp.fc1.out_features / dim,
           "norm_eps": pool.cross_attention_block.norm1.eps}
    if isinstance(m, AttentiveClassifier):
        return {**cfg, "num_classes": m.linear.out_features}
    return {**cfg, "num_verbs": m.verb_classifier.out_features, "num_nouns": m.noun_classifier.out_features,
            "num_actions": m.action_classifier.out_features}


# part -> (reader of the module and the fields the file fixes, constructor arguments of a module, fields that do
# not change the computation: the encoder and predictor take their RoPE grid from the input, so a 256-px stage
# starts a 384-px one)
PARTS = {"encoder": (_encoder, encoder_config, frozenset({"img_size", "num_frames"})),
         "predictor": (_predictor, predictor_config, frozenset({"img_size", "num_frames"})),
         "ac_predictor": (_ac_predictor, ac_predictor_config, frozenset())}


def load_or_build(path: PathLike | Checkpoint | None, module: nn.Module | None, part: str, key: str, owner: str,
                  trust_checkpoint: bool = False) -> nn.Module:
    """The module a task runs: the weights of ``path`` loaded into ``module`` when one is given, the module
    the file describes otherwise, and ``module`` as it is (random initialisation) when there is no ``path``.

    The file's recorded architecture wins or fails loudly: where ``module``'s constructor arguments (heads,
    depth, width, patch, tubelet, ...) differ from what the file records or its shapes fix,
    :class:`CheckpointMismatchError` lists each field with both values.

    Args:
        path: any supported checkpoint, or one :func:`read_checkpoint` returned; ``None``: no weights.
        module: the recipe's architecture, loaded in place; ``None``: build it from the file.
        part: ``encoder``, ``predictor`` or ``ac_predictor``.
        key: the part of the file to read (``target_encoder``, ``encoder``, ``predictor``, ...).
        owner: who asks, for error messages.
        trust_checkpoint: allow a pickled file to run code (see :func:`read_checkpoint`).
    """
    if path is None:
        if module is None:
            raise ValueError(f"{owner}: give a checkpoint path or an architecture (for random initialisation)")
        return module
    ckpt = read_checkpoint(path, trust_checkpoint)
    read, config_of, nominal = PARTS[part]
    loaded, fixed = read(ckpt, key)
    if module is None:
        return loaded
    ours, theirs = config_of(module), config_of(loaded)
    # a flag a config leaves out (conv_stem, abs_pos_embed) is off
    differ = [f"{k}: checkpoint {theirs.get(k, False)!r} vs recipe {ours.get(k, False)!r}"
              for k in sorted(fixed - nominal) if ours.get(k, False) != theirs.get(k, False)]
    if differ:
        raise CheckpointMismatchError(
            f"{ckpt.path}: the {key} architecture recorded in the checkpoint differs from the recipe's ({owner}); "
            "make the recipe match the checkpoint, or use a checkpoint of this architecture"
            + _listing("differing fields", differ))
    sd = loaded.state_dict()
    _check_fit(module, sd, ckpt.path, key)
    module.load_state_dict(sd, strict=True)
    return module


# ------------------------------------------------------------------------------------------- exporting
def _prefixed(sd: StateDict, prefix: str) -> StateDict:
    return {prefix + k: v.detach().cpu().contiguous() for k, v in sd.items()}


def export_official(path: PathLike, encoder: VisionTransformer | None = None,
                    target_encoder: VisionTransformer | None = None,
                    predictor: VisionTransformerPredictor | ACPredictor | None = None,
                    classifiers: list[nn.Module] | None = None) -> Path:
    """Write the official ``.pt`` layout (``module.backbone.`` prefixes; probes as ``classifiers`` with
    ``module.`` prefixes). A ``lit_jepa`` entry with the constructor arguments lets lit_jepa reload exactly;
    official loaders ignore it."""
    ckpt: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    configs = {VisionTransformer: encoder_config, VisionTransformerPredictor: predictor_config,
               ACPredictor: ac_predictor_config}
    for name, module in (("encoder", encoder), ("target_encoder", target_encoder), ("predictor", predictor)):
        if module is not None:
            ckpt[name] = _prefixed(module.state_dict(), "module.backbone.")
            meta[name] = configs[type(module)](module)
    if classifiers:
        ckpt["classifiers"] = [_prefixed(c.state_dict(), "module.") for c in classifiers]
        meta.update({f"classifiers.{i}": probe_config(c) for i, c in enumerate(classifiers)})
    if not ckpt:
        raise ValueError("export_official: nothing to export")
    ckpt["lit_jepa"] = meta
    return atomic_save(ckpt, path)


def export_hf(folder: PathLike, encoder: VisionTransformer, predictor: VisionTransformerPredictor | None = None,
              classifier: AttentiveClassifier | None = None, id2label: dict[int, str] | None = None) -> Path:
    """Write a ``transformers`` VJEPA2 folder (``config.json`` + ``model.safetensors``): ``VJEPA2Model``, or
    ``VJEPA2ForVideoClassification`` when ``classifier`` is given. ``transformers`` keeps one LayerNorm eps
    and one head count for encoder and probe, so the probe must use the encoder's head count. Without a
    predictor, ``transformers`` initialises its predictor randomly (and says so)."""
    from safetensors.torch import save_file

    enc = encoder_config(encoder)
    cfg: dict[str, Any] = {
        "model_type": "vjepa2", "architectures": ["VJEPA2Model"], "patch_size": enc["patch_size"],
        "crop_size": enc["img_size"], "frames_per_clip": enc["num_frames"], "tubelet_size": enc["tubelet_size"],
        "hidden_size": enc["embed_dim"], "in_chans": enc["in_chans"], "num_attention_heads": enc["num_heads"],
        "num_hidden_layers": enc["depth"], "mlp_ratio": enc["mlp_ratio"], "layer_norm_eps": enc["norm_eps"],
        "qkv_bias": enc["qkv_bias"], "hidden_act": "gelu", "drop_path_rate": 0.0, "initializer_range": 0.02}
    sd = _prefixed(official_to_hf(encoder.state_dict(), "encoder"), "encoder.")
    if predictor is not None:
        pred = predictor_config(predictor)
        cfg.update(pred_hidden_size=pred["predictor_embed_dim"], pred_num_attention_heads=pred["num_heads"],
                   pred_num_hidden_layers=pred["depth"], pred_num_mask_tokens=pred["num_mask_tokens"],
                   pred_mlp_ratio=pred["mlp_ratio"])
        sd.update(_prefixed(official_to_hf(predictor.state_dict(), "predictor"), "predictor."))
    if classifier is not None:
        probe = probe_config(classifier)
        if probe["num_heads"] != enc["num_heads"] or probe["mlp_ratio"] != 4.0:
            raise ValueError(f"transformers probes use the encoder's {enc['num_heads']} heads and MLP ratio 4; "
                             f"this probe has {probe['num_heads']} heads and ratio {probe['mlp_ratio']}")
        if probe["norm_eps"] != enc["norm_eps"]:
            warnings.warn(f"probe LayerNorm eps {probe['norm_eps']} becomes the encoder's {enc['norm_eps']} in the "
                          "transformers layout: logits change slightly", stacklevel=2)
        labels = id2label or {i: f"LABEL_{i}" for i in range(probe["num_classes"])}
        cfg.update(architectures=["VJEPA2ForVideoClassification"], num_pooler_layers=probe["depth"] - 1,
                   id2label={str(k): v for k, v in labels.items()}, label2id={v: int(k) for k, v in labels.items()})
        sd = {"vjepa2." + k: v for k, v in sd.items()}
        sd.update(_prefixed(official_to_hf(classifier.state_dict(), "probe"), ""))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file(sd, str(tmp), metadata={"format": "pt"})
    atomic_write_json(folder / "config.json", cfg, indent=2)
    return folder
