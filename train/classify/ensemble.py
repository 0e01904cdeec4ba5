"""The ensemble backend: TF-IDF linear scores and sentence-encoder scores, weighted by a validation split.

Both members are probabilistic classifiers over the same labels. For single-label data the
ensemble is a weighted geometric mean of their probabilities (a weighted average of
log-probabilities, renormalised); for multi-label data, a weighted average of each label's
log-odds, with thresholds tuned again on the combination. The weight is learned on a
stratified validation split of the training articles: both members are fitted on the rest,
the weight with the lowest validation log loss is kept (0 and 1, one member alone, are among
the candidates), and both members are then refitted on all the training articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from newsdesk.train.bundle import CLASSIFIER_ARRAYS, VOCABULARY, load_classifier
from newsdesk.train.classify.decisions import LabelDecisions, sigmoid
from newsdesk.train.classify.encoder import EncoderClassifier
from newsdesk.train.classify.linear_head import EPSILON, check_labels, targets_for, tuned_thresholds, validation_split
from newsdesk.train.classify.tfidf import TopicClassifier

BACKEND = "ensemble"
ENSEMBLE_ARRAYS = "ensemble.npz"
WEIGHT_GRID = np.round(np.linspace(0.0, 1.0, 21), 2)


@dataclass
class EnsembleConfig:
    """Options of the ensemble backend."""

    validation_size: float = field(
        default=0.2, metadata={"help": "share of the training articles held out to learn the ensemble weight"}
    )
    keep: str = field(
        default="if-better",
        metadata={
            "help": "'if-better': save the ensemble only when it beats both members on the held-out split, "
            "else the better member; 'always': save it regardless"
        },
    )

    def __post_init__(self) -> None:
        if not 0 < self.validation_size < 1:
            raise ValueError(f"validation_size must be between 0 and 1, got {self.validation_size}")
        if self.keep not in ("if-better", "always"):
            raise ValueError(f"keep must be 'if-better' or 'always', got {self.keep!r}")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p) - np.log1p(-p)


def combine(tfidf: np.ndarray, encoder: np.ndarray, weight: float, multi_label: bool) -> np.ndarray:
    """Combined probabilities with ``weight`` on the TF-IDF member and ``1 - weight`` on the encoder."""
    if multi_label:
        return sigmoid(weight * _logit(tfidf) + (1 - weight) * _logit(encoder))
    log_p = weight * np.log(np.clip(tfidf, EPSILON, 1)) + (1 - weight) * np.log(np.clip(encoder, EPSILON, 1))
    log_p -= log_p.max(axis=1, keepdims=True)
    p = np.exp(log_p)
    return p / p.sum(axis=1, keepdims=True)


def log_loss(probs: np.ndarray, targets: np.ndarray, multi_label: bool) -> float:
    """Mean negative log-likelihood (per label and text for multi-label data)."""
    p = np.clip(probs, EPSILON, 1 - EPSILON)
    if multi_label:
        return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)))
    return float(-np.mean(np.log(p[targets.astype(bool)])))


def best_weight(tfidf: np.ndarray, encoder: np.ndarray, targets: np.ndarray, multi_label: bool) -> tuple[float, float]:
    """The grid weight with the lowest log loss, and that loss (ties go to the weight nearest 0.5)."""
    scored = [
        (log_loss(combine(tfidf, encoder, float(w), multi_label), targets, multi_label), abs(w - 0.5), float(w))
        for w in WEIGHT_GRID
    ]
    loss, _, weight = min(scored)
    return weight, loss


class EnsembleClassifier(LabelDecisions):
    """A TF-IDF classifier and an encoder classifier combined with a learned weight."""

    backend = BACKEND

    def __init__(
        self,
        tfidf: TopicClassifier,
        encoder: EncoderClassifier,
        validation_size: float = 0.2,
        multi_label: bool | None = None,
        seed: int = 0,
    ) -> None:
        self.tfidf = tfidf
        self.encoder = encoder
        self.validation_size = validation_size
        self.multi_label = multi_label
        self.seed = seed

    @property
    def sentence_encoder(self) -> Any:
        """The encoder member's sentence encoder (shared with the summariser's features)."""
        return self.encoder.sentence_encoder

    def _fresh_members(self, multi_label: bool) -> tuple[TopicClassifier, EncoderClassifier]:
        tfidf = clone(self.tfidf).set_params(multi_label=multi_label)
        encoder = EncoderClassifier(
            self.encoder.sentence_encoder,
            C=self.encoder.C,
            folds=self.encoder.folds,
            multi_label=multi_label,
            seed=self.encoder.seed,
            prior=self.encoder.prior,
            short_views=self.encoder.short_views,
        )
        return tfidf, encoder

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Sequence[str] | str],
        embeddings: np.ndarray | None = None,
        progress: bool = False,
    ) -> EnsembleClassifier:
        """Learn the weight on a validation split, then fit both members on all of ``texts``."""
        label_sets, classes, self.multi_label_ = check_labels(texts, labels, self.multi_label)
        x = self.encoder.embed(texts, progress=progress) if embeddings is None else np.asarray(embeddings)
        fit_idx, val_idx = validation_split(label_sets, self.validation_size, self.seed)
        tfidf, encoder = self._fresh_members(self.multi_label_)
        tfidf.fit([texts[i] for i in fit_idx], [label_sets[i] for i in fit_idx])
        encoder.fit([texts[i] for i in fit_idx], [label_sets[i] for i in fit_idx], embeddings=x[fit_idx])
        if list(tfidf.classes_) != classes or list(encoder.classes_) != classes:
            raise ValueError("the validation split left a label out of the fitting part; lower validation_size")
        p_tfidf = tfidf.predict_proba([texts[i] for i in val_idx])
        p_encoder = encoder.predict_proba_embeddings(x[val_idx])
        targets = targets_for([label_sets[i] for i in val_idx], classes)
        self.weight_, self.validation_log_loss_ = best_weight(p_tfidf, p_encoder, targets, self.multi_label_)
        self.validation_ = {
            "articles": len(val_idx),
            "weight_tfidf": self.weight_,
            "log_loss": round(self.validation_log_loss_, 5),
            "log_loss_tfidf": round(log_loss(p_tfidf, targets, self.multi_label_), 5),
            "log_loss_encoder": round(log_loss(p_encoder, targets, self.multi_label_), 5),
        }
        combined = combine(p_tfidf, p_encoder, self.weight_, self.multi_label_)
        self.thresholds_ = tuned_thresholds(combined, targets) if self.multi_label_ else np.full(len(classes), 0.5)
        self.tfidf, self.encoder = self._fresh_members(self.multi_label_)
        self.tfidf.fit(list(texts), label_sets)
        self.encoder.fit(texts, label_sets, embeddings=x)
        self.classes_ = np.array(classes, dtype=object)
        return self

    def member_probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each member's probabilities for ``texts`` (the texts are embedded once)."""
        return self.tfidf.predict_proba(texts), self.encoder.predict_proba(texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Combined probabilities, shape (n_texts, n_labels)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return combine(*self.member_probabilities(texts), self.weight_, self.multi_label_)

    # ------------------------------------------------------------------ bundle files

    def save_files(self, directory: Path) -> dict[str, Any]:
        """Write both members' files and the combination; return the manifest's classifier entry."""
        import json

        terms, arrays, meta = self.tfidf.fitted_state()
        (directory / VOCABULARY).write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(directory / CLASSIFIER_ARRAYS, **arrays)  # type: ignore[arg-type]
        encoder_entry = self.encoder.save_files(directory)
        np.savez_compressed(directory / ENSEMBLE_ARRAYS, thresholds=self.thresholds_)
        return {
            "backend": BACKEND,
            "params": {"weight_tfidf": self.weight_, "validation_size": self.validation_size, "seed": self.seed},
            "validation": self.validation_,
            "members": {
                "tfidf": {
                    "backend": "tfidf-linear-svm",
                    "params": meta["params"],
                    "files": [VOCABULARY, CLASSIFIER_ARRAYS],
                },
                "encoder": encoder_entry,
            },
            "files": [VOCABULARY, CLASSIFIER_ARRAYS, *encoder_entry["files"], ENSEMBLE_ARRAYS],
        }

    @classmethod
    def load_files(cls, directory: Path, entry: dict[str, Any], manifest: dict[str, Any]) -> EnsembleClassifier:
        """Rebuild from :meth:`save_files` output."""
        tfidf_manifest = {**manifest, "classifier": entry["members"]["tfidf"]}
        tfidf = load_classifier(directory, tfidf_manifest)
        encoder = EncoderClassifier.load_files(directory, entry["members"]["encoder"])
        with np.load(directory / ENSEMBLE_ARRAYS, allow_pickle=False) as npz:
            thresholds = np.asarray(npz["thresholds"], dtype=np.float64)
        if list(tfidf.classes_) != list(encoder.classes_) or thresholds.shape != (len(tfidf.classes_),):
            raise ValueError("the ensemble members do not share the same labels")
        params = entry["params"]
        model = cls(tfidf, encoder, validation_size=params["validation_size"], seed=params["seed"])
        model.multi_label_ = bool(manifest["multi_label"])
        model.classes_ = np.array(manifest["labels"], dtype=object)
        model.weight_ = float(params["weight_tfidf"])
        model.thresholds_ = thresholds
        model.validation_ = dict(entry.get("validation", {}))
        return model
