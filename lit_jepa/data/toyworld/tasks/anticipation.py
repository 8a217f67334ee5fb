"""``anticipation``: the EPIC-KITCHENS-100 analogue. A scripted hand performs a sequence of actions.

Each video shows ``objects_per_video`` objects (nouns, told apart by shape and colour) and a white hand
disc. The hand repeatedly approaches an object (12-16 frames, straight line) and performs a verb on it
(6-8 frames). The next action is predictable but not given away by a single frame:

- the verb follows a fixed Markov chain (the scripted successor of the previous verb with probability
  ``p_follow``, otherwise another verb at random), so the previous action in the context tells it;
- the noun is a random other object; the hand's heading during the approach tells which.

Actions last at most 8 frames and the anticipation gap is 8 frames at 8 fps (1 s), so a context that ends
1 s before the action **start** (paper) and one that ends 1 s before the action **end** (official code,
``af = ef - aframes`` with anticipation point 0) both end before the action starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lit_jepa.data.toyworld.objects import Scene, Sprite
from lit_jepa.data.toyworld.render import PALETTE, floor
from lit_jepa.data.toyworld.tasks.base import sample_rng

VERBS: tuple[str, ...] = ("push", "lift", "spin", "shake", "squash")
NOUNS: tuple[str, ...] = ("square", "triangle", "diamond", "bar", "arrow", "hexagon")  # none looks the same spun
SUCCESSOR: tuple[int, ...] = (2, 3, 4, 0, 1)  # push -> spin -> shake -> push ..., lift -> squash -> lift
_NOUN_COLORS = PALETTE[[0, 1, 2, 3, 4, 5]]
_HAND = np.array([250.0, 250.0, 250.0], np.float32)
MAX_ACTION_FRAMES = 8


@dataclass(frozen=True)
class Segment:
    """One annotated action: frames ``start`` to ``stop`` inclusive."""

    verb: int
    noun: int
    start: int
    stop: int


@dataclass
class Episode:
    """A rendered-on-demand video and its action segments in temporal order."""

    scene: Scene
    segments: list[Segment]


class AnticipationTask:
    """Scripted action sequences; labels are the next action's verb, noun and (verb, noun) pair."""

    name = "anticipation"

    def __init__(
        self,
        resolution: int = 64,
        fps: int = 8,
        num_actions: int = 8,
        objects_per_video: int = 4,
        p_follow: float = 0.75,
    ) -> None:
        if not 2 <= objects_per_video <= len(NOUNS):
            raise ValueError(f"objects_per_video must be in [2, {len(NOUNS)}], got {objects_per_video}")
        self.resolution = resolution
        self.fps = fps
        self.num_actions = num_actions
        self.objects_per_video = objects_per_video
        self.p_follow = p_follow

    @property
    def num_verbs(self) -> int:
        return len(VERBS)

    @property
    def num_nouns(self) -> int:
        return len(NOUNS)

    def _verbs(self, rng: np.random.Generator) -> list[int]:
        verbs = [int(rng.integers(len(VERBS)))]
        for _ in range(self.num_actions - 1):
            follow = SUCCESSOR[verbs[-1]]
            others = [v for v in range(len(VERBS)) if v != follow]
            verbs.append(follow if rng.random() < self.p_follow else int(rng.choice(others)))
        return verbs

    def episode(self, seed: int, split: str, index: int) -> Episode:
        """Video ``index`` of ``split``."""
        rng = sample_rng(seed, split, index)
        s = self.resolution
        nouns = rng.choice(len(NOUNS), size=self.objects_per_video, replace=False)
        cells = rng.choice(9, size=self.objects_per_video, replace=False)  # 3 x 3 grid, jittered
        home = np.stack([(cells % 3 + 0.5) / 3, (cells // 3 + 0.5) / 3], 1) * s + rng.uniform(-2, 2, (len(cells), 2))
        radius = np.full(len(cells), 0.09 * s)
        approach = rng.integers(12, 17, size=self.num_actions)
        act = rng.integers(6, MAX_ACTION_FRAMES + 1, size=self.num_actions)
        n = int(approach.sum() + act.sum()) + 4
        pos = np.broadcast_to(home[:, None], (len(cells), n, 2)).copy()
        angle = np.broadcast_to(rng.uniform(-0.3, 0.3, len(cells))[:, None], (len(cells), n)).copy()
        scale = np.ones((len(cells), n))
        squash = np.ones((len(cells), n))
        hand = np.empty((n, 2))
        hand_r = 0.045 * s
        here, current, t = rng.uniform(0.1, 0.9, 2) * s, -1, 0
        segments = []
        for verb, steps, dur in zip(self._verbs(rng), approach, act):
            target = int(rng.choice([o for o in range(len(cells)) if o != current]))
            heading = pos[target, t] - here
            heading /= max(float(np.linalg.norm(heading)), 1e-6)
            contact = pos[target, t] - heading * radius[target] * 0.8
            hand[t : t + steps] = here + (contact - here) * (np.arange(steps)[:, None] + 1) / steps
            t += steps
            tau = np.linspace(0, 1, dur)
            wave = np.sin(np.pi * tau)
            if VERBS[verb] == "push":
                end = np.clip(pos[target, t] + heading * 0.12 * s, radius[target], s - radius[target])
                shift = (end - pos[target, t]) * tau[:, None]
                pos[target, t : t + dur] += shift
                pos[target, t + dur :] += shift[-1]
            elif VERBS[verb] == "lift":
                scale[target, t : t + dur] = 1 + 0.4 * wave
            elif VERBS[verb] == "spin":
                angle[target, t:] += 2 * np.pi * np.concatenate([tau, np.ones(n - t - dur)])
            elif VERBS[verb] == "shake":
                pos[target, t : t + dur, 0] += 0.05 * s * np.sin(4 * np.pi * tau)
            else:  # squash
                squash[target, t : t + dur] = 1 - 0.5 * wave
            hand[t : t + dur] = pos[target, t : t + dur] - heading * radius[target] * 0.8
            segments.append(Segment(verb, int(nouns[target]), t, t + dur - 1))
            here, current, t = hand[t + dur - 1], target, t + dur
        hand[t:] = here
        sprites = [
            Sprite.make(NOUNS[k], _NOUN_COLORS[k], pos[o, :, 0], pos[o, :, 1], radius[o] * scale[o], n, angle[o],
                        stretch=np.stack([np.ones(n), squash[o]], 1))
            for o, k in enumerate(nouns)
        ]
        sprites.append(Sprite.make("circle", _HAND, hand[:, 0], hand[:, 1], hand_r, n, depth=1))
        return Episode(Scene(floor(rng, s), sprites), segments)

    def context_frames(
        self, segment: Segment, num_frames: int, anticipation_s: float = 1.0, step: int = 1
    ) -> np.ndarray:
        """Frame indices of the context that ends ``anticipation_s`` before ``segment`` starts (negatives -> 0)."""
        end = segment.start - int(round(anticipation_s * self.fps))
        return np.clip(np.arange(end - num_frames * step, end, step), 0, None)
