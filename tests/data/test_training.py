"""Training runs through Lightning: bad files are skipped and reported, and mid-epoch resumes are exact."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_jepa.data.datamodule import ClassificationDataModule, ClipDataModule, SkippedSamplesReport
from lit_jepa.data.datasets import CsvVideoList
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ShortSideResize

SPEC = ClipSpec(frames_per_clip=4, frame_step=2)


class Recorder(L.LightningModule):
    """Records what each training batch holds: indices, frame indices and a checksum of the pixels."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.seen: list[tuple] = []

    def training_step(self, batch, batch_idx):
        assert batch["video"].dtype == torch.float32 and batch["video"].dim() == 6 and "failures" not in batch
        video_sum = round(batch["video"].double().sum().item(), 3)
        self.seen.append((batch["index"].tolist(), batch["frame_indices"].tolist(), video_sum))
        return (self.w * batch["video"].mean()).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _trainer(max_epochs=1, callbacks=(), **kw) -> L.Trainer:
    return L.Trainer(accelerator="cpu", max_epochs=max_epochs, logger=False, callbacks=list(callbacks),
                     enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, **kw)


def _video_list(tmp_path, videos, n=16):
    lst = tmp_path / "train.csv"
    paths = [videos["a"], videos["b"]]
    lst.write_text("".join(f"{paths[i % 2]} {i % 3}\n" for i in range(n)))
    return str(lst)


def test_bad_files_are_skipped_counted_and_reported(tmp_path, videos, bad_files):
    good = [videos["a"], videos["b"]] * 2
    lst = tmp_path / "mixed.csv"
    lst.write_text("".join(f"{p} 1\n" for p in good + list(bad_files.values())))
    dataset = CsvVideoList(str(lst), spec=SPEC, transform=ShortSideResize(16), train=True)
    dm = ClassificationDataModule(train_dataset=dataset, batch_size=2)
    model, trainer = Recorder(), _trainer(max_epochs=2, callbacks=[SkippedSamplesReport()], enable_checkpointing=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, dm)
    assert trainer.state.finished and len(model.seen) == 8  # 2 epochs x 4 full batches
    assert all(len(indices) == 2 for indices, _, _ in model.seen)
    reports = [str(w.message) for w in caught if "samples skipped" in str(w.message)]
    assert len(reports) == 2 and reports[0].startswith("epoch 0: ") and reports[1].startswith("epoch 1: ")
    for path, reason in [(bad_files["missing"], "missing"), (bad_files["empty"], "unreadable header"),
                         (bad_files["text"], "unreadable header"), (bad_files["truncated"], "too short")]:
        assert f"{path}: {reason}" in reports[0], reports[0]
    assert trainer.callback_metrics["data/skipped_train"].item() >= 4  # each bad entry is drawn once per epoch
    assert all(i < 4 for indices, _, _ in model.seen for i in indices)  # only good samples reached the model


def _fit_recording(dm_factory, tmp_path, ckpt_path=None, save_every=None):
    callbacks = []
    if save_every:
        callbacks.append(ModelCheckpoint(dirpath=tmp_path / "ckpt", filename="{step}", every_n_train_steps=save_every,
                                         save_top_k=-1))
    model, trainer = Recorder(), _trainer(max_epochs=2, callbacks=callbacks, enable_checkpointing=bool(save_every))
    trainer.fit(model, dm_factory(), ckpt_path=ckpt_path)
    return model.seen


@pytest.mark.parametrize("num_workers", [0, 2])
def test_map_style_resume_mid_epoch_is_exact(tmp_path, videos, num_workers):
    lst = _video_list(tmp_path, videos)

    def dm():
        ds = CsvVideoList(lst, spec=SPEC, transform=ShortSideResize(16), train=True, seed=3)
        return ClipDataModule(train_dataset=ds, batch_size=2, num_workers=num_workers, seed=5)

    full = _fit_recording(dm, tmp_path, save_every=3)  # 8 batches per epoch; checkpoints at steps 3, 6, 9, ...
    assert len(full) == 16 and full[:8] != full[8:]  # epochs differ in order and clip placement
    assert sorted(i for b in full[:8] for i in b[0]) == list(range(16))  # an epoch visits every sample once
    for step in (3, 12):  # mid-epoch 0 and mid-epoch 1
        assert _fit_recording(dm, tmp_path, ckpt_path=tmp_path / "ckpt" / f"step={step}.ckpt") == full[step:]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_litdata_materialise_and_resume_mid_epoch(tmp_path, videos, bad_files, num_workers):
    from lit_jepa.cli import dispatch
    from lit_jepa.data.streaming import StreamingClips

    lst = _video_list(tmp_path, videos, n=12)
    with open(lst, "a") as f:
        f.write(f"{bad_files['text']} 1\n")
    out = tmp_path / "chunks"
    assert dispatch(["data", "materialize", lst, str(out), "--spec.frames_per_clip", "4", "--spec.frame_step", "2",
                     "--size", "16", "--train", "--seed", "1"]) == 0
    stream = StreamingClips(str(out), shuffle=False)
    assert len(stream) == 12  # the text file was skipped
    s = stream[5]
    assert s["video"].dtype == torch.uint8 and s["video"].shape == (1, 3, 4, 16, 16) and s["label"].item() == 2
    assert s["frame_indices"].dtype == torch.int64 and s["frame_indices"].shape == (1, 4)
    direct = CsvVideoList(lst, spec=SPEC, transform=ShortSideResize(16), train=True, seed=1)
    assert torch.equal(s["video"], direct.load(5, direct.rng(5))["video"])  # the same clip as the map-style path

    def dm():
        stream = StreamingClips(str(out), shuffle=True, seed=7)
        return ClipDataModule(train_dataset=stream, batch_size=2, num_workers=num_workers)

    full = _fit_recording(dm, tmp_path, save_every=4)  # 6 batches per epoch
    assert len(full) == 12 and sorted(i for b in full[:6] for i in b[0]) == list(range(12))
    for step in (4, 8):
        assert _fit_recording(dm, tmp_path, ckpt_path=tmp_path / "ckpt" / f"step={step}.ckpt") == full[step:]
