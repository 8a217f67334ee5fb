"""Multiple-choice scores of a set of answered questions: accuracy overall and per ``kind``, and paired accuracy
over ``group`` (MVP's minimal pairs), with every question counted once even when DDP ranks report it twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch.distributed as dist


def paired_accuracy(groups: Sequence[str], correct: Sequence[bool]) -> float:
    """Fraction of groups whose every question is answered correctly; an empty group name makes the question
    its own group. MVP's paired accuracy when the groups are its minimal pairs."""
    if len(groups) != len(correct) or not groups:
        raise ValueError(f"{len(groups)} groups and {len(correct)} correctness flags; expected as many, at least one")
    ok: dict[str | int, bool] = {}
    for n, (group, right) in enumerate(zip(groups, correct)):
        key = group or n
        ok[key] = ok.get(key, True) and bool(right)
    return sum(ok.values()) / len(ok)


@dataclass
class QAScores:
    """Per-question results keyed by dataset index: ``(correct, exact_match, kind, group)``."""

    results: dict[int, tuple[bool, bool, str, str]] = field(default_factory=dict)

    def add(self, index: int, correct: bool, kind: str = "", group: str = "", exact: bool = False) -> None:
        self.results[int(index)] = (bool(correct), bool(exact), kind, group)

    def gather(self) -> QAScores:
        """All ranks' results (a no-op outside ``torch.distributed``); a question seen twice counts once."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return self
        parts: list[dict | None] = [None] * dist.get_world_size()
        dist.all_gather_object(parts, self.results)
        return QAScores({k: v for part in parts for k, v in part.items()})

    def summary(self) -> dict[str, float]:
        """``acc``, ``num_questions``, ``exact_match``, ``acc/<kind>`` for each non-empty kind, and, when any
        question has a group, ``paired_acc`` and ``num_groups``. Empty when nothing was scored."""
        if not self.results:
            return {}
        rows = list(self.results.values())
        out = {"acc": sum(r[0] for r in rows) / len(rows), "num_questions": float(len(rows)),
               "exact_match": sum(r[1] for r in rows) / len(rows)}
        per_kind: dict[str, list[bool]] = defaultdict(list)
        for right, _, kind, _ in rows:
            if kind:
                per_kind[kind].append(right)
        out.update({f"acc/{k}": sum(v) / len(v) for k, v in sorted(per_kind.items())})
        if any(r[3] for r in rows):
            out["paired_acc"] = paired_accuracy([r[3] for r in rows], [r[0] for r in rows])
            out["num_groups"] = float(len({r[3] or f"#{i}" for i, r in self.results.items()}))
        return out
