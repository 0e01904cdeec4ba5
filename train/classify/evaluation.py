"""Classification metrics: accuracy, F1, per-class scores, calibration, and a confusion-matrix picture."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)
from sklearn.preprocessing import MultiLabelBinarizer

from newsdesk.train.classify.tfidf import TopicClassifier


def _round(value: float) -> float:
    return round(float(value), 4)


def _per_class(y_true: Any, y_pred: Any, labels: list[str]) -> dict[str, dict[str, float]]:
    """Per-label scores; ``y_true``/``y_pred`` are label lists, or indicator matrices whose columns are ``labels``."""
    is_matrix = isinstance(y_true, np.ndarray) and y_true.ndim == 2
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=None if is_matrix else labels, zero_division=0
    )
    return {
        label: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


def calibration_metrics(probs: np.ndarray, true_index: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Log loss, Brier score and expected calibration error of the top label (single-label)."""
    n = probs.shape[0]
    onehot = np.zeros_like(probs)
    known = true_index >= 0
    onehot[np.flatnonzero(known), true_index[known]] = 1
    clipped = np.clip(probs, 1e-12, 1.0)
    log_loss = float(-np.mean(np.log(np.where(known, clipped[np.arange(n), np.maximum(true_index, 0)], 1e-12))))
    brier = float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == true_index).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in pairwise(edges):
        mask = (confidence > lo) & (confidence <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return {"log_loss": _round(log_loss), "brier": _round(brier), "ece": _round(ece)}


def single_label_metrics(
    truth: Sequence[str], predicted: Sequence[str], model_labels: list[str], probs: np.ndarray | None = None
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class scores and the confusion matrix; unseen true labels count as errors."""
    labels = list(model_labels) + sorted(set(truth) - set(model_labels))
    metrics: dict[str, Any] = {
        "task": "single-label",
        "n": len(truth),
        "accuracy": _round(accuracy_score(truth, predicted)),
        "macro_f1": _round(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": _round(f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)),
        "per_class": _per_class(list(truth), list(predicted), labels),
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }
    unseen = sorted(set(truth) - set(model_labels))
    if unseen:
        metrics["unseen_labels"] = unseen
    if probs is not None:
        index = {label: i for i, label in enumerate(model_labels)}
        true_index = np.array([index.get(label, -1) for label in truth])
        metrics["calibration"] = calibration_metrics(probs, true_index)
    return metrics


def multi_label_metrics(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], model_labels: list[str]
) -> dict[str, Any]:
    """Micro/macro F1, precision, recall and per-class scores; unseen true labels count as misses."""
    labels = list(model_labels) + sorted({label for row in truth for label in row} - set(model_labels))
    binarizer = MultiLabelBinarizer(classes=labels).fit([])
    y_true = binarizer.transform(truth)
    y_pred = binarizer.transform(predicted)
    micro_p, micro_r, micro_f, _ = precision_recall_fscore_support(y_true, y_pred, average="micro", zero_division=0)
    metrics: dict[str, Any] = {
        "task": "multi-label",
        "n": len(truth),
        "micro_f1": _round(micro_f),
        "micro_precision": _round(micro_p),
        "micro_recall": _round(micro_r),
        "macro_f1": _round(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "samples_f1": _round(f1_score(y_true, y_pred, average="samples", zero_division=0)),
        "subset_accuracy": _round(accuracy_score(y_true, y_pred)),
        "hamming_loss": _round(hamming_loss(y_true, y_pred)),
        "per_class": _per_class(y_true, y_pred, labels),
    }
    unseen = labels[len(model_labels) :]
    if unseen:
        metrics["unseen_labels"] = unseen
    return metrics


def evaluate_classifier(
    classifier: TopicClassifier, texts: Sequence[str], truth: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Score ``classifier`` on labelled texts with the metrics that fit its task."""
    probs = classifier.predict_proba(texts)
    predicted = classifier.predict_from_proba(probs)
    model_labels = [str(c) for c in classifier.classes_]
    if classifier.multi_label_:
        return multi_label_metrics(truth, predicted, model_labels)
    # A single-label model scored on rows with several labels: the first one is the reference.
    return single_label_metrics([row[0] for row in truth], [row[0] for row in predicted], model_labels, probs)


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    """The few numbers worth printing and putting in a manifest."""
    keys = ("accuracy", "macro_f1") if metrics["task"] == "single-label" else ("micro_f1", "macro_f1")
    return {key: metrics[key] for key in keys}


def plot_confusion_matrix(metrics: dict[str, Any], path: Path, title: str = "Held-out confusion matrix") -> None:
    """Draw the confusion matrix (counts, rows = true label) to a PNG; multi-label gets per-label F1 bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "confusion_matrix" in metrics:
        labels = metrics["confusion_matrix"]["labels"]
        matrix = np.array(metrics["confusion_matrix"]["matrix"])
        size = max(4.0, 0.6 * len(labels) + 2)
        fig, ax = plt.subplots(figsize=(size, size))
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        threshold = matrix.max() / 2 if matrix.size else 0
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    color="white" if matrix[i, j] > threshold else "black",
                    fontsize=8,
                )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    else:
        per_class = metrics["per_class"]
        labels = sorted(per_class, key=lambda k: -per_class[k]["support"])[:40]
        fig, ax = plt.subplots(figsize=(8, max(4.0, 0.25 * len(labels) + 1)))
        ax.barh(range(len(labels)), [per_class[k]["f1"] for k in labels], color="tab:blue")
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1 (most frequent labels)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
