"""The short model card (README.md) written into every bundle."""

from __future__ import annotations

from typing import Any


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


def _summarizer_lines(manifest: dict[str, Any], summary: dict[str, Any] | None) -> list[str]:
    entry = manifest.get("summarizer")
    if not entry:
        return ["## Summariser", "- None (a bundle of format 1).", ""]
    length = entry["length"]
    lines = ["## Summariser"]
    if entry["kind"] == "supervised-extractive":
        lines.append(
            "- Supervised extractive: a logistic-regression sentence scorer trained on the reference summaries "
            f"({entry['training'].get('articles', '?')} articles); chooses {length['ratio']:.0%} of the sentences, "
            f"between {length['min_sentences']} and {length['max_sentences']}, skipping near-duplicates."
        )
    else:
        lines.append(
            "- Unsupervised TextRank (the data had no reference summaries), Lead-k when sentences share no words; "
            f"chooses {length['ratio']:.0%} of the sentences, between {length['min_sentences']} and "
            f"{length['max_sentences']}."
        )
    if summary and summary.get("evaluated"):
        lines += [
            "",
            f"Held-out ROUGE F1 on {summary['articles']} articles:",
            "",
            "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum |",
            "| --- | --- | --- | --- |",
        ]
        for system in ("ours", "lead3", "lead_matched", "textrank", "oracle"):
            scores = summary[system]
            lines.append(f"| {system} | {scores['rouge1']:.4f} | {scores['rouge2']:.4f} | {scores['rougeLsum']:.4f} |")
    else:
        lines.append("- Not evaluated: no reference summaries.")
    return [*lines, ""]


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
    thresholds = "; per-label thresholds tuned on out-of-fold predictions" if manifest["multi_label"] else ""
    lines = [
        f"# {manifest['name']} {manifest['version']}",
        "",
        f"News topic classifier and summariser made by newsdesk on {manifest['created']}.",
        "",
        "## Model",
        f"- Task: {task}; {len(labels)} labels: {shown}.",
        (
            f"- Classifier: {manifest['classifier']['backend']} (TF-IDF word n-grams, linear SVM, "
            f"Platt-calibrated probabilities{thresholds})."
        ),
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
