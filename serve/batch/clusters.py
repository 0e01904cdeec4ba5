"""``newsdesk score --cluster``: near-duplicate and story columns, from a second pass over per-row sketches.

Pass one is ordinary scoring: each chunk (local engine) or partition (Dask) also gets a sketch of
every row (:mod:`newsdesk.train.stories.sketches`: MinHash signatures and top TF-IDF terms, about 600
bytes a row), written as a side file ``part-NNNNN.sketch.side`` (Arrow IPC) beside its part before
the part itself, so a resumed run has the sketch of every done part. The part is written with the
two cluster columns empty. Pass two, here, reads only the side files (never the texts), groups all
rows at once (:func:`newsdesk.train.stories.clusters.assign`: LSH candidates, no pairwise join) and
rewrites each part with ``duplicate_of`` and ``story_id`` filled, one part in memory at a time.

Both columns hold row ids: the value of the id column (``--id-col``, default ``id`` when present),
else the row's 0-based position in the output. ``duplicate_of`` is the first row of the row's
near-duplicate group (empty for that first row and for rows without one); ``story_id`` is the first
row of its story (every row with text has one; a story of one article is its own id).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import ipc

from newsdesk.serve.batch.job import ScoreOptions
from newsdesk.train.stories.clusters import NONE, assign
from newsdesk.train.stories.sketches import Sketcher, Sketches, StoryTerms
from newsdesk.train.tables import DatasetError

if TYPE_CHECKING:
    from newsdesk.serve.analysis import CleanArticle
    from newsdesk.serve.batch.output import Checkpoint, PartInfo
    from newsdesk.train.bundle import Bundle

DUPLICATE_OF_COL = "duplicate_of"
STORY_COL = "story_id"
SKETCH_SUFFIX = ".sketch.side"  # ends in output.SIDE_SUFFIX: never moved into a folder OUTPUT
DONE_MARKER = "clusters.side"
PART_READ_BLOCK = 1 << 20
"""Bytes the CSV reader parses at a time when a part is read back (a quoted text may span blocks)."""
ROW_ID = "row_id"
DATE = "date"
_sketchers: dict[tuple[str, str], Sketcher] = {}


def cluster_fields() -> list[pa.Field]:
    """The columns ``--cluster`` adds (before ``error``)."""
    return [pa.field(DUPLICATE_OF_COL, pa.string()), pa.field(STORY_COL, pa.string())]


def check_cluster_input(schema: pa.Schema, options: ScoreOptions) -> None:
    """Refuse a ``--date-col`` the input does not have, before any work."""
    if options.clustering is not None and options.date_col is not None and options.date_col not in schema.names:
        raise DatasetError(
            f"--date-col {options.date_col!r} is not a column of the input; columns are {schema.names}; "
            f"pass the column holding each article's date, or leave --date-col out"
        )


def _sketcher(bundle: Bundle, options: ScoreOptions) -> Sketcher:
    """One sketcher per bundle and settings in each process (its word-hash cache is reused across chunks)."""
    assert options.clustering is not None
    key = (str(bundle.manifest.get("manifest_sha256")), json.dumps(options.clustering.to_dict(), sort_keys=True))
    if key not in _sketchers:
        _sketchers[key] = Sketcher(options.clustering, StoryTerms.from_classifier(bundle.classifier))
    return _sketchers[key]


def sketch_articles(bundle: Bundle, articles: Sequence[CleanArticle | None], options: ScoreOptions) -> Sketches:
    """Sketch a chunk's cleaned articles (None for rows that are not scored: they join no group)."""
    return _sketcher(bundle, options).sketch([a.model_input if a is not None else None for a in articles])


def _days(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dates or timestamps (or ISO 8601 text) as days since 1970, NaN where missing or unreadable."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        seconds = pc.cast(pc.cast(values, pa.timestamp("s")), pa.int64())
        return pc.divide(pc.cast(seconds, pa.float64()), 86400.0).to_numpy(zero_copy_only=False).astype(float)
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values.to_pylist()):
        if value:
            try:
                parsed = dt.datetime.fromisoformat(str(value).strip())
            except ValueError:
                continue
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            out[i] = parsed.timestamp() / 86400.0
    return out


def sketch_table(sketches: Sketches, table: pa.Table, options: ScoreOptions) -> pa.Table:
    """A chunk's side file: the sketches plus each row's id (when the input has an id column) and date."""
    side = sketches.to_arrow()
    n = table.num_rows
    ids = pc.cast(table.column(options.id_col), pa.string()) if options.id_col else pa.nulls(n, pa.string())
    dates = _days(table.column(options.date_col)) if options.date_col else np.full(n, np.nan)
    return side.append_column(ROW_ID, ids).append_column(DATE, pa.array(dates, pa.float64()))


def sketch_path(directory: Path, index: int) -> Path:
    return directory / f"part-{index:05d}{SKETCH_SUFFIX}"


def write_sketch(directory: Path, index: int, table: pa.Table) -> None:
    """Write part ``index``'s side file (temporary name, then renamed, so it is whole or absent)."""
    final = sketch_path(directory, index)
    tmp = final.with_name(f".{final.name}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(final)


def _read_sketch(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


def _read_part(path: Path, schema: pa.Schema, fmt: str) -> pa.Table:
    if fmt == "csv":
        import pyarrow.csv as pacsv

        # An empty unquoted field was a null, a quoted "" an empty string: read them back the same way.
        convert = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False)
        parse = pacsv.ParseOptions(newlines_in_values=True)  # article texts span lines
        read = pacsv.ReadOptions(block_size=PART_READ_BLOCK)
        table = pacsv.read_csv(str(path), read_options=read, parse_options=parse, convert_options=convert)
        return table.select(schema.names)
    import pyarrow.parquet as pq

    return pq.read_table(str(path), schema=schema)


def assign_clusters(
    checkpoint: Checkpoint, parts: list[PartInfo], options: ScoreOptions
) -> tuple[list[PartInfo], str | None]:
    """Pass two: group every row from the side files and rewrite each part with the cluster columns filled.

    Returns the updated parts and a line for the report (None when an interrupted run had done this).
    """
    from newsdesk.serve.batch.output import PartInfo, part_name

    assert options.clustering is not None
    parts = sorted(parts, key=lambda p: p.index)
    marker = checkpoint.dir / DONE_MARKER
    if marker.exists():  # an interrupted run already filled every part
        return parts, None
    tables = []
    for part in parts:
        path = sketch_path(checkpoint.dir, part.index)
        if not path.exists():
            raise DatasetError(
                f"{path} is missing, so part {part.index} cannot be clustered; run again with --overwrite"
            )
        tables.append(_read_sketch(path))
    side = pa.concat_tables(tables) if tables else None
    n = side.num_rows if side is not None else 0
    if n:
        sketches = Sketches.from_arrow(side)
        dates = side.column(DATE).to_numpy()
        result = assign(sketches, options.clustering, dates if options.date_col else None)
        ids = side.column(ROW_ID).to_pylist() if options.id_col else [str(i) for i in range(n)]
        note = f"clusters: {result.duplicate_rows:,} rows are near-duplicates of an earlier row; {result.stories:,} stories"
    else:
        note = "clusters: no rows"
    updated, start = [], 0
    for part in parts:
        stop = start + part.rows
        path = checkpoint.dir / part_name(part.index, checkpoint.target.part_suffix)
        table = _read_part(path, checkpoint.schema, checkpoint.target.format)
        duplicate_of = [ids[d] if d != NONE else None for d in result.duplicate_of[start:stop]] if n else []
        story = [ids[s] if s != NONE else None for s in result.story[start:stop]] if n else []
        for name, values in ((DUPLICATE_OF_COL, duplicate_of), (STORY_COL, story)):
            position = table.schema.get_field_index(name)
            table = table.set_column(position, checkpoint.schema.field(name), pa.array(values, pa.string()))
        size = checkpoint.write(part.index, table)
        info = PartInfo(**{**part.__dict__, "bytes": size})
        checkpoint.commit(info)
        updated.append(info)
        start = stop
    marker.write_text(json.dumps({"rows": n}) + "\n", encoding="utf-8")
    for path in checkpoint.dir.glob(f"part-*{SKETCH_SUFFIX}"):
        path.unlink()
    return updated, note
