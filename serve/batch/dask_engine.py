"""The Dask engine of ``newsdesk score``: the per-chunk scoring function, per partition, on a Dask cluster.

* **Partitions** are slices of the input files that start and end between records, planned on
  the client (:func:`newsdesk.serve.batch.partitions.plan_partitions`); a ``dask.dataframe`` is built over them
  with ``from_map``, scored with ``map_partitions(score_partition)`` (which calls
  :func:`newsdesk.serve.batch.rows.score_table`, like the local engine) and written part by part.
* **The model** travels as bytes: the client reads the bundle's files, checks each against the
  sha256 in its manifest, and scatters them to every worker. A worker writes them into a private
  temporary folder once, loads them with :func:`newsdesk.train.bundle.load_bundle` (which checks every
  checksum again) and keeps the bundle for its later partitions. Workers need no access to the
  client's ``models/`` folder.
* **Data**: like ``dask.dataframe.read_csv`` and ``to_parquet``, workers read their slice of
  INPUT and write their part into the checkpoint folder beside OUTPUT themselves, so with a remote
  ``--scheduler`` INPUT and OUTPUT must be on storage every worker can reach. That is checked on
  every worker before scoring starts, with a message naming what a worker cannot see.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from newsdesk.serve.batch.job import ERROR_COL, ScoreJob, ScoreOptions, ScoreReport, count_errors
from newsdesk.serve.batch.partitions import Partition, plan_partitions, read_partition
from newsdesk.serve.batch.rows import attach, column_texts, score_rows_and_sketches, score_table
from newsdesk.train.bundle import MANIFEST, Bundle, load_bundle
from newsdesk.train.progress import progress_bar
from newsdesk.train.versions import BundleError

if TYPE_CHECKING:
    from distributed import Client

    from newsdesk.serve.batch.input import ScoreInput
    from newsdesk.serve.batch.output import Checkpoint, PartInfo

CONNECT_TIMEOUT = "20s"
DASK_CONFIG = {
    # Partitions already hold Arrow-backed columns: no extra conversion pass.
    "dataframe.convert-string": False,
    # A LocalCluster's workers take this config: skip the stack sampling profiler (every 10 ms) and
    # the GIL monitor (every 1 ms), which cost CPU the scoring needs and that nobody looks at here.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
}
log = logging.getLogger(__name__)
_worker_bundles: dict[str, Bundle] = {}


class DaskEngineError(ValueError):
    """The Dask cluster cannot run this job; the message says why and what to do."""


# --------------------------------------------------------------------------- the model as bytes


def bundle_payload(bundle: Bundle) -> dict[str, Any]:
    """The bundle's files as bytes, each checked against its manifest sha256, keyed by the manifest digest."""
    files = {MANIFEST: (bundle.path / MANIFEST).read_bytes()}
    for name, expected in bundle.manifest["files"].items():
        data = (bundle.path / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != expected:
            raise BundleError(f"{bundle.path / name} changed after the model was loaded; run the command again")
        files[name] = data
    return {"key": bundle.manifest["manifest_sha256"], "files": files}


def bundle_from_payload(payload: dict[str, Any]) -> Bundle:
    """On a worker: the bundle shipped as bytes, rebuilt and verified once per process, then cached."""
    key = payload["key"]
    bundle = _worker_bundles.get(key)
    if bundle is None:
        folder = Path(tempfile.mkdtemp(prefix="newsdesk-bundle-"))
        atexit.register(shutil.rmtree, folder, True)
        for name, data in payload["files"].items():
            (folder / Path(name).name).write_bytes(data)
        bundle = _worker_bundles[key] = load_bundle(folder)
    return bundle


# --------------------------------------------------------------------------- per-partition functions


def _frame(table: pa.Table, errors: list[str]) -> pd.DataFrame:
    """A pandas partition that converts back to exactly ``table`` (Arrow-backed columns) plus the read errors."""
    table = table.append_column(pa.field(ERROR_COL, pa.string()), pa.array(errors, pa.string()))
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def read_partition_frame(part: Partition, source: ScoreInput) -> pd.DataFrame:
    """Read one partition: its input columns plus ``error`` holding read errors ('' when clean)."""
    try:
        chunk = read_partition(source, part)
    except FileNotFoundError:
        raise DaskEngineError(
            f"a Dask worker cannot read {source.files[part.file].path}; the dask engine reads the input on the "
            f"workers, so it must be on storage they all reach"
        ) from None
    return _frame(chunk.table, chunk.errors)


def score_partition(
    frame: pd.DataFrame,
    payload: dict[str, Any],
    options: ScoreOptions,
    input_schema: pa.Schema,
    directory: str | None = None,
    part_ids: list[int] | None = None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Score one partition with :func:`newsdesk.serve.batch.rows.score_table`, the local engine's function.

    With ``options.clustering`` the partition's sketches go to its side file in ``directory`` (pass two
    of :mod:`newsdesk.serve.batch.clusters` reads them on the client).
    """
    bundle = bundle_from_payload(payload)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    errors = ["" if e is None else e for e in table.column(ERROR_COL).to_pylist()]
    table = table.drop_columns([ERROR_COL]).replace_schema_metadata(None).cast(input_schema)
    if options.clustering is None or directory is None or part_ids is None or partition_info is None:
        return score_table(bundle, table, errors, options).to_pandas(types_mapper=pd.ArrowDtype)
    from newsdesk.serve.batch.clusters import sketch_table, write_sketch

    columns, sketches = score_rows_and_sketches(
        bundle, column_texts(table, options.text_col), column_texts(table, options.title_col), errors, options
    )
    assert sketches is not None
    write_sketch(Path(directory), part_ids[partition_info["number"]], sketch_table(sketches, table, options))
    return attach(table, columns, options).to_pandas(types_mapper=pd.ArrowDtype)


def write_partition(
    frame: pd.DataFrame,
    directory: str,
    part_ids: list[int],
    schema: pa.Schema,
    fmt: str,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Write a scored partition as its part of the checkpoint; one row of statistics."""
    from newsdesk.serve.batch.output import write_part

    assert partition_info is not None, "dask passes partition_info to map_partitions functions that take it"
    index = part_ids[partition_info["number"]]
    size = write_part(Path(directory), index, pa.Table.from_pandas(frame, preserve_index=False), schema, fmt)
    errors = count_errors(["" if e is None else e for e in frame[ERROR_COL].tolist()])
    stats = {"index": index, "rows": len(frame), "errors": json.dumps(dict(errors)), "bytes": size}
    return pd.DataFrame({key: [value] for key, value in stats.items()})


STATS_META = pd.DataFrame(
    {"index": pd.Series([], dtype="int64"), "rows": pd.Series([], dtype="int64"), "errors": pd.Series([], dtype=object),
     "bytes": pd.Series([], dtype="int64")}
)  # fmt: skip


def check_worker_access(paths: list[str], directory: str) -> list[str]:
    """Run on each worker: what of the input and the checkpoint folder it cannot reach."""
    problems = [f"cannot read {p}" for p in paths if not os.access(p, os.R_OK)]
    if not (os.path.isdir(directory) and os.access(directory, os.W_OK)):
        problems.append(f"cannot write to {directory}")
    return problems


# --------------------------------------------------------------------------- the cluster


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of worker processes."""
    from distributed import Client, LocalCluster

    quiet = logging.getLogger("distributed")
    if quiet.getEffectiveLevel() < logging.WARNING:  # the scheduler of a LocalCluster logs in this process
        quiet.setLevel(logging.WARNING)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise DaskEngineError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
                f"(tcp://host:8786) or leave out --scheduler to start a local cluster"
            ) from None
        with client:
            yield client
        return
    n_workers = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            preload=[__name__],  # workers import the scoring code while the client plans partitions
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _check_workers(client: Client, source: ScoreInput, directory: Path) -> None:
    if not client.scheduler_info().get("workers"):
        raise DaskEngineError("the Dask cluster has no workers; start some (dask worker tcp://...) and run again")
    paths = [str(f.path.resolve()) for f in source.files]
    answers = client.run(check_worker_access, paths, str(directory.resolve()))
    bad = {worker: problems for worker, problems in answers.items() if problems}
    if bad:
        worker, problems = next(iter(bad.items()))
        raise DaskEngineError(
            f"{len(bad)} Dask worker(s) cannot reach the data, e.g. {worker}: {'; '.join(problems[:3])}. "
            f"The dask engine reads INPUT and writes OUTPUT's parts on the workers: put both on storage "
            f"every worker can reach (a shared file system), or use --engine local"
        )


def run_dask(
    job: ScoreJob,
    source: ScoreInput,
    bundle: Bundle,
    options: ScoreOptions,
    checkpoint: Checkpoint,
    report: ScoreReport,
    progress: bool = True,
) -> list[PartInfo]:
    """Score the input on a Dask cluster into the checkpoint's parts; returns every done part."""
    import dask
    import dask.dataframe as dd
    from distributed import as_completed

    from newsdesk.serve.batch.output import PartInfo

    started = time.perf_counter()
    payload = bundle_payload(bundle)
    input_meta = _frame(source.schema.empty_table(), [])
    scored_meta = score_table(bundle, source.schema.empty_table(), [], options).to_pandas(types_mapper=pd.ArrowDtype)
    parts: list[PartInfo] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set(DASK_CONFIG))
        with ThreadPoolExecutor(1) as planner:
            planning = planner.submit(plan_partitions, source, job.chunksize)  # plan while the cluster starts
            client = stack.enter_context(dask_client(job.scheduler, job.workers))
            plan = planning.result()
        log.debug("cluster ready, %d partitions planned (%.2f s)", len(plan), time.perf_counter() - started)
        done = {p.index: p for p in checkpoint.done_parts()} if job.resume else {}
        done = {i: p for i, p in done.items() if i < len(plan)}
        todo = [i for i in range(len(plan)) if i not in done]
        report.resumed_rows = sum(p.rows for p in done.values())
        parts += done.values()
        if not todo:
            return sorted(parts, key=lambda p: p.index)
        _check_workers(client, source, checkpoint.dir)
        # In a list, so the payload travels as one object (a dict would be scattered value by value).
        [shipped] = client.scatter([payload], broadcast=True, hash=False)
        frames = dd.from_map(read_partition_frame, [plan[i] for i in todo], source=source, meta=input_meta)
        scored = frames.map_partitions(
            score_partition, shipped, options, source.schema, str(checkpoint.dir), todo, meta=scored_meta
        )
        written = scored.map_partitions(
            write_partition, str(checkpoint.dir), todo, checkpoint.schema, checkpoint.target.format, meta=STATS_META
        )
        futures = client.compute(written.to_delayed())
        bar = progress_bar(
            f"scoring on {len(client.scheduler_info()['workers'])} dask workers",
            " rows",
            initial=report.resumed_rows,
            enabled=progress,
            unit_scale=True,
        )
        try:
            for future in as_completed(futures):  # parts are recorded as they finish, in any order
                stats = future.result().iloc[0]
                errors = json.loads(stats["errors"])
                rows = int(stats["rows"])
                info = PartInfo(
                    index=int(stats["index"]),
                    rows=rows,
                    scored=rows - sum(errors.values()),
                    bytes=int(stats["bytes"]),
                    errors=errors,
                )
                checkpoint.commit(info)
                parts.append(info)
                if len(parts) == len(done) + 1:
                    log.debug("first partition done (%.2f s)", time.perf_counter() - started)
                report.rows_this_run += rows
                bar.update(rows)
        except KeyboardInterrupt:
            print(
                f"\nnewsdesk score: stopped with {len(parts)} of {len(plan)} partitions done; {job.out} was not "
                f"written. Run the same command with --resume to continue.",
                file=sys.stderr,
            )
            raise
        finally:
            bar.close()
    return sorted(parts, key=lambda p: p.index)
