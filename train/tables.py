"""Reading tables of articles: file types, binary checks, the encoding policy and column aliases.

One policy for training (:mod:`newsdesk.train.data`) and batch scoring (:mod:`newsdesk.serve.batch.input`):
text files are UTF-8 (a byte-order mark is allowed) unless their bytes are not valid UTF-8, in which case
they are read as cp1252 (Windows Western, which decodes the "smart quotes" that Latin-1 lacks) and the
fallback is reported.
"""

from __future__ import annotations

import codecs
import io
import json
import warnings
from pathlib import Path

import pandas as pd

TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FALLBACK_ENCODING = "cp1252"
PARQUET_MAGIC = b"PAR1"
# Column names users often have for the label; used only to suggest a fix.
COLUMN_ALIASES = {
    "label": ("label", "labels", "category", "categories", "topic", "topics", "class", "target"),
    "text": ("text", "body", "content", "article", "story"),
}


AUTO_ENCODING = "auto"
"""Choose UTF-8 or the cp1252 fallback from the bytes (:func:`sniff_encoding`)."""


class DatasetError(ValueError):
    """A dataset cannot be used as given; the message says why and how to fix it."""


def sniff_encoding(head: bytes, complete: bool) -> str:
    """``utf-8`` when ``head`` (the first bytes of a file, or all of it when ``complete``) is valid UTF-8, else cp1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)  # a multi-byte character cut at the end of a sample is fine
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8"


def decode_bytes(raw: bytes, source: str, fallbacks: list[str]) -> str:
    """Decode with the encoding policy (:func:`sniff_encoding`) and append ``source`` to ``fallbacks`` when it was not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        fallbacks.append(source)
        try:
            return raw.decode(FALLBACK_ENCODING)
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _check_text_file(raw: bytes, path: Path, kind: str) -> None:
    if raw.startswith(PARQUET_MAGIC) or b"\x00" in raw[:8192]:
        raise DatasetError(
            f"{path} has the extension of a {kind.upper()} file but holds binary data; "
            f"expected {kind.upper()} text. Check the file, or rename it to its real type "
            f"(.csv, .tsv, .jsonl, .parquet)."
        )


def _read_jsonl(text: str, path: Path) -> pd.DataFrame:
    records = []
    # Split on "\n" only: JSON strings may hold U+2028, U+2029 or U+0085 unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path} line {number} is not valid JSON ({exc.msg}); expected one JSON object per line "
                f"(JSON lines). If the file is a single JSON array, convert it to one object per line."
            ) from None
        if not isinstance(record, dict):
            raise DatasetError(
                f"{path} line {number} is a JSON {type(record).__name__}, expected a JSON object with "
                f"fields such as 'text' and 'label'."
            )
        records.append(record)
    # dtype=object keeps each value as JSON gave it (an integer label stays an integer even
    # when another row has none).
    return pd.DataFrame(records, dtype=object)


def read_table(path: Path, fallbacks: list[str]) -> pd.DataFrame:
    """Read one CSV, TSV, JSON lines or Parquet file into a DataFrame of raw values.

    Text files are decoded by the encoding policy; a file that was not UTF-8 is appended to ``fallbacks``.
    """
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(
            f"{path}: unsupported file type '{path.suffix}'; expected one of "
            f"{', '.join(sorted(TABLE_SUFFIXES))}, or a folder <root>/<label>/*.txt."
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise DatasetError(f"{path} is empty; expected a {kind.upper()} file with a header and at least one row.")
    if kind == "parquet":
        if not (raw[:4] == PARQUET_MAGIC and raw[-4:] == PARQUET_MAGIC):
            raise DatasetError(
                f"{path} has a .parquet extension but is not a Parquet file (no PAR1 magic bytes); "
                f"check the file or rename it to its real type."
            )
        try:
            return pd.read_parquet(io.BytesIO(raw))
        except (OSError, ValueError) as exc:  # corrupt-file errors of pyarrow subclass these
            raise DatasetError(f"{path} could not be read as Parquet: {exc}") from None
    _check_text_file(raw, path, kind)
    text = decode_bytes(raw, str(path), fallbacks)
    if kind == "jsonl":
        return _read_jsonl(text, path)
    try:
        with warnings.catch_warnings():
            # With index_col=False pandas only warns when the first row has more fields than
            # the header (and drops the extra); treat that like any other ragged row.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep="\t" if kind == "tsv" else ",",
                dtype=str,
                keep_default_na=False,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise DatasetError(
            f"{path} could not be parsed as {kind.upper()}: the first row has more fields than the header. "
            f"Check quoting around fields that contain the separator or line breaks."
        ) from None
    except pd.errors.ParserError as exc:
        raise DatasetError(
            f"{path} could not be parsed as {kind.upper()}: {exc}. Check quoting around fields that "
            f"contain the separator or line breaks."
        ) from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path} has no header row; expected a {kind.upper()} file with column names.") from None
