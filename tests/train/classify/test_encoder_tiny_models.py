"""Tiny transformer models built from configs for the transformer-backend tests (nothing is downloaded).

A 2-layer BERT (for the sentence encoder and fine-tuning) and a 2-layer BART (for abstractive
summarisation), with random weights and a tokenizer trained on the fixture articles, saved to a
temporary folder once per session. Other test modules import the fixtures from here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("torch", reason="the transformer backends need the 'transformers' extra")
pytest.importorskip("transformers", reason="the transformer backends need the 'transformers' extra")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def fixture_texts() -> list[str]:
    """Titles and bodies of the fixture articles: the tokenizers' training text."""
    frame = pd.read_csv(FIXTURES / "articles.csv", dtype=str, keep_default_na=False)
    return list(frame["title"]) + list(frame["text"])


def build_tiny_bert(path: Path, max_positions: int = 64) -> Path:
    """A 2-layer BERT with a WordPiece vocabulary learned from the fixtures, saved to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(
        fixture_texts(), trainers.WordPieceTrainer(vocab_size=600, special_tokens=BERT_SPECIALS)
    )
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_positions,
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        pad_token_id=fast.pad_token_id,
    )
    BertModel(config).save_pretrained(path, safe_serialization=True)
    fast.save_pretrained(path)
    return path


def build_tiny_bart(path: Path, max_positions: int = 128) -> Path:
    """A 2-layer BART with a byte-level BPE vocabulary learned from the fixtures, saved to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    trainer = trainers.BpeTrainer(
        vocab_size=800, special_tokens=BART_SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(fixture_texts(), trainer)
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=max_positions,
    )
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=len(fast),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=max_positions,
        pad_token_id=fast.pad_token_id,
        bos_token_id=bos,
        eos_token_id=eos,
        decoder_start_token_id=eos,
        forced_eos_token_id=eos,
    )
    BartForConditionalGeneration(config).save_pretrained(path, safe_serialization=True)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a 2-layer BERT (hidden size 32, 64 positions) with random weights."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_bart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a 2-layer BART (d_model 32, 128 positions) with random weights."""
    return build_tiny_bart(tmp_path_factory.mktemp("tiny-bart"))


def test_the_tiny_models_load_with_the_auto_classes(tiny_bert: Path, tiny_bart: Path) -> None:
    from transformers import AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    bert_tokenizer = AutoTokenizer.from_pretrained(tiny_bert, local_files_only=True)
    ids = bert_tokenizer("Shares fell sharply.")["input_ids"]
    assert ids[0] == bert_tokenizer.cls_token_id and ids[-1] == bert_tokenizer.sep_token_id
    assert AutoModel.from_pretrained(tiny_bert, local_files_only=True).config.num_hidden_layers == 2
    bart_tokenizer = AutoTokenizer.from_pretrained(tiny_bart, local_files_only=True)
    assert bart_tokenizer.num_special_tokens_to_add() == 2
    assert AutoModelForSeq2SeqLM.from_pretrained(tiny_bart, local_files_only=True).config.encoder_layers == 2
