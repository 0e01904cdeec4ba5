"""Batch scoring: ``newsdesk score`` adds topics (and summaries) to every row of CSV/TSV/JSONL/Parquet files.

The output has every input column, in input order, then ``topic``, ``topic_score``, ``needs_review``
and ``review_reason`` (no topic when the model sends the article for review), ``topics`` (with
``--top-k``), ``explanation`` (with ``--explain``), ``summary`` (with ``--summarize``) and ``error``, and exactly one row per input
row. A row that could not be read cleanly, or whose text is empty, keeps its place with ``error``
filled (``code: message``) and no topic. Articles go through :mod:`newsdesk.serve.analysis`, the code the
HTTP API uses, so a file scores exactly like the same articles sent to the server.

Two engines share :func:`newsdesk.serve.batch.rows.score_table`, the per-chunk scoring function: ``local``
(:mod:`newsdesk.serve.batch.local`, chunked streaming in one process plus helper processes for cleaning)
and ``dask`` (:mod:`newsdesk.serve.batch.dask_engine`, the same function per partition on a Dask cluster). Both
write parts into a checkpoint folder and rename the result onto OUTPUT only when it is complete
(:mod:`newsdesk.serve.batch.output`).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsdesk.train.bundle import Bundle
    from newsdesk.train.stories.config import ClusterConfig
    from newsdesk.train.text.cleaning import CleaningOptions

# This module is imported by newsdesk.serve.cli for every command: only the standard library at the top
# (newsdesk.train.summarize.presets is standard library only).
from newsdesk.train.summarize.presets import SummaryLength

log = logging.getLogger(__name__)

TOPIC_COL = "topic"
SCORE_COL = "topic_score"
TOPICS_COL = "topics"
NEEDS_REVIEW_COL = "needs_review"
REVIEW_REASON_COL = "review_reason"
EXPLANATION_COL = "explanation"
SUMMARY_COL = "summary"
ERROR_COL = "error"
EMPTY_TEXT_ROW = "empty_text"
SUMMARY_FAILED_ROW = "summary_failed"
ENGINES = ("local", "dask")
DEFAULT_CHUNKSIZE = 2_000
"""Rows per chunk: large enough that per-chunk costs vanish, small enough that a few chunks in flight
in each of several processes stay well under a gigabyte."""


@dataclass(frozen=True)
class ScoreOptions:
    """What to compute for each row (the same for every engine)."""

    text_col: str = "text"
    title_col: str | None = None
    top_k: int | None = None
    """Add a ``topics`` column with the ``top_k`` best topics and scores as JSON; None for none."""
    summarize: bool = False
    format: str | None = None
    """``html``, ``text`` or ``auto``; None: as the model was trained."""
    remove_boilerplate: bool | None = None
    """None: as the model was trained."""
    summary_length: SummaryLength = field(default_factory=SummaryLength)
    """How long the summaries are (with ``summarize``): a preset and/or explicit options."""
    explain: bool = False
    """Add an ``explanation`` column: the terms behind each topic, with weights, as JSON."""
    clustering: ClusterConfig | None = None
    """``--cluster``: add ``duplicate_of`` and ``story_id`` (:mod:`newsdesk.serve.batch.clusters`); None for none."""
    date_col: str | None = None
    """With clustering: the column of each article's date (groups stay within ``window_days``)."""
    id_col: str | None = None
    """The input's id column (set from the input by ``run_score``); cluster columns name rows by it."""

    def cleaning(self, bundle: Bundle) -> CleaningOptions:
        """The bundle's cleaning with these options on top."""
        return bundle.cleaning.overridden(self.format, self.remove_boilerplate)

    def __post_init__(self) -> None:
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"--top-k must be at least 1, got {self.top_k}")


# --------------------------------------------------------------------------- the report


@dataclass
class ScoreReport:
    """What a run did; printed at the end, and as JSON with ``--json``."""

    input: str
    output: str
    model: str
    engine: str
    rows_read: int = 0
    rows_scored: int = 0
    rows_with_errors: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rows_this_run: int = 0
    resumed_rows: int = 0
    first_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows_this_run / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """Human-readable lines."""
        out = [f"scored {self.input} -> {self.output} with {self.model} ({self.engine} engine)"]
        if self.resumed_rows:
            out.append(f"resumed: {self.resumed_rows:,} rows were already scored by the interrupted run")
        by_code = ", ".join(f"{code} {n:,}" for code, n in sorted(self.errors.items()))
        out.append(
            f"rows read {self.rows_read:,}; scored {self.rows_scored:,}; with errors {self.rows_with_errors:,}"
            + (f" ({by_code})" if by_code else "")
        )
        out.append(f"{self.seconds:.1f} s; {self.rows_per_s:,.0f} rows/s")
        if self.first_errors:
            out.append("first rows with errors:")
            out += [f"  {line}" for line in self.first_errors]
        return out + self.notes

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_s": round(self.rows_per_s, 1), "seconds": round(self.seconds, 3)}


def count_errors(errors: Sequence[str]) -> Counter[str]:
    """Rows with errors by code (the text before the first colon)."""
    return Counter(e.split(":", 1)[0] for e in errors if e)


# --------------------------------------------------------------------------- running a job


@dataclass(frozen=True)
class ScoreJob:
    """Everything one ``newsdesk score`` run needs, validated at the edges."""

    input: str
    model: str
    out: str
    options: ScoreOptions = ScoreOptions()
    id_col: str | None = None
    version: str | None = None
    chunksize: int = DEFAULT_CHUNKSIZE
    engine: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    encoding: str = "auto"
    overwrite: bool = False
    resume: bool = False

    def __post_init__(self) -> None:
        if self.chunksize < 1:
            raise ValueError(f"--chunksize must be at least 1, got {self.chunksize}")
        if self.engine not in ENGINES:
            raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.scheduler is not None and self.engine != "dask":
            raise ValueError("--scheduler needs --engine dask")
        if self.workers is not None and self.workers < 0:
            raise ValueError(f"--workers must be 0 or more, got {self.workers}")


def default_workers() -> int:
    """Helper processes for the local engine: one per CPU (cleaning costs more than classifying)."""
    return os.cpu_count() or 1
