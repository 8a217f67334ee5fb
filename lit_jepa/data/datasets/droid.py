"""DROID raw trajectories (the layout the official AC training reads).

The list file names one trajectory directory per line (first space-separated token; build it with
``find ... -name trajectory.h5``). Each directory holds a metadata ``*.json`` (the first one found), whose
``camera_view`` key (default ``left_mp4_path``) names the video found under ``recordings/MP4/``, and
``trajectory.h5`` with ``observation/robot_state/cartesian_position`` ``(N, 6)`` (xyz, extrinsic xyz Euler in
radians) and ``observation/robot_state/gripper_position`` ``(N,)`` or ``(N, 1)``.

A sample is one clip (default 8 frames at stride 4, as the official 4 fps from 15 fps), ``states`` ``(T, 7)`` at the
clip's frames and ``actions`` ``(T - 1, 7)`` from :func:`poses_to_actions`. Frames beyond the shorter of the video
and the state arrays are never used.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import torch

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset, load_json
from lit_jepa.data.decode import CORRUPT, SampleError, VideoInfo
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform
from lit_jepa.geometry import poses_to_actions

POSITION, GRIPPER = "observation/robot_state/cartesian_position", "observation/robot_state/gripper_position"


def trajectory_dir(video_path: str) -> str:
    """The trajectory directory of ``<dir>/recordings/MP4/<camera>.mp4``."""
    return os.path.dirname(os.path.dirname(os.path.dirname(video_path)))


def read_states(directory: str) -> np.ndarray:
    """``(N, 7)`` float32 states of ``directory/trajectory.h5``; :class:`SampleError` when unusable."""
    import h5py

    path = os.path.join(directory, "trajectory.h5")
    try:
        with h5py.File(path, "r") as f:
            pos, grip = np.asarray(f[POSITION], dtype=np.float32), np.asarray(f[GRIPPER], dtype=np.float32)
    except (OSError, KeyError) as e:
        raise SampleError(path, CORRUPT, f"expected datasets {POSITION} and {GRIPPER} ({e})") from e
    return np.concatenate([pos, grip.reshape(len(grip), 1)], axis=-1)


class DroidTrajectories(VideoClipDataset):
    """DROID clips with ``states`` and ``actions``; ``label`` is -1.

    Args:
        annotation: a list of DROID episode folders (each with ``trajectory.h5``).
        camera_view: the camera's key in the episode metadata.
    """

    def __init__(
        self,
        annotation: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        camera_view: str = "left_mp4_path",
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec or ClipSpec(frames_per_clip=8, frame_step=4), transform, train, seed, reader,
                         max_retries)
        if not os.path.isfile(annotation):
            raise AnnotationError(f"{annotation}: trajectory list not found")
        self.camera_view = camera_view
        with open(annotation, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    directory = line.split()[0]
                    entry = ClipEntry(self._video_path(directory), {"label": -1}, source=f"{annotation}:{n}")
                    self.entries.append(entry)

    def _video_path(self, directory: str) -> str:
        """The camera's MP4 per the metadata JSON; when unknown, a path that fails as missing and says why."""
        meta = sorted(glob.glob(os.path.join(directory, "*.json")))
        try:
            name = load_json(meta[0]).get(self.camera_view, "") if meta else ""
        except (AnnotationError, AttributeError) as e:
            name = f"<unreadable metadata: {e}>"
        return os.path.join(directory, "recordings", "MP4", os.path.basename(name) or f"<no {self.camera_view}>")

    def frame_range(self, entry: ClipEntry, info: VideoInfo) -> tuple[int, int]:
        return 0, min(info.num_frames, len(read_states(trajectory_dir(entry.path))))

    def extras(self, entry: ClipEntry, indices: np.ndarray) -> dict[str, torch.Tensor]:
        states = read_states(trajectory_dir(entry.path))[indices[0]]
        return {"states": torch.from_numpy(states), "actions": torch.from_numpy(poses_to_actions(states))}
