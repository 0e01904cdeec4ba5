"""The training steps of the transformer backends, called by ``newsdesk.train.pipeline.train_model``.

Articles are embedded once per run and the embeddings reused for fitting, held-out
evaluation and refitting. ``--backend ensemble`` reports the held-out scores of the
TF-IDF member, the encoder member and the ensemble, and (by default) saves the ensemble
only when it beats both; otherwise the better member is saved and the manifest says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from newsdesk.train.classify.evaluation import evaluate_classifier, headline
from newsdesk.train.data import Article
from newsdesk.train.summarize.metrics import headline_line, not_evaluated

if TYPE_CHECKING:
    from newsdesk.train.pipeline import TrainConfig

Progress = Callable[[str], None]


@dataclass
class ClassifierRun:
    """A fitted transformer-backed classifier, its held-out metrics, and the embeddings of every article."""

    classifier: Any
    metrics: dict[str, Any]
    comparison: dict[str, Any]
    embeddings: np.ndarray | None
    multi_label: bool
    config: TrainConfig
    sentence_encoder: Any = None


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
        from newsdesk.train.classify.finetune import FinetunedClassifier

        progress(f"fine-tuning {config.finetune.base_model} on {len(train_texts)} articles (CPU)")
        classifier = FinetunedClassifier(config.finetune, multi_label=multi_label, seed=config.seed)
        classifier.fit(train_texts, train_labels, progress=True)
        progress(f"best epoch {classifier.best_epoch_} of {len(classifier.history_)}: {classifier.history_}")
        metrics = evaluate_classifier(classifier, test_texts, test_labels)
        progress(_line("held-out", metrics))
        return ClassifierRun(classifier, metrics, {}, None, multi_label, config)

    from newsdesk.train.classify.encoder import EncoderClassifier
    from newsdesk.train.hf import set_torch_threads

    set_torch_threads()
    encoder = EncoderClassifier.from_config(config.encoder, seed=config.seed, folds=config.classifier.calibration_folds)
    progress(f"embedding {len(texts)} articles with {config.encoder.encoder}")
    embeddings = encoder.embed(texts, progress=True)
    if config.backend == "encoder":
        encoder.multi_label = multi_label
        encoder.fit(train_texts, train_labels, embeddings=embeddings[train_idx])
        probs = encoder.predict_proba_embeddings(embeddings[test_idx])
        metrics = evaluate_classifier(_Scored(encoder, probs), test_texts, test_labels)
        progress(_line("held-out", metrics))
        return ClassifierRun(encoder, metrics, {}, embeddings, multi_label, config, encoder.sentence_encoder)

    from newsdesk.train.classify.ensemble import EnsembleClassifier, combine

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
    from newsdesk.train.classify.encoder import EncoderClassifier
    from newsdesk.train.classify.ensemble import EnsembleClassifier
    from newsdesk.train.classify.tfidf import TopicClassifier

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
    from newsdesk.train.summarize.abstractive import AbstractiveSummarizer, evaluate_abstractive

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


# --------------------------------------------------------------------------- model card


def describe_classifier(manifest: dict[str, Any]) -> str:
    """The model card's classifier line for a transformer backend."""
    entry = manifest["classifier"]
    backend = entry["backend"]
    params = entry.get("params", {})
    thresholds = "; per-label thresholds tuned on held-out predictions" if manifest["multi_label"] else ""
    if backend == "sentence-encoder-linear":
        return (
            f"- Classifier: {backend} ({params.get('encoder')} article embeddings: mean-pooled, L2-normalised, "
            f"{params.get('window')}-token windows overlapping by {params.get('stride')}; logistic regression "
            f"C={params.get('head_C')}{thresholds})."
        )
    if backend == "ensemble":
        return (
            f"- Classifier: {backend} (TF-IDF linear SVM and {entry['members']['encoder']['params'].get('encoder')} "
            f"embeddings + logistic regression; TF-IDF weight {params.get('weight_tfidf')} learned on a validation "
            f"split{thresholds})."
        )
    return (
        f"- Classifier: {backend} ({params.get('base_model')} fine-tuned for {len(entry['training']['history'])} "
        f"epoch(s), best {entry['training']['best_epoch']}; {params.get('max_length')}-token windows, logits "
        f"averaged per article{thresholds})."
    )


def summarizer_card_lines(manifest: dict[str, Any], summary: dict[str, Any] | None, lines: list[str]) -> list[str]:
    """The model card's summariser section for an abstractive summariser or encoder features."""
    entry = manifest["summarizer"]
    if entry["kind"] != "abstractive":
        extra = f"- Extra sentence features from the sentence encoder: {', '.join(entry.get('extra_features', []))}."
        if summary and summary.get("without_extra_features"):
            without = summary["without_extra_features"]
            extra += (
                f" Without them, held-out ROUGE-2 {without['rouge2']:.4f} (with them {summary['ours']['rouge2']:.4f})."
            )
        return [*lines[:2], extra, *lines[2:]]
    config = entry["config"]
    training = entry.get("training", {})
    how = "fine-tuned on the reference summaries" if training.get("finetuned") else "used as it is (not fine-tuned)"
    out = [
        "## Summariser",
        (
            f"- Abstractive: {config['base_model']}, {how}; inputs of up to {entry['input_limit']} tokens, longer "
            "articles summarised window by window (sentence boundaries) and the partial summaries merged."
        ),
        f"- Generation: up to {config['max_new_tokens']} new tokens, {config['num_beams']} beam(s).",
    ]
    if summary and summary.get("evaluated"):
        out += [
            "",
            f"Held-out ROUGE F1 on {summary['articles']} articles:",
            "",
            "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum |",
            "| --- | --- | --- | --- |",
        ]
        for system in ("ours", "lead3", "lead_matched", "oracle"):
            scores = summary[system]
            out.append(f"| {system} | {scores['rouge1']:.4f} | {scores['rouge2']:.4f} | {scores['rougeLsum']:.4f} |")
    else:
        out.append("- Not evaluated: no reference summaries.")
    return [*out, ""]
