"""The DataModule as LightningCLI sees it: typed arguments parsed from a YAML recipe, task attributes exposed."""

from __future__ import annotations

import pytest
import torch
import yaml
from jsonargparse import ArgumentParser

from lit_jepa.data.datamodule import (
    AnticipationDataModule,
    ClassificationDataModule,
    ClipDataModule,
    TrajectoryDataModule,
)


def test_recipe_yaml_builds_the_datamodule(tmp_path, videos):
    lst = tmp_path / "train.csv"
    lst.write_text(f"{videos['a']} 0\n{videos['b']} 4\n")
    recipe = yaml.safe_load(f"""
data:
  train_dataset:
    class_path: lit_jepa.data.datasets.CsvVideoList
    init_args:
      annotation: {lst}
      spec: {{frames_per_clip: 4, frame_step: 2, num_segments: 2, num_views: 1}}
      transform:
        class_path: lit_jepa.data.transforms.RandomResizedCrop
        init_args:
          size: 16
          scale: [0.08, 1.0]
          ratio: [0.75, 1.3333]
          rand_augment: {{class_path: lit_jepa.data.transforms.RandAugment}}
  batch_size: 2
  batch_transform: {{class_path: lit_jepa.data.transforms.BatchTransform, init_args: {{erase_prob: 0.25}}}}
""")
    parser = ArgumentParser()
    parser.add_class_arguments(ClassificationDataModule, "data")
    dm = parser.instantiate(parser.parse_object(recipe)).data
    assert dm.num_classes == 5 and dm.class_names == ["0", "1", "2", "3", "4"] and dm.batch_size == 2
    assert dm.batch_transform.erase_prob == 0.25
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (2, 2, 3, 4, 16, 16) and batch["failures"] == []


def test_task_attributes_and_missing_ones(ek100):
    from lit_jepa.data.datasets import EK100

    train, _ = ek100
    dm = AnticipationDataModule(val_dataset=EK100(str(train), train=False))
    assert (dm.num_verbs, dm.num_nouns, dm.num_classes) == (2, 2, 3)
    assert TrajectoryDataModule().action_dim == 7
    with pytest.raises(AttributeError, match="no dataset defines 'num_classes'"):
        _ = ClassificationDataModule().num_classes


class ContractClips(torch.utils.data.Dataset):
    """An in-memory dataset keeping the sample contract with plain ``int`` keys (like the toy world's)."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        assert isinstance(index, int)
        return {"video": torch.full((1, 3, 4, 16, 16), index, dtype=torch.uint8), "index": torch.tensor(index),
                "frame_indices": torch.arange(4).view(1, 4), "label": torch.tensor(-1)}


def test_int_keyed_datasets_and_mixtures_batch_through_the_datamodule(tmp_path, videos):
    from lit_jepa.data.datasets import CsvVideoList, WeightedMixture
    from lit_jepa.data.sampling import ClipSpec
    from lit_jepa.data.transforms import ShortSideResize

    dm = ClipDataModule(train_dataset=ContractClips(), batch_size=3, seed=1)
    batches = list(dm.train_dataloader())
    assert len(batches) == 2 and sorted(torch.cat([b["index"] for b in batches]).tolist()) == list(range(6))
    lst = tmp_path / "l.csv"
    lst.write_text(f"{videos['a']} 2\n" * 2)
    files = CsvVideoList(str(lst), spec=ClipSpec(frames_per_clip=4, frame_step=2), transform=ShortSideResize(16))
    mix = WeightedMixture([ContractClips(), files], [0.5, 0.5])
    batch = next(iter(ClipDataModule(train_dataset=mix, batch_size=8).train_dataloader()))
    assert batch["video"].shape == (8, 1, 3, 4, 16, 16) and (batch["index"] >= 6).sum() > 0  # both members drawn
