"""The scoring input reader: one row per record, exact resume positions, partitions that split between records."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsdesk.serve.batch import partitions as score_partitions
from newsdesk.serve.batch.input import open_input
from newsdesk.serve.batch.partitions import plan_partitions, read_partition
from newsdesk.serve.batch.reader import iter_chunks
from newsdesk.train.tables import DatasetError

TRICKY_CSV = (
    b"\xef\xbb\xbfid,title,text\r\n"
    b'1,"Multi, line","first\r\nsecond, ""quoted"" line"\r\n'
    b"\r\n"
    b"2,Plain,just text\r\n"
    b'3,Empty quoted,""\r\n'
    b'4,"Q""uote",x\r\n'
    b"5,ragged\r\n"
    b'6,Last,"ends\nhere"'
)


def rows_of(chunks) -> list[dict]:
    return [row for chunk in chunks for row in chunk.table.to_pylist()]


def errors_of(chunks) -> list[str]:
    return [error for chunk in chunks for error in chunk.errors]


def test_reads_bom_crlf_quotes_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TRICKY_CSV)
    source = open_input(str(path))
    assert source.columns == ["id", "title", "text"]
    chunks = list(iter_chunks(source, 2))
    rows = rows_of(chunks)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[0]["text"] == 'first\r\nsecond, "quoted" line'
    assert rows[3]["title"] == 'Q"uote' and rows[2]["text"] == ""
    assert errors_of(chunks)[4].startswith("ragged_row: line 8 ")
    assert [n for c in chunks for n in c.lines] == [2, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("chunksize", [1, 2, 4])
def test_resuming_at_any_chunk_end_reads_the_rest_exactly(tmp_path: Path, chunksize: int) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TRICKY_CSV.replace(b"2,Plain", "2,Plaîn ünïcode".encode()))
    source = open_input(str(path))
    everything = rows_of(iter_chunks(source, 100))
    done = 0
    for chunk in iter_chunks(source, chunksize):
        done += chunk.num_rows
        assert rows_of(iter_chunks(source, 3, chunk.end)) == everything[done:]


def write_table_files(tmp_path: Path) -> dict[str, Path]:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(23)], "text": [f'text "{i}",\nline two' for i in range(23)]})
    paths = {
        "csv": tmp_path / "a.csv",
        "tsv": tmp_path / "a.tsv",
        "jsonl": tmp_path / "a.jsonl",
        "parquet": tmp_path / "a.parquet",
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], index=False, sep="\t")
    frame.to_json(paths["jsonl"], orient="records", lines=True)
    frame.to_parquet(paths["parquet"], index=False, row_group_size=5)
    return paths


@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "parquet"])
@pytest.mark.parametrize("rows_per_part", [1, 4, 23, 50])
def test_partitions_hold_every_row_once(tmp_path: Path, kind: str, rows_per_part: int) -> None:
    source = open_input(str(write_table_files(tmp_path)[kind]))
    everything = rows_of(iter_chunks(source, 1000))
    assert len(everything) == 23
    parts = plan_partitions(source, rows_per_part)
    pieces = [read_partition(source, part) for part in parts]
    assert rows_of(pieces) == everything
    assert [n for p in pieces for n in p.lines] == [n for c in iter_chunks(source, 1000) for n in c.lines]
    assert len(parts) == max(1, -(-23 // rows_per_part))


def test_irregular_quoting_falls_back_to_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote inside an unquoted field (5" screen) defeats quote counting; a real parse still splits right."""
    path = tmp_path / "in.csv"
    lines = [b"id,text"] + [
        b'%d,a 5" screen and "quoted" words' % i if i % 3 else b'%d,"multi\nline"' % i for i in range(20)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = open_input(str(path))
    assert score_partitions._quoted_boundaries(source.files[0], 4) is None
    parsed: list[int] = []
    real = score_partitions._parsed_boundaries
    monkeypatch.setattr(score_partitions, "_parsed_boundaries", lambda *a: parsed.append(1) or real(*a))
    parts = plan_partitions(source, 4)
    assert parsed and len(parts) == 5
    assert rows_of(read_partition(source, p) for p in parts) == rows_of(iter_chunks(source, 100))
    assert all(not e for c in iter_chunks(source, 100) for e in c.errors)


def test_regular_quoting_is_split_without_parsing(tmp_path: Path) -> None:
    path = write_table_files(tmp_path)["csv"]
    source = open_input(str(path))
    cuts = score_partitions._quoted_boundaries(source.files[0], 5)
    assert cuts is not None
    assert [offset for offset, _ in cuts] == [c.end.offset for c in iter_chunks(source, 5)][: len(cuts)]
    assert [line for _, line in cuts] == [c.end.line for c in iter_chunks(source, 5)][: len(cuts)]


def test_files_with_different_columns_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,text\n1,a\n")
    (tmp_path / "b.csv").write_text("id,body\n1,a\n")
    with pytest.raises(DatasetError, match="every input file must have the same columns"):
        open_input(str(tmp_path))


def test_repeated_column_names_and_unknown_encoding_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,text,text\n1,a,b\n")
    with pytest.raises(DatasetError, match="repeated column names"):
        open_input(str(path))
    with pytest.raises(DatasetError, match="unknown encoding"):
        open_input(str(path), encoding="klingon")


def test_jsonl_columns_are_the_union_of_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    records = [{"text": "a"}, {"id": 2, "text": "b", "tags": ["x"]}, {"text": "c", "score": 1.5, "flag": True}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    source = open_input(str(path))
    assert source.columns == ["text", "id", "tags", "score", "flag"]
    rows = rows_of(iter_chunks(source, 10))
    assert rows[1] == {"text": "b", "id": "2", "tags": '["x"]', "score": None, "flag": None}
    assert rows[2]["flag"] == "true"
