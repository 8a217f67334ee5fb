"""Video question answering: QA formats and readers, ToyWorld VQA, the tiny toy language model, LoRA,
projectors and the prompt/label assembly used by :class:`lit_jepa.tasks.VideoQA`."""

from lit_jepa.vqa.datamodule import ToyVQADataModule, VideoQADataModule
from lit_jepa.vqa.dataset import VideoQADataset
from lit_jepa.vqa.formats import READERS, QAItem, read_jsonl, write_jsonl
from lit_jepa.vqa.toy import ensure_toyvqa, generate_toyvqa

__all__ = ["READERS", "QAItem", "ToyVQADataModule", "VideoQADataModule", "VideoQADataset", "ensure_toyvqa",
           "generate_toyvqa", "read_jsonl", "write_jsonl"]
