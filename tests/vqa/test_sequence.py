"""A language model and tokenizer from a local save_pretrained folder, offline; answer-only labels are exact."""

import pytest
import torch

from lit_jepa.data.vqa.toy import toy_vocabulary
from lit_jepa.vqa.sequence import IGNORE, PromptEncoder, answer_logprob, answer_loss, assemble
from lit_jepa.vqa.tiny_lm import build_tiny_lm, load_lm

TEMPLATE = "question : {question} {video} options : {choices} answer :"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    folder = build_tiny_lm(tmp_path_factory.mktemp("lm"), toy_vocabulary(), hidden_size=32, num_layers=1,
                           num_heads=2)
    return load_lm(folder)


def test_loads_from_a_local_folder_offline(lm, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tokenizer = lm
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.hidden_size == 32
    ids = tokenizer("which way does the object turn ?", add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids and len(ids) == 7
    words = {w for t in toy_vocabulary() for w in tokenizer.tokenize(t)}
    assert tokenizer.unk_token not in words
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_lm(tmp_path / "absent")


def test_answer_only_labels_and_loss_are_exact(lm):
    model, tokenizer = lm
    prompt = PromptEncoder(tokenizer, TEMPLATE)
    pieces = [prompt("which way ?", ["left", "right"], "counter-clockwise"), prompt("what happens next ?", [], "up")]
    visual = torch.randn(2, 3, 32)
    embeds, mask, labels = assemble(model.get_input_embeddings(), visual, pieces, tokenizer.pad_token_id)
    for b, p in enumerate(pieces):
        start = len(p.prefix) + 3 + len(p.suffix)
        assert labels[b, :start].eq(IGNORE).all()
        assert labels[b, start:start + len(p.answer)].tolist() == p.answer
        assert labels[b, start + len(p.answer):].eq(IGNORE).all() and mask[b].sum() == start + len(p.answer)
        assert torch.equal(embeds[b, len(p.prefix):len(p.prefix) + 3], visual[b])
    assert pieces[0].answer[-1] == tokenizer.eos_token_id and len(pieces[0].answer) == 4  # counter - clockwise eos
    logits = model(inputs_embeds=embeds, attention_mask=mask).logits
    # reference: log p of each answer token given everything before it, one sequence at a time, no padding
    manual = []
    for b, p in enumerate(pieces):
        n = int(mask[b].sum())
        logp = torch.log_softmax(model(inputs_embeds=embeds[b:b + 1, :n]).logits[0].float(), -1)
        start = n - len(p.answer)
        manual.append(torch.stack([logp[start - 1 + i, tok] for i, tok in enumerate(p.answer)]))
    total = torch.cat(manual)
    assert torch.allclose(answer_loss(logits, labels), -total.mean(), atol=1e-5)
    assert torch.allclose(answer_logprob(logits, labels), torch.stack([m.sum() for m in manual]), atol=1e-5)
    # changing the prompt's label-free tokens changes no label: a prompt token never enters the loss
    assert (labels != IGNORE).sum() == sum(len(p.answer) for p in pieces)


def test_text_only_sequences_have_no_visual_tokens(lm):
    model, tokenizer = lm
    p = PromptEncoder(tokenizer, TEMPLATE)("which way ?", ["left", "right"], "left")
    embeds, mask, labels = assemble(model.get_input_embeddings(), None, [p], tokenizer.pad_token_id)
    assert embeds.shape[1] == len(p.prefix) + len(p.suffix) + len(p.answer)
    with pytest.raises(ValueError, match="exactly once"):
        PromptEncoder(tokenizer, "no placeholder {question}")


def test_missing_transformers_names_the_extra(monkeypatch):
    import sys

    from lit_jepa.vqa.tiny_lm import require_transformers

    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"pip install 'lit-jepa\[vqa\]'"):
        require_transformers()


def test_loading_writes_no_bar_redraws_when_stderr_is_not_a_terminal(tmp_path, capfd):
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    folder = build_tiny_lm(tmp_path / "lm", toy_vocabulary(), hidden_size=32, num_layers=1, num_heads=2)
    load_lm(folder)
    err = capfd.readouterr().err  # transformers draws these with \r otherwise
    assert "Writing model shards" not in err and "Loading weights" not in err, err
    assert hf_logging.is_progress_bar_enabled()  # the setting is restored
