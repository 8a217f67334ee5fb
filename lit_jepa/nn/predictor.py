"""The V-JEPA 2 pretraining predictor (a narrow ViT over context tokens plus mask tokens).

Official parameter names: ``predictor_embed``, ``mask_tokens.{i}``, ``predictor_blocks.{i}.*``,
``predictor_norm``, ``predictor_proj``. As in the official code, RoPE positions are decoded on the
predictor's configured square grid (``img_size // patch_size``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_jepa.nn.blocks import Block, init_weights, rescale_blocks, run_blocks, trunc_normal_
from lit_jepa.nn.rope import grid_positions, rope_tables
from lit_jepa.nn.vit import Masks, as_mask_list


class VisionTransformerPredictor(nn.Module):
    """Predicts target-token representations from context tokens.

    ``forward(x, masks_x, masks_y, mask_index=1)``: ``x`` holds the encoder's context tokens
    ``(B, K_ctx, D_enc)`` (for a list of ``n`` masks, the ``n`` encoder outputs concatenated along batch);
    ``masks_x`` / ``masks_y`` are context / target token indices ``(B, K)`` (or lists of ``n``). Context
    tokens and learned mask tokens (``mask_tokens[mask_index % num_mask_tokens]``) at the target positions
    are sorted by position, run through the blocks, unsorted, and the targets are projected back to the
    encoder width: returns ``(B, K_tgt, D_enc)`` (with ``return_context``, also the ``(B, K_ctx, D_enc)``
    outputs at the context positions). Positions are decoded on the configured square grid, as in
    the official code, unless ``grid_hw`` gives the input's ``(H, W)`` patch grid (any resolution or shape).

    Args:
        img_size: frame size of the square grid used to decode token positions.
        patch_size: spatial patch size of that grid.
        num_frames: nominal clip length (``num_patches``).
        tubelet_size: temporal tubelet size in frames.
        embed_dim: encoder width (the predictor's input and output).
        predictor_embed_dim: width of the predictor's tokens.
        depth: predictor blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden width of each block's MLP relative to ``predictor_embed_dim``.
        qkv_bias: learn biases in the query, key and value projections.
        norm_eps: epsilon of the layer norms.
        num_mask_tokens: learned mask tokens, one per mask generator (released checkpoints carry 10).
        zero_init_mask_tokens: start the mask tokens at zero, as the official recipe.
        use_activation_checkpointing: recompute each block in the backward pass to save memory.
        init_std: standard deviation of the truncated-normal initialisation.
    """

    def __init__(self, img_size: int = 256, patch_size: int = 16, num_frames: int = 16, tubelet_size: int = 2,
                 embed_dim: int = 1024, predictor_embed_dim: int = 384, depth: int = 12, num_heads: int = 12,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-6, num_mask_tokens: int = 10,
                 zero_init_mask_tokens: bool = True, use_activation_checkpointing: bool = False,
                 init_std: float = 0.02) -> None:
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.num_frames, self.tubelet_size = num_frames, tubelet_size
        self.embed_dim, self.num_heads = predictor_embed_dim, num_heads
        self.use_activation_checkpointing = use_activation_checkpointing
        self.predictor_embed = nn.Linear(embed_dim, predictor_embed_dim)
        self.mask_tokens = nn.ParameterList(nn.Parameter(torch.zeros(1, 1, predictor_embed_dim))
                                            for _ in range(num_mask_tokens))
        self.predictor_blocks = nn.ModuleList(
            Block(predictor_embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps) for _ in range(depth))
        self.predictor_norm = nn.LayerNorm(predictor_embed_dim, eps=norm_eps)
        self.predictor_proj = nn.Linear(predictor_embed_dim, embed_dim)
        if not any(p.is_meta for p in self.parameters()):
            init_weights(self, init_std)
            rescale_blocks(self.predictor_blocks)
            if not zero_init_mask_tokens:
                for token in self.mask_tokens:
                    trunc_normal_(token, init_std)

    @property
    def num_patches(self) -> int:
        return (self.num_frames // self.tubelet_size) * (self.img_size // self.patch_size) ** 2

    def forward(self, x: Tensor, masks_x: Masks, masks_y: Masks, mask_index: int = 1,
                grid_hw: tuple[int, int] | None = None,
                return_context: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        masks_x = torch.cat(as_mask_list(masks_x), dim=0).to(x.device)
        masks_y = torch.cat(as_mask_list(masks_y), dim=0).to(x.device)
        if masks_x.shape[0] != x.shape[0] or masks_y.shape[0] != x.shape[0]:
            raise ValueError(f"context tokens have batch {x.shape[0]} but the masks give {masks_x.shape[0]} "
                             f"context and {masks_y.shape[0]} target rows")
        ctx = self.predictor_embed(x)
        B, n_ctx, D = ctx.shape
        tgt = self.mask_tokens[mask_index % len(self.mask_tokens)].expand(B, masks_y.shape[1], D)
        tokens = torch.cat([ctx, tgt], dim=1)
        ids = torch.cat([masks_x, masks_y], dim=1)
        order = ids.argsort(dim=1)
        tokens = tokens.gather(1, order.unsqueeze(-1).expand(-1, -1, D))
        grid = self.img_size // self.patch_size
        rope = rope_tables(grid_positions(ids.gather(1, order), grid_hw or (grid, grid)), D // self.num_heads)
        tokens, _ = run_blocks(self.predictor_blocks, tokens, rope, None, self.use_activation_checkpointing)
        tokens = self.predictor_norm(tokens)
        tokens = tokens.gather(1, order.argsort(dim=1).unsqueeze(-1).expand(-1, -1, D))
        if return_context:  # V-JEPA 2.1's dense loss also reads the outputs at the context positions
            out = self.predictor_proj(tokens)
            return out[:, n_ctx:], out[:, :n_ctx]
        return self.predictor_proj(tokens[:, n_ctx:])
