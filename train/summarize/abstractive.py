"""Abstractive summarisation with a seq2seq transformer (BART, T5, ...), for articles of any length.

The model is fine-tuned on article/summary pairs, or used as it is (``finetune=False``).
An article longer than the model's input limit is not truncated (the transformers
summarisation pipeline cuts it at 1,024 tokens; transformers #4224, #10451):

1. its sentences (``newsdesk.train.text.sentences.split_sentences``) are packed, in order, into windows that
   fit the limit; a single sentence longer than a window is split between words;
2. each window is summarised, and the partial summaries are joined in article order;
3. if that merged summary is still longer than ``max_new_tokens``, it is summarised again the
   same way (windowed if it does not fit the input), until it is short enough or stops shrinking.

:meth:`AbstractiveSummarizer.summarize_clean` has the extractive summariser's call shape and
returns a :class:`newsdesk.train.summarize.extractive.Summary` with ``method="abstractive"``. Its sentences are
the generated ones; since they are not article sentences, each has ``index=-1``, ``start=-1``,
``end=-1`` and ``score=1.0``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.train.hf import (
    pretrained_options,
    require_transformers,
    resolve_model,
    set_torch_threads,
    tokenizer_options,
)
from newsdesk.train.progress import track
from newsdesk.train.summarize.base import (
    RawTextSummarizer,
    Summary,
    SummaryError,
    SummarySentence,
    check_length_options,
)
from newsdesk.train.summarize.presets import resolve_length, within_words
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_text, clean_title
from newsdesk.train.text.sentences import split_reference, split_sentences

KIND = "abstractive"
MODEL_DIR = "summarizer_model"
T5_PREFIX = "summarize: "


@dataclass
class AbstractiveConfig:
    """Options of the abstractive summariser: training and generation."""

    base_model: str | None = field(default=None, metadata={"help": "seq2seq checkpoint: a folder or Hugging Face id"})
    finetune: bool = field(default=True, metadata={"help": "fine-tune on the reference summaries (else use as is)"})
    epochs: int = field(default=3, metadata={"help": "most passes over the article/summary pairs"})
    batch_size: int = field(default=4, metadata={"help": "pairs per optimisation step"})
    learning_rate: float = field(default=5e-5, metadata={"help": "AdamW peak learning rate"})
    patience: int = field(default=1, metadata={"help": "epochs without a better validation loss before stopping"})
    validation_size: float = field(default=0.1, metadata={"help": "share of the pairs for early stopping"})
    max_input_tokens: int | None = field(
        default=None, metadata={"help": "tokens per input window (default: the model's limit)"}
    )
    max_target_tokens: int = field(default=256, metadata={"help": "longest reference summary used for training"})
    max_new_tokens: int = field(default=128, metadata={"help": "longest generated summary, in tokens"})
    min_new_tokens: int = field(default=0, metadata={"help": "shortest generated summary (0: the model's default)"})
    num_beams: int = field(default=4, metadata={"help": "beam search width (1 = greedy)"})
    no_repeat_ngram_size: int = field(default=3, metadata={"help": "never repeat an n-gram this long (0 = off)"})
    max_rounds: int = field(default=5, metadata={"help": "most summarise-and-merge rounds for a long article"})
    generation_batch_size: int = field(default=4, metadata={"help": "windows summarised per generate call"})

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "learning_rate": self.learning_rate > 0,
            "patience": self.patience >= 1,
            "validation_size": 0 < self.validation_size < 1,
            "max_input_tokens": self.max_input_tokens is None or self.max_input_tokens >= 16,
            "max_target_tokens": self.max_target_tokens >= 1,
            "max_new_tokens": self.max_new_tokens >= 1,
            "min_new_tokens": 0 <= self.min_new_tokens <= self.max_new_tokens,
            "num_beams": self.num_beams >= 1,
            "no_repeat_ngram_size": self.no_repeat_ngram_size >= 0,
            "max_rounds": self.max_rounds >= 1,
            "generation_batch_size": self.generation_batch_size >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                "invalid abstractive summariser options: "
                + ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
                + " (counts >= 1, max_input_tokens >= 16, 0 <= min_new_tokens <= max_new_tokens, "
                "0 < validation_size < 1)"
            )


@dataclass(frozen=True)
class LongSummary:
    """A generated summary and the inputs of every round that made it (for inspection and tests)."""

    text: str
    rounds: tuple[tuple[str, ...], ...]


def reference_text(summary: str, article_sentences: Sequence[str] | None = None) -> str:
    """A reference summary as one clean text, with glued sentence ends separated (as in BBC)."""
    return " ".join(split_reference(clean_text(summary), list(article_sentences or [])))


class AbstractiveSummarizer(RawTextSummarizer):
    """Writes a summary with a seq2seq model; long articles are summarised window by window and merged."""

    kind = KIND

    def __init__(self, config: AbstractiveConfig) -> None:
        if not config.base_model:
            raise ValueError("the abstractive summariser needs a model: pass --base-model PATH_OR_ID")
        self.config = config
        self.training_: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._source = resolve_model(str(config.base_model))
        self._local_only = False

    # ------------------------------------------------------------------ model

    def load(self) -> AbstractiveSummarizer:
        """Load the tokenizer and weights now (otherwise done on first use)."""
        self._parts()
        return self

    def _parts(self) -> tuple[Any, Any]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    require_transformers()
                    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

                    tokenizer = AutoTokenizer.from_pretrained(self._source, **tokenizer_options(self._local_only))
                    model = AutoModelForSeq2SeqLM.from_pretrained(
                        self._source, **pretrained_options(self._local_only)
                    ).eval()
                    self._loaded = (tokenizer, model)
        return self._loaded

    @property
    def prefix(self) -> str:
        """The task prefix T5 models expect; empty for others."""
        return T5_PREFIX if getattr(self._parts()[1].config, "model_type", "") in ("t5", "mt5") else ""

    @property
    def input_limit(self) -> int:
        """Most tokens one input may have (special tokens included)."""
        tokenizer, model = self._parts()
        if self.config.max_input_tokens is not None:
            return self.config.max_input_tokens
        limits = [
            getattr(model.config, "max_position_embeddings", None),
            getattr(model.config, "n_positions", None),
            getattr(tokenizer, "model_max_length", None),
        ]
        usable = [int(v) for v in limits if isinstance(v, int) and 16 <= v <= 100_000]
        return min(usable) if usable else 512

    def _count(self, texts: Sequence[str]) -> list[int]:
        tokenizer, _ = self._parts()
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]]

    # ------------------------------------------------------------------ windows

    def chunk(self, text: str) -> list[str]:
        """``text`` in windows of whole sentences that each fit the input limit (nothing dropped, order kept)."""
        tokenizer, _ = self._parts()
        budget = self.input_limit - tokenizer.num_special_tokens_to_add() - self._count([self.prefix])[0]
        if budget < 8:
            raise ValueError(f"the input limit {self.input_limit} leaves no room for text; raise max_input_tokens")
        sentences = [s.text for s in split_sentences(text)]
        pieces: list[str] = []
        for sentence, n in zip(sentences, self._count(sentences)):
            pieces.extend(self._split_long_sentence(sentence, budget) if n > budget else [sentence])
        windows: list[list[str]] = []
        for piece in pieces:
            if windows and self._count([" ".join([*windows[-1], piece])])[0] <= budget:
                windows[-1].append(piece)
            else:
                windows.append([piece])
        return [" ".join(window) for window in windows]

    def _split_long_sentence(self, sentence: str, budget: int) -> list[str]:
        """A sentence longer than a window, cut between words into parts that fit."""
        parts: list[str] = []
        current: list[str] = []
        for word in sentence.split():
            candidate = " ".join([*current, word])
            if current and self._count([candidate])[0] > budget:
                parts.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        if current:
            parts.append(" ".join(current))
        return parts

    # ------------------------------------------------------------------ generation

    def generate(self, texts: Sequence[str]) -> list[str]:
        """One summary per input text; every input must fit the input limit (it is never truncated)."""
        torch = require_transformers()
        tokenizer, model = self._parts()
        config = self.config
        options: dict[str, Any] = {"max_new_tokens": config.max_new_tokens, "num_beams": config.num_beams}
        if config.min_new_tokens:
            options["min_new_tokens"] = config.min_new_tokens
        if config.no_repeat_ngram_size:
            options["no_repeat_ngram_size"] = config.no_repeat_ngram_size
        if config.num_beams > 1:
            options["early_stopping"] = True
        outputs: list[str] = []
        with torch.inference_mode():
            for start in range(0, len(texts), config.generation_batch_size):
                batch = [self.prefix + t for t in texts[start : start + config.generation_batch_size]]
                encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=False)
                if encoded["input_ids"].shape[1] > self.input_limit:
                    raise ValueError(
                        f"an input of {encoded['input_ids'].shape[1]} tokens exceeds the limit of {self.input_limit}; "
                        "split it with chunk() first"
                    )
                ids = model.generate(
                    input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"], **options
                )
                outputs.extend(text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True))
        return outputs

    def summarize_long(self, body: str) -> LongSummary:
        """Summarise a text of any length: windows, partial summaries merged in order, again while too long."""
        text = body
        rounds: list[tuple[str, ...]] = []
        previous_tokens = math.inf
        while True:
            windows = self.chunk(text)
            if not windows:
                raise SummaryError("the text has no sentences to summarise")
            rounds.append(tuple(windows))
            merged = " ".join(p for p in self.generate(windows) if p)
            tokens = self._count([merged])[0] if merged else 0
            done = len(windows) == 1 or tokens <= self.config.max_new_tokens
            # Stop when another round would not shorten it; the merged text is kept whole, never cut.
            if done or len(rounds) >= self.config.max_rounds or tokens >= previous_tokens:
                return LongSummary(merged, tuple(rounds))
            previous_tokens = tokens
            text = merged

    # ------------------------------------------------------------------ the summariser interface

    def summarize_clean(
        self,
        body: str,
        title: str = "",
        *,
        max_sentences: int | None = None,
        max_words: int | None = None,
        ratio: float | None = None,
        num_sentences: int | None = None,
        length: str | None = None,
    ) -> Summary:
        """Summarise an already cleaned body; the length options cap the generated sentences.

        ``ratio`` caps them at that share of the article's sentence count, ``max_sentences`` and
        ``num_sentences`` at a count, ``max_words`` at a word budget (the first sentence is kept
        even when longer). A preset (``length``) gives its sentence count as a cap and its word
        length as one to come near (:func:`~newsdesk.train.summarize.presets.within_words`); the
        reference preset caps nothing. The title is not used by the model.
        """
        check_length_options(max_sentences, max_words, ratio)
        about_words = None
        if num_sentences is None and length is not None:
            try:
                choice = resolve_length(length, max_sentences=max_sentences, max_words=max_words, ratio=ratio)
            except ValueError as exc:
                raise SummaryError(str(exc)) from None
            num_sentences, max_words, about_words = choice.num_sentences, choice.max_words, choice.about_words
        if num_sentences is not None and num_sentences < 1:
            raise SummaryError(f"num_sentences must be at least 1, got {num_sentences}")
        if not body.strip():
            raise SummaryError("the text is empty after cleaning; send the article body to summarise")
        n_article = len(split_sentences(body))
        if n_article == 0:
            raise SummaryError("the text has no sentences to summarise")
        generated = [s.text for s in split_sentences(self.summarize_long(body).text)]
        if not generated:
            raise SummaryError("the model generated an empty summary")
        limit = len(generated)
        for cap in (max_sentences, num_sentences, math.ceil(ratio * n_article) if ratio is not None else None):
            if cap is not None:
                limit = min(limit, max(1, cap))
        chosen: list[str] = []
        words = 0
        for sentence in generated[:limit]:
            n_words = len(sentence.split())
            if chosen and not within_words(words, n_words, max_words, about_words):
                break
            chosen.append(sentence)
            words += n_words
        sentences = tuple(SummarySentence(-1, -1, -1, sentence, 1.0) for sentence in chosen)
        return Summary(sentences, KIND, n_article, body)

    # ------------------------------------------------------------------ fine-tuning

    def fit(
        self,
        bodies: Sequence[str],
        titles: Sequence[str] | None = None,
        references: Sequence[str | None] | None = None,
        *,
        progress: bool = False,
        cleaning: CleaningOptions = DEFAULT_CLEANING,
    ) -> AbstractiveSummarizer:
        """Fine-tune on raw article bodies and their reference summaries (or only load the model when
        ``finetune`` is off). Training inputs longer than the input limit keep their first window; how many
        did is recorded in ``training_``."""
        self._parts()
        if not self.config.finetune:
            self.training_ = {"finetuned": False}
            return self
        titles = list(titles) if titles is not None else [""] * len(bodies)
        pairs = []
        for body, title, reference in zip(bodies, titles, references or [None] * len(bodies)):
            clean = clean_body(body, clean_title(title), cleaning)
            if clean and reference and reference.strip():
                pairs.append((clean, reference_text(reference, [s.text for s in split_sentences(clean)])))
        if len(pairs) < 2:
            raise ValueError(
                f"fine-tuning the abstractive summariser needs article/summary pairs; found {len(pairs)} "
                "(give the data a summary column, or pass --no-finetune to use the model as it is)"
            )
        self._train([p[0] for p in pairs], [p[1] for p in pairs], progress)
        return self

    def _train(self, sources: list[str], targets: list[str], progress: bool) -> None:
        torch = require_transformers()
        from transformers import get_linear_schedule_with_warmup

        tokenizer, model = self._parts()
        config = self.config
        torch.manual_seed(0)
        limit = self.input_limit
        inputs = tokenizer([self.prefix + s for s in sources], truncation=True, max_length=limit)["input_ids"]
        labels = tokenizer(text_target=targets, truncation=True, max_length=config.max_target_tokens)["input_ids"]
        full_inputs = self._count([self.prefix + s for s in sources])
        full_labels = self._count(targets)
        special = tokenizer.num_special_tokens_to_add()
        fit_idx, val_idx = _split(len(sources), config.validation_size)
        steps = math.ceil(len(fit_idx) / config.batch_size)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps * config.epochs), steps * config.epochs)
        rng = np.random.default_rng(0)
        best, best_state, stale, history = math.inf, None, 0, []
        for epoch in range(1, config.epochs + 1):
            model.train()
            order = rng.permutation(fit_idx)
            batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            if progress:
                batches = track(batches, f"fine-tuning summariser {epoch}/{config.epochs}", "batches")
            total = 0.0
            for batch in batches:
                loss = self._batch_loss(torch, tokenizer, model, [inputs[i] for i in batch], [labels[i] for i in batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                total += float(loss.detach())
            model.eval()
            with torch.inference_mode():
                val = [float(self._batch_loss(torch, tokenizer, model, [inputs[i]], [labels[i]])) for i in val_idx]
            val_loss = float(np.mean(val))
            history.append({"epoch": epoch, "train_loss": round(total / steps, 5), "val_loss": round(val_loss, 5)})
            if val_loss < best - 1e-6:
                best, stale, best_epoch = val_loss, 0, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
                if stale >= config.patience:
                    break
        assert best_state is not None
        model.load_state_dict(best_state)
        model.eval()
        self.training_ = {
            "finetuned": True,
            "pairs": len(sources),
            "validation_pairs": len(val_idx),
            "history": history,
            "best_epoch": best_epoch,
            "inputs_cut_to_first_window": int(sum(n + special > limit for n in full_inputs)),
            "references_cut": int(sum(n + special > config.max_target_tokens for n in full_labels)),
        }

    @staticmethod
    def _batch_loss(torch: Any, tokenizer: Any, model: Any, inputs: list[list[int]], labels: list[list[int]]) -> Any:
        source = tokenizer.pad({"input_ids": inputs}, return_tensors="pt")
        target = tokenizer.pad({"input_ids": labels}, return_tensors="pt")
        label_ids = target["input_ids"].masked_fill(target["attention_mask"] == 0, -100)
        return model(input_ids=source["input_ids"], attention_mask=source["attention_mask"], labels=label_ids).loss

    # ------------------------------------------------------------------ bundle files

    def save_files(self, directory: Path) -> dict[str, Any]:
        """Write the model (``save_pretrained``, safetensors) and tokenizer; return the manifest entry."""
        tokenizer, model = self._parts()
        folder = directory / MODEL_DIR
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        return {
            "kind": KIND,
            "config": asdict(self.config),
            "input_limit": self.input_limit,
            "training": self.training_,
            "files": [MODEL_DIR],
        }

    @classmethod
    def load_files(cls, directory: Path, entry: dict[str, Any]) -> AbstractiveSummarizer:
        """Rebuild from :meth:`save_files` output (the model from the bundle's own folder, loaded now)."""
        summarizer = cls(AbstractiveConfig(**entry["config"]))
        summarizer._source = str(directory / MODEL_DIR)
        summarizer._local_only = True
        summarizer.training_ = dict(entry.get("training", {}))
        set_torch_threads()
        return summarizer.load()


def _split(n: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``n`` pairs into fitting and validation indices (at least one of each)."""
    order = np.random.default_rng(0).permutation(n)
    n_val = min(n - 1, max(1, round(share * n)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])
