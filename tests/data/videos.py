"""Tiny real video files (PyAV encoder) whose frames carry their own index.

Frame ``i`` is a flat grey of value ``GREY_STEP * i``; :func:`frame_ids` recovers indices from decoded pixels, so
tests check frame indices against the file's content, not only against the sampler's arithmetic.

Beside plain files, the encodings real videos come in and a decoder must not assume away: B-frames, variable
frame rate (``frame_times``), MP4s whose presentation timestamps were rewritten to the decoding ones
(:func:`remux_pts_as_dts`) and DivX-style AVIs with packed B-frames (:func:`write_packed_avi`).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

GREY_STEP = 5


def write_video(path: str | Path, num_frames: int = 24, size: tuple[int, int] = (32, 48), fps: int = 8,
                codec: str = "mpeg4", faststart: bool = False, b_frames: int | None = None, gop: int | None = None,
                frame_times: list[float] | None = None, format: str = "mp4", open_gop: bool = False) -> str:
    """Encode ``num_frames`` grey frames (value ``GREY_STEP * i``) of ``size`` (h, w) at ``fps`` as MP4 (or
    ``format``); ``b_frames``/``gop`` set the encoder's B-frames and keyframe interval, ``frame_times`` (seconds,
    increasing) the presentation time of each frame instead of ``i / fps`` (variable frame rate); ``open_gop``
    (libx264 with ``b_frames``): B-frames after a keyframe may reference the GOP before it."""
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format=format, options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = 20_000_000
        codec_options = {"qmin": "1", "qmax": "2"} if codec == "mpeg4" else {"crf": "0"}
        codec_options.update({k: str(v) for k, v in (("bf", b_frames), ("g", gop)) if v is not None})
        if codec == "libx264" and b_frames:  # lossless x264 has no B-frames; flat frames would be scene cuts
            codec_options.update({"qp": "4", "x264-params": "b-adapt=0:scenecut=0" + ":open-gop=1" * open_gop})
            del codec_options["crf"]
        elif codec == "mpeg4" and gop is not None:  # no scene cuts: keyframes only where ``gop`` puts them
            codec_options["sc_threshold"] = "1000000000"
        stream.options = codec_options
        if frame_times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(num_frames):
            img = np.full((size[0], size[1], 3), GREY_STEP * i, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if frame_times is not None:
                frame.pts, frame.time_base = round(1000 * frame_times[i]), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


def remux_pts_as_dts(src: str | Path, path: str | Path, from_zero: bool = True) -> str:
    """Copy ``src`` to ``path`` (MP4) with every packet's presentation timestamp set to its decoding timestamp, as
    some muxers and editing tools write files with B-frames: the container no longer says the display order.
    Without ``from_zero`` the first timestamps stay negative and FFmpeg discards those packets' frames (an edit list).

    Args:
        src: the MP4 to copy (with B-frames, for the rewrite to matter).
        path: the MP4 written.
        from_zero: shift the timestamps so the first is 0.
    """
    with av.open(str(src)) as inp, av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        shift = None
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:  # the demuxer's final flush packet
                continue
            shift = (packet.dts if from_zero else 0) if shift is None else shift
            packet.pts = packet.dts = packet.dts - shift
            packet.stream = stream
            out.mux(packet)
    return str(path)


# DivX "packed bitstream": user data announcing it, and the not-coded VOP (N-VOP) that fills the freed slot
DIVX_PACKED = b"\x00\x00\x01\xb2DivX503b1393p"
NOT_CODED_VOP = b"\x00\x00\x01\xb6\x50\x4f"  # P-VOP header, vop_coded 0, stuffing (time increment 5 bits)


def _vop_type(data: bytes) -> str:
    """``I``, ``P``, ``B`` or ``S``: the coding type of the first VOP in an MPEG-4 part 2 packet."""
    return "IPBS"[data[data.find(b"\x00\x00\x01\xb6") + 4] >> 6]


def write_packed_avi(path: str | Path, num_frames: int = 48, size: tuple[int, int] = (32, 32), fps: int = 25,
                     gop: int = 12) -> str:
    """An MPEG-4 ASP AVI with packed B-frames as DivX/Xvid wrote them: each P-frame and the B-frame displayed
    before it share one AVI chunk, the next chunk holds an N-VOP. AVI timestamps count chunks, so the decoder
    emits frames whose pts run 1, 3, 2, 5, 4, ... while their display order is right.

    Args:
        path: the AVI written.
        num_frames: frames encoded (grey ``GREY_STEP * i``).
        size: ``(height, width)``.
        fps: frame rate; 17 to 32 (the N-VOP is written for a 5-bit time increment).
        gop: keyframe interval.
    """
    plain = write_video(f"{path}.plain.avi", num_frames, size, fps, "mpeg4", b_frames=1, gop=gop, format="avi")
    with av.open(plain) as inp:
        packets = [(bytes(p), p.is_keyframe) for p in inp.demux(inp.streams.video[0]) if p.size]
    os.remove(plain)
    header_end = packets[0][0].find(b"\x00\x00\x01\xb6")  # user data goes between the VOL header and the VOP
    chunks = [(packets[0][0][:header_end] + DIVX_PACKED + packets[0][0][header_end:], True)]
    rest = packets[1:]
    while rest:
        if len(rest) > 1 and _vop_type(rest[1][0]) == "B":  # I/P + the B before it, then an N-VOP in its slot
            (anchor, key), (b_frame, _) = rest.pop(0), rest.pop(0)
            chunks += [(anchor + b_frame, key), (NOT_CODED_VOP, False)]
        else:
            chunks.append(rest.pop(0))
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.height, stream.width, stream.pix_fmt = size[0], size[1], "yuv420p"
        for t, (data, key) in enumerate(chunks):
            packet = av.Packet(data)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, t, t, Fraction(1, fps)
            packet.is_keyframe = key
            out.mux(packet)
    return str(path)


def decode_all(path: str | Path) -> np.ndarray:
    """Every frame of ``path`` in the order FFmpeg's decoder presents them (display order), as uint8
    ``(N, H, W, 3)``: one sequential decode, no seeking, no timestamps.

    Args:
        path: the video file.
    """
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])])


def frame_ids(video: torch.Tensor) -> np.ndarray:
    """Frame indices encoded in decoded ``(..., C, T, H, W)`` uint8 video: ``(..., T)``."""
    return np.round(video.float().mean(dim=(-4, -2, -1)).numpy() / GREY_STEP).astype(np.int64)
