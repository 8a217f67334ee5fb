"""Tiny real video files (PyAV encoder) whose frames carry their own index.

Frame ``i`` is a flat grey of value ``GREY_STEP * i``; :func:`frame_ids` recovers indices from decoded pixels, so
tests check frame indices against the file's content, not only against the sampler's arithmetic.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import torch

GREY_STEP = 5


def write_video(path: str | Path, num_frames: int = 24, size: tuple[int, int] = (32, 48), fps: int = 8,
                codec: str = "mpeg4", faststart: bool = False) -> str:
    """Encode ``num_frames`` grey frames (value ``GREY_STEP * i``) of ``size`` (h, w) at ``fps`` as MP4."""
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = 20_000_000
        stream.options = {"qmin": "1", "qmax": "2"} if codec == "mpeg4" else {"crf": "0"}
        for i in range(num_frames):
            img = np.full((size[0], size[1], 3), GREY_STEP * i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


def frame_ids(video: torch.Tensor) -> np.ndarray:
    """Frame indices encoded in decoded ``(..., C, T, H, W)`` uint8 video: ``(..., T)``."""
    return np.round(video.float().mean(dim=(-4, -2, -1)).numpy() / GREY_STEP).astype(np.int64)
