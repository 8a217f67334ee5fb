"""lit_jepa: V-JEPA 2 in PyTorch Lightning.

Layers (imports point downward only): ``cli`` / ``bench`` -> ``tasks`` -> ``data`` / ``planning`` ->
``encoders`` (adapters to the frozen-encoder contract) -> ``nn`` / ``masks`` / ``hub``. See README.md.
"""

__version__ = "0.1.0"
