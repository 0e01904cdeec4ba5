"""The local engine of ``newsdesk score``: stream the input in chunks, score them, write parts.

The main process reads chunks and writes their parts; helper processes (one per CPU by default)
score them with :func:`newsdesk.serve.batch.rows.score_rows`, the function the Dask engine runs per
partition, so the output is the same with any number of helpers (``--workers 0``: everything in
the main process). Only a few chunks are in flight at a time, so memory stays bounded whatever
the input size. Helpers start only when the input has more than one chunk: they cost a second or
two to start (each imports the libraries and loads the model).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict
from itertools import chain
from typing import Any

import pyarrow as pa

from newsdesk.serve.batch.clusters import sketch_table, write_sketch
from newsdesk.serve.batch.input import ScoreInput
from newsdesk.serve.batch.job import ScoreJob, ScoreOptions, ScoreReport, count_errors, default_workers
from newsdesk.serve.batch.output import Checkpoint, PartInfo
from newsdesk.serve.batch.reader import Chunk, Position, iter_chunks
from newsdesk.serve.batch.rows import attach, column_texts, error_locations, score_rows, score_rows_and_sketches
from newsdesk.train.bundle import Bundle, load_bundle
from newsdesk.train.progress import progress_bar
from newsdesk.train.stories.sketches import Sketches

FIRST_ERRORS_SHOWN = 5
ORPHAN_CHECK_SECONDS = 0.5
log = logging.getLogger(__name__)
_helper_bundle: Bundle | None = None
Scored = tuple[list[pa.Array], Sketches | None]
"""A chunk's score columns, and its clustering sketches with ``--cluster``."""


def _exit_when_orphaned(parent: int) -> None:
    """In a helper: exit once the main process is gone (``kill -9`` leaves helpers waiting for work forever)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(1)


def _init_helper(bundle_dir: str) -> None:
    """Start a helper process: Ctrl-C is the main process's to handle; load (and verify) the model."""
    global _helper_bundle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    _helper_bundle = load_bundle(bundle_dir)


def _score_in_helper(texts: list[str], titles: list[str], errors: list[str], options: ScoreOptions) -> Scored:
    assert _helper_bundle is not None, "the pool initializer loads the bundle"
    return _score(_helper_bundle, texts, titles, errors, options)


def _score(bundle: Bundle, texts: list[str], titles: list[str], errors: list[str], options: ScoreOptions) -> Scored:
    """A chunk's score columns, and its sketches with ``--cluster``."""
    if options.clustering is None:
        return score_rows(bundle, texts, titles, errors, options), None
    return score_rows_and_sketches(bundle, texts, titles, errors, options)


def _start_helpers(workers: int, bundle: Bundle) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_helper,
        initargs=(str(bundle.path),),
    )


def _row_inputs(chunk: Chunk, options: ScoreOptions) -> tuple[list[str], list[str], list[str]]:
    """What scoring needs of a chunk: texts, titles and read errors."""
    return column_texts(chunk.table, options.text_col), column_texts(chunk.table, options.title_col), chunk.errors


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


class LocalRun:
    """One run of the local engine: chunks are read here, scored here or by helper processes, and
    written in input order into the checkpoint's parts. Use :meth:`run` once."""

    def __init__(
        self,
        job: ScoreJob,
        source: ScoreInput,
        bundle: Bundle,
        options: ScoreOptions,
        checkpoint: Checkpoint,
        report: ScoreReport,
        progress: bool = True,
    ) -> None:
        self.job, self.source, self.bundle, self.options = job, source, bundle, options
        self.checkpoint, self.report, self.progress = checkpoint, report, progress
        self.workers = job.workers if job.workers is not None else default_workers()
        self.parts: list[PartInfo] = []
        self.pending: deque[tuple[Chunk, Future[Scored] | Scored]] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.waiting = 0.0
        self.started = time.perf_counter()
        self.bar: Any = None

    def submit(self, chunk: Chunk, inline: bool = False) -> None:
        """Queue one chunk: scored here (``inline``, or without helpers) or by a helper process."""
        inputs = _row_inputs(chunk, self.options)
        if self.pool is None or inline:
            self.pending.append((chunk, _score(self.bundle, *inputs, self.options)))
        else:
            self.pending.append((chunk, self.pool.submit(_score_in_helper, *inputs, self.options)))

    def finish_oldest(self) -> None:
        """Wait for the oldest queued chunk and write it as the next part."""
        chunk, work = self.pending.popleft()
        waited = time.perf_counter()
        columns, sketches = work.result() if isinstance(work, Future) else work
        self.waiting += time.perf_counter() - waited
        index = len(self.parts)
        if sketches is not None:  # before the part, so every done part has its sketch (--cluster)
            write_sketch(self.checkpoint.dir, index, sketch_table(sketches, chunk.table, self.options))
        size = self.checkpoint.write(index, attach(chunk.table, columns, self.options))
        row_errors = columns[-1].to_pylist()
        errors = count_errors(row_errors)
        info = PartInfo(
            index=index,
            rows=chunk.num_rows,
            scored=chunk.num_rows - sum(errors.values()),
            bytes=size,
            errors=dict(errors),
            end=asdict(chunk.end),
        )
        self.checkpoint.commit(info)
        self.parts.append(info)
        report = self.report
        report.rows_this_run += chunk.num_rows
        if errors and len(report.first_errors) < FIRST_ERRORS_SHOWN:
            report.first_errors += error_locations(
                self.source, chunk, row_errors, FIRST_ERRORS_SHOWN - len(report.first_errors)
            )
        self.bar.update(chunk.num_rows)
        self.bar.set_postfix_str(f"{input_fraction(self.source, chunk.end):.0%} of input", refresh=False)
        if len(self.parts) == 1:
            log.debug("first chunk done %.2f s after the engine started", time.perf_counter() - self.started)

    def run(self) -> list[PartInfo]:
        """Score the input chunk by chunk into the checkpoint's parts; returns every done part."""
        job, options = self.job, self.options
        self.parts = self.checkpoint.leading_parts() if job.resume else []
        self.checkpoint.discard_after(len(self.parts) - 1)
        start = Position(**self.parts[-1].end) if self.parts and self.parts[-1].end else None
        self.report.resumed_rows = sum(p.rows for p in self.parts)
        chunks = iter_chunks(self.source, job.chunksize, start)
        head = [c for c in (next(chunks, None), next(chunks, None)) if c is not None]
        if len(head) > 1 and self.workers > 0:
            self.pool = _start_helpers(self.workers, self.bundle)
        self.bar = progress_bar(
            "scoring", " rows", initial=self.report.resumed_rows, enabled=self.progress, unit_scale=True
        )
        stream = chain(head, chunks)
        try:
            if self.pool is not None:
                # Hand the second chunk to the helpers (which start now) and score the first one here
                # meanwhile, instead of waiting for them to boot.
                second = self.pool.submit(_score_in_helper, *_row_inputs(head[1], options), options)
                self.submit(head[0], inline=True)
                self.pending.append((head[1], second))
                stream = chunks
            for chunk in stream:
                self.submit(chunk)
                # Keep every helper busy, plus one chunk queued, while the oldest is written out.
                while len(self.pending) > (self.workers if self.pool is not None else 0):
                    self.finish_oldest()
            while self.pending:
                self.finish_oldest()
        except KeyboardInterrupt:
            done = sum(p.rows for p in self.parts)
            print(
                f"\nnewsdesk score: stopped after {done:,} rows; {job.out} was not written. "
                f"Run the same command with --resume to continue.",
                file=sys.stderr,
            )
            raise
        finally:
            self.bar.close()
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
        if log.isEnabledFor(logging.DEBUG):
            me, helpers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            log.debug(
                "local engine: %d helper(s), %.2f s (%.2f s waiting for them); CPU s: main %.1f, helpers %.1f",
                self.workers if self.pool is not None else 0,
                time.perf_counter() - self.started,
                self.waiting,
                me.ru_utime + me.ru_stime,
                helpers.ru_utime + helpers.ru_stime,
            )
        return self.parts
