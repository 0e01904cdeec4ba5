"""The local engine of ``newsdesk score``: stream the input in chunks, score, write parts.

Memory stays bounded by a few chunks whatever the input size. On a machine with spare CPUs,
helper processes clean (and, with ``--summarize``, summarise) the next chunks while the main
process classifies the current one: text cleaning costs about as much as classification, so
doing it alongside keeps the main process busy with the model. Both halves are the functions of
:func:`serve.score.score_table`, so the result is the same with or without helpers, and the same
as the Dask engine's.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict
from itertools import chain
from typing import TYPE_CHECKING

from serve.score import ScoreJob, ScoreOptions, ScoreReport, count_errors, default_workers
from serve.score_reader import Chunk, Position, iter_chunks
from serve.score_rows import (
    Prepared,
    attach,
    classify_prepared,
    column_texts,
    error_locations,
    prepare_rows,
    prepare_table,
)
from train.bundle import Bundle, load_bundle
from train.text import CleaningOptions

if TYPE_CHECKING:
    from serve.score_input import ScoreInput
    from serve.score_output import Checkpoint, PartInfo

FIRST_ERRORS_SHOWN = 5
_helper_bundle: Bundle | None = None


def _init_helper(bundle_dir: str | None) -> None:
    """Start a helper process: Ctrl-C is the main process's to handle; load the bundle to summarise."""
    global _helper_bundle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if bundle_dir is not None:
        _helper_bundle = load_bundle(bundle_dir)


def _prepare_in_helper(
    texts: list[str], titles: list[str], errors: list[str], text_col: str, cleaning: CleaningOptions
) -> Prepared:
    return prepare_rows(texts, titles, errors, text_col, cleaning, _helper_bundle)


def _start_helpers(workers: int, bundle: Bundle, options: ScoreOptions) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_helper,
        initargs=(str(bundle.path) if options.summarize else None,),
    )


def input_fraction(source: ScoreInput, position: Position) -> float:
    """How far through the input ``position`` is, by bytes (rows for Parquet)."""
    total = source.total_bytes or 1
    done = sum(f.size for f in source.files[: position.file])
    if position.file < len(source.files):
        file = source.files[position.file]
        if file.kind == "parquet":
            done += file.size * position.offset / max(1, file.rows or 1)
        else:
            done += position.offset
    return min(1.0, done / total)


def run_local(
    job: ScoreJob,
    source: ScoreInput,
    bundle: Bundle,
    options: ScoreOptions,
    checkpoint: Checkpoint,
    report: ScoreReport,
    progress: bool = True,
) -> list[PartInfo]:
    """Score the input chunk by chunk into the checkpoint's parts; returns every done part."""
    from tqdm import tqdm

    from serve.score_output import PartInfo

    parts = checkpoint.leading_parts() if job.resume else []
    checkpoint.discard_after(len(parts) - 1)
    start = Position(**parts[-1].end) if parts and parts[-1].end else None
    report.resumed_rows = sum(p.rows for p in parts)
    workers = job.workers if job.workers is not None else default_workers()

    chunks = iter_chunks(source, job.chunksize, start)
    head = [c for c in (next(chunks, None), next(chunks, None)) if c is not None]
    # Helpers cost a second or so to start: only worth it when there is more than one chunk.
    pool = _start_helpers(workers, bundle, options) if len(head) > 1 and workers > 0 else None
    pending: deque[tuple[Chunk, Future[Prepared] | Prepared]] = deque()
    bar = tqdm(
        desc="scoring", unit=" rows", unit_scale=True, initial=report.resumed_rows, disable=None if progress else True
    )

    def submit(chunk: Chunk) -> None:
        if pool is None:
            pending.append((chunk, prepare_table(bundle, chunk.table, chunk.errors, options)))
            return
        texts = column_texts(chunk.table, options.text_col)
        titles = column_texts(chunk.table, options.title_col)
        work = pool.submit(_prepare_in_helper, texts, titles, chunk.errors, options.text_col, bundle.cleaning)
        pending.append((chunk, work))

    def finish_oldest() -> None:
        chunk, work = pending.popleft()
        prepared = work.result() if isinstance(work, Future) else work
        table = attach(chunk.table, classify_prepared(bundle, prepared, options), options)
        index = len(parts)
        size = checkpoint.write(index, table)
        errors = count_errors(prepared.errors)
        info = PartInfo(
            index=index,
            rows=chunk.num_rows,
            scored=chunk.num_rows - sum(errors.values()),
            bytes=size,
            errors=dict(errors),
            end=asdict(chunk.end),
        )
        checkpoint.commit(info)
        parts.append(info)
        report.rows_this_run += chunk.num_rows
        if len(report.first_errors) < FIRST_ERRORS_SHOWN:
            report.first_errors += error_locations(
                source, chunk, prepared.errors, FIRST_ERRORS_SHOWN - len(report.first_errors)
            )
        bar.update(chunk.num_rows)
        bar.set_postfix_str(f"{input_fraction(source, chunk.end):.0%} of input", refresh=False)

    try:
        for chunk in chain(head, chunks):
            submit(chunk)
            while len(pending) > (workers if pool is not None else 0):
                finish_oldest()
        while pending:
            finish_oldest()
    except KeyboardInterrupt:
        done = sum(p.rows for p in parts)
        print(
            f"\nnewsdesk score: stopped after {done:,} rows; {job.out} was not written. "
            f"Run the same command with --resume to continue.",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return parts
