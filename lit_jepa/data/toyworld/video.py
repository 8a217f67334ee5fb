"""MP4 writing and reading with PyAV (H.264, yuv420p, single-threaded so output bytes are reproducible).

PyAV is imported on first use, so in-memory ToyWorld data needs no video decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CODEC = "libx264"
CODEC_OPTIONS = {"crf": "16", "preset": "veryfast", "tune": "zerolatency"}


def write_mp4(path: str | Path, frames: np.ndarray, fps: int) -> None:
    """Encode ``frames`` ``(T, H, W, 3)`` uint8 (H and W even) to ``path``."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"{path}: yuv420p needs even frame sizes, got {h}x{w}")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(CODEC, rate=fps, options=CODEC_OPTIONS)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.thread_count = 1
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())


def read_mp4(path: str | Path) -> np.ndarray:
    """All frames of ``path`` as ``(T, H, W, 3)`` uint8."""
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
