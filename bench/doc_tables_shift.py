"""Renderer for the ``shift`` section of ``bench/classify.py``: other outlets, needs review, every design tried."""

from __future__ import annotations

from typing import Any

from doc_tables import load_script, num, rows_with_targets, table

Results = dict[str, Any]

DESIGN_COLUMNS = (
    ("accuracy", "HuffPost in-scope accuracy"),
    ("macro_f1", "macro-F1"),
    ("out_of_scope_abstained", "out of scope sent for review"),
    ("in_scope_coverage", "in scope answered"),
    ("in_scope_selective_accuracy", "accuracy on those"),
    ("bbc_title_lead_accuracy", "BBC held-out, headline + lead only"),
    ("bbc_held_out_accuracy", "BBC held-out, full"),
    ("scope_auc", "scope AUC"),
)


def _value(key: str, value: float) -> str:
    if isinstance(value, int):
        return num(value)
    return num(value, 1) if key.endswith(("_mb", "_per_s_one_thread")) else num(value, 4)


def render_shift(r: Results) -> str:
    """The shift targets, then every design beside the plain baseline (``shift.designs``)."""
    targets = load_script("classify").TARGETS
    keyed = [(label, key, _value(key, r[key])) for key, label in load_script("shift").SHIFT_ROWS if key in r]
    head = table(["measure (default design)", "value", "target"], rows_with_targets(r, targets, keyed), right=[1])
    designs = r["shift.designs"]
    rows = [
        [f"`{name}`: {row['description']}", *(num(row[key], 4) for key, _ in DESIGN_COLUMNS)]
        for name, row in designs.items()
    ]
    body = table(
        ["design", *(label for _, label in DESIGN_COLUMNS)], rows, right=list(range(1, len(DESIGN_COLUMNS) + 1))
    )
    default = designs["default"]
    scope = ", ".join(f"{name} {num(auc, 3)}" for name, auc in default["scope_auc_by_score"].items())
    without_views = default["review_without_short_views"]
    return (
        f"{head}\n\n{body}\n\n"
        f"Out-of-scope scores considered for the needs-review rule, as the ROC AUC of telling HuffPost's in-scope "
        f"from its out-of-scope records with the default design (0.5 = chance): {scope}. "
        f"The rule learned on full held-out articles only (no headline views) sends "
        f"{num(without_views['out_of_scope_abstained'], 3)} of out-of-scope records for review and answers "
        f"{num(without_views['in_scope_coverage'], 3)} of in-scope ones. HuffPost POLITICS recall "
        f"(default design): {num(default['politics_recall'], 3)}.{_encoder_notes(r)} Measured {r['date'][:10]}."
    )


def _encoder_notes(r: Results) -> str:
    """What the encoder designs add (nothing when the run skipped them)."""
    designs = r["shift.designs"]
    if "encoder" not in designs:
        return " The encoder designs were not run (--skip-shift-encoder, or no torch)."
    scope = ", ".join(f"{name} {num(auc, 3)}" for name, auc in designs["encoder"]["scope_auc_by_score"].items())
    before = designs["encoder_training_prior"]["review_confidence_only"]
    bound = designs["encoder"].get("best_threshold_at_70_coverage", {})
    bound_text = "; ".join(
        f"{name}: {num(b['out_of_scope_abstained'], 3)} of out-of-scope records sent for review, "
        f"{num(b['in_scope_selective_accuracy'], 3)} accuracy on the answered"
        for name, b in bound.items()
    )
    bound_note = (
        f" An upper bound for the `encoder` design, with the threshold chosen on HuffPost itself so that 70% of "
        f"in-scope records are answered ({bound_text}): no rule learned without HuffPost does better at that "
        f"coverage with these scores."
        if bound
        else ""
    )
    return (
        f" Scope scores in encoder space (`encoder` design, ROC AUC as above): {scope}. The encoder backend's "
        f"rule before (confidence only, `encoder_training_prior`) sent {num(before['out_of_scope_abstained'], 3)} "
        f"of out-of-scope records for review, answered {num(before['in_scope_coverage'], 3)} of in-scope ones at "
        f"{num(before['in_scope_selective_accuracy'], 3)} accuracy. `shift.huffpost_encoder.*` is "
        f"`{r['shift.huffpost_encoder.design']}` (`--backend encoder` with its defaults, chosen for news unlike the "
        f"training data on principle, not on these numbers); embedding the {num(r['shift.huffpost.records'])} HuffPost records and the "
        f"BBC texts took {num(r['shift.huffpost_encoder.embed_seconds'], 0)} s on one thread.{bound_note}"
    )
