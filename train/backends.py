"""How a classifier backend trains: the :class:`ClassifierBackend` protocol, its result, and the TF-IDF backend.

Each backend fits a classifier on the training split, scores it on the held-out split and, with
``--refit-on-all``, refits it on every article. The transformer backends (encoder, ensemble, finetune)
are :class:`newsdesk.train.transformer_pipeline.TransformerBackend`; the registry of names is
:data:`newsdesk.train.pipeline.TRAINING_BACKENDS`, so training never branches on a backend's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from newsdesk.train.classify.evaluation import evaluate_classifier, headline

if TYPE_CHECKING:
    from newsdesk.train.pipeline import TrainConfig

Progress = Callable[[str], None]


@dataclass
class ClassifierRun:
    """A fitted classifier, its held-out metrics, and what a refit can reuse (the embeddings of every article)."""

    classifier: Any
    metrics: dict[str, Any]
    comparison: dict[str, Any]
    embeddings: np.ndarray | None
    multi_label: bool
    config: TrainConfig
    sentence_encoder: Any = None


class ClassifierBackend(Protocol):
    """How one ``--backend`` trains."""

    def fit(
        self,
        config: TrainConfig,
        texts: list[str],
        labels: list[tuple[str, ...]],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        multi_label: bool,
        progress: Progress,
    ) -> ClassifierRun:
        """Fit on ``train_idx`` and score on ``test_idx``."""
        ...

    def refit_on_all(self, run: ClassifierRun, texts: list[str], labels: list[tuple[str, ...]]) -> Any:
        """The kept classifier refitted on every article."""
        ...


class TfidfBackend:
    """TF-IDF n-grams and a calibrated linear SVM (:class:`newsdesk.train.classify.tfidf.TopicClassifier`)."""

    def fit(
        self,
        config: TrainConfig,
        texts: list[str],
        labels: list[tuple[str, ...]],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        multi_label: bool,
        progress: Progress,
    ) -> ClassifierRun:
        classifier = config.classifier.build(config.seed).set_params(multi_label=multi_label)
        classifier.fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        metrics = evaluate_classifier(classifier, [texts[i] for i in test_idx], [labels[i] for i in test_idx])
        progress("held-out " + ", ".join(f"{k} {v:.4f}" for k, v in headline(metrics).items()))
        return ClassifierRun(classifier, metrics, {}, None, multi_label, config)

    def refit_on_all(self, run: ClassifierRun, texts: list[str], labels: list[tuple[str, ...]]) -> Any:
        config = run.config
        return config.classifier.build(config.seed).set_params(multi_label=run.multi_label).fit(texts, labels)
