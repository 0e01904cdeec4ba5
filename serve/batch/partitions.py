"""Split a scoring input into partitions for the Dask engine, each starting and ending between records.

A CSV record may span lines (quoted line breaks), so a partition cannot simply start at any line.
:func:`plan_partitions` finds record ends by counting quotes, which is exact when every quote opens
or closes a quoted field (RFC 4180), and checks that it is so: a file quoted any other way (a quote
inside an unquoted field, bare carriage returns) is split by parsing it with the row reader instead.
JSON lines split at line ends, Parquet by row numbers. Reading a partition
(:func:`read_partition`) uses the same reader as the local engine, so both see the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from newsdesk.serve.batch.input import InputFile, ScoreInput
from newsdesk.serve.batch.reader import BLOCK_BYTES, Chunk, Position, open_reader

_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")


@dataclass(frozen=True)
class Partition:
    """A slice of one input file: byte range ``[start, end)`` (rows for Parquet); ``end=None`` means to the end."""

    file: int
    start: int
    end: int | None
    first_line: int


def read_partition(source: ScoreInput, part: Partition) -> Chunk:
    """All rows of one partition (an empty chunk when it has none)."""
    reader = open_reader(source, part.file, Position(part.file, part.start, part.first_line), part.end)
    try:
        chunk = reader.read(1 << 62)
    finally:
        reader.close()
    if chunk is None:
        table = source.schema.empty_table()
        return Chunk(table, [], [], [], Position(part.file, part.end or 0, part.first_line))
    return chunk


@dataclass
class _Scan:
    """Running state of the record-boundary scan of one CSV file."""

    quotes: int = 0  # quotes seen so far (their parity says whether we are inside a quoted field)
    lines: int = 0  # line breaks seen so far
    records: int = 0
    cuts: list[tuple[int, int]] = field(default_factory=list)


def _quoted_boundaries(file: InputFile, rows_per_part: int) -> list[tuple[int, int]] | None:
    """(byte offset, line number) cut points every ``rows_per_part`` records, from quote parity.

    Exact when every quote opens or closes a quoted field (RFC 4180 quoting). Returns None when the
    file quotes in some other way (a quote inside an unquoted field, bare carriage returns), where
    only a real parse can tell where records end.
    """
    delimiter = ord(file.delimiter)
    scan = _Scan()
    previous = _LF
    with file.path.open("rb") as handle:
        handle.seek(file.data_start)
        offset = file.data_start
        block = handle.read(BLOCK_BYTES)
        while block:
            following = handle.read(BLOCK_BYTES)
            data = np.frombuffer(block, np.uint8)
            after = np.append(data[1:], following[0] if following else _LF)
            before = np.insert(data[:-1], 0, previous)
            quotes = np.flatnonzero(data == _QUOTE)
            if quotes.size:
                opening = (scan.quotes + np.arange(quotes.size)) % 2 == 0
                prev_ok = np.isin(before[quotes], (delimiter, _LF, _QUOTE))
                next_ok = np.isin(after[quotes], (delimiter, _LF, _CR, _QUOTE))
                if not np.all(np.where(opening, prev_ok, next_ok)):
                    return None
            feeds = np.flatnonzero(data == _LF)
            returns = np.flatnonzero(data == _CR)
            bare = returns[after[returns] != _LF]
            if bare.size and np.any((scan.quotes + np.searchsorted(quotes, bare)) % 2 == 0):
                return None
            breaks = np.sort(np.concatenate([feeds, bare]))
            ends = feeds[(scan.quotes + np.searchsorted(quotes, feeds)) % 2 == 0]
            numbers = scan.records + 1 + np.arange(ends.size)  # record number ending at each end
            for end in ends[numbers % rows_per_part == 0]:
                line = file.first_line + scan.lines + int(np.searchsorted(breaks, end, side="right"))
                scan.cuts.append((offset + int(end) + 1, line))
            scan.records += ends.size
            scan.quotes += quotes.size
            scan.lines += breaks.size
            offset += len(block)
            previous = block[-1]
            block = following
    return scan.cuts


def _parsed_boundaries(source: ScoreInput, index: int, rows_per_part: int) -> list[tuple[int, int]]:
    """Cut points found by reading the file with the row reader (slow, but exact for any quoting)."""
    reader = open_reader(source, index)
    cuts = []
    try:
        while (chunk := reader.read(rows_per_part)) is not None:
            cuts.append((chunk.end.offset, chunk.end.line))
    finally:
        reader.close()
    return cuts


def _line_boundaries(file: InputFile, rows_per_part: int) -> list[tuple[int, int]]:
    """Cut points every ``rows_per_part`` lines of a JSON lines file."""
    cuts, lines, offset = [], 0, 0
    with file.path.open("rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            feeds = np.flatnonzero(np.frombuffer(block, np.uint8) == _LF)
            wanted = np.arange(rows_per_part - lines % rows_per_part - 1, feeds.size, rows_per_part)
            for k in wanted:
                cuts.append((offset + int(feeds[k]) + 1, file.first_line + lines + int(k) + 1))
            lines += feeds.size
            offset += len(block)
    return cuts


def plan_partitions(source: ScoreInput, rows_per_part: int) -> list[Partition]:
    """Split the input into partitions of about ``rows_per_part`` rows whose ends fall between records."""
    parts = []
    for index, file in enumerate(source.files):
        if file.kind == "parquet":
            total = file.rows or 0
            starts = list(range(0, total, rows_per_part)) or [0]
            parts += [Partition(index, s, min(s + rows_per_part, total), s + 1) for s in starts]
            continue
        if file.kind == "jsonl":
            cuts = _line_boundaries(file, rows_per_part)
        else:
            cuts = _quoted_boundaries(file, rows_per_part)
            if cuts is None:
                cuts = _parsed_boundaries(source, index, rows_per_part)
        cuts = [(offset, line) for offset, line in cuts if offset < file.size]
        bounds = [(file.data_start, file.first_line), *cuts]
        for k, (start, line) in enumerate(bounds):
            end = bounds[k + 1][0] if k + 1 < len(bounds) else None
            parts.append(Partition(index, start, end, line))
    return parts
