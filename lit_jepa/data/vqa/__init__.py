"""Video-QA data: QA formats and readers, the QA dataset, ToyWorld VQA generation and the DataModules."""

from lit_jepa.data.vqa.datamodule import ToyVQADataModule, VideoQADataModule
from lit_jepa.data.vqa.dataset import VideoQADataset
from lit_jepa.data.vqa.formats import READERS, QAItem, read_jsonl, write_jsonl
from lit_jepa.data.vqa.toy import ensure_toyvqa, generate_toyvqa

__all__ = ["READERS", "QAItem", "ToyVQADataModule", "VideoQADataModule", "VideoQADataset", "ensure_toyvqa",
           "generate_toyvqa", "read_jsonl", "write_jsonl"]
