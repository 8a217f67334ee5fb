"""Video readers behind one small interface.

A reader answers two questions about a file: ``probe(path)`` (how many frames *decode*, their timestamps,
the frame rate those timestamps imply) and ``read(path, indices)`` (those frames as uint8 ``(T, H, W, 3)``).
Frame indices always count decodable frames in presentation order; they are built from the demuxed packets
(one per frame, with a timestamp), never from the frame count a container header claims.

Every failure surfaces as a :class:`SampleError` with a reason from :data:`REASONS`, so datasets can skip
and count bad files and ``lit-jepa data check`` can report why.
"""

from __future__ import annotations

import collections
import itertools
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

MISSING = "missing"
UNREADABLE_HEADER = "unreadable header"
CORRUPT = "corrupt"
TOO_SHORT = "too short for the clip spec"
REASONS = (MISSING, UNREADABLE_HEADER, CORRUPT, TOO_SHORT)


class SampleError(Exception):
    """A sample that cannot be produced; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, path: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))
        self.path, self.reason, self.detail = path, reason, detail


@dataclass(frozen=True)
class VideoInfo:
    """What decodes: ``num_frames`` frames at ``timestamps`` seconds, ``fps`` derived from those timestamps."""

    num_frames: int
    fps: float
    timestamps: np.ndarray  # (num_frames,) float64 presentation times in seconds, increasing
    height: int
    width: int


def _fps_from_timestamps(ts: np.ndarray, fallback: float) -> float:
    span = float(ts[-1] - ts[0]) if len(ts) > 1 else 0.0
    return (len(ts) - 1) / span if span > 0 else fallback


def _check_exists(path: str) -> None:
    if not os.path.isfile(path):
        raise SampleError(path, MISSING)


class VideoReader(ABC):
    """Interface: ``probe`` and ``read``. Subclasses implement ``_probe`` and ``_read``; results of ``probe``
    are cached per (path, size, mtime) so a long video is indexed once per process."""

    name = "base"

    def probe(self, path: str) -> VideoInfo:
        _check_exists(path)
        st = os.stat(path)
        info = self._cached_probe(path, st.st_size, st.st_mtime_ns)
        if info.num_frames == 0:
            raise SampleError(path, CORRUPT, "no decodable video frame")
        return info

    def read(self, path: str, indices: np.ndarray) -> np.ndarray:
        """Frames ``indices`` (any order, repeats allowed) as uint8 ``(len(indices), H, W, 3)``."""
        info = self.probe(path)
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= info.num_frames):
            raise SampleError(path, TOO_SHORT, f"frame {int(indices.max())} requested, {info.num_frames} decode")
        uniq, inverse = np.unique(indices, return_inverse=True)
        return self._read(path, info, uniq)[inverse]

    @lru_cache(maxsize=256)  # noqa: B019 (readers live as long as their dataset)
    def _cached_probe(self, path: str, size: int, mtime_ns: int) -> VideoInfo:
        return self._probe(path)

    @abstractmethod
    def _probe(self, path: str) -> VideoInfo: ...

    @abstractmethod
    def _read(self, path: str, info: VideoInfo, sorted_indices: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class PacketIndex(VideoInfo):
    """:class:`VideoInfo` plus where :class:`PyAVReader` can start decoding: ``keyframes`` (frame index of each
    keyframe, in decoding order) at container timestamps ``keyframe_dts``; ``decode_order`` when the container's
    timestamps rise in decoding order, so they say nothing about display order (no B-frames, or presentation
    timestamps copied from decoding ones) and frames are indexed by the decoder's output order instead, then
    ``keyframe_pts`` (the keyframes' own timestamps, which their decoded pictures carry) and ``reorders`` (the
    decoder emits pictures in another order than it reads them) place a seek; ``seekable`` False where decoding
    must start at the first packet."""

    keyframes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keyframe_dts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keyframe_pts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    decode_order: bool = False
    reorders: bool = False
    seekable: bool = True


class PyAVReader(VideoReader):
    """PyAV (bundled FFmpeg). Probe demuxes packets without decoding; read seeks to the last keyframe at or before
    the first wanted frame and decodes forward, identifying each decoded frame by its display timestamp (held in
    a dict, so a decoder that emits timestamps out of order loses nothing) or, where the container's timestamps
    only count packets (:class:`PacketIndex` ``decode_order``), by its position in the decoder's output. Frame
    ``i`` is the ``i``-th frame a sequential FFmpeg decode presents; packets FFmpeg discards (edit lists) count
    for nothing.

    ``threads``: FFmpeg threads for decoding and the RGB conversion. The default 1 leaves parallelism to
    DataLoader workers; 0 (FFmpeg's automatic count) starts threads for every clip and oversubscribes the
    cores next to workers (``benchmarks/decode_throughput.py``: h264 41.1 clips/s with 1, 28.0 with 0).
    """

    name = "pyav"
    reorder_margin = 16  # frames displayed past the last wanted one before a missing frame counts as lost

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def _open(self, path: str):
        import av

        try:
            container = av.open(path)
        except (av.error.FFmpegError, UnicodeDecodeError) as e:
            raise SampleError(path, UNREADABLE_HEADER, str(e)) from e
        if not container.streams.video:
            container.close()
            raise SampleError(path, UNREADABLE_HEADER, "no video stream")
        return container

    def _probe(self, path: str) -> PacketIndex:
        import av

        with self._open(path) as container:
            stream = container.streams.video[0]
            try:  # (presentation, decoding, keyframe) of every packet that yields a frame, in decoding order
                rows = [(p.pts if p.pts is not None else p.dts, p.dts if p.dts is not None else p.pts, p.is_keyframe)
                        for p in container.demux(stream) if p.size > 0 and not p.is_discard]
            except av.error.FFmpegError as e:
                raise SampleError(path, CORRUPT, f"demuxing failed: {e}") from e
            if any(r[0] is None for r in rows):
                raise SampleError(path, CORRUPT, "packets without timestamps")
            table = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
            pts, dts, key = table[:, 0], table[:, 1], table[:, 2].astype(bool)
            decode_order = bool(np.all(np.diff(pts) >= 0))
            shown = pts if decode_order else np.unique(pts)
            keyframes = np.flatnonzero(key) if decode_order else np.searchsorted(shown, pts[key])
            rate = float(stream.average_rate or stream.guessed_rate or 0)
            ts = shown * float(stream.time_base)
            reorders = bool(stream.codec_context.has_b_frames)
            # MPEG-4 part 2 with B-frames and no display timestamps (DivX/Xvid AVIs, often "packed"): FFmpeg drops
            # B-frames after a seek into a packed stream, so such files are decoded from their start
            packed = decode_order and reorders and stream.codec_context.name == "mpeg4"
            return PacketIndex(len(shown), _fps_from_timestamps(ts, rate), ts, stream.height, stream.width,
                               keyframes=keyframes, keyframe_dts=dts[key], keyframe_pts=pts[key],
                               decode_order=decode_order, reorders=decode_order and reorders, seekable=not packed)

    def _read(self, path: str, info: PacketIndex, sorted_indices: np.ndarray) -> np.ndarray:
        import av

        with self._open(path) as container:
            stream = container.streams.video[0]
            if self.threads != 1:
                stream.thread_type = "AUTO"
                stream.thread_count = self.threads
            before = np.flatnonzero(info.keyframes <= sorted_indices[0])
            start = int(before[-1]) if before.size and info.seekable else -1  # last keyframe at or before the clip
            # a reordering decoder drops the leading pictures of an open GOP after a seek: start one keyframe earlier
            seek_to = start - 1 if info.reorders else start
            if seek_to > 0:
                container.seek(int(info.keyframe_dts[seek_to]), stream=stream, backward=True, any_frame=False)
            try:
                packets = container.demux(stream)
                first = next(packets)
                frames = (f for p in itertools.chain([first], packets) for f in p.decode())
                if info.reorders and start > 0:
                    out = self._anchored(frames, info, start, sorted_indices)
                elif info.decode_order:  # the keyframe the seek landed on (maybe an earlier one) gives the index
                    landed = np.flatnonzero(info.keyframe_dts == first.dts) if start > 0 else np.zeros(1, np.int64)
                    if not landed.size:
                        raise SampleError(path, CORRUPT, f"a seek landed on dts {first.dts}, not on a keyframe")
                    out = self._by_position(frames, int(info.keyframes[landed[0]]) if start > 0 else 0, sorted_indices)
                else:
                    tb = float(stream.time_base)
                    out = self._by_timestamp(frames, np.round(info.timestamps[sorted_indices] / tb).astype(np.int64))
            except av.error.FFmpegError as e:
                raise SampleError(path, CORRUPT, f"decoding failed: {e}") from e
            except StopIteration:
                out = []
        lost = [int(i) for i, frame in zip(sorted_indices, out, strict=False) if frame is None]
        if lost or len(out) < len(sorted_indices):
            missing = lost[0] if lost else int(sorted_indices[len(out)])
            raise SampleError(path, CORRUPT, f"frame {missing} of {info.num_frames} did not decode")
        return np.stack(out)

    def _rgb(self, frame) -> np.ndarray:
        return frame.reformat(format="rgb24", threads=self.threads).to_ndarray()

    def _by_position(self, frames, position: int, sorted_indices: np.ndarray) -> list:
        """Wanted frames of a stream whose decoder output order is the index; ``position``: the first frame's."""
        want = {int(i): j for j, i in enumerate(sorted_indices)}
        out: list = [None] * len(sorted_indices)
        for frame in frames:
            if position in want:
                out[want[position]] = self._rgb(frame)
            position += 1
            if position > sorted_indices[-1]:
                break
        return out

    def _anchored(self, frames, info: PacketIndex, key: int, sorted_indices: np.ndarray) -> list:
        """Wanted frames of a reordering stream without display timestamps, decoded from before keyframe ``key``.
        Its picture (the one carrying its timestamp) is shown after the pictures of earlier packets and after its
        own leading pictures (later packets, larger timestamps), which are counted on the way: that fixes its
        index; the last ``reorder_margin`` pictures before it are kept for wanted frames among them."""
        key_pts, recent, leading = int(info.keyframe_pts[key]), collections.deque(maxlen=self.reorder_margin), 0
        for frame in frames:
            if frame.pts == key_pts:
                position = int(info.keyframes[key]) + leading
                if position - len(recent) > sorted_indices[0]:
                    return []  # more leading pictures than kept: reported as a frame that did not decode
                return self._by_position(itertools.chain(recent, [frame], frames), position - len(recent),
                                         sorted_indices)
            leading += frame.pts is not None and frame.pts > key_pts
            recent.append(frame)
        return []

    def _by_timestamp(self, frames, wanted: np.ndarray) -> list:
        """Wanted frames by presentation timestamp ``wanted`` (increasing), in any emission order; gives up
        ``reorder_margin`` frames past the last wanted one."""
        want = {int(t): j for j, t in enumerate(wanted)}
        out: list = [None] * len(wanted)
        found = past = 0
        for frame in frames:
            j = want.get(frame.pts) if frame.pts is not None else None
            if j is not None and out[j] is None:
                out[j], found = self._rgb(frame), found + 1
            elif frame.pts is not None and frame.pts > wanted[-1]:
                past += 1
            if found == len(wanted) or past > self.reorder_margin:
                break
        return out


class DecordReader(VideoReader):
    """decord (optional, ``pip install decord``/``eva-decord``); the official code's reader."""

    name = "decord"

    def _vr(self, path: str):
        import decord

        try:
            return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
        except decord.DECORDError as e:
            raise SampleError(path, UNREADABLE_HEADER, str(e)) from e

    def _probe(self, path: str) -> VideoInfo:
        vr = self._vr(path)
        n = len(vr)
        ts = vr.get_frame_timestamp(np.arange(n))[:, 0].astype(np.float64) if n else np.zeros(0)
        h, w = vr[0].shape[:2] if n else (0, 0)
        return VideoInfo(n, _fps_from_timestamps(ts, vr.get_avg_fps()), ts, h, w)

    def _read(self, path: str, info: VideoInfo, sorted_indices: np.ndarray) -> np.ndarray:
        return self._vr(path).get_batch(sorted_indices.tolist()).asnumpy()


class TorchCodecReader(VideoReader):
    """torchcodec (optional; needs a system FFmpeg and a torchcodec build matching torch)."""

    name = "torchcodec"

    def _decoder(self, path: str):
        from torchcodec.decoders import VideoDecoder

        try:
            return VideoDecoder(path, dimension_order="NHWC", seek_mode="exact")
        except (RuntimeError, ValueError) as e:
            raise SampleError(path, UNREADABLE_HEADER, str(e)) from e

    def _probe(self, path: str) -> VideoInfo:
        dec = self._decoder(path)  # seek_mode="exact" scans the file: len() counts frames that exist
        fps = float(dec.metadata.average_fps or 0.0)
        ts = np.arange(len(dec)) / fps if fps > 0 else np.zeros(len(dec))
        return VideoInfo(len(dec), fps, ts, dec.metadata.height, dec.metadata.width)

    def _read(self, path: str, info: VideoInfo, sorted_indices: np.ndarray) -> np.ndarray:
        try:
            return self._decoder(path).get_frames_at(sorted_indices.tolist()).data.numpy()
        except RuntimeError as e:
            raise SampleError(path, CORRUPT, str(e)) from e


READERS: dict[str, type[VideoReader]] = {r.name: r for r in (PyAVReader, DecordReader, TorchCodecReader)}


def make_reader(name: str = "pyav") -> VideoReader:
    """The reader registered as ``name`` (``pyav``, ``decord`` or ``torchcodec``)."""
    if name not in READERS:
        raise ValueError(f"unknown video reader {name!r}; expected one of {sorted(READERS)}")
    return READERS[name]()
