"""Prompts with a video placeholder, turned into language-model input embeddings and answer-only labels.

A prompt template holds ``{video}``, ``{question}`` and ``{choices}``; the text before and after ``{video}`` is
tokenised separately (no special tokens; the tokenizer's BOS, when it has one, goes first) and the projected
visual embeddings are spliced in between, so no placeholder token has to exist in the vocabulary. The answer
(one space, the answer text, EOS) follows the prompt; ``labels`` hold its token ids at its positions and -100
everywhere else (Hugging Face convention: the logits at position ``i`` predict ``labels[i + 1]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE = -100


@dataclass
class Pieces:
    """Token ids of one sequence: before the video, after the video (rest of the prompt), the answer."""

    prefix: list[int]
    suffix: list[int]
    answer: list[int]


class PromptEncoder:
    """Tokenises ``(question, choices, answer)`` into :class:`Pieces` with ``template``."""

    def __init__(self, tokenizer, template: str, choice_sep: str = " ; ") -> None:
        if template.count("{video}") != 1:
            raise ValueError(f"prompt template must contain '{{video}}' exactly once, got {template!r}")
        self.tokenizer, self.template, self.choice_sep = tokenizer, template, choice_sep

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text.strip() else []

    def __call__(self, question: str, choices: list[str], answer: str) -> Pieces:
        before, after = self.template.split("{video}")
        fill = {"question": question, "choices": self.choice_sep.join(choices)}
        bos = [] if self.tokenizer.bos_token_id is None else [self.tokenizer.bos_token_id]
        eos = [] if self.tokenizer.eos_token_id is None else [self.tokenizer.eos_token_id]
        return Pieces(bos + self._ids(before.format(**fill)), self._ids(after.format(**fill)),
                      self._ids(" " + answer) + eos)


def assemble(embed: nn.Embedding, visual: Tensor | None, pieces: list[Pieces], pad_id: int
             ) -> tuple[Tensor, Tensor, Tensor]:
    """``inputs_embeds`` ``(B, L, H)``, ``attention_mask`` ``(B, L)`` and ``labels`` ``(B, L)``, right-padded.

    ``visual`` ``(B, M, H)`` goes between prefix and suffix (``None``: no visual tokens, the text-only model).
    """
    rows, labels = [], []
    device = embed.weight.device
    for b, p in enumerate(pieces):
        text = torch.tensor(p.prefix + p.suffix + p.answer, dtype=torch.long, device=device)
        emb = embed(text)
        parts = [emb[: len(p.prefix)], emb[len(p.prefix):]]
        vis = visual[b] if visual is not None else emb[:0]
        rows.append(torch.cat([parts[0], vis.to(emb.dtype), parts[1]]))
        masked = len(p.prefix) + len(vis) + len(p.suffix)
        labels.append(torch.cat([torch.full((masked,), IGNORE, device=device), text[-len(p.answer):]]))
    length = max(len(r) for r in rows)
    pad = embed(torch.tensor([pad_id], device=device))[0]
    inputs = torch.stack([torch.cat([r, pad.expand(length - len(r), -1)]) for r in rows])
    mask = torch.stack([(torch.arange(length, device=device) < len(r)).long() for r in rows])
    labels = torch.stack([F.pad(lb, (0, length - len(lb)), value=IGNORE) for lb in labels])
    return inputs, mask, labels


def token_logprobs(logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Log-probability of each labelled token ``(B, L-1)`` (0 where unlabelled) and the label mask."""
    target = labels[:, 1:]
    mask = target != IGNORE
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = logp.gather(-1, target.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return picked * mask, mask


def answer_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean next-token cross-entropy over answer tokens only."""
    picked, mask = token_logprobs(logits, labels)
    return -picked.sum() / mask.sum().clamp_min(1)


def answer_logprob(logits: Tensor, labels: Tensor, length_normalize: bool = False) -> Tensor:
    """Summed (or per-token mean) log-probability of each sequence's answer ``(B,)``."""
    picked, mask = token_logprobs(logits, labels)
    total = picked.sum(1)
    return total / mask.sum(1).clamp_min(1) if length_normalize else total
