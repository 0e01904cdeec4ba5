"""The encoding policy shared by training and scoring."""

from __future__ import annotations

from pathlib import Path

from newsdesk.serve.batch.input import resolve_auto_encoding
from newsdesk.train.tables import sniff_encoding


def test_utf8_is_kept_and_other_bytes_fall_back_to_cp1252() -> None:
    assert sniff_encoding("Café – “quoted”".encode(), complete=True) == "utf-8"
    assert sniff_encoding("Café – “quoted”".encode("cp1252"), complete=True) == "cp1252"


def test_a_character_cut_at_the_end_of_a_sample_is_not_a_fallback() -> None:
    sample = "naïve".encode()[:3]  # "na" and the first byte of "ï"
    assert sniff_encoding(sample, complete=False) == "utf-8"
    assert sniff_encoding(sample, complete=True) == "cp1252"


def test_auto_looks_at_every_text_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.csv", tmp_path / "b.csv"
    good.write_bytes(b"text\nplain\n")
    bad.write_bytes(b"text\ncaf\xe9\n")
    assert resolve_auto_encoding([good]) == "utf-8"
    assert resolve_auto_encoding([good, bad]) == "cp1252"
