"""The tiny transformer models of :mod:`helpers.tiny_models` load with the auto classes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the transformer backends need the 'transformers' extra")
pytest.importorskip("transformers", reason="the transformer backends need the 'transformers' extra")


def test_the_tiny_models_load_with_the_auto_classes(tiny_bert: Path, tiny_bart: Path) -> None:
    from transformers import AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    bert_tokenizer = AutoTokenizer.from_pretrained(tiny_bert, local_files_only=True)
    ids = bert_tokenizer("Shares fell sharply.")["input_ids"]
    assert ids[0] == bert_tokenizer.cls_token_id and ids[-1] == bert_tokenizer.sep_token_id
    assert AutoModel.from_pretrained(tiny_bert, local_files_only=True).config.num_hidden_layers == 2
    bart_tokenizer = AutoTokenizer.from_pretrained(tiny_bart, local_files_only=True)
    assert bart_tokenizer.num_special_tokens_to_add() == 2
    assert AutoModelForSeq2SeqLM.from_pretrained(tiny_bart, local_files_only=True).config.encoder_layers == 2
