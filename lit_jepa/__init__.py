"""lit_jepa: V-JEPA 2 in PyTorch Lightning.

Layers, top to bottom; a module imports only from its own layer or lower ones (``tests/test_layering.py``
checks every import, lazy ones included):

1. commands: ``cli``, ``bench``, ``planning.cli``, ``vqa.cli``, ``data.toyworld.cli``;
2. tasks: ``tasks`` (the LightningModules);
3. task parts: ``callbacks``, ``probe_curve``, ``planning`` (world-model rollouts, CEM, MPC), ``vqa``
   (language-model side);
4. data: ``data`` (decoding, datasets, DataModules, feature caches, ToyWorld, video-QA data);
5. models: ``encoders`` (adapters to the frozen-encoder contract), ``hub``, ``checkpoint_io``,
   ``planning.env`` (the environment protocol);
6. foundations: ``nn``, ``masks``, ``losses``, ``metrics``, ``monitors``, ``optim``, ``schedules``,
   ``geometry``, ``objects``, ``atomic``, ``_keymap``, ``_warnings``, ``envs``, ``pictures`` (TensorBoard
   images), ``progress`` (bars and status lines), ``recipes`` (shipped recipes by name).
"""

from lit_jepa._warnings import ignore_upstream_warnings

__version__ = "0.1.0"

ignore_upstream_warnings()
