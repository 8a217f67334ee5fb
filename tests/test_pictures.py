"""TensorBoard pictures from arrays: frame grids, clips (video or grid), rollouts, confusion matrices."""

import sys

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from lit_jepa import pictures
from lit_jepa.pictures import confusion_image, frame_grid, log_clip, log_confusion, rollout_grid


def images(folder) -> dict:
    events = EventAccumulator(str(folder), size_guidance={"images": 0}).Reload()
    return {tag: events.Images(tag)[-1] for tag in events.Tags()["images"]}


def test_frame_grid_places_each_frame_of_each_row():
    clip = torch.zeros(3, 3, 4, 5)
    clip[:, 1] = 0.5  # second frame grey
    grid = frame_grid([clip, torch.ones(3, 3, 4, 5)], gap=1)
    assert grid.shape == (3, 2 * 4 + 1, 3 * 5 + 2)
    assert grid[:, :4, 6:11].eq(0.5).all() and grid[:, :4, :5].eq(0).all() and grid[:, 5:, :].eq(1).all()
    assert grid[:, 4, :].eq(1).all()  # the gap between rows is white


def test_rollout_grid_rows_are_start_reached_goal():
    start, reached, goal = (np.full((2, 4, 4, 3), v, np.uint8) for v in (0, 128, 255))
    grid = rollout_grid(start, reached, goal, gap=0)
    assert grid.shape == (3, 8, 12)
    assert grid[:, :, :4].eq(0).all() and grid[:, :, 4:8].eq(128 / 255).all() and grid[:, :, 8:].eq(1).all()


def test_clips_fall_back_to_an_image_grid_without_moviepy(tmp_path, monkeypatch):
    monkeypatch.setattr(pictures, "can_encode_video", lambda: False)
    writer = SummaryWriter(tmp_path)
    log_clip(writer, "masks/clip", [torch.rand(3, 4, 8, 8), torch.rand(3, 4, 8, 8)], 7)
    writer.close()
    found = images(tmp_path)["masks/clip"]
    assert found.step == 7 and (found.height, found.width) == (2 * 8 + 2, 4 * 8 + 3 * 2)


def test_confusion_matrix_as_figure_and_as_image(tmp_path, monkeypatch):
    matrix = np.array([[3, 1], [0, 4]])
    image = confusion_image(matrix, scale=2)
    assert image.shape == (3, 4, 4) and image[:, 2:, 2:].lt(image[:, :2, 2:]).all()  # a full row is darkest
    writer = SummaryWriter(tmp_path / "figure")
    log_confusion(writer, "val/confusion_matrix", matrix, ["a", "b"], 3)
    writer.close()
    assert images(tmp_path / "figure")["val/confusion_matrix"].step == 3
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    monkeypatch.setattr(pictures.importlib.util, "find_spec", lambda name: None)
    writer = SummaryWriter(tmp_path / "image")
    log_confusion(writer, "val/confusion_matrix", matrix, None, 3)
    writer.close()
    found = images(tmp_path / "image")["val/confusion_matrix"]
    assert (found.height, found.width) == (16, 16)


@pytest.mark.skipif(not pictures.can_encode_video(), reason="moviepy is not installed")
def test_clips_become_a_video_with_moviepy(tmp_path):
    writer = SummaryWriter(tmp_path)
    log_clip(writer, "masks/clip", [torch.rand(3, 4, 8, 8)], 0)
    writer.close()
    assert "masks/clip" in images(tmp_path)
