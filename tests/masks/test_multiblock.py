import math

import pytest
import torch

from lit_jepa.masks import LONG_RANGE, SHORT_RANGE, VJEPA2_MASKS, MaskSpec, MultiBlockMaskGenerator
from lit_jepa.masks.multiblock import truncate

GRID = (8, 16, 16)  # 16 frames / tubelet 2, 256 px / patch 16
N = math.prod(GRID)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def as_bool(indices: torch.Tensor, n: int = N) -> torch.Tensor:
    return torch.zeros(n, dtype=torch.bool).index_fill_(0, indices, True)


# keep = int(16 * 16 * s); h = round(sqrt(keep * ar)), w = round(sqrt(keep / ar)) with ar in [0.75, 1.5]:
# short: keep 38, h in [round(5.34), round(7.55)] = [5, 8], w in [round(5.03), round(7.12)] = [5, 7];
# long: keep 179, h in [round(11.59), min(16, round(16.39))] = [12, 16], w in [round(10.92), round(15.45)] = [11, 15].
@pytest.mark.parametrize("spec, h_range, w_range", [(SHORT_RANGE, (5, 8), (5, 7)), (LONG_RANGE, (12, 16), (11, 15))])
def test_block_sizes_in_official_ranges(spec, h_range, w_range):
    g, generator = gen(0), MultiBlockMaskGenerator(spec, GRID)
    sizes = torch.tensor([generator.block_size(g) for _ in range(2000)])
    assert (sizes[:, 0] == 8).all()  # temporal scale 1: every block spans all 8 time steps
    assert (sizes[:, 1].min().item(), sizes[:, 1].max().item()) == h_range
    assert (sizes[:, 2].min().item(), sizes[:, 2].max().item()) == w_range


def test_targets_are_boxes_of_the_batch_block_size():
    spec = MaskSpec(num_blocks=1, spatial_scale=(0.1, 0.5), temporal_scale=(0.3, 1.0))
    generator = MultiBlockMaskGenerator(spec, GRID)
    for seed in range(5):
        size = generator.block_size(gen(seed))  # the first draws of __call__
        _, pred = generator(4, gen(seed))
        assert pred.shape[1] == math.prod(size)
        for row in pred:
            coords = torch.stack(torch.unravel_index(row, GRID), 1)
            assert tuple((coords.max(0).values - coords.min(0).values + 1).tolist()) == size


@pytest.mark.parametrize("spec", VJEPA2_MASKS)
def test_single_sample_partition_with_tubes_through_time(spec):
    generator = MultiBlockMaskGenerator(spec, GRID)
    for seed in range(10):
        enc, pred = generator(1, gen(seed))  # one sample: nothing is truncated
        context, target = as_bool(enc[0]), as_bool(pred[0])
        assert not (context & target).any() and (context | target).all()
        assert (context.view(GRID) == context.view(GRID)[:1]).all()  # constant along time


@pytest.mark.parametrize("spec", VJEPA2_MASKS)
def test_batch_equalised_by_keeping_lowest_indices(spec):
    generator, B = MultiBlockMaskGenerator(spec, GRID), 6
    enc, pred = generator(B, gen(3))
    assert enc.dtype == pred.dtype == torch.int64 and enc.shape[0] == pred.shape[0] == B
    g = gen(3)  # replay the draws: one block size, then one context per sample
    size = generator.block_size(g)
    full = [generator.context(size, g).flatten() for _ in range(B)]
    assert enc.shape[1] == min(int(m.sum()) for m in full) and pred.shape[1] == min(int((~m).sum()) for m in full)
    for i, m in enumerate(full):
        full_enc, full_pred = m.nonzero().squeeze(1), (~m).nonzero().squeeze(1)
        assert len(full_enc) + len(full_pred) == N  # disjoint and covering before equalisation
        assert torch.equal(enc[i], full_enc[: enc.shape[1]]) and torch.equal(pred[i], full_pred[: pred.shape[1]])
    assert (enc.diff() > 0).all() and (pred.diff() > 0).all()
    assert len({int(m.sum()) for m in full}) > 1  # the truncation was exercised


def test_truncate_keeps_lowest():
    lists = [torch.tensor([1, 5, 9]), torch.tensor([2, 3])]
    assert truncate(lists).tolist() == [[1, 5], [2, 3]]
    assert truncate(lists, max_keep=1).tolist() == [[1], [2]]


def test_options():
    enc, pred = MultiBlockMaskGenerator(MaskSpec(max_temporal_keep=0.5), GRID)(1, gen(0))
    assert enc.max() < N // 2 and as_bool(pred[0])[N // 2:].all()  # context in the first 4 of 8 time steps
    enc, pred = MultiBlockMaskGenerator(MaskSpec(max_keep=10), GRID)(4, gen(0))
    assert enc.shape[1] == 10
    enc, pred = MultiBlockMaskGenerator(MaskSpec(full_complement=True), GRID)(4, gen(0))
    assert enc.shape[1] + pred.shape[1] == N
    assert all((as_bool(e) ^ as_bool(p)).all() for e, p in zip(enc, pred))


def test_empty_context_is_redrawn_or_reported():
    # four 3 x 3 blocks on a 4 x 4 grid cover it with probability 24 / 256: 200 samples need redraws
    spec = MaskSpec(num_blocks=4, spatial_scale=(0.6, 0.6), aspect_ratio=(1.0, 1.0))
    enc, _ = MultiBlockMaskGenerator(spec, (1, 4, 4))(200, gen(0))
    assert enc.shape[1] >= 1
    with pytest.raises(RuntimeError, match="no context token"):
        MultiBlockMaskGenerator(MaskSpec(1, (1.0, 1.0), aspect_ratio=(1.0, 1.0)), (2, 4, 4))(1, gen(0))


def test_reproducible_from_the_generator():
    generator = MultiBlockMaskGenerator(SHORT_RANGE, GRID)
    a, b, c = generator(4, gen(7)), generator(4, gen(7)), generator(4, gen(8))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, c))


def test_context_weights_are_inverse_sqrt_grid_distance_to_the_nearest_target():
    from lit_jepa.masks import context_weights

    # grid (T, H, W) = (2, 3, 3): index = t * 9 + h * 3 + w; the one target is token (0, 1, 1) = 4
    ctx = torch.tensor([[3, 0, 13, 17]])  # (0,1,0): d 1; (0,0,0): d sqrt 2; (1,1,1): d 1; (1,2,2): d sqrt 3
    w = context_weights(ctx, torch.tensor([[4]]), (2, 3, 3))
    expected = torch.tensor([[1.0, 2 ** -0.25, 1.0, 3 ** -0.25]])
    assert torch.allclose(w, expected)
    # several targets: the nearest counts
    assert torch.allclose(context_weights(torch.tensor([[0]]), torch.tensor([[8, 1]]), (1, 3, 3)), torch.ones(1, 1))
