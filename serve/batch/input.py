"""What ``newsdesk score`` reads: find the input files, read their headers, check the columns.

INPUT is a CSV, TSV, JSON lines or Parquet file, a glob, or a folder of such files. Problems
that make the whole input unusable (no files, an empty file, a missing text column, files whose
columns differ) raise :class:`~newsdesk.train.data.DatasetError` here, before any scoring starts, with a
message that says what was expected, what arrived and how to fix it. Problems of single rows are
left to :mod:`newsdesk.serve.batch.reader`, which keeps such rows with a per-row error.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from newsdesk.train.durable import sha256_file
from newsdesk.train.tables import (
    AUTO_ENCODING,
    COLUMN_ALIASES,
    FALLBACK_ENCODING,
    PARQUET_MAGIC,
    TABLE_SUFFIXES,
    DatasetError,
    sniff_encoding,
)

log = logging.getLogger(__name__)

DEFAULT_ENCODING = AUTO_ENCODING
SNIFF_BYTES = 4 << 20
"""How much of each text file ``--encoding auto`` reads to choose between UTF-8 and the cp1252 fallback."""
UTF8_BOM = b"\xef\xbb\xbf"
BINARY_SIGNATURES = {PARQUET_MAGIC: "a Parquet file", b"\x1f\x8b": "gzip data", b"PK\x03\x04": "a zip archive"}
FIELD_SIZE_LIMIT = 64 << 20
"""Largest field, in characters, the CSV parser accepts (the csv module's default is 128 KiB)."""
DELIMITERS = {"csv": ",", "tsv": "\t"}
GLOB_CHARS = set("*?[")
MAX_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file and where its data rows start."""

    path: Path
    kind: str  # "csv", "tsv", "jsonl" or "parquet"
    size: int
    data_start: int = 0
    """Byte offset of the first data row (after the header and any BOM); 0 for JSONL and Parquet."""
    first_line: int = 1
    """Line number of the first data row (the header is line 1 of a CSV)."""
    rows: int | None = None
    """Number of rows when known before reading (Parquet, JSON lines)."""
    columns: tuple[str, ...] = ()
    """This file's own column names, in its order."""

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.kind]


@dataclass(frozen=True)
class ScoreInput:
    """The resolved input of a scoring run: its files, their shared columns and the columns used."""

    spec: str
    files: tuple[InputFile, ...]
    schema: pa.Schema
    """Input columns in input order; all strings unless every file is Parquet."""
    text_col: str
    title_col: str | None
    id_col: str | None
    encoding: str = "utf-8"
    """The resolved encoding of the text files (never ``auto``)."""

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def fingerprint(self) -> list[dict[str, Any]]:
        """Path, size and sha256 of every file: identifies the input a checkpoint belongs to."""
        return [{"path": str(f.path.resolve()), "size": f.size, "sha256": sha256_file(f.path)} for f in self.files]


# --------------------------------------------------------------------------- finding files


def _kind_of(path: Path) -> str | None:
    return TABLE_SUFFIXES.get(path.suffix.lower())


def find_input_files(spec: str) -> list[Path]:
    """The files INPUT names: one file, the files a glob matches, or the table files in a folder."""
    path = Path(spec)
    supported = ", ".join(sorted(TABLE_SUFFIXES))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _kind_of(p) and not p.name.startswith("."))
        if not files:
            raise DatasetError(f"folder {path} holds no input files; expected files ending in {supported}")
        return files
    if path.is_file():
        if _kind_of(path) is None:
            raise DatasetError(f"{path}: unsupported file type '{path.suffix}'; expected one of {supported}")
        return [path]
    if GLOB_CHARS & set(spec):
        matches = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        files = [p for p in matches if _kind_of(p)]
        if not files:
            found = f" (matched only {', '.join(p.name for p in matches[:5])})" if matches else ""
            raise DatasetError(f"no input files match {spec!r}{found}; expected files ending in {supported}")
        return files
    raise DatasetError(f"input {spec} does not exist; expected a file ({supported}), a glob or a folder")


# --------------------------------------------------------------------------- headers


def _check_not_binary(path: Path, head: bytes, kind: str) -> None:
    for magic, what in BINARY_SIGNATURES.items():
        if head.startswith(magic):
            raise DatasetError(
                f"{path} has the extension of a {kind.upper()} file but holds {what}; "
                f"rename it to its real type or convert it to {kind.upper()} text"
            )


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (with or without BOM handling)."""
    return encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")


def _csv_header(path: Path, kind: str, encoding: str) -> tuple[list[str], int, int]:
    """Read a CSV/TSV header: (column names, byte offset of the first data row, its line number)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
        _check_not_binary(path, head, kind)
        offset = len(UTF8_BOM) if head.startswith(UTF8_BOM) and is_utf8(encoding) else 0
        handle.seek(offset)
        raw, line_number = b"", 0
        for line in handle:
            line_number += 1
            if not raw and not line.strip():
                offset += len(line)  # blank lines before the header
                continue
            raw += line
            if raw.count(b'"') % 2 == 0 or len(raw) > MAX_HEADER_BYTES:  # a quoted name may hold a line break
                break
    if not raw.strip():
        raise DatasetError(f"{path} is empty; expected a {kind.upper()} file with a header row naming the columns")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise DatasetError(
            f"the header of {path} is not valid {encoding}; re-save the file as UTF-8 "
            f"or pass --encoding with the file's encoding (for example cp1252)"
        ) from None
    if "\x00" in text:
        raise DatasetError(f"the header of {path} holds NUL bytes; the file is binary or damaged")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[kind]))
    if len(records) != 1:
        raise DatasetError(
            f"could not read the header of {path}: it has an unclosed quote or bare carriage-return "
            f"line endings; expected one line of column names ending in a line feed"
        )
    return records[0], offset + len(raw), line_number + 1


def _jsonl_columns(path: Path, encoding: str) -> tuple[list[str], int]:
    """Union of the keys of every JSON object in a JSON lines file, in order of first appearance."""
    keys: dict[str, None] = {}
    rows = 0
    with path.open("rb") as handle:
        _check_not_binary(path, handle.read(8), "jsonl")
        handle.seek(0)
        for raw in handle:
            if not raw.strip():
                continue
            rows += 1
            try:
                record = json.loads(raw.decode(encoding))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue  # reported on the row when it is read
            if isinstance(record, dict):
                keys.update(dict.fromkeys(map(str, record)))
    if rows == 0:
        raise DatasetError(f"{path} is empty; expected JSON lines, one JSON object per line")
    return list(keys), rows


def _parquet_schema(path: Path, size: int) -> tuple[pa.Schema, int]:
    import pyarrow.parquet as pq

    if size == 0:
        raise DatasetError(f"{path} is empty (0 bytes); expected a Parquet file")
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise DatasetError(
            f"{path} has a .parquet extension but is not a Parquet file (no PAR1 magic bytes); "
            f"check the file or rename it to its real type"
        )
    try:
        meta = pq.ParquetFile(path)
        return meta.schema_arrow, meta.metadata.num_rows
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path} could not be read as Parquet: {exc}") from None


def _read_header(path: Path, encoding: str) -> tuple[InputFile, list[str], pa.Schema | None]:
    kind = _kind_of(path)
    assert kind is not None
    size = path.stat().st_size
    if kind == "parquet":
        schema, rows = _parquet_schema(path, size)
        return InputFile(path, kind, size, rows=rows, columns=tuple(schema.names)), list(schema.names), schema
    if size == 0:
        what = "JSON lines, one JSON object per line" if kind == "jsonl" else f"a {kind.upper()} file with a header row"
        raise DatasetError(f"{path} is empty (0 bytes); expected {what}")
    if kind == "jsonl":
        names, rows = _jsonl_columns(path, encoding)
        return InputFile(path, kind, size, rows=rows, columns=tuple(names)), names, None
    names, data_start, first_line = _csv_header(path, kind, encoding)
    file = InputFile(path, kind, size, data_start=data_start, first_line=first_line, columns=tuple(names))
    return file, names, None


# --------------------------------------------------------------------------- checking columns


def _check_names(path: Path, names: list[str]) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DatasetError(f"{path} has repeated column names {repeated}; give every column its own name")


def missing_column_error(source: str, wanted: str, role: str, columns: list[str]) -> DatasetError:
    """``column 'text' not found in x.csv; columns are [...]; pass --text-col body``."""
    aliases = COLUMN_ALIASES.get(role, (role,))
    likely = next((c for c in columns if c.lower() in aliases), None) or "NAME"
    return DatasetError(f"column '{wanted}' not found in {source}; columns are {columns}; pass --{role}-col {likely}")


def _merged_schema(headers: list[tuple[InputFile, list[str], pa.Schema | None]]) -> pa.Schema:
    """One schema for all files: Parquet types when every file is Parquet, else strings."""
    first, first_names, first_schema = headers[0]
    if all(schema is not None for _, _, schema in headers):
        for file, _, schema in headers[1:]:
            assert schema is not None and first_schema is not None
            if set(schema.names) != set(first_schema.names):
                raise _differing_columns(first, first_schema.names, file, schema.names)
            for field in first_schema:
                other = schema.field(field.name).type
                if other != field.type and not _castable(other, field.type):
                    raise DatasetError(
                        f"column '{field.name}' is {other} in {file.path} but {field.type} in {first.path}; "
                        f"score files with different column types separately"
                    )
        assert first_schema is not None
        return first_schema
    if first.kind == "jsonl" or any(f.kind == "jsonl" for f, _, _ in headers):
        names: dict[str, None] = {}
        for file, file_names, _ in headers:
            if file.kind != "jsonl" and set(file_names) != set(first_names):
                raise _differing_columns(first, first_names, file, file_names)
            names.update(dict.fromkeys(file_names))
        return pa.schema([(name, pa.string()) for name in names])
    for file, names_, _ in headers[1:]:
        if set(names_) != set(first_names):
            raise _differing_columns(first, first_names, file, names_)
    return pa.schema([(name, pa.string()) for name in first_names])


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    try:
        pa.array([], type=source).cast(target)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def _differing_columns(first: InputFile, first_names: list[str], other: InputFile, names: list[str]) -> DatasetError:
    return DatasetError(
        f"{other.path} has columns {names}, but {first.path} has {first_names}; "
        f"every input file must have the same columns, so score them separately"
    )


def resolve_auto_encoding(paths: list[Path]) -> str:
    """The training reader's policy for text files: UTF-8 unless one of them is not, then cp1252 (logged)."""
    for path in paths:
        if _kind_of(path) == "parquet":
            continue
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            complete = not handle.read(1)
        if sniff_encoding(head, complete) != "utf-8":
            log.warning(
                "%s is not valid UTF-8; reading the input as %s, as training does (pass --encoding to choose)",
                path,
                FALLBACK_ENCODING,
            )
            return FALLBACK_ENCODING
    return "utf-8"


def open_input(
    spec: str,
    text_col: str = "text",
    title_col: str | None = None,
    id_col: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> ScoreInput:
    """Resolve INPUT and check it: every file readable, the same columns, the text column present.

    ``title_col``/``id_col`` of None mean "``title``/``id`` when the input has them".
    """
    paths = find_input_files(spec)
    if encoding == AUTO_ENCODING:
        encoding = resolve_auto_encoding(paths)
    try:
        "".encode(encoding)
    except LookupError:
        raise DatasetError(
            f"unknown encoding {encoding!r}; pass a Python codec name such as utf-8 or cp1252, or auto"
        ) from None
    headers = []
    for path in paths:
        file, names, schema = _read_header(path, encoding)
        _check_names(path, names)
        headers.append((file, names, schema))
    schema = _merged_schema(headers)
    columns = list(schema.names)
    source = str(headers[0][0].path) if len(headers) == 1 else spec
    if text_col not in columns:
        raise missing_column_error(source, text_col, "text", columns)
    for wanted, role in ((title_col, "title"), (id_col, "id")):
        if wanted is not None and wanted not in columns:
            raise missing_column_error(source, wanted, role, columns)
    return ScoreInput(
        spec=spec,
        files=tuple(file for file, _, _ in headers),
        schema=schema,
        text_col=text_col,
        title_col=title_col if title_col is not None else ("title" if "title" in columns else None),
        id_col=id_col if id_col is not None else ("id" if "id" in columns else None),
        encoding=encoding,
    )
