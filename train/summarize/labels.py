"""Which of an article's sentences a reference summary contains: the supervised scorer's training labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from newsdesk.train.summarize.rouge import greedy_oracle
from newsdesk.train.text.sentences import Sentence, normalize_sentence, split_reference


def reference_labels(sentences: Sequence[Sentence], reference: str, oracle_fallback: float) -> tuple[np.ndarray, bool]:
    """1 for each sentence the reference contains; returns the labels and whether the ROUGE oracle made them.

    A candidate joined from several sentences (a quotation cut at its inner full stops) counts as
    contained when its words appear, in order, in the reference. When fewer than ``oracle_fallback``
    of the reference's sentences are found verbatim, the greedy ROUGE oracle labels the article.
    """
    texts = [s.text for s in sentences]
    reference_sentences = split_reference(reference, texts)
    wanted = {normalize_sentence(r) for r in reference_sentences}
    wanted.discard("")
    whole = f" {' '.join(normalize_sentence(r) for r in reference_sentences)} "
    keys = [normalize_sentence(t) for t in texts]
    labels = np.array([k in wanted or (bool(k) and f" {k} " in whole) for k in keys], dtype=np.int8)
    joined = f" {' '.join(keys)} "
    found = sum(1 for w in wanted if f" {w} " in joined)
    if wanted and found >= oracle_fallback * len(wanted):
        return labels, False
    labels = np.zeros(len(texts), dtype=np.int8)
    labels[greedy_oracle(texts, "\n".join(reference_sentences))] = 1
    return labels, True
