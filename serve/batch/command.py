"""``newsdesk score``: its options and its handler (the work is :func:`newsdesk.serve.batch.runner.run_score`).

Imported by the console command for every subcommand, so only the standard library and the job
vocabulary load here; the scoring machinery is imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from newsdesk.serve.batch.job import DEFAULT_CHUNKSIZE, ENGINES, ScoreJob, ScoreOptions
from newsdesk.train.cli import (
    add_cleaning_options,
    add_progress_options,
    apply_progress_option,
    remove_boilerplate_from_args,
)
from newsdesk.train.stories.config import add_cluster_options, clustering_from_args
from newsdesk.train.summarize.presets import PRESET_HELP, PRESETS, SummaryLength


def add_score_command(subparsers: Any, summary: str) -> None:
    """Register ``newsdesk score`` on the top-level parser's subparsers."""
    parser = subparsers.add_parser(
        "score",
        help=summary,
        description="Score every row of INPUT with a saved model and write OUTPUT: all input columns, then\n"
        "topic, topic_score, needs_review, review_reason, [topics], [explanation], [summary] and error\n"
        "(topic is empty when needs_review is true). Rows that cannot be read, or have no text, keep their\n"
        "place with 'error' filled. OUTPUT appears only when complete; an interrupted run continues\n"
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
    add_summary_length_options(what)
    what.add_argument(
        "--top-k",
        type=int,
        default=None,
        metavar="K",
        help="add a 'topics' column: the K best topics and scores as JSON",
    )
    what.add_argument(
        "--explain",
        action="store_true",
        help="add an 'explanation' column: the terms behind each topic with their weights, as JSON",
    )
    add_cleaning_options(parser, saved_in_bundle=False)
    add_cluster_options(parser)
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
    add_progress_options(
        run, no_progress_help="no progress at all: neither the bar nor the closing 'scoring: N rows in S s' line"
    )
    parser.set_defaults(handler=run_score_command)


def add_summary_length_options(group: Any) -> None:
    """``--summary-length`` and the explicit length options of ``--summarize`` (as the HTTP API has them)."""
    group.add_argument(
        "--summary-length",
        choices=PRESETS,
        default=None,
        help=f"with --summarize: {PRESET_HELP} (default: the model's, brief unless trained otherwise)",
    )
    group.add_argument("--max-sentences", type=int, default=None, metavar="N", help="summaries of at most N sentences")
    group.add_argument("--max-words", type=int, default=None, metavar="N", help="summaries of at most N words")
    group.add_argument(
        "--ratio", type=float, default=None, metavar="R", help="summaries of this share of the article's sentences"
    )


def summary_length_from_args(args: argparse.Namespace) -> SummaryLength:
    """The length the score options ask for; explicit options win over --summary-length."""
    wanted = (args.summary_length, args.max_sentences, args.max_words, args.ratio)
    if any(value is not None for value in wanted) and not args.summarize:
        raise ValueError("--summary-length, --max-sentences, --max-words and --ratio need --summarize")
    return SummaryLength(args.summary_length, args.max_sentences, args.max_words, args.ratio)


def run_score_command(args: argparse.Namespace) -> int:
    """Handler of ``newsdesk score``."""
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
            summary_length=summary_length_from_args(args),
            explain=args.explain,
            clustering=clustering_from_args(args),
            date_col=args.date_col,
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
    from newsdesk.serve.batch.runner import run_score  # pyarrow and pandas load only for this command

    apply_progress_option(args)
    report = run_score(job, progress=args.progress is not False)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print("\n".join(report.lines()))
    return 0
