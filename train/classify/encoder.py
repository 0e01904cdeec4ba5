"""The sentence-encoder backend: transformer article embeddings plus a linear head.

An article is embedded the way sentence-transformers embeds a sentence with
all-MiniLM-L6-v2 (mean of the token vectors over the attention mask, then L2
normalisation), except that nothing is cut off: the tokens are laid out in windows of the
encoder's length (256 for MiniLM) that overlap by ``stride`` tokens, each window is embedded,
and the article vector is the token-weighted mean of its window vectors, normalised again.
An article that fits one window gets exactly the sentence-transformers vector.

torch and transformers are imported only when an encoder is loaded, so importing this
module (as the training pipeline and bundle loader do) costs nothing without them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.train.classify.decisions import LabelDecisions
from newsdesk.train.classify.linear_head import LinearHead, label_sets_of
from newsdesk.train.classify.review import class_centroids, short_view_rows
from newsdesk.train.hf import (
    DEFAULT_ENCODER,
    pretrained_options,
    require_transformers,
    resolve_model,
    set_torch_threads,
    tokenizer_options,
)
from newsdesk.train.progress import track

BACKEND = "sentence-encoder-linear"
ENCODER_DIR = "encoder"
HEAD_ARRAYS = "encoder_head.npz"
DEFAULT_STRIDE = 32
DEFAULT_WINDOW = 256
DEFAULT_C = 1.0
"""The head's regularisation unless ``--encoder-C`` says otherwise (both the encoder backend and the ensemble's
encoder member). Strongly regularised, the head keeps to broad topic directions of the embedding space that hold
on news from other outlets; the C chosen by out-of-fold log loss on BBC fits BBC's own vocabulary of a topic
(``bench/shift.py``: HuffPost in-scope accuracy 0.754 against 0.684, both with short views; BBC held-out
0.967 against 0.962)."""
DEFAULT_CACHE_SIZE = 4096
"""Texts whose embeddings an encoder remembers (about 1.5 KB each for MiniLM), so the needs-review scope
test and an ensemble reuse the prediction's embeddings instead of running the transformer again."""


@dataclass
class EncoderConfig:
    """Options of the sentence-encoder backend."""

    encoder: str = field(
        default=DEFAULT_ENCODER,
        metadata={"help": "sentence encoder: a folder or Hugging Face id (default: the packaged all-MiniLM-L6-v2)"},
    )
    window: int | None = field(
        default=None, metadata={"help": "tokens per window (default: the encoder's own length, 256 for MiniLM)"}
    )
    stride: int = field(
        default=DEFAULT_STRIDE,
        metadata={"help": "tokens shared by consecutive windows (at most a quarter of the window)"},
    )
    batch_size: int = field(default=32, metadata={"help": "windows per forward pass"})
    C: float | None = field(
        default=DEFAULT_C,
        metadata={
            "help": "inverse regularisation of the logistic head (default 1, strong: holds up on news from other "
            "outlets, see docs/models.md#other-outlets; None in Python chooses it out of fold by log loss, which "
            "fits the training outlet's own vocabulary)"
        },
    )
    short_views: bool | None = field(
        default=None,
        metadata={
            "help": "also train the head on each article's headline, and headline + lead sentence (single-label "
            "data), so that it knows short texts as well as whole articles (default: on for --backend encoder, "
            "off for the ensemble's encoder member, whose weight and keep check are learned on whole articles)"
        },
    )
    summary_features: bool = field(
        default=True,
        metadata={"help": "add sentence-embedding similarities (to the centroid and the title) to the summariser"},
    )

    def __post_init__(self) -> None:
        if self.window is not None and self.window < 8:
            raise ValueError(f"window must be at least 8 tokens, got {self.window}")
        if self.stride < 0:
            raise ValueError(f"stride must be >= 0, got {self.stride}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.C is not None and self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")


def token_windows(tokenizer: Any, texts: Sequence[str], window: int, stride: int) -> tuple[list[list[int]], np.ndarray]:
    """Every text's tokens in windows of at most ``window`` tokens (special tokens included) that overlap by
    ``stride``, and for each window the index of its text. Nothing is cut off: a long text gets more windows."""
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=window,
        stride=stride,
        return_overflowing_tokens=True,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    return list(encoded["input_ids"]), np.asarray(encoded["overflow_to_sample_mapping"], dtype=int)


class SentenceEncoder:
    """Embeds texts of any length with a transformer encoder: windows, mean pooling, L2 norm."""

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        window: int | None = None,
        stride: int = DEFAULT_STRIDE,
        batch_size: int = 32,
        local_files_only: bool = False,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.model = model
        self.window = window
        self.stride = stride
        self.batch_size = batch_size
        self.local_files_only = local_files_only
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._recent: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def load(self) -> SentenceEncoder:
        """Load the tokenizer and weights now (otherwise done on first use)."""
        self._parts()
        return self

    def _parts(self) -> tuple[Any, Any]:
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                require_transformers()
                from transformers import AutoModel, AutoTokenizer

                path = resolve_model(self.model)
                tokenizer = AutoTokenizer.from_pretrained(path, **tokenizer_options(self.local_files_only))
                if not tokenizer.is_fast:
                    raise ValueError(f"{self.model} has no fast tokenizer; windows need one (tokenizer.json)")
                model = AutoModel.from_pretrained(path, **pretrained_options(self.local_files_only)).eval()
                if self.window is None:
                    self.window = _default_window(Path(path), tokenizer, model.config)
                # Windows overlap by at most a quarter of their length, so each one brings new tokens.
                self.stride = min(self.stride, self.window // 4)
                self._loaded = (tokenizer, model)
        return self._loaded

    @property
    def dimension(self) -> int:
        """Length of an embedding."""
        return int(self._parts()[1].config.hidden_size)

    def windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token windows (special tokens included) and, for each window, the index of its text."""
        tokenizer, _ = self._parts()
        assert self.window is not None
        return token_windows(tokenizer, texts, self.window, self.stride)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised embeddings, shape (len(texts), dimension), float32; recently embedded texts are reused."""
        if self.cache_size <= 0:
            return self._encode(texts, progress)
        keys = [_text_key(text) for text in texts]
        with self._recent_lock:
            known = {key: self._recent[key] for key in keys if key in self._recent}
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        if missing:
            where = {key: i for i, key in enumerate(keys)}
            fresh = self._encode([texts[where[key]] for key in missing], progress)
            known.update(zip(missing, fresh))
        with self._recent_lock:
            for key in keys:
                self._recent[key] = known[key]
                self._recent.move_to_end(key)
            while len(self._recent) > self.cache_size:
                self._recent.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([known[key] for key in keys])

    def _encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        torch = require_transformers()
        tokenizer, model = self._parts()
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids, owner = self.windows(texts)
        order = np.argsort([-len(window) for window in ids], kind="stable")  # similar lengths share a batch
        vectors = np.zeros((len(ids), self.dimension), dtype=np.float32)
        counts = np.array([len(window) for window in ids], dtype=np.float32)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if progress:
            batches = track(batches, "embedding", "batches")
        with torch.inference_mode():
            for batch in batches:
                padded = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
                output = model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"])
                mask = padded["attention_mask"].unsqueeze(-1).to(output.last_hidden_state.dtype)
                pooled = (output.last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                vectors[batch] = pooled.float().numpy()
        # Token-weighted mean of each text's windows, normalised again.
        sums = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, owner, vectors * counts[:, None])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def save(self, directory: Path) -> None:
        """Write the tokenizer and weights (safetensors) into ``directory``."""
        tokenizer, model = self._parts()
        directory.mkdir(parents=True, exist_ok=True)
        tokenizer.save_pretrained(directory)
        model.save_pretrained(directory, safe_serialization=True)

    def params(self) -> dict[str, Any]:
        """What the manifest records about the encoder."""
        self._parts()
        return {
            "encoder": self.model,
            "window": self.window,
            "stride": self.stride,
            "batch_size": self.batch_size,
            "pooling": "mean",
            "normalize": True,
            "dimension": self.dimension,
        }


def _text_key(text: str) -> bytes:
    """A short digest of a text, the key of the recent-embeddings cache."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _default_window(path: Path, tokenizer: Any, config: Any) -> int:
    """The encoder's own length: sentence-transformers' ``max_seq_length``, else the model's position limit."""
    settings = path / "sentence_bert_config.json"
    if settings.is_file():
        length = json.loads(settings.read_text(encoding="utf-8")).get("max_seq_length")
        if isinstance(length, int) and length > 0:
            return length
    limits = [getattr(config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    usable = [int(v) for v in limits if isinstance(v, int) and 8 <= v <= 100_000]
    return min(usable + [512]) if usable else DEFAULT_WINDOW


class EncoderClassifier(LabelDecisions):
    """Topic classifier on sentence-encoder article embeddings with a logistic-regression head.

    ``prior``: see :class:`LinearHead` (``"uniform"``: a single-label head without intercepts).
    ``short_views``: single-label heads are also fitted on each training article's headline and headline +
    lead sentence (:func:`~newsdesk.train.classify.review.short_view_rows`), labelled as the article.
    ``class_centroids_`` (training only, not saved with the head; None for a multi-label head) is the
    normalised mean embedding of each label's training articles: the needs-review rule's scope test
    measures against it.
    """

    backend = BACKEND

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        C: float | None = DEFAULT_C,
        folds: int = 5,
        multi_label: bool | None = None,
        seed: int = 0,
        prior: str = "uniform",
        short_views: bool = True,
    ) -> None:
        self.sentence_encoder = encoder or SentenceEncoder()
        self.C = C
        self.folds = folds
        self.multi_label = multi_label
        self.seed = seed
        self.prior = prior
        self.short_views = short_views

    @classmethod
    def from_config(
        cls, config: EncoderConfig, seed: int = 0, folds: int = 5, prior: str = "uniform", short_views: bool = True
    ) -> EncoderClassifier:
        """An unfitted classifier with these options (``short_views`` when the config leaves it to the backend)."""
        encoder = SentenceEncoder(config.encoder, config.window, config.stride, config.batch_size)
        views = short_views if config.short_views is None else config.short_views
        return cls(encoder, C=config.C, folds=folds, seed=seed, prior=prior, short_views=views)

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Article embeddings of cleaned model inputs."""
        return self.sentence_encoder.encode(texts, progress=progress)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Sequence[str] | str],
        embeddings: np.ndarray | None = None,
        progress: bool = False,
    ) -> EncoderClassifier:
        """Fit the head on the texts' embeddings (pass ``embeddings`` to reuse ones already computed)."""
        x = self.embed(texts, progress=progress) if embeddings is None else embeddings
        if len(x) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(x)} embeddings")
        head = LinearHead(C=self.C, folds=self.folds, multi_label=self.multi_label, seed=self.seed, prior=self.prior)
        fit_x, fit_labels = x, list(labels)
        label_sets = label_sets_of(labels)
        single_label = all(len(label_set) == 1 for label_set in label_sets)
        if self.short_views and single_label and self.multi_label is not True:
            views, view_labels = short_view_rows(texts, labels)
            if views:
                fit_x = np.vstack([x, self.embed(views, progress=progress)])
                fit_labels += view_labels
        self.short_views_used_ = len(fit_labels) > len(x)
        self.head_ = head.fit(fit_x, fit_labels)
        classes = [str(c) for c in self.head_.classes_]
        self.class_centroids_ = (
            None  # the needs-review rule is single-label only
            if self.head_.multi_label_
            else class_centroids(
                np.asarray(x, dtype=np.float64),
                [classes.index(label) for (label,) in label_sets],
                len(classes),
            )
        )
        return self

    @property
    def classes_(self) -> np.ndarray:  # type: ignore[override]
        return self.head_.classes_

    @property
    def multi_label_(self) -> bool:  # type: ignore[override]
        return self.head_.multi_label_

    @property
    def thresholds_(self) -> np.ndarray:  # type: ignore[override]
        return self.head_.thresholds_

    def predict_proba_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        """Probabilities from precomputed embeddings."""
        return self.head_.predict_proba_features(embeddings)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (n_texts, n_labels); rows sum to 1 unless multi-label."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.predict_proba_embeddings(self.embed(texts))

    # ------------------------------------------------------------------ bundle files

    def save_files(self, directory: Path) -> dict[str, Any]:
        """Write the encoder folder and the head's arrays; return the manifest's classifier entry."""
        self.sentence_encoder.save(directory / ENCODER_DIR)
        arrays, meta = self.head_.fitted_state()
        np.savez_compressed(directory / HEAD_ARRAYS, **arrays)  # type: ignore[arg-type]
        return {
            "backend": BACKEND,
            "params": {
                **self.sentence_encoder.params(),
                "head": "logistic-regression",
                "head_C": meta["C"],
                "prior": meta["prior"],
                "short_views": self.short_views_used_,
            },
            "head": meta,
            "files": [ENCODER_DIR, HEAD_ARRAYS],
        }

    @classmethod
    def load_files(
        cls,
        directory: Path,
        entry: dict[str, Any],
        manifest: dict[str, Any] | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> EncoderClassifier:
        """Rebuild from :meth:`save_files` output (the encoder from the bundle's own folder, loaded now)."""
        params = entry["params"]
        if encoder is None:
            encoder = load_bundled_encoder(directory / ENCODER_DIR, params)
        with np.load(directory / HEAD_ARRAYS, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        head = entry["head"]
        model = cls(encoder, C=head["C"], folds=head["folds"], seed=head["seed"], prior=head.get("prior", "training"))
        model.head_ = LinearHead.from_fitted_state(arrays, entry["head"])
        model.short_views_used_ = bool(entry["params"].get("short_views", False))
        if model.head_.coef_.shape[1] != encoder.dimension:
            raise ValueError(
                f"the head expects {model.head_.coef_.shape[1]}-dimensional embeddings, the encoder makes "
                f"{encoder.dimension}"
            )
        return model


def load_bundled_encoder(folder: Path, params: dict[str, Any]) -> SentenceEncoder:
    """The encoder saved in a bundle folder, loaded now, with the window it was trained with."""
    encoder = SentenceEncoder(
        str(folder),
        window=int(params["window"]),
        stride=int(params["stride"]),
        batch_size=int(params.get("batch_size", 32)),
        local_files_only=True,
    )
    set_torch_threads()
    return encoder.load()


class SentenceSimilarityFeatures:
    """Extra summariser features from sentence embeddings: cosine to the article centroid and to the title."""

    names = ("encoder_similarity_centroid", "encoder_similarity_title")

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder

    def sentence_features(self, sentences: Sequence[str], title: str) -> np.ndarray:
        """One row per sentence, one column per name in :attr:`names`."""
        texts = list(sentences) + ([title] if title else [])
        vectors = self.encoder.encode(texts)
        sentence_vectors = vectors[: len(sentences)]
        centroid = sentence_vectors.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        to_centroid = sentence_vectors @ centroid
        to_title = sentence_vectors @ vectors[-1] if title else np.zeros(len(sentences))
        return np.column_stack([to_centroid, to_title]).astype(np.float64)
