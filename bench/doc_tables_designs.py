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
    rule_header = ["word-length rule (position prior)", "BBC validation", "Reuters headline", "cnndm-frank"]
    rule_rows = [
        [f"**{name}**" if "(chosen)" in name else name]
        + [
            f"{_pair(d[where])} ({d[where]['median_words']:.0f} words)"
            for where in ("bbc_val", "reuters_head", "cnndm")
        ]
        for name, d in r.get("length_rules", {}).items()
    ]
    rules = f"{table(rule_header, rule_rows, right=[1, 2, 3])}\n\n" if rule_rows else ""
    return (
        f"{table(header, rows, right=[1, 2, 3, 4, 5])}\n\n{rules}"
        f"Lead-3 on the same candidates: BBC validation {lead['bbc_val.lead3']['rouge2']:.4f}, Reuters headline "
        f"{_pair(lead['reuters_head.lead3'])}, cnndm-frank {_pair(lead['cnndm.lead3'])}; Lead-4 on cnndm-frank "
        f"{_pair(lead['cnndm.lead4'])}. Measured {r['date'][:10]}."
    )


SYSTEM_LABELS = (
    ("ours_brief", "ours, brief (3 sentences, about 75 words)"),
    ("lead_brief", "Lead, same sentences as brief"),
    ("ours_standard", "ours, standard (5 sentences, about 150 words)"),
    ("lead_standard", "Lead, same sentences as standard"),
    ("ours", "ours, reference preset (learned length and ranking)"),
    ("lead_matched", "Lead, same sentences as ours"),
    ("ours_reflen", "ours at the reference's sentence count"),
    ("lead_reflen", "Lead at the reference's sentence count"),
    ("ours_k", "ours at exactly 4 sentences"),
    ("lead_k", "Lead-4 (Punkt sentences)"),
    ("lead3", "Lead-3"),
    ("pacsum_brief", "PacSum, brief"),
    ("pacsum", "PacSum, k matched to ours"),
    ("textrank", "TextRank, k matched to ours"),
    ("oracle", "greedy oracle (ceiling)"),
)


def render_summarize_systems(r: Results) -> str:
    """Every system on BBC held-out and cnndm-frank (ROUGE-1 / ROUGE-2 F1), then the issue's measures."""
    rows = [
        [
            label,
            *(
                f"{r[f'{where}.{system}.{metric}']:.4f}"
                for where in ("bbc", "cnndm")
                for metric in ("rouge1", "rouge2")
            ),
        ]
        for system, label in SYSTEM_LABELS
    ]
    systems = table(
        ["system", "BBC ROUGE-1", "BBC ROUGE-2", "cnndm-frank ROUGE-1", "cnndm-frank ROUGE-2"], rows, right=[1, 2, 3, 4]
    )

    def signed(key: str) -> str:
        return f"{r[key]:+.4f}"

    measures = [
        ["cnndm-frank: ours at 4 sentences − Lead-4, ROUGE-2", signed("cnndm.ours_k_minus_lead_k.rouge2"), "≥ +0.01"],
        ["cnndm-frank: ours at 4 sentences − Lead-4, ROUGE-1", signed("cnndm.ours_k_minus_lead_k.rouge1"), "≥ 0"],
        ["cnndm-frank: brief − Lead-3, ROUGE-1", signed("cnndm.ours_brief_minus_lead3.rouge1"), "≥ 0"],
        ["cnndm-frank: brief − Lead-3, ROUGE-2", signed("cnndm.ours_brief_minus_lead3.rouge2"), "≥ 0"],
        ["BBC: reference preset ROUGE-2", f"{r['bbc.ours_reference.rouge2']:.4f}", "≥ 0.76"],
        [
            "brief median words (BBC / cnndm-frank)",
            f"{r['bbc.ours_brief.median_words']:.0f} / {r['cnndm.ours_brief.median_words']:.0f}",
            "40-80",
        ],
        ["training the summariser on BBC (s)", f"{r['bbc.train_seconds']:.1f}", "≤ 30"],
        ["summarising raw articles, 1 core, brief (articles/s)", f"{r['bbc.ours.articles_per_s']:.0f}", "≥ 300"],
    ]
    return (
        f"{systems}\n\n{table(['measure', 'value', 'target'], measures, right=[1])}\n\n"
        f"Measured {r['date'][:16].replace('T', ' ')} UTC."
    )
