"""Parameter-name translation between the official V-JEPA 2 layout and the ``transformers`` VJEPA2 layout.

lit_jepa modules use the official names, so these rules are the only place where layouts differ. A rule
pairs an official pattern with one ``transformers`` pattern, or with a tuple of them when the official
code fuses tensors (``qkv`` -> query/key/value, ``kv`` -> key/value) that ``transformers`` keeps apart.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

StateDict = dict[str, Tensor]
Rule = tuple[str, str | tuple[str, ...]]

_BLOCK: list[Rule] = [
    ("{b}.{i}.norm1.{x}", "layer.{i}.norm1.{x}"),
    ("{b}.{i}.norm2.{x}", "layer.{i}.norm2.{x}"),
    ("{b}.{i}.attn.qkv.{x}", ("layer.{i}.attention.query.{x}", "layer.{i}.attention.key.{x}",
                             "layer.{i}.attention.value.{x}")),
    ("{b}.{i}.attn.proj.{x}", "layer.{i}.attention.proj.{x}"),
    ("{b}.{i}.mlp.fc1.{x}", "layer.{i}.mlp.fc1.{x}"),
    ("{b}.{i}.mlp.fc2.{x}", "layer.{i}.mlp.fc2.{x}"),
]
RULES: dict[str, list[Rule]] = {
    "encoder": [("patch_embed.proj.{x}", "embeddings.patch_embeddings.proj.{x}"),
                ("norm.{x}", "layernorm.{x}")] + [(o.replace("{b}", "blocks"), h) for o, h in _BLOCK],
    "predictor": [("predictor_embed.{x}", "embeddings.predictor_embeddings.{x}"),
                  ("predictor_norm.{x}", "layernorm.{x}"), ("predictor_proj.{x}", "proj.{x}")]
    + [(o.replace("{b}", "predictor_blocks"), h) for o, h in _BLOCK],
    "probe": [
        ("pooler.query_tokens", "pooler.query_tokens"),
        ("pooler.blocks.{i}.norm1.{x}", "pooler.self_attention_layers.{i}.layer_norm1.{x}"),
        ("pooler.blocks.{i}.norm2.{x}", "pooler.self_attention_layers.{i}.layer_norm2.{x}"),
        ("pooler.blocks.{i}.attn.qkv.{x}", ("pooler.self_attention_layers.{i}.self_attn.q_proj.{x}",
                                            "pooler.self_attention_layers.{i}.self_attn.k_proj.{x}",
                                            "pooler.self_attention_layers.{i}.self_attn.v_proj.{x}")),
        ("pooler.blocks.{i}.attn.proj.{x}", "pooler.self_attention_layers.{i}.self_attn.out_proj.{x}"),
        ("pooler.blocks.{i}.mlp.{f}.{x}", "pooler.self_attention_layers.{i}.mlp.{f}.{x}"),
        ("pooler.cross_attention_block.norm1.{x}", "pooler.cross_attention_layer.layer_norm1.{x}"),
        ("pooler.cross_attention_block.norm2.{x}", "pooler.cross_attention_layer.layer_norm2.{x}"),
        ("pooler.cross_attention_block.xattn.q.{x}", "pooler.cross_attention_layer.cross_attn.q_proj.{x}"),
        ("pooler.cross_attention_block.xattn.kv.{x}", ("pooler.cross_attention_layer.cross_attn.k_proj.{x}",
                                                       "pooler.cross_attention_layer.cross_attn.v_proj.{x}")),
        ("pooler.cross_attention_block.mlp.{f}.{x}", "pooler.cross_attention_layer.mlp.{f}.{x}"),
        ("linear.{x}", "classifier.{x}"),
    ],
}
_FIELDS = {"i": r"(?P<i>\d+)", "x": r"(?P<x>weight|bias)", "f": r"(?P<f>fc1|fc2)"}


def _regex(pattern: str) -> re.Pattern:
    out = re.escape(pattern)
    for name, group in _FIELDS.items():
        out = out.replace(re.escape("{" + name + "}"), group)
    return re.compile(out + "$")


def official_to_hf(sd: StateDict, part: str) -> StateDict:
    """Translate one part (``encoder``, ``predictor`` or ``probe``) from official to ``transformers`` names."""
    out: StateDict = {}
    rules = [(_regex(o), h) for o, h in RULES[part]]
    tokens = sorted((k for k in sd if k.startswith("mask_tokens.")), key=lambda k: int(k.split(".")[1]))
    if part == "predictor" and tokens:
        out["embeddings.mask_tokens"] = torch.stack([sd[k] for k in tokens])
    for key, value in sd.items():
        if key in tokens:
            continue
        for regex, hf in rules:
            m = regex.match(key)
            if m:
                names = hf if isinstance(hf, tuple) else (hf,)
                for name, chunk in zip(names, value.chunk(len(names), dim=0)):
                    out[name.format(**m.groupdict())] = chunk.clone() if len(names) > 1 else chunk
                break
        else:
            raise KeyError(f"no transformers name for official {part} key {key!r}")
    return out


def hf_to_official(sd: StateDict, part: str) -> StateDict:
    """Inverse of :func:`official_to_hf`; fused tensors are concatenated back."""
    out: StateDict = {}
    pending: dict[str, dict[int, Tensor]] = {}
    rules = [(o, tuple(_regex(n) for n in (h if isinstance(h, tuple) else (h,)))) for o, h in RULES[part]]
    for key, value in sd.items():
        if part == "predictor" and key == "embeddings.mask_tokens":
            out.update({f"mask_tokens.{i}": t for i, t in enumerate(value.unbind(0))})
            continue
        for official, regexes in rules:
            for j, regex in enumerate(regexes):
                m = regex.match(key)
                if m:
                    name = official.format(**m.groupdict())
                    if len(regexes) == 1:
                        out[name] = value
                    else:
                        pending.setdefault(name, {})[j] = value
                    break
            else:
                continue
            break
        else:
            raise KeyError(f"no official name for transformers {part} key {key!r}")
    for name, parts in pending.items():
        out[name] = torch.cat([parts[j] for j in sorted(parts)], dim=0)
    return out
