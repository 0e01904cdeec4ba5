"""Where ``newsdesk score`` writes: OUTPUT checks, finished parts in a checkpoint folder, the final rename.

Scored chunks are written as parts into a checkpoint folder beside OUTPUT::

    .NAME.newsdesk-partial/
        checkpoint.json      what the run is: input fingerprint (path, size, sha256 of each file),
                             model, options and engine; a resumed run must match it exactly
        part-00000.csv       one scored chunk (local engine) or partition (Dask), with a header
        part-00000.json      written after its part is complete: rows, errors, bytes, and where the
                             input continues after it (the resume position)

A part is done only when its ``.json`` exists and the part has the size it records (both are
written to a temporary name and renamed, after an fsync). When every part is done, the parts are
joined into a temporary file inside the checkpoint folder, which is then renamed onto OUTPUT in
one step; a folder OUTPUT (ending in ``/``) receives the parts themselves. Until then OUTPUT is
untouched, so a crash or Ctrl-C never leaves a file that looks finished, and ``--resume`` picks up
after the last done part.

A full disk stops the run with an :class:`OutputError` naming the file being written. The file
is removed; the parts done so far stay recorded, so ``--resume`` continues once there is space.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from newsdesk.train.durable import disk_full, fsync_dir, fsync_file, pause_for_tests

OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CHECKPOINT_FORMAT = "newsdesk-score-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_FILE = "checkpoint.json"
FOLDER_MANIFEST = "_newsdesk_score.json"
PARTIAL_SUFFIX = ".newsdesk-partial"
SIDE_SUFFIX = ".side"
"""Files in the checkpoint folder ending so are bookkeeping of a later pass, never part of OUTPUT."""


class OutputError(ValueError):
    """OUTPUT cannot be written as asked; the message says why and what to do."""


@dataclass(frozen=True)
class OutputTarget:
    """Where the scored rows go: one CSV/Parquet file, or a folder of parts."""

    path: Path
    format: str  # "csv" or "parquet"
    folder: bool = False

    @property
    def checkpoint_dir(self) -> Path:
        return self.path.parent / f".{self.path.name}{PARTIAL_SUFFIX}"

    @property
    def part_suffix(self) -> str:
        return ".csv" if self.format == "csv" else ".parquet"


def resolve_output(out: str, overwrite: bool, inputs: list[Path]) -> OutputTarget:
    """Check OUTPUT before any work: a known extension, an existing folder, not the input, not there yet."""
    folder = out.endswith(("/", os.sep))
    path = Path(out)
    suffix = path.suffix.lower()
    if folder:
        fmt = OUTPUT_FORMATS.get(suffix, "parquet")
    elif suffix in OUTPUT_FORMATS:
        fmt = OUTPUT_FORMATS[suffix]
    else:
        raise OutputError(
            f"cannot tell the output format of {out!r}; end --out in .csv or .parquet "
            f"(or in / for a folder of Parquet parts, .csv/ for CSV parts)"
        )
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"the folder {parent} for --out {out} does not exist; create it first (mkdir -p {parent})")
    if path.resolve() in {p.resolve() for p in inputs}:
        raise OutputError(f"--out {out} is one of the input files; write the scores to a new file")
    if path.exists():
        if not overwrite:
            raise OutputError(f"{path} already exists; pass --overwrite to replace it, or choose another --out")
        if path.is_dir() != folder:
            kind = "a folder" if path.is_dir() else "a file"
            raise OutputError(f"{path} exists and is {kind}; --overwrite replaces like with like, so remove it first")
    return OutputTarget(path=path, format=fmt, folder=folder)


# --------------------------------------------------------------------------- writing parts


def output_of(checkpoint_dir: Path) -> Path:
    """OUTPUT, given its checkpoint folder ``.NAME.newsdesk-partial``."""
    return checkpoint_dir.with_name(checkpoint_dir.name[1:].removesuffix(PARTIAL_SUFFIX))


@contextlib.contextmanager
def _written_or_removed(path: Path, final: Path | None = None) -> Iterator[None]:
    """Remove ``path`` if writing it fails; a full disk becomes an :class:`OutputError` that says what to do.

    ``final`` is the name the message gives (the file's name once in place); by default ``path``.
    """
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        if not disk_full(exc):
            raise
        output = output_of(path.parent)
        raise OutputError(
            f"no space left on device while writing {final or path}; {output} was not written. Free space on that "
            f"disk, then run the same command with --resume to continue after the rows already scored "
            f"(or choose another --out)"
        ) from exc


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with _written_or_removed(tmp, path):
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        fsync_file(tmp)
        os.replace(tmp, path)


def csv_header(schema: pa.Schema) -> bytes:
    """The header line the CSV writer puts before the rows of ``schema``."""
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(schema.empty_table(), sink)
    return sink.getvalue().to_pybytes()


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    """Write one table as a CSV (with header) or Parquet file."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, str(path))
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, str(path))


def part_name(index: int, suffix: str) -> str:
    """``part-00007.csv``: the file name of part ``index``."""
    return f"part-{index:05d}{suffix}"


def write_part(directory: Path, index: int, table: pa.Table, schema: pa.Schema, fmt: str) -> int:
    """Write part ``index`` under a temporary name, fsync it, rename it into place; returns its size."""
    table = table.replace_schema_metadata(None)
    if not table.schema.equals(schema):
        table = table.cast(schema)
    final = directory / part_name(index, ".csv" if fmt == "csv" else ".parquet")
    tmp = final.with_name(f".{final.name}.tmp")
    with _written_or_removed(tmp, final):
        write_table(table, tmp, fmt)
        fsync_file(tmp)
        os.replace(tmp, final)
    pa.default_memory_pool().release_unused()  # keep RSS flat: hand freed Arrow buffers back to the OS
    return final.stat().st_size


@dataclass
class PartInfo:
    """What a finished part holds; stored as ``part-NNNNN.json``."""

    index: int
    rows: int
    scored: int
    bytes: int
    errors: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] | None = None
    """Where the input continues after this part (local engine)."""


# --------------------------------------------------------------------------- the checkpoint folder


class Checkpoint:
    """The folder beside OUTPUT holding finished parts until the run completes (see the module doc)."""

    def __init__(self, target: OutputTarget, schema: pa.Schema, identity: dict[str, Any]) -> None:
        self.target, self.schema, self.identity = target, schema, identity
        self.dir = target.checkpoint_dir

    @classmethod
    def start(
        cls, target: OutputTarget, schema: pa.Schema, identity: dict[str, Any], *, resume: bool, overwrite: bool
    ) -> Checkpoint:
        """Open the checkpoint of an interrupted run (``resume``) or begin a fresh one."""
        checkpoint = cls(target, schema, identity)
        if checkpoint.dir.exists():
            if resume:
                checkpoint._check_matches()
                return checkpoint
            if not overwrite:
                done = checkpoint.done_parts()
                raise OutputError(
                    f"an interrupted run left {checkpoint.dir} ({sum(p.rows for p in done)} rows scored); "
                    f"pass --resume to continue it, or --overwrite to start again"
                )
            shutil.rmtree(checkpoint.dir)
        checkpoint.dir.mkdir()
        try:
            _write_json(
                checkpoint.dir / CHECKPOINT_FILE,
                {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, **identity},
            )
        except BaseException:
            shutil.rmtree(checkpoint.dir, ignore_errors=True)  # a folder without its checkpoint.json is no use
            raise
        return checkpoint

    def _check_matches(self) -> None:
        try:
            saved = json.loads((self.dir / CHECKPOINT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise OutputError(
                f"{self.dir} has no readable {CHECKPOINT_FILE}; it cannot be resumed. Pass --overwrite to start again"
            ) from None
        if saved.get("format") != CHECKPOINT_FORMAT or saved.get("format_version") != CHECKPOINT_VERSION:
            raise OutputError(f"{self.dir} was written by another version of newsdesk; pass --overwrite to start again")
        differences = []
        for key, value in self.identity.items():
            if saved.get(key) != json.loads(json.dumps(value)):
                differences.append(_describe_difference(key, saved.get(key), value))
        if differences:
            raise OutputError(
                f"cannot resume: {'; '.join(differences)}. Resume with the same input and options, "
                f"or pass --overwrite to start again"
            )

    def done_parts(self) -> list[PartInfo]:
        """Parts that were completed, in index order; a part whose file is missing or resized is not done."""
        parts = []
        for info_file in sorted(self.dir.glob("part-*.json")):
            try:
                info = PartInfo(**json.loads(info_file.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
            part = self.dir / part_name(info.index, self.target.part_suffix)
            if part.is_file() and part.stat().st_size == info.bytes:
                parts.append(info)
        return parts

    def leading_parts(self) -> list[PartInfo]:
        """Done parts 0, 1, 2 ... up to the first gap (what a sequential run can continue from)."""
        parts = []
        for expected, info in enumerate(self.done_parts()):
            if info.index != expected:
                break
            parts.append(info)
        return parts

    def discard_after(self, last: int) -> None:
        """Remove parts (and their info) numbered above ``last``: leftovers of an interrupted write."""
        for path in self.dir.glob("part-*"):
            with contextlib.suppress(ValueError):
                if int(path.name[5:10]) > last:
                    path.unlink()
        for path in self.dir.glob(".part-*.tmp"):
            path.unlink()

    def abandon_if_empty(self) -> None:
        """After a failure: remove the checkpoint if no part was finished (nothing worth resuming)."""
        if self.dir.exists() and not self.done_parts():
            shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, index: int, table: pa.Table) -> int:
        """Write part ``index`` (not yet recorded as done: see :meth:`commit`); returns its size."""
        return write_part(self.dir, index, table, self.schema, self.target.format)

    def commit(self, info: PartInfo) -> None:
        """Record part ``info.index`` as done (after its file is in place); a part that cannot be recorded is removed."""
        try:
            _write_json(self.dir / f"part-{info.index:05d}.json", asdict(info))
        except BaseException:
            with contextlib.suppress(OSError):
                (self.dir / part_name(info.index, self.target.part_suffix)).unlink()
            raise
        pause_for_tests(f"score-part-{info.index}", str(self.dir))

    def finish(self, parts: list[PartInfo], summary: dict[str, Any]) -> None:
        """Join the parts into OUTPUT (or move them there as a folder) and remove the checkpoint."""
        parts = sorted(parts, key=lambda p: p.index)
        files = [self.dir / part_name(p.index, self.target.part_suffix) for p in parts]
        if self.target.folder:
            self._finish_folder(parts, summary)
            return
        assembled = self.dir / f".assembled{self.target.part_suffix}"
        with _written_or_removed(assembled, self.target.path):
            if self.target.format == "csv":
                _join_csv(files, assembled, csv_header(self.schema))
            else:
                _join_parquet(files, assembled, self.schema)
            fsync_file(assembled)
            os.replace(assembled, self.target.path)
        fsync_dir(self.target.path.parent)
        shutil.rmtree(self.dir)

    def _finish_folder(self, parts: list[PartInfo], summary: dict[str, Any]) -> None:
        if not parts:  # keep the columns visible even without rows
            self.write(0, self.schema.empty_table())
        # Everything that can fail for want of space happens while the checkpoint can still be resumed;
        # its bookkeeping files are removed only once the folder is OUTPUT.
        _write_json(self.dir / FOLDER_MANIFEST, {**summary, "parts": len(parts) or 1})
        old = None
        if self.target.path.exists():
            old = self.target.path.with_name(f".{self.target.path.name}.old-{os.getpid()}")
            os.replace(self.target.path, old)
        os.replace(self.dir, self.target.path)
        side_files = self.target.path.glob(f"*{SIDE_SUFFIX}")  # other passes' bookkeeping (score --cluster)
        for path in [self.target.path / CHECKPOINT_FILE, *self.target.path.glob("part-*.json"), *side_files]:
            path.unlink()
        fsync_dir(self.target.path.parent)
        if old is not None:
            shutil.rmtree(old)


def _describe_difference(key: str, saved: Any, now: Any) -> str:
    if key == "input":
        return "the input changed since the interrupted run (its files, sizes or contents differ)"
    if isinstance(saved, dict) and isinstance(now, dict):
        changed = [f"{k} was {saved.get(k)!r}, now {now.get(k)!r}" for k in now if saved.get(k) != now.get(k)]
        return f"{key} differ ({', '.join(changed)})"
    if isinstance(saved, (str, int, float)) or isinstance(now, (str, int, float)):
        return f"{key} was {saved!r}, now {now!r}"
    return f"the {key} changed"


def _join_csv(files: list[Path], target: Path, header: bytes) -> None:
    """Concatenate CSV parts, keeping the header of the first only."""
    with target.open("wb") as out:
        out.write(header)
        for path in files:
            with path.open("rb") as part:
                head = part.read(len(header))
                if head != header:
                    raise OutputError(f"{path} does not start with the expected header; the checkpoint is damaged")
                shutil.copyfileobj(part, out, 1 << 22)


def _join_parquet(files: list[Path], target: Path, schema: pa.Schema) -> None:
    """Copy Parquet parts into one file, one part in memory at a time."""
    import pyarrow.parquet as pq

    with pq.ParquetWriter(str(target), schema) as writer:
        for path in files:
            writer.write_table(pq.read_table(path, schema=schema))
