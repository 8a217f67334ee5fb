"""Clip sampling: which decodable frames one sample uses.

A :class:`ClipSpec` fixes the frames per clip, the temporal stride (``frame_step``, or a target ``fps`` turned
into a stride from the frame rate measured on the decoded timestamps: ``ceil(video_fps) // fps``, as the
official code does) and the number of temporal segments and spatial views. The video (or the annotated
frame range) is split into ``num_segments`` equal partitions with one clip per partition: placed uniformly at
random when training, centred when evaluating (``random_eval_placement=True`` restores the official code's
random validation placement). Clips are exact strides ``start + step * arange(T)``.

When a partition is shorter than a clip, clips of different segments overlap, spread evenly over the range;
when the whole range is shorter than one clip, :class:`~lit_jepa.data.decode.SampleError` ("too short") is
raised unless ``pad_short`` repeats the last frame (the official no-overlap behaviour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lit_jepa.data.decode import TOO_SHORT, SampleError


@dataclass
class ClipSpec:
    """Temporal sampling of one sample: ``num_segments`` clips of ``frames_per_clip`` frames, each seen in
    ``num_views`` spatial views. Set exactly one of ``frame_step`` and ``fps``.

    Args:
        frames_per_clip: frames of each clip.
        frame_step: decoded frames between two clip frames (``null`` when ``fps`` is set).
        fps: target frame rate instead of ``frame_step``; the stride follows each video's rate.
        num_segments: clips per sample, spread over the video (the official ``num_segments``).
        num_views: spatial views of each clip (the transform makes them).
        random_eval_placement: place evaluation clips at random, as the official validation does, instead of
            centred.
        pad_short: repeat the last frame of a range shorter than one clip instead of raising "too short".
    """

    frames_per_clip: int = 16
    frame_step: int | None = 4
    fps: int | None = None
    num_segments: int = 1
    num_views: int = 1
    random_eval_placement: bool = False
    pad_short: bool = False

    def __post_init__(self) -> None:
        if (self.frame_step is None) == (self.fps is None):
            raise ValueError(f"ClipSpec: set exactly one of frame_step and fps, got {self.frame_step=}, {self.fps=}")
        step = self.frame_step if self.frame_step is not None else self.fps
        if min(self.frames_per_clip, self.num_segments, self.num_views, step) < 1:
            raise ValueError(f"ClipSpec: frames, segments, views and step/fps must be >= 1, got {self}")

    def step(self, video_fps: float) -> int:
        """The stride in decoded frames for a video whose timestamps imply ``video_fps``."""
        if self.frame_step is not None:
            return self.frame_step
        return max(1, math.ceil(video_fps) // self.fps)

    def span(self, step: int) -> int:
        """Frames covered by one clip, first to last inclusive."""
        return (self.frames_per_clip - 1) * step + 1


def _start_ranges(spec: ClipSpec, num_frames: int, step: int) -> list[tuple[int, int, bool]]:
    """Per segment, the inclusive range ``(lo, hi)`` of clip starts a draw can pick and whether it is drawn at all
    (``False``: partitions shorter than a clip, one fixed start)."""
    span, segs = spec.span(step), spec.num_segments
    part, ranges = num_frames / segs, []
    for s in range(segs):
        lo = int(round(s * part))
        room = int(round((s + 1) * part)) - lo - span  # free frames inside the partition
        if room < 0:  # partitions shorter than a clip: overlapping clips spread over the range
            start = round(s * (num_frames - span) / max(segs - 1, 1)) if segs > 1 else (num_frames - span) // 2
            ranges.append((start, start, False))
        else:
            ranges.append((lo, lo + room, True))
    return ranges


def _check_length(spec: ClipSpec, num_frames: int, step: int, path: str) -> None:
    span = spec.span(step)
    if num_frames < span and (not spec.pad_short or num_frames < 1):
        raise SampleError(path, TOO_SHORT, f"{num_frames} frames decode, a clip needs {span}")


def sample_clips(
    spec: ClipSpec, num_frames: int, video_fps: float, rng: np.random.Generator | None, first: int = 0, path: str = ""
) -> np.ndarray:
    """Frame indices ``(num_segments, frames_per_clip)`` in ``[first, first + num_frames)``; ``rng=None`` places
    clips deterministically (centred in their partition)."""
    step = spec.step(video_fps)
    offsets = step * np.arange(spec.frames_per_clip)
    _check_length(spec, num_frames, step, path)
    if num_frames < spec.span(step):
        return first + np.minimum(np.tile(offsets, (spec.num_segments, 1)), num_frames - 1)
    starts = np.array([lo + (int(rng.integers(0, hi - lo + 1)) if drawn and rng is not None else (hi - lo) // 2)
                       for lo, hi, drawn in _start_ranges(spec, num_frames, step)], dtype=np.int64)
    return first + starts[:, None] + offsets[None, :]


def clip_windows(spec: ClipSpec, num_frames: int, video_fps: float, first: int = 0, path: str = "") -> np.ndarray:
    """Every distinct clip :func:`sample_clips` can place, over all segments and draws: ``(W, frames_per_clip)``
    frame indices by increasing start (what ``lit-jepa data check`` reads).

    Args:
        spec: the temporal sampling.
        num_frames: frames in the range clips are placed in.
        video_fps: frame rate measured on the decoded timestamps (for ``spec.fps``).
        first: index of the range's first frame.
        path: the file named in a "too short" :class:`~lit_jepa.data.decode.SampleError`.
    """
    step = spec.step(video_fps)
    _check_length(spec, num_frames, step, path)
    if num_frames < spec.span(step):
        return sample_clips(spec, num_frames, video_fps, None, first, path)[:1]
    starts = np.unique(np.concatenate([np.arange(lo, hi + 1) for lo, hi, _ in _start_ranges(spec, num_frames, step)]))
    return first + starts[:, None] + step * np.arange(spec.frames_per_clip)[None, :]
