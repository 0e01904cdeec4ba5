"""Stream the rows of a scoring input in chunks, keeping every record, even unreadable ones.

Each record of the input becomes exactly one row. A record that cannot be read cleanly is kept,
its fields filled as far as they could be read, with a per-row error of the form
``code: message`` (the codes are the ``*_ROW`` constants below). Reading goes block by block,
so memory stays bounded, and every chunk says where reading would resume after it
(:class:`Position`), which is what ``--resume`` is built on (and :mod:`newsdesk.serve.batch.partitions`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa

from newsdesk.serve.batch.input import FIELD_SIZE_LIMIT, InputFile, ScoreInput, is_utf8
from newsdesk.train.tables import DatasetError

RAGGED_ROW = "ragged_row"
BAD_BYTES_ROW = "invalid_bytes"
NUL_BYTES_ROW = "nul_bytes"
CSV_ERROR_ROW = "unreadable_row"
BAD_JSON_ROW = "invalid_json"

BLOCK_BYTES = 4 << 20
MAX_LINE_BYTES = 256 << 20
_UNREADABLE = re.compile("[\x00\udc80-\udcff]")


def row_error(code: str, message: str) -> str:
    """The text of a row's ``error`` cell."""
    return f"{code}: {message}"


@dataclass(frozen=True)
class Position:
    """Where reading resumes: an input file and a byte offset in it (a row number for Parquet)."""

    file: int = 0
    offset: int = 0
    line: int = 1


@dataclass
class Chunk:
    """Rows read from the input: their values, a read error per row ('' when clean), where they came from."""

    table: pa.Table
    errors: list[str]
    lines: list[int]
    """Line number of each row's first line (row number for Parquet), for messages."""
    files: list[int]
    """Index of each row's input file."""
    end: Position

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


# --------------------------------------------------------------------------- lines of a text file


class _LineReader:
    """Decoded lines of a byte range of a text file, read in blocks, with bad bytes noted per line.

    Lines split as the csv module expects (``\\n``, ``\\r\\n`` or ``\\r``). Bytes that are not valid
    in the encoding decode to lone surrogates, so the line still splits and its offset is exact.
    """

    def __init__(self, handle: BinaryIO, start: int, end: int | None, first_line: int, encoding: str) -> None:
        self._handle, self._end = handle, end
        self._encoding = "utf-8" if is_utf8(encoding) else encoding
        self._read_to = start
        self.problems: dict[int, str] = {}
        self._block_start, self._block_size, self._block_first = start, 0, first_line
        self._lines: list[str] = []
        handle.seek(start)

    def __iter__(self) -> Iterator[str]:
        pending = b""
        while True:
            want = BLOCK_BYTES if self._end is None else min(BLOCK_BYTES, self._end - self._read_to)
            data = self._handle.read(want) if want > 0 else b""
            self._read_to += len(data)
            if data:
                pending += data
                cut = pending.rfind(b"\n") + 1
                if cut == 0:
                    if len(pending) > MAX_LINE_BYTES:
                        raise DatasetError(
                            f"{self._handle.name}: line {self._block_first + len(self._lines)} is longer than "
                            f"{MAX_LINE_BYTES >> 20} MiB; is this really a text file with line breaks?"
                        )
                    continue
                block, pending = pending[:cut], pending[cut:]
            elif pending:
                block, pending = pending, b""
            else:
                return
            self._start_block(block)
            yield from self._lines

    def _start_block(self, block: bytes) -> None:
        self._block_start += self._block_size
        self._block_first += len(self._lines)
        self._block_size = len(block)
        try:
            text = block.decode(self._encoding)
            suspect = b"\x00" in block
        except UnicodeDecodeError:
            text = block.decode(self._encoding, "surrogateescape")
            suspect = True
        self._lines = list(io.StringIO(text, newline=""))
        if suspect:
            for number, line in enumerate(self._lines, start=self._block_first):
                if "\x00" in line:
                    self.problems[number] = NUL_BYTES_ROW
                elif _UNREADABLE.search(line):
                    self.problems[number] = BAD_BYTES_ROW

    def offset_of(self, line: int) -> int:
        """Byte offset where ``line`` starts; it must be in the current block or just after it."""
        index = line - self._block_first
        if not 0 <= index <= len(self._lines):
            raise ValueError(f"line {line} is not in the current block")
        if index == len(self._lines):
            return self._block_start + self._block_size
        head = "".join(self._lines[:index])
        return self._block_start + len(head.encode(self._encoding, "surrogateescape"))

    def problem_in(self, first: int, last: int) -> str | None:
        """The bad-bytes code of any line in ``first..last``, or None."""
        if not self.problems:
            return None
        return next((self.problems[n] for n in range(first, last + 1) if n in self.problems), None)


def _sanitize(value: str) -> str:
    """Replace NUL and undecodable bytes with U+FFFD so the value can be written out."""
    return _UNREADABLE.sub("\ufffd", value)


def _bytes_message(code: str, line: int, encoding: str) -> str:
    if code == NUL_BYTES_ROW:
        return row_error(code, f"line {line} holds NUL bytes (binary data); remove them or fix the file")
    return row_error(
        code,
        f"line {line} has bytes that are not valid {encoding} (shown as \ufffd); re-save the file as UTF-8 "
        f"or pass --encoding with its encoding (for example cp1252)",
    )


# --------------------------------------------------------------------------- one file at a time


class _FileReader:
    """Reads rows of one input file from a position; ``read(n)`` returns up to ``n`` rows or None at the end."""

    def __init__(self, source: ScoreInput, index: int) -> None:
        self.source, self.index = source, index
        self.file: InputFile = source.files[index]

    def read(self, max_rows: int) -> Chunk | None:
        """The next rows, at most ``max_rows`` of them; None when the file (or its range) is done."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""

    def _chunk(self, columns: dict[str, list[Any]], errors: list[str], lines: list[int], end: Position) -> Chunk:
        n = len(errors)
        arrays = [
            pa.array(columns[name], pa.string()) if name in columns else pa.nulls(n, pa.string())
            for name in self.source.schema.names
        ]
        table = pa.Table.from_arrays(arrays, schema=self.source.schema)
        return Chunk(table, errors, lines, [self.index] * n, end)


class _CsvReader(_FileReader):
    def __init__(self, source: ScoreInput, index: int, start: int, end: int | None, line: int) -> None:
        super().__init__(source, index)
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
        self._handle = self.file.path.open("rb")
        self._lines = _LineReader(self._handle, start, end, line, source.encoding)
        self._first_line = line
        self._reader = csv.reader(self._lines, delimiter=self.file.delimiter)
        self._consumed = 0  # lines the csv module has taken so far

    def read(self, max_rows: int) -> Chunk | None:
        names = self.file.columns
        width = len(names)
        rows: list[list[str]] = []
        errors: list[str] = []
        lines: list[int] = []
        while len(rows) < max_rows:
            first = self._first_line + self._consumed
            try:
                row = next(self._reader)
                error = ""
            except StopIteration:
                break
            except csv.Error as exc:
                row, error = [""] * width, row_error(CSV_ERROR_ROW, f"line {first}: {exc}")
            self._consumed = self._reader.line_num
            if not row:
                continue  # a blank line is not a row
            last = self._first_line + self._consumed - 1
            problem = self._lines.problem_in(first, last)
            if problem:
                row = [_sanitize(value) for value in row]
                error = _bytes_message(problem, first, self.source.encoding)
            if len(row) != width:
                if not error:
                    error = row_error(
                        RAGGED_ROW,
                        f"line {first} has {len(row)} fields but the header has {width}; check the quoting "
                        f"of fields that contain '{self.file.delimiter}' or line breaks",
                    )
                row = (row + [""] * width)[:width]
            rows.append(row)
            errors.append(error)
            lines.append(first)
        if not rows:
            return None
        next_line = self._first_line + self._consumed
        end = Position(self.index, self._lines.offset_of(next_line), next_line)
        columns = dict(zip(names, map(list, zip(*rows))))
        return self._chunk(columns, errors, lines, end)

    def close(self) -> None:
        self._handle.close()


def _json_cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class _JsonlReader(_FileReader):
    def __init__(self, source: ScoreInput, index: int, start: int, end: int | None, line: int) -> None:
        super().__init__(source, index)
        self._handle = self.file.path.open("rb")
        self._lines = _LineReader(self._handle, start, end, line, source.encoding)
        self._iter = iter(self._lines)
        self._next_line = line

    def read(self, max_rows: int) -> Chunk | None:
        names = self.source.schema.names
        columns: dict[str, list[Any]] = {name: [] for name in names}
        errors: list[str] = []
        lines: list[int] = []
        for text in self._iter:
            number = self._next_line
            self._next_line += 1
            if not text.strip():
                continue
            error = ""
            problem = self._lines.problem_in(number, number)
            if problem:
                text, error = _sanitize(text), _bytes_message(problem, number, self.source.encoding)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                record, error = {}, error or row_error(BAD_JSON_ROW, f"line {number} is not valid JSON ({exc.msg})")
            if not isinstance(record, dict):
                kind = type(record).__name__
                record, error = {}, error or row_error(BAD_JSON_ROW, f"line {number} is a JSON {kind}, not an object")
            for name in names:
                columns[name].append(_json_cell(record.get(name)))
            errors.append(error)
            lines.append(number)
            if len(errors) == max_rows:
                break
        if not errors:
            return None
        end = Position(self.index, self._lines.offset_of(self._next_line), self._next_line)
        return self._chunk(columns, errors, lines, end)

    def close(self) -> None:
        self._handle.close()


class _ParquetReader(_FileReader):
    def __init__(self, source: ScoreInput, index: int, start: int, end: int | None) -> None:
        import pyarrow.parquet as pq

        super().__init__(source, index)
        self._file = pq.ParquetFile(self.file.path)
        self._row = start
        self._stop = self._file.metadata.num_rows if end is None else end
        groups, before = [], 0
        for group in range(self._file.num_row_groups):
            size = self._file.metadata.row_group(group).num_rows
            if groups or before + size > start:
                groups.append(group)
            else:
                before += size
        self._skip = start - before
        self._batches = self._file.iter_batches(batch_size=1 << 16, row_groups=groups, use_threads=False)
        self._leftover: pa.RecordBatch | None = None

    def read(self, max_rows: int) -> Chunk | None:
        pieces, have = [], 0
        limit = min(max_rows, self._stop - self._row)
        while have < limit:
            batch = self._leftover if self._leftover is not None else next(self._batches, None)
            self._leftover = None
            if batch is None:
                break
            if self._skip:
                drop = min(self._skip, batch.num_rows)
                batch, self._skip = batch.slice(drop), self._skip - drop
                if not batch.num_rows:
                    continue
            take = min(batch.num_rows, limit - have)
            if take < batch.num_rows:
                self._leftover = batch.slice(take)
            pieces.append(batch.slice(0, take))
            have += take
        if not have:
            return None
        table = self._conform(pa.Table.from_batches(pieces))
        first = self._row + 1
        self._row += have
        lines = list(range(first, first + have))
        return Chunk(table, [""] * have, lines, [self.index] * have, Position(self.index, self._row, self._row + 1))

    def _conform(self, table: pa.Table) -> pa.Table:
        schema = self.source.schema
        table = table.select(schema.names)
        if table.schema.equals(schema):
            return table
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DatasetError(f"{self.file.path}: the columns cannot be read as {schema} ({exc})") from None


def open_reader(source: ScoreInput, index: int, start: Position | None = None, end: int | None = None) -> _FileReader:
    """A reader for file ``index`` of the input, from ``start`` (default: its first row) to ``end``."""
    file = source.files[index]
    if start is None or start.file != index:
        start = Position(index, file.data_start, file.first_line)
    if file.kind == "parquet":
        return _ParquetReader(source, index, start.offset, end)
    if file.kind == "jsonl":
        return _JsonlReader(source, index, start.offset, end, start.line)
    return _CsvReader(source, index, start.offset, end, start.line)


def _combine(pieces: list[Chunk]) -> Chunk:
    if len(pieces) == 1:
        return pieces[0]
    return Chunk(
        table=pa.concat_tables([p.table for p in pieces]),
        errors=[e for p in pieces for e in p.errors],
        lines=[n for p in pieces for n in p.lines],
        files=[i for p in pieces for i in p.files],
        end=pieces[-1].end,
    )


def iter_chunks(source: ScoreInput, chunksize: int, start: Position | None = None) -> Iterator[Chunk]:
    """The input's rows in chunks of ``chunksize`` (the last may be smaller), from ``start`` on."""
    index = start.file if start is not None else 0
    pieces: list[Chunk] = []
    have = 0
    while index < len(source.files):
        reader = open_reader(source, index, start)
        try:
            while (piece := reader.read(chunksize - have)) is not None:
                pieces.append(piece)
                have += piece.num_rows
                if have == chunksize:
                    yield _combine(pieces)
                    pieces, have = [], 0
        finally:
            reader.close()
        index += 1
    if pieces:
        yield _combine(pieces)
