"""A group of articles in brief: its representative and an extractive summary of what the group says.

The summary is the representative's own summary sentences, then sentences from the other articles'
summaries that add something: a sentence is added when at most ``max_overlap`` of its content words
were already said (near-duplicates add nothing, so they are skipped outright by the caller).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsdesk.train.stories.clusters import cosine
from newsdesk.train.stories.shingles import words
from newsdesk.train.stories.sketches import Sketches
from newsdesk.train.text.stop_words import ENGLISH_STOP_WORDS


@dataclass(frozen=True)
class DigestSentence:
    """One sentence of a group summary and the article (its position in the request) it comes from."""

    article: int
    text: str


def representative(sketches: Sketches, members: Sequence[int]) -> int:
    """The member most similar to the others (highest summed cosine of story terms); the earliest on ties."""
    if len(members) <= 2:
        return min(members)
    rows = np.asarray(members)
    i, j = np.meshgrid(rows, rows, indexing="ij")
    similarity = cosine(sketches, i.ravel(), j.ravel()).reshape(len(rows), len(rows)).sum(axis=1)
    best = np.flatnonzero(similarity >= similarity.max() - 1e-6)
    return int(rows[best].min())


def content_words(text: str) -> set[str]:
    """Words that carry content: not stop words, not single characters."""
    return {w for w in words(text) if len(w) > 1 and w not in ENGLISH_STOP_WORDS}


def group_digest(
    base: Sequence[DigestSentence],
    others: Sequence[DigestSentence],
    max_added: int = 3,
    max_overlap: float = 0.5,
) -> list[DigestSentence]:
    """``base`` (the representative's summary), then up to ``max_added`` sentences of ``others`` that add content."""
    said: set[str] = set()
    for sentence in base:
        said |= content_words(sentence.text)
    out = list(base)
    added = 0
    for sentence in others:
        if added >= max_added:
            break
        new = content_words(sentence.text)
        if not new or len(new & said) / len(new) > max_overlap:
            continue
        out.append(sentence)
        said |= new
        added += 1
    return out
