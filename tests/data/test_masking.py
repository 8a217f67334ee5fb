import pickle

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from lit_jepa.data.masking import MaskCollator
from lit_jepa.nn.predictor import VisionTransformerPredictor
from lit_jepa.nn.vit import VisionTransformer

SHAPE = (1, 3, 4, 64, 64)  # (V, C, T, H, W): token grid (2, 4, 4) with tubelet 2, patch 16


class Clips(Dataset):
    """Contract samples of random uint8 video."""

    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int) -> dict:
        video = torch.randint(0, 256, SHAPE, generator=torch.Generator().manual_seed(i), dtype=torch.uint8)
        return {"video": video, "index": torch.tensor(i), "label": torch.tensor(i % 3)}


def masks(batch: dict) -> list[torch.Tensor]:
    return batch["masks_enc"] + batch["masks_pred"]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_batch_layout():
    samples = [Clips()[i] for i in range(4)]
    samples[1]["failures"] = ["a.mp4: cannot decode"]  # the data layer's record of a substituted sample
    batch = MaskCollator()(samples)
    assert batch["video"].shape == (4, *SHAPE) and batch["index"].tolist() == [0, 1, 2, 3]
    assert batch["failures"] == ["a.mp4: cannot decode"]
    assert len(batch["masks_enc"]) == len(batch["masks_pred"]) == 2  # short- and long-range
    for enc, pred in zip(batch["masks_enc"], batch["masks_pred"]):
        assert enc.dtype == pred.dtype == torch.int64 and enc.shape[0] == pred.shape[0] == 4
        assert enc.max() < 32 and pred.max() < 32 and min(enc.shape[1], pred.shape[1]) >= 1


def test_masks_follow_seed_and_indices():
    data, collator = Clips(), MaskCollator(seed=3)
    first = masks(collator([data[i] for i in range(4)]))
    assert same(first, masks(pickle.loads(pickle.dumps(collator))([data[i] for i in range(4)])))
    assert not same(first, masks(collator([data[i] for i in range(4, 8)])))
    assert not same(first, masks(MaskCollator(seed=4)([data[i] for i in range(4)])))


def test_workers_draw_the_masks_of_the_main_process():
    def run(workers: int) -> list[list[torch.Tensor]]:
        loader = DataLoader(Clips(), batch_size=4, num_workers=workers, collate_fn=MaskCollator())
        return [masks(b) for b in loader]

    main, workers = run(0), run(2)
    assert len(main) == 4 and all(same(a, b) for a, b in zip(main, workers, strict=True))


def test_grid_must_divide():
    sample = {"video": torch.zeros(1, 3, 3, 64, 64, dtype=torch.uint8), "index": torch.tensor(0)}
    with pytest.raises(ValueError, match="divisible"):
        MaskCollator()([sample])


def test_masks_drive_encoder_and_predictor():
    batch = MaskCollator()([Clips()[i] for i in range(2)])
    encoder = VisionTransformer(img_size=64, num_frames=4, embed_dim=32, depth=1, num_heads=2)
    predictor = VisionTransformerPredictor(img_size=64, num_frames=4, embed_dim=32, predictor_embed_dim=16,
                                           depth=1, num_heads=2)
    video = batch["video"][:, 0].float()
    for enc, pred in zip(batch["masks_enc"], batch["masks_pred"]):
        out = predictor(encoder(video, masks=enc), enc, pred)
        assert out.shape == (2, pred.shape[1], 32)


def test_draw_outside_the_loader():
    batch = MaskCollator(seed=5)([Clips()[i] for i in (3, 9)])
    video = batch["video"][:, 0]  # (B, C, T, H, W), as a training_step sees the first view
    enc, pred = MaskCollator(seed=5).draw(batch["index"], video.shape)
    assert same(enc + pred, masks(batch))
