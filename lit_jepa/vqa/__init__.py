"""Video question answering models: the tiny toy language model, LoRA, projectors, scoring and the prompt/label
assembly used by :class:`lit_jepa.tasks.VideoQA`; the data side (formats, ToyWorld VQA, DataModules) is
:mod:`lit_jepa.data.vqa`."""
