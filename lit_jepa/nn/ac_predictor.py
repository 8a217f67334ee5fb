"""The V-JEPA 2-AC action-conditioned predictor: a block-causal transformer over frames and actions.

Each time step ``t`` contributes ``[action_t, state_t, (extrinsics_t,) frame tokens of frame t]``. Frame
tokens get 3D RoPE with ``t`` = frame index; conditioning tokens get the temporal rotation only (their
``h, w`` positions are 0, i.e. unrotated). Attention is block-causal: every token of step ``t`` sees all
tokens of steps ``<= t``. The mask is built lazily for the actual sequence length and cached per length,
never at a maximum length. The output at step ``t`` predicts the representation of frame ``t + 1``.
Official parameter names: ``predictor_embed``, ``action_encoder``, ``state_encoder``,
``extrinsics_encoder``, ``predictor_blocks.{i}``, ``predictor_norm``, ``predictor_proj``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_jepa.nn.blocks import Block, init_weights, rescale_blocks, run_blocks
from lit_jepa.nn.rope import rope_tables


def block_causal_mask(num_steps: int, tokens_per_step: int, device: torch.device | None = None) -> Tensor:
    """Boolean ``(N, N)`` mask, ``N = num_steps * tokens_per_step``: True where step(key) <= step(query)."""
    step = torch.arange(num_steps * tokens_per_step, device=device) // tokens_per_step
    return step.unsqueeze(0) <= step.unsqueeze(1)


class ACPredictor(nn.Module):
    """Action-conditioned predictor.

    ``forward(x, actions, states, extrinsics=None)``: ``x`` frame tokens ``(B, T * H * W, D_enc)`` on the
    configured ``img_size // patch_size`` grid, ``actions`` and ``states`` ``(B, T, action_dim)``; returns
    ``(B, T * H * W, D_enc)`` predictions for frames ``1 .. T``.

    Args:
        img_size: frame size of the token grid (tokens per frame = ``(img_size // patch_size) ** 2``).
        patch_size: spatial patch size of that grid.
        embed_dim: encoder width (the predictor's input and output).
        predictor_embed_dim: width of the predictor's tokens.
        depth: predictor blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden width of each block's MLP relative to ``predictor_embed_dim``.
        qkv_bias: learn biases in the query, key and value projections.
        norm_eps: epsilon of the layer norms.
        action_dim: action and state size (7 for DROID: xyz, Euler xyz, gripper); extrinsics have one less.
        use_extrinsics: add a camera-extrinsics token per step (the released model does not).
        use_activation_checkpointing: recompute each block in the backward pass to save memory.
        init_std: standard deviation of the truncated-normal initialisation.
        residual: predict the change of each frame token (the output adds the input tokens, and the output
            projection starts at zero, so an untrained predictor copies the last frame). Not in V-JEPA 2-AC; it
            makes small world models learn action effects within CPU-sized budgets.
        action_scale: actions are divided by this before the action encoder (e.g. the per-step bound, so that
            the encoder sees unit-scale inputs); 1 = the official behaviour.
    """

    def __init__(self, img_size: int = 256, patch_size: int = 16, embed_dim: int = 1408,
                 predictor_embed_dim: int = 1024, depth: int = 24, num_heads: int = 16, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, norm_eps: float = 1e-6, action_dim: int = 7, use_extrinsics: bool = False,
                 use_activation_checkpointing: bool = False, init_std: float = 0.02, residual: bool = False,
                 action_scale: float = 1.0) -> None:
        super().__init__()
        self.grid = img_size // patch_size
        self.img_size, self.patch_size = img_size, patch_size
        self.embed_dim, self.num_heads = predictor_embed_dim, num_heads
        self.use_extrinsics, self.residual, self.action_scale = use_extrinsics, residual, action_scale
        self.use_activation_checkpointing = use_activation_checkpointing
        self.predictor_embed = nn.Linear(embed_dim, predictor_embed_dim)
        self.action_encoder = nn.Linear(action_dim, predictor_embed_dim)
        self.state_encoder = nn.Linear(action_dim, predictor_embed_dim)
        self.extrinsics_encoder = nn.Linear(action_dim - 1, predictor_embed_dim)
        self.predictor_blocks = nn.ModuleList(
            Block(predictor_embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps) for _ in range(depth))
        self.predictor_norm = nn.LayerNorm(predictor_embed_dim, eps=norm_eps)
        self.predictor_proj = nn.Linear(predictor_embed_dim, embed_dim)
        self._masks: dict[tuple[int, int, torch.device], Tensor] = {}
        if not any(p.is_meta for p in self.parameters()):
            init_weights(self, init_std)
            rescale_blocks(self.predictor_blocks)
            if residual:
                nn.init.zeros_(self.predictor_proj.weight)

    @property
    def cond_tokens(self) -> int:
        return 3 if self.use_extrinsics else 2

    def attention_mask(self, num_steps: int, device: torch.device) -> Tensor:
        key = (num_steps, self.cond_tokens + self.grid**2, device)
        if key not in self._masks:
            self._masks[key] = block_causal_mask(key[0], key[1], device)
        return self._masks[key]

    def positions(self, num_steps: int, device: torch.device) -> Tensor:
        """``(T * (cond + H * W), 3)`` positions: ``(t, 0, 0)`` for conditioning tokens, ``(t, h, w)`` for frames."""
        g, k = self.grid, self.cond_tokens
        t = torch.arange(num_steps, device=device).view(-1, 1, 1).expand(-1, k + g * g, 1)
        hw = torch.stack(torch.meshgrid(torch.arange(g, device=device), torch.arange(g, device=device),
                                        indexing="ij"), dim=-1).view(1, g * g, 2)
        hw = torch.cat([hw.new_zeros(1, k, 2), hw], dim=1).expand(num_steps, -1, -1)
        return torch.cat([t, hw], dim=-1).reshape(-1, 3)

    def forward(self, x: Tensor, actions: Tensor, states: Tensor, extrinsics: Tensor | None = None) -> Tensor:
        tokens, x = x, self.predictor_embed(x)
        B, n, D = x.shape
        hw = self.grid**2
        if n % hw:
            raise ValueError(f"{n} frame tokens is not a multiple of {hw} tokens per frame "
                             f"(img_size {self.img_size}, patch {self.patch_size})")
        T = n // hw
        if actions.shape[1] != T or states.shape[1] != T:
            raise ValueError(f"{T} frames need {T} actions and states, got {actions.shape[1]} and {states.shape[1]}")
        cond = [self.action_encoder(actions / self.action_scale), self.state_encoder(states)]
        if self.use_extrinsics:
            if extrinsics is None:
                raise ValueError("this predictor was built with use_extrinsics=True: pass extrinsics")
            cond.append(self.extrinsics_encoder(extrinsics))
        k = len(cond)
        x = torch.cat([torch.stack(cond, dim=2), x.view(B, T, hw, D)], dim=2).flatten(1, 2)
        rope = rope_tables(self.positions(T, x.device), D // self.num_heads)
        x, _ = run_blocks(self.predictor_blocks, x, rope, self.attention_mask(T, x.device),
                          self.use_activation_checkpointing)
        x = x.view(B, T, k + hw, D)[:, :, k:].flatten(1, 2)
        out = self.predictor_proj(self.predictor_norm(x))
        return out + tokens if self.residual else out
