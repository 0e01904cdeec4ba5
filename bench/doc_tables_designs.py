"""Renderer for bench/summarize_designs.py: the news-length rankings compared (see doc_tables.py for the others)."""

from __future__ import annotations

from typing import Any

from doc_tables import table

Results = dict[str, Any]


def _pair(scores: dict[str, float]) -> str:
    return f"{scores['rouge1']:.4f} / {scores['rouge2']:.4f}"


def render_summarize_designs(r: Results) -> str:
    """One row per design: the choosing validation (BBC, Reuters headlines), then cnndm-frank and BBC reported."""
    header = [
        "design",
        "BBC validation brief R2",
        "Reuters headline brief R1 / R2",
        "cnndm brief R1 / R2 (median words)",
        "cnndm 4 sentences R1 / R2",
        "BBC reference R2",
    ]
    rows = [
        [
            f"**{name}**" if "(chosen)" in name else name,
            f"{d['bbc_val.brief']['rouge2']:.4f}",
            _pair(d["reuters_head.brief"]),
            f"{_pair(d['cnndm.brief'])} ({d['cnndm.brief']['median_words']:.0f})",
            _pair(d["cnndm.k4"]),
            f"{d['bbc_reference']['rouge2']:.4f}",
        ]
        for name, d in r["designs"].items()
    ]
    lead = r["lead"]
    return (
        f"{table(header, rows, right=[1, 2, 3, 4, 5])}\n\n"
        f"Lead-3 on the same candidates: BBC validation {lead['bbc_val.lead3']['rouge2']:.4f}, Reuters headline "
        f"{_pair(lead['reuters_head.lead3'])}, cnndm-frank {_pair(lead['cnndm.lead3'])}; Lead-4 on cnndm-frank "
        f"{_pair(lead['cnndm.lead4'])}. Measured {r['date'][:10]}."
    )
