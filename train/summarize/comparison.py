"""Our summariser at each length preset, and at the references' own length, beside Lead at equal length.

Added to :func:`newsdesk.train.summarize.metrics.evaluate_summarizer`'s systems so that ``newsdesk
evaluate``, training's held-out report and ``bench/summarize.py`` show the same comparison: a summary
is only as good as Lead-k *at the same length* (Lead-k is hard to beat on news).
"""

from __future__ import annotations

from typing import Any

from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.summarize.features import PreparedArticle
from newsdesk.train.summarize.presets import BRIEF, STANDARD

LENGTH_SYSTEMS = (
    "ours_brief",
    "lead_brief",
    "ours_standard",
    "lead_standard",
    "ours_reflen",
    "lead_reflen",
    "pacsum",
    "pacsum_brief",
)
SUMMARY_ROWS = ("ours", "lead_matched", *LENGTH_SYSTEMS[:6], "lead3", *LENGTH_SYSTEMS[6:], "textrank", "oracle")
"""The summary systems ``evaluate`` prints, each ours beside Lead at the same length."""
LENGTH_NOTES = {
    "ours_brief": "this bundle's summariser with the brief preset (3 sentences, about 75 words)",
    "lead_brief": "the first k sentences, k = the number of sentences ours_brief chose for that article",
    "ours_standard": "this bundle's summariser with the standard preset (5 sentences, about 150 words)",
    "lead_standard": "the first k sentences, k = the number of sentences ours_standard chose for that article",
    "ours_reflen": "this bundle's summariser with k = the number of sentences in that article's reference",
    "lead_reflen": "the first k sentences, k = the number of sentences in that article's reference",
    "pacsum": "PacSum (position-aware centrality; what training without references fits), k matched to ours",
    "pacsum_brief": "PacSum with the brief preset (what a bundle trained without references gives by default)",
}


def length_outputs(
    summarizer: ExtractiveSummarizer,
    pacsum: ExtractiveSummarizer,
    item: Any,
    ours_k: int,
    prepared: PreparedArticle | None = None,
) -> dict[str, list[str]]:
    """Each of :data:`LENGTH_SYSTEMS`' summary of one referenced article (lists of sentences).

    ``item`` is a ``metrics.ReferencedArticle``; ``prepared`` the body already split and vectorised
    with the summariser's vocabulary (PacSum shares it).
    """
    body, title, sentences = item.body, item.title, item.sentences
    out: dict[str, list[str]] = {}
    for preset in (BRIEF, STANDARD):
        summary = summarizer.summarize_clean(body, title, length=preset, prepared=prepared)
        chosen = [s.text for s in summary.sentences]
        out[f"ours_{preset}"] = chosen
        out[f"lead_{preset}"] = sentences[: len(chosen)]
    k = max(1, len(item.reference))
    reflen = summarizer.summarize_clean(body, title, num_sentences=k, prepared=prepared)
    out["ours_reflen"] = [s.text for s in reflen.sentences]
    out["lead_reflen"] = sentences[:k]
    matched = pacsum.summarize_clean(body, title, num_sentences=ours_k, prepared=prepared)
    out["pacsum"] = [s.text for s in matched.sentences]
    out["pacsum_brief"] = [
        s.text for s in pacsum.summarize_clean(body, title, length=BRIEF, prepared=prepared).sentences
    ]
    return out


def length_notes() -> dict[str, Any]:
    """What each added system is, for the report's notes."""
    return dict(LENGTH_NOTES)
