"""The training steps of the transformer backends, called by ``newsdesk.train.pipeline.train_model``.

Articles are embedded once per run and the embeddings reused for fitting, held-out
evaluation and refitting. ``--backend ensemble`` reports the held-out scores of the
TF-IDF member, the encoder member and the ensemble, and (by default) saves the ensemble
only when it beats both; otherwise the better member is saved and the manifest says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from newsdesk.train.backends import ClassifierRun, Progress
from newsdesk.train.classify.encoder import EncoderClassifier
from newsdesk.train.classify.ensemble import EnsembleClassifier, combine
from newsdesk.train.classify.evaluation import evaluate_classifier, headline
from newsdesk.train.classify.finetune import FinetunedClassifier
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.data import Article
from newsdesk.train.hf import set_torch_threads
from newsdesk.train.summarize.abstractive import AbstractiveSummarizer
from newsdesk.train.summarize.abstractive_metrics import evaluate_abstractive
from newsdesk.train.summarize.metrics import headline_line, not_evaluated

if TYPE_CHECKING:
    from newsdesk.train.pipeline import TrainConfig


class _Scored:
    """Probabilities computed already, wearing the classifier interface ``evaluate_classifier`` reads."""

    def __init__(self, model: Any, probabilities: np.ndarray) -> None:
        self.model = model
        self.probabilities = probabilities
        self.classes_ = model.classes_
        self.multi_label_ = model.multi_label_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != len(self.probabilities):
            raise ValueError("precomputed probabilities are for other texts")
        return self.probabilities

    def predict_from_proba(self, probs: np.ndarray) -> list[tuple[str, ...]]:
        return self.model.predict_from_proba(probs)


def _rank(metrics: dict[str, Any]) -> tuple[float, ...]:
    """Held-out headline scores in order of importance (accuracy or micro-F1 first, then macro-F1)."""
    return tuple(headline(metrics).values())


def _line(name: str, metrics: dict[str, Any]) -> str:
    return f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in headline(metrics).items())


def fit_transformer_classifier(
    config: TrainConfig,
    texts: list[str],
    labels: list[tuple[str, ...]],
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    multi_label: bool,
    progress: Progress,
) -> ClassifierRun:
    """Fit the ``encoder``, ``ensemble`` or ``finetune`` backend on the training part; score it on the rest."""
    train_texts, train_labels = [texts[i] for i in train_idx], [labels[i] for i in train_idx]
    test_texts, test_labels = [texts[i] for i in test_idx], [labels[i] for i in test_idx]
    if config.backend == "finetune":
        progress(f"fine-tuning {config.finetune.base_model} on {len(train_texts)} articles (CPU)")
        classifier = FinetunedClassifier(config.finetune, multi_label=multi_label, seed=config.seed)
        classifier.fit(train_texts, train_labels, progress=True)
        progress(f"best epoch {classifier.best_epoch_} of {len(classifier.history_)}: {classifier.history_}")
        metrics = evaluate_classifier(classifier, test_texts, test_labels)
        progress(_line("held-out", metrics))
        return ClassifierRun(classifier, metrics, {}, None, multi_label, config)

    set_torch_threads()
    encoder = EncoderClassifier.from_config(
        config.encoder,
        seed=config.seed,
        folds=config.classifier.calibration_folds,
        prior=config.classifier.prior,
        short_views=config.backend == "encoder",
    )
    progress(f"embedding {len(texts)} articles with {config.encoder.encoder}")
    embeddings = encoder.embed(texts, progress=True)
    if config.backend == "encoder":
        encoder.multi_label = multi_label
        encoder.fit(train_texts, train_labels, embeddings=embeddings[train_idx])
        probs = encoder.predict_proba_embeddings(embeddings[test_idx])
        metrics = evaluate_classifier(_Scored(encoder, probs), test_texts, test_labels)
        progress(_line("held-out", metrics))
        return ClassifierRun(encoder, metrics, {}, embeddings, multi_label, config, encoder.sentence_encoder)

    tfidf = config.classifier.build(config.seed)
    ensemble = EnsembleClassifier(
        tfidf, encoder, validation_size=config.ensemble.validation_size, multi_label=multi_label, seed=config.seed
    )
    ensemble.fit(train_texts, train_labels, embeddings=embeddings[train_idx])
    p_tfidf = ensemble.tfidf.predict_proba(test_texts)
    p_encoder = ensemble.encoder.predict_proba_embeddings(embeddings[test_idx])
    p_ensemble = combine(p_tfidf, p_encoder, ensemble.weight_, multi_label)
    scored = {
        "tfidf": evaluate_classifier(_Scored(ensemble.tfidf, p_tfidf), test_texts, test_labels),
        "encoder": evaluate_classifier(_Scored(ensemble.encoder, p_encoder), test_texts, test_labels),
        "ensemble": evaluate_classifier(_Scored(ensemble, p_ensemble), test_texts, test_labels),
    }
    for name, result in scored.items():
        progress(_line(f"held-out {name}", result))
    best_member = "tfidf" if _rank(scored["tfidf"]) >= _rank(scored["encoder"]) else "encoder"
    beats_both = _rank(scored["ensemble"]) > _rank(scored[best_member])
    kept = "ensemble" if beats_both or config.ensemble.keep == "always" else best_member
    comparison = {
        "held_out": {name: headline(result) for name, result in scored.items()},
        "weight_tfidf": ensemble.weight_,
        "validation": ensemble.validation_,
        "ensemble_beats_both": beats_both,
        "kept": kept,
    }
    if kept != "ensemble":
        progress(
            f"the ensemble (TF-IDF weight {ensemble.weight_:.2f}) does not beat the {best_member} member alone "
            f"on the held-out split; saving the {best_member} classifier (--keep-ensemble saves the ensemble anyway)"
        )
    else:
        progress(f"saving the ensemble (TF-IDF weight {ensemble.weight_:.2f})")
    chosen = {"ensemble": ensemble, "tfidf": ensemble.tfidf, "encoder": ensemble.encoder}[kept]
    return ClassifierRun(chosen, scored[kept], comparison, embeddings, multi_label, config, encoder.sentence_encoder)


def refit_on_all(classifier: Any, texts: list[str], labels: list[tuple[str, ...]], run: ClassifierRun) -> Any:
    """The kept encoder, ensemble or TF-IDF model refitted on every article (the embeddings are reused)."""
    config = run.config
    if isinstance(classifier, TopicClassifier):
        return config.classifier.build(config.seed).set_params(multi_label=run.multi_label).fit(texts, labels)
    if isinstance(classifier, EncoderClassifier):
        return classifier.fit(texts, labels, embeddings=run.embeddings)
    if isinstance(classifier, EnsembleClassifier):
        return classifier.fit(texts, labels, embeddings=run.embeddings)
    raise ValueError(f"cannot refit a {type(classifier).__name__} on all articles")


def train_abstractive(
    config: TrainConfig, train: list[Article], test: list[Article], progress: Progress
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune (or load) the abstractive summariser and score it on the held-out articles with references."""
    summarizer = AbstractiveSummarizer(config.abstractive)
    has_references = any(a.summary for a in train)
    if config.abstractive.finetune and not has_references:
        raise ValueError(
            "the data has no reference summaries to fine-tune the abstractive summariser on; add a summary column "
            "(--summary-col) or pass --no-finetune to use the model as it is"
        )
    verb = "fine-tuning" if config.abstractive.finetune else "loading"
    progress(f"{verb} the abstractive summariser {config.abstractive.base_model}")
    summarizer.fit(
        [a.text for a in train],
        [a.title for a in train],
        [a.summary for a in train],
        progress=True,
        cleaning=config.cleaning,
    )
    if not any(a.summary for a in test):
        return summarizer, not_evaluated(summarizer.kind)
    results = evaluate_abstractive(summarizer, test, progress=True, cleaning=config.cleaning)
    results["evaluated"] = True
    progress(headline_line(results))
    return summarizer, results


class TransformerBackend:
    """The sentence-encoder, ensemble and fine-tuning backends (``config.backend`` says which)."""

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
        return fit_transformer_classifier(config, texts, labels, train_idx, test_idx, multi_label, progress)

    def refit_on_all(self, run: ClassifierRun, texts: list[str], labels: list[tuple[str, ...]]) -> Any:
        return refit_on_all(run.classifier, texts, labels, run)
