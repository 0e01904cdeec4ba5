"""Batch scoring: ``newsdesk score`` adds topics (and summaries) to every row of CSV/TSV/JSONL/Parquet files.

The output has every input column, in input order, then ``topic``, ``topic_score``, ``topics``
(with ``--top-k``), ``summary`` (with ``--summarize``) and ``error``, and exactly one row per input
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

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsdesk.serve.batch.input import ScoreInput
    from newsdesk.train.bundle import Bundle
    from newsdesk.train.text.cleaning import CleaningOptions

# This module is imported by newsdesk.serve.cli for every command: only the standard library at the top.

log = logging.getLogger(__name__)

TOPIC_COL = "topic"
SCORE_COL = "topic_score"
TOPICS_COL = "topics"
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


def job_identity(job: ScoreJob, source: ScoreInput, bundle: Bundle, options: ScoreOptions) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: input fingerprint, model, options, engine."""
    return {
        "input": source.fingerprint(),
        "model": {"path": str(bundle.path.resolve()), "manifest_sha256": bundle.manifest.get("manifest_sha256")},
        "options": {
            "text_col": options.text_col,
            "title_col": options.title_col,
            "top_k": options.top_k,
            "summarize": options.summarize,
            "cleaning": options.cleaning(bundle).to_dict(),
            "encoding": source.encoding,
        },
        "engine": job.engine,
        # Dask parts are numbered by partition, and the partitions depend on the chunk size.
        **({"chunksize": job.chunksize} if job.engine == "dask" else {}),
    }


def run_score(job: ScoreJob, progress: bool = True) -> ScoreReport:
    """Score ``job.input`` into ``job.out``; returns the report. Raises DatasetError/BundleError/OutputError."""
    from pyarrow.types import is_nested as pa_is_nested

    from newsdesk.serve.batch.input import open_input
    from newsdesk.serve.batch.output import Checkpoint, resolve_output
    from newsdesk.serve.batch.rows import output_schema
    from newsdesk.train.bundle import load_bundle
    from newsdesk.train.tables import DatasetError

    started = time.perf_counter()
    source = open_input(job.input, job.options.text_col, job.options.title_col, job.id_col, job.encoding)
    log.debug(
        "input checked: %d file(s), %.1f MB (%.2f s)", len(source.files), source.total_bytes / 1e6, _since(started)
    )
    target = resolve_output(job.out, job.overwrite, [f.path for f in source.files])
    bundle = load_bundle(job.model, job.version)
    log.debug("model %s loaded (%.2f s)", bundle.path, _since(started))
    if job.options.summarize and bundle.summarizer is None:
        raise DatasetError(
            f"--summarize needs a model with a summariser, but {bundle.name} {bundle.version} was saved without one; "
            f"retrain it with this version of newsdesk"
        )
    options = replace(job.options, title_col=source.title_col)
    schema = output_schema(source.schema, options)
    nested = [f.name for f in schema if pa_is_nested(f.type)]
    if nested and target.format == "csv":
        raise DatasetError(
            f"columns {nested} hold lists or records, which CSV cannot; write Parquet (--out NAME.parquet)"
        )
    identity = job_identity(job, source, bundle, options)
    log.debug("input fingerprinted (%.2f s)", _since(started))
    checkpoint = Checkpoint.start(target, schema, identity, resume=job.resume, overwrite=job.overwrite)
    report = ScoreReport(
        input=job.input, output=str(target.path), model=f"{bundle.name} {bundle.version}", engine=job.engine
    )
    try:
        if job.engine == "dask":
            from newsdesk.serve.batch.dask_engine import run_dask

            parts = run_dask(job, source, bundle, options, checkpoint, report, progress)
        else:
            from newsdesk.serve.batch.local import run_local

            parts = run_local(job, source, bundle, options, checkpoint, report, progress)
    except BaseException:
        checkpoint.abandon_if_empty()
        raise
    errors: Counter[str] = Counter()
    for part in parts:
        errors.update(part.errors)
    report.rows_read = sum(p.rows for p in parts)
    report.rows_scored = sum(p.scored for p in parts)
    report.rows_with_errors = report.rows_read - report.rows_scored
    report.errors = dict(sorted(errors.items()))
    if report.rows_read == 0:
        report.notes.append(f"note: {job.input} has no rows (a header only); wrote {target.path} with the columns only")
    log.debug("all rows scored (%.2f s)", _since(started))
    checkpoint.finish(parts, {"rows": report.rows_read, "model": report.model, "columns": schema.names})
    log.debug("output in place (%.2f s)", _since(started))
    report.seconds = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------- the command line


def _since(started: float) -> float:
    return time.perf_counter() - started


def default_workers() -> int:
    """Helper processes for the local engine: one per CPU (cleaning costs more than classifying)."""
    return os.cpu_count() or 1


def add_score_command(subparsers: Any) -> None:
    """Register ``newsdesk score`` on the top-level parser's subparsers."""
    from newsdesk.train.cli import add_cleaning_options

    parser = subparsers.add_parser(
        "score",
        help="add topics (and summaries) to every row of CSV/TSV/JSONL/Parquet files",
        description="Score every row of INPUT with a saved model and write OUTPUT: all input columns, then\n"
        "topic, topic_score, [topics], [summary] and error. Rows that cannot be read, or have no text, keep\n"
        "their place with 'error' filled. OUTPUT appears only when complete; an interrupted run continues\n"
        "with --resume.",
        epilog="examples: newsdesk score articles.csv --model models/bbc --out scored.csv\n"
        "          newsdesk score 'data/*.jsonl' --model models/bbc --out scored.parquet --summarize --top-k 3\n"
        "          newsdesk score big.csv --model models/bbc --out scored/ --engine dask",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="a CSV, TSV, JSONL or Parquet file, a glob, or a folder of them")
    parser.add_argument(
        "--model", required=True, help="the model: models/NAME (its current version) or a version folder"
    )
    parser.add_argument("--version", default=None, help="a version of the model to use instead of its current one")
    parser.add_argument(
        "--out",
        required=True,
        metavar="OUTPUT",
        help="output .csv or .parquet file; ending in / writes a folder of parts (Parquet, or CSV for NAME.csv/)",
    )
    columns = parser.add_argument_group("columns")
    columns.add_argument(
        "--text-col", default="text", metavar="NAME", help="column holding the text (default: %(default)s)"
    )
    columns.add_argument(
        "--title-col", default=None, metavar="NAME", help="column holding the title (default: title, if present)"
    )
    columns.add_argument(
        "--id-col", default=None, metavar="NAME", help="column identifying rows in messages (default: id, if present)"
    )
    what = parser.add_argument_group("what to compute")
    what.add_argument("--summarize", action="store_true", help="add a 'summary' column (extractive summary)")
    what.add_argument(
        "--top-k",
        type=int,
        default=None,
        metavar="K",
        help="add a 'topics' column: the K best topics and scores as JSON",
    )
    add_cleaning_options(parser, saved_in_bundle=False)
    run = parser.add_argument_group("running")
    run.add_argument(
        "--chunksize",
        type=int,
        default=DEFAULT_CHUNKSIZE,
        metavar="N",
        help="rows per chunk or partition (default: %(default)s)",
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: stream here, with helper processes; dask: a Dask cluster (default: %(default)s)",
    )
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="with --engine dask: an existing scheduler, e.g. tcp://host:8786 (default: start a LocalCluster)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local engine: helper processes that clean (and summarise) articles while the main process "
        "classifies (default: one per CPU; 0 = none); dask: LocalCluster workers (default: one per CPU)",
    )
    run.add_argument(
        "--encoding",
        default="auto",
        help="text encoding of CSV/TSV/JSONL input; auto: UTF-8 unless the file is not, then cp1252, "
        "as training reads it (default: %(default)s)",
    )
    run.add_argument(
        "--overwrite", action="store_true", help="replace OUTPUT if it exists (and discard an interrupted run)"
    )
    run.add_argument(
        "--resume", action="store_true", help="continue an interrupted run with the same input and options"
    )
    run.add_argument("--json", action="store_true", help="print the final report as one JSON object")
    run.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    parser.set_defaults(handler=run_score_command)


def run_score_command(args: argparse.Namespace) -> int:
    """Handler of ``newsdesk score``."""
    from newsdesk.train.cli import remove_boilerplate_from_args

    job = ScoreJob(
        input=args.input,
        model=args.model,
        out=args.out,
        options=ScoreOptions(
            args.text_col,
            args.title_col,
            args.top_k,
            args.summarize,
            format=args.format,
            remove_boilerplate=remove_boilerplate_from_args(args),
        ),
        id_col=args.id_col,
        version=args.version,
        chunksize=args.chunksize,
        engine=args.engine,
        scheduler=args.scheduler,
        workers=args.workers,
        encoding=args.encoding,
        overwrite=args.overwrite,
        resume=args.resume,
    )
    report = run_score(job, progress=not args.no_progress)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    from newsdesk.serve.cli import main

    sys.exit(main(["score", *sys.argv[1:]]))
