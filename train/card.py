"""The short model card (README.md) written into every bundle."""

from __future__ import annotations

from typing import Any

from newsdesk.train.bundle import TFIDF_BACKEND
from newsdesk.train.summarize.metrics import SYSTEMS


def _metric_rows(metrics: dict[str, Any]) -> list[str]:
    keys = (
        ("accuracy", "macro_f1", "weighted_f1")
        if metrics["task"] == "single-label"
        else ("micro_f1", "macro_f1", "micro_precision", "micro_recall", "samples_f1")
    )
    rows = [f"| {key} | {metrics[key]:.4f} |" for key in keys if key in metrics]
    for key, value in metrics.get("calibration", {}).items():
        rows.append(f"| calibration {key} | {value:.4f} |")
    return rows


def _rouge_table(summary: dict[str, Any] | None) -> list[str]:
    """The held-out ROUGE table of the summariser beside its baselines, or a line saying it was not evaluated."""
    if not (summary and summary.get("evaluated")):
        return ["- Not evaluated: no reference summaries."]
    lines = [
        "",
        f"Held-out ROUGE F1 on {summary['articles']} articles:",
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum |",
        "| --- | --- | --- | --- |",
    ]
    for system in SYSTEMS:
        if system in summary:
            scores = summary[system]
            lines.append(f"| {system} | {scores['rouge1']:.4f} | {scores['rouge2']:.4f} | {scores['rougeLsum']:.4f} |")
    return lines


def _abstractive_lines(entry: dict[str, Any]) -> list[str]:
    config = entry["config"]
    training = entry.get("training", {})
    how = "fine-tuned on the reference summaries" if training.get("finetuned") else "used as it is (not fine-tuned)"
    return [
        (
            f"- Abstractive: {config['base_model']}, {how}; inputs of up to {entry['input_limit']} tokens, longer "
            "articles summarised window by window (sentence boundaries) and the partial summaries merged."
        ),
        f"- Generation: up to {config['max_new_tokens']} new tokens, {config['num_beams']} beam(s).",
    ]


def _extractive_lines(entry: dict[str, Any], summary: dict[str, Any] | None) -> list[str]:
    length = entry["length"]
    if entry["kind"] == "supervised-extractive":
        lines = [
            (
                "- Supervised extractive: a logistic-regression sentence scorer trained on the reference summaries "
                f"({entry['training'].get('articles', '?')} articles); chooses {length['ratio']:.0%} of the sentences, "
                f"between {length['min_sentences']} and {length['max_sentences']}, skipping near-duplicates."
            )
        ]
    else:
        lines = [
            (
                "- Unsupervised TextRank (the data had no reference summaries), Lead-k when sentences share no words; "
                f"chooses {length['ratio']:.0%} of the sentences, between {length['min_sentences']} and "
                f"{length['max_sentences']}."
            )
        ]
    if "sentence_encoder" in entry:
        extra = f"- Extra sentence features from the sentence encoder: {', '.join(entry.get('extra_features', []))}."
        if summary and summary.get("without_extra_features"):
            without = summary["without_extra_features"]
            extra += (
                f" Without them, held-out ROUGE-2 {without['rouge2']:.4f} (with them {summary['ours']['rouge2']:.4f})."
            )
        lines.append(extra)
    return lines


def _summarizer_lines(manifest: dict[str, Any], summary: dict[str, Any] | None) -> list[str]:
    entry = manifest.get("summarizer")
    if not entry:
        return ["## Summariser", "- None (a bundle of format 1).", ""]
    described = _abstractive_lines(entry) if entry["kind"] == "abstractive" else _extractive_lines(entry, summary)
    return ["## Summariser", *described, *_rouge_table(summary), ""]


def _classifier_line(manifest: dict[str, Any]) -> str:
    """The model card's classifier line, by backend."""
    entry = manifest["classifier"]
    backend = entry["backend"]
    params = entry.get("params", {})
    if backend == TFIDF_BACKEND:
        tuned = "; per-label thresholds tuned on out-of-fold predictions" if manifest["multi_label"] else ""
        return f"- Classifier: {backend} (TF-IDF word n-grams, linear SVM, Platt-calibrated probabilities{tuned})."
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


def render_model_card(manifest: dict[str, Any], metrics: dict[str, Any], summary: dict[str, Any] | None = None) -> str:
    """Markdown text describing what the models are, what they were trained on, and how well they did."""
    data = manifest.get("data", {})
    training = manifest.get("training", {})
    task = (
        "multi-label (several topics per article)"
        if manifest["multi_label"]
        else "single-label (one topic per article)"
    )
    labels = manifest["labels"]
    shown = ", ".join(labels[:30]) + (f" and {len(labels) - 30} more" if len(labels) > 30 else "")
    lines = [
        f"# {manifest['name']} {manifest['version']}",
        "",
        f"News topic classifier and summariser made by newsdesk on {manifest['created']}.",
        "",
        "## Model",
        f"- Task: {task}; {len(labels)} labels: {shown}.",
        _classifier_line(manifest),
        f"- Parameters: `{manifest['classifier']['params']}`",
        "",
        "## Data",
        f"- Source: `{data.get('source', '?')}` (fingerprint `{str(data.get('fingerprint', '?'))[:16]}`).",
        (
            f"- {data.get('articles', '?')} articles after cleaning and deduplication; "
            f"{training.get('train_articles', '?')} used for training, {training.get('test_articles', '?')} held out "
            f"(seed {training.get('seed', '?')})."
        ),
        "",
        "## Held-out metrics",
        "| metric | value |",
        "| --- | --- |",
        *_metric_rows(metrics),
        "",
        "Per-class scores and the confusion matrix are in `metrics.json` and `confusion_matrix.png`.",
        "",
        *_summarizer_lines(manifest, summary),
        "## Use and limits",
        (
            "- Input is cleaned with newsdesk's shared cleaning (Unicode, whitespace, control characters); "
            "serve and score apply the same cleaning."
        ),
        (
            "- Only the labels above can be predicted. Articles far from the training data's style or period "
            "may be classified with less accuracy than the held-out numbers suggest."
        ),
        "- Load with `newsdesk.train.bundle.load_bundle(path)`: the loader checks the format version and checksums.",
        "",
    ]
    return "\n".join(lines)
