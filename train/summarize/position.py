"""Scores for news lengths (brief, standard, explicit counts): Lead's position prior, which the learned score only adjusts.

A scorer learned from one outlet's references learns that outlet's habits. BBC's references keep
about 40% of an article, chosen for centrality from all over it, so the scorer learned to ignore the
lead; on news whose summaries were written by editors (CNN/Daily Mail highlights) and against the
headlines of another outlet (Reuters), every amount of that learned score added to the position
prior did worse than the prior alone (``docs/summarization.md``: the designs measured). The lead is
what transfers, so summaries of news lengths rank sentences by position, ``-log(1 + index)``, plus
``learned_weight`` times the learned log-odds (0 by default: Lead's order). The learned scorer alone
ranks sentences for the ``reference`` length, which imitates the training references.

Under a position ranking a sentence that does not fit the word budget ends the summary
(``selection.py``, ``stop_at_overflow``): reaching further down the article for a shorter sentence
trades the lead's next sentence for a weaker one just to fill words.
"""

from __future__ import annotations

import numpy as np

from newsdesk.train.summarize.shift import METHOD as LEAD_PRIOR

__all__ = ["ADJUSTED", "LEAD_PRIOR", "adjusted_scores", "log_position_prior"]
ADJUSTED = "lead-prior+learned"
"""The summary method when the learned score adjusts the position prior (``learned_weight`` > 0)."""


def log_position_prior(n_sentences: int) -> np.ndarray:
    """``-log(1 + index)`` per sentence: the first sentence 0, later ones ever lower, ever closer together."""
    return -np.log1p(np.arange(n_sentences, dtype=float))


def adjusted_scores(log_odds: np.ndarray, weight: float) -> np.ndarray:
    """The position prior plus ``weight`` times the learned log-odds of each sentence."""
    return log_position_prior(len(log_odds)) + weight * np.asarray(log_odds, dtype=float)
