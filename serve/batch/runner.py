"""Running a scoring job: check the input, load the model, start a checkpoint, run an engine, publish the output.

Both engines (:mod:`newsdesk.serve.batch.local` and :mod:`newsdesk.serve.batch.dask_engine`) score chunks
with :func:`newsdesk.serve.batch.rows.score_table` and write parts into the checkpoint folder; the output
is renamed into place only when complete (:mod:`newsdesk.serve.batch.output`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from pyarrow.types import is_nested as pa_is_nested

from newsdesk.serve.batch.clusters import assign_clusters, check_cluster_input
from newsdesk.serve.batch.input import ScoreInput, open_input
from newsdesk.serve.batch.job import ScoreJob, ScoreOptions, ScoreReport
from newsdesk.serve.batch.local import LocalRun
from newsdesk.serve.batch.output import Checkpoint, resolve_output
from newsdesk.serve.batch.rows import output_schema
from newsdesk.train.bundle import Bundle, load_bundle
from newsdesk.train.tables import DatasetError

log = logging.getLogger(__name__)


def _since(started: float) -> float:
    return time.perf_counter() - started


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
            "summary_length": asdict(options.summary_length),
            "cleaning": options.cleaning(bundle).to_dict(),
            "encoding": source.encoding,
            **(
                {"clustering": options.clustering.to_dict(), "date_col": options.date_col} if options.clustering else {}
            ),
        },
        "engine": job.engine,
        # Dask parts are numbered by partition, and the partitions depend on the chunk size.
        **({"chunksize": job.chunksize} if job.engine == "dask" else {}),
    }


def run_score(job: ScoreJob, progress: bool = True) -> ScoreReport:
    """Score ``job.input`` into ``job.out``; returns the report. Raises DatasetError/BundleError/OutputError."""
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
    options = replace(job.options, title_col=source.title_col, id_col=source.id_col)
    if options.clustering is not None:
        check_cluster_input(source.schema, options)
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
            parts = LocalRun(job, source, bundle, options, checkpoint, report, progress).run()
        if options.clustering is not None:
            parts, note = assign_clusters(checkpoint, parts, options)
            report.notes += [note] if note else []
            log.debug("clusters assigned (%.2f s)", _since(started))
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
