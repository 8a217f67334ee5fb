"""ToyWorldDataModule: generates into the cache on first use, then reads the official files back."""

import torch

from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule


def test_defaults_to_the_cache_and_reads_official_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LIT_JEPA_CACHE", str(tmp_path))
    dm = ToyWorldDataModule(task="fine", num=8, batch_size=4)
    dm.prepare_data()
    folders = list((tmp_path / "toyworld").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("fine-")
    assert (folders[0] / "Diving48_V2_train.json").is_file()
    dm.setup("fit")
    assert dm.num_classes == 24 and len(dm.datasets["train"]) == 8 and len(dm.datasets["val"]) == 2
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (4, 1, 3, 16, 64, 64) and batch["video"].dtype == torch.uint8
    dm.prepare_data()  # second call: reused, not regenerated
    assert list((tmp_path / "toyworld").iterdir()) == folders
