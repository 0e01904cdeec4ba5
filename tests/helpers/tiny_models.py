"""Tiny transformer models built from configs for the transformer-backend tests (nothing is downloaded).

A 2-layer BERT (for the sentence encoder and fine-tuning) and a 2-layer BART (for abstractive
summarisation), with random weights and a tokenizer trained on the fixture articles. ``conftest``
turns them into the session fixtures ``tiny_bert`` and ``tiny_bart``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.paths import FIXTURES

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
