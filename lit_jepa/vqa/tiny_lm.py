"""A tiny causal language model and a word-level tokenizer built in code, so the toy VQA path runs offline.

The model is a ``transformers`` ``LlamaForCausalLM`` at random initialisation (it knows no language: train it
with ``lm_tuning="full"``); the tokenizer is a ``tokenizers`` ``WordLevel`` model over the lower-cased words and
punctuation of the given texts, wrapped in ``PreTrainedTokenizerFast``. Both are written with ``save_pretrained``
and read back like any local model folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from lit_jepa.progress import transformers_bars_in_terminals_only

SPECIAL = {"pad_token": "[PAD]", "unk_token": "[UNK]", "bos_token": "[BOS]", "eos_token": "[EOS]"}
PROMPT_WORDS = "question options answer : ; ."


def require_transformers():
    """The ``transformers`` module, or an ImportError saying how to install it."""
    try:
        import transformers
    except ImportError as e:
        raise ImportError("video QA needs transformers: pip install 'lit-jepa[vqa]' (or pip install transformers "
                          "tokenizers)") from e
    return transformers


def word_tokenizer(texts: list[str]):
    """A ``PreTrainedTokenizerFast`` whose vocabulary is the special tokens then every word of ``texts``."""
    transformers = require_transformers()
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = sorted({w for t in [*texts, PROMPT_WORDS] for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    vocab = {tok: i for i, tok in enumerate([*SPECIAL.values(), *words])}
    core = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL["unk_token"]))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=core, **SPECIAL)


def build_tiny_lm(out: str | Path, texts: list[str], hidden_size: int = 128, num_layers: int = 2, num_heads: int = 4,
                  seed: int = 0) -> Path:
    """Save a random-init Llama (``hidden_size`` wide, ``num_layers`` deep) and its word tokenizer to ``out``.
    Its weights depend on ``seed`` alone; the global random state is left as it was."""
    transformers = require_transformers()
    tokenizer = word_tokenizer(texts)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=4 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=num_heads, num_key_value_heads=num_heads,
        max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.LlamaForCausalLM(config)
    with transformers_bars_in_terminals_only():
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    return Path(out)


def load_lm(path: str | Path):
    """``(model, tokenizer)`` from a local folder (``AutoModelForCausalLM``, ``AutoTokenizer``); never downloads."""
    transformers = require_transformers()
    if not Path(path, "config.json").is_file():
        raise FileNotFoundError(f"{path}: expected a local language-model folder with config.json (save_pretrained)")
    with transformers_bars_in_terminals_only():
        model = transformers.AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    return model, tokenizer
