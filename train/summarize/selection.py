"""Choosing a summary's sentences from their scores: best first, within the length, no near-duplicates, whole quotes."""

from __future__ import annotations

import numpy as np

from newsdesk.train.summarize.features import PreparedArticle
from newsdesk.train.summarize.presets import within_words


def select_sentences(
    p: PreparedArticle,
    scores: np.ndarray,
    k: int,
    max_words: int | None,
    redundancy: float,
    whole_quotes: bool = True,
    stop_at_overflow: bool = False,
    about_words: int | None = None,
) -> list[int]:
    """Best-scored sentences up to ``k`` (and the word budget), skipping near-duplicates; article order.

    A sentence whose TF-IDF cosine to one already chosen is above ``redundancy`` is skipped. With
    ``whole_quotes``, a sentence of a quotation cut into several sentences comes with the rest of
    the quotation (all of it must fit), so a summary never holds half a quote. The word budget is
    ``max_words`` (a cap) and ``about_words`` (a length to come near; see
    :func:`~newsdesk.train.summarize.presets.within_words`). A sentence over the word budget is passed
    over for the next best, or, with ``stop_at_overflow`` (scores that rank by position), ends the
    summary. When nothing fits the word budget, the best sentence is returned on its own.
    """
    order = np.argsort(-scores, kind="stable")
    groups = p.quote_groups if whole_quotes else list(range(len(p.sentences)))
    chosen: list[int] = []
    words = 0
    for i in order:
        if len(chosen) >= k:
            break
        if i in chosen:
            continue
        members = [j for j, g in enumerate(groups) if g == groups[i]] if groups.count(groups[i]) > 1 else [int(i)]
        if len(chosen) + len(members) > k:
            continue
        n_words = sum(p.word_counts[j] for j in members)
        if not within_words(words, n_words, max_words, about_words):
            if stop_at_overflow and chosen:
                break
            continue
        if chosen and p.cosines(members, chosen).max() > redundancy:
            continue
        chosen.extend(int(j) for j in members)
        words += n_words
    if not chosen:
        chosen = [int(order[0])]
    return sorted(chosen)
