"""A slow, independent re-statement of the official V-JEPA 2 attention maths, used as a test oracle.

It follows the official code path literally: per-axis slices of q and k rotated separately with the tiled
frequency layout, unrotated tail channels concatenated, and for the AC predictor the conditioning tokens'
q/k/v computed apart and rotated on the temporal segment only.
"""

import torch
import torch.nn.functional as F


def rotate(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    d = x.shape[-1]
    omega = torch.arange(d // 2, dtype=x.dtype) / (d / 2.0)
    omega = 1.0 / 10000**omega
    freq = pos.unsqueeze(-1).to(x.dtype) * omega
    sin, cos = freq.sin().repeat(*([1] * (freq.ndim - 1)), 2), freq.cos().repeat(*([1] * (freq.ndim - 1)), 2)
    y = x.unflatten(-1, (-1, 2))
    y = torch.stack((-y[..., 1], y[..., 0]), dim=-1).flatten(-2)
    return x * cos + y * sin


def rotate_3d(x: torch.Tensor, t, h, w) -> torch.Tensor:
    s = 2 * ((x.shape[-1] // 3) // 2)
    parts = [rotate(x[..., :s], t), rotate(x[..., s:2 * s], h), rotate(x[..., 2 * s:3 * s], w), x[..., 3 * s:]]
    return torch.cat(parts, dim=-1)


def block_forward(block, x, t, h, w, attn_mask=None, cond=0, steps=None):
    """One official block. With ``cond`` > 0, x is laid out per step as [cond tokens, frame tokens]."""
    a = block.attn
    B, N, C = x.shape
    y = block.norm1(x)
    heads, hd = a.num_heads, C // a.num_heads

    def qkv_of(z):
        return a.qkv(z).unflatten(-1, (3, heads, hd)).permute(2, 0, 3, 1, 4)

    if cond:
        y = y.view(B, steps, -1, C)
        c, f = y[:, :, :cond].flatten(1, 2), y[:, :, cond:].flatten(1, 2)
        qc, kc, vc = qkv_of(c)
        s = 2 * ((hd // 3) // 2)
        tc = torch.arange(steps).repeat_interleave(cond)
        qc = torch.cat([rotate(qc[..., :s], tc), qc[..., s:]], -1)
        kc = torch.cat([rotate(kc[..., :s], tc), kc[..., s:]], -1)
        qf, kf, vf = qkv_of(f)
        qf, kf = rotate_3d(qf, t, h, w), rotate_3d(kf, t, h, w)

        def merge(zc, zf):
            return torch.cat([zc.view(B, heads, steps, cond, hd), zf.view(B, heads, steps, -1, hd)], 3).flatten(2, 3)

        q, k, v = merge(qc, qf), merge(kc, kf), merge(vc, vf)
    else:
        q, k, v = qkv_of(y)
        q, k = rotate_3d(q, t, h, w), rotate_3d(k, t, h, w)
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask).transpose(1, 2).reshape(B, N, C)
    x = x + a.proj(o)
    return x + block.mlp(block.norm2(x))


def encoder_forward(enc, x):
    tokens = enc.patch_embed.proj(x)
    _, _, T, H, W = tokens.shape
    tokens = tokens.flatten(2).transpose(1, 2)
    ids = torch.arange(T * H * W)
    t, h, w = ids // (H * W), (ids % (H * W)) // W, ids % W
    for blk in enc.blocks:
        tokens = block_forward(blk, tokens, t, h, w)
    return enc.norm(tokens)


def ac_forward(ac, x, actions, states):
    x = ac.predictor_embed(x)
    B, N, D = x.shape
    g = ac.grid
    T = N // (g * g)
    cond = torch.stack([ac.action_encoder(actions), ac.state_encoder(states)], dim=2)
    x = torch.cat([cond, x.view(B, T, g * g, D)], dim=2).flatten(1, 2)
    n_step = 2 + g * g
    step = torch.arange(T * n_step) // n_step
    mask = step.unsqueeze(0) <= step.unsqueeze(1)
    ids = torch.arange(T * g * g)
    t, h, w = (ids // (g * g)).float(), ((ids % (g * g)) // g).float(), (ids % g).float()
    for blk in ac.predictor_blocks:
        x = block_forward(blk, x, t, h, w, attn_mask=mask, cond=2, steps=T)
    x = x.view(B, T, n_step, D)[:, :, 2:].flatten(1, 2)
    return ac.predictor_proj(ac.predictor_norm(x))
