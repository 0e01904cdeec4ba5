"""Load labelled articles from CSV, TSV, JSON lines, Parquet or a folder tree, and validate them.

Problems that make a dataset unusable raise :class:`DatasetError` with a message
that says what was expected, what arrived and how to fix it. Problems that only
cost some rows (empty texts, duplicates, undecodable bytes) are fixed and counted
in a :class:`LoadReport`, never silently.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from newsdesk.train.progress import track
from newsdesk.train.tables import (
    COLUMN_ALIASES,
    FALLBACK_ENCODING,
    DatasetError,
    decode_bytes,
    read_table,
)
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_text, prepare_article

LABEL_SEPARATOR = "|"
"""Separates several labels of one row in CSV and TSV files."""


@dataclass(frozen=True)
class ColumnMap:
    """Which input columns hold which field."""

    text: str = "text"
    label: str = "label"
    title: str = "title"
    summary: str = "summary"
    id: str = "id"

    def option_for(self, field_name: str) -> str:
        """The command-line option that renames ``field_name``."""
        return f"--{field_name}-col"


@dataclass(frozen=True)
class Article:
    """One article as loaded: raw fields, not yet cleaned."""

    id: str
    text: str
    title: str = ""
    labels: tuple[str, ...] = ()
    summary: str | None = None

    @cached_property
    def prepared(self) -> str:
        """The cleaned model input (title and body joined), with the default cleaning."""
        return prepare_article(self.text, self.title)

    def prepare(self, options: CleaningOptions = DEFAULT_CLEANING) -> str:
        """The model input with the given cleaning options."""
        return self.prepared if options == DEFAULT_CLEANING else prepare_article(self.text, self.title, options)


@dataclass
class LoadReport:
    """What loading fixed or dropped, so nothing disappears unreported."""

    source: str
    rows_read: int = 0
    empty_dropped: int = 0
    unlabeled_dropped: int = 0
    duplicates_removed: int = 0
    conflicting_duplicates: int = 0
    encoding_fallbacks: list[str] = field(default_factory=list)
    rare_labels_dropped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable lines, one per thing that happened."""
        out = [f"read {self.rows_read} rows from {self.source}"]
        if self.empty_dropped:
            out.append(f"dropped {self.empty_dropped} rows with empty text")
        if self.unlabeled_dropped:
            out.append(f"dropped {self.unlabeled_dropped} rows without a label")
        if self.duplicates_removed:
            msg = f"removed {self.duplicates_removed} exact duplicate texts (kept the first of each)"
            if self.conflicting_duplicates:
                msg += f"; {self.conflicting_duplicates} of them had a different label than the kept copy"
            out.append(msg)
        if self.encoding_fallbacks:
            shown = ", ".join(self.encoding_fallbacks[:3]) + (" ..." if len(self.encoding_fallbacks) > 3 else "")
            out.append(
                f"{len(self.encoding_fallbacks)} file(s) were not valid UTF-8 and were read as {FALLBACK_ENCODING}: {shown}"
            )
        if self.rare_labels_dropped:
            out.append(f"dropped rare labels: {', '.join(self.rare_labels_dropped)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for manifests."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "empty_dropped": self.empty_dropped,
            "unlabeled_dropped": self.unlabeled_dropped,
            "duplicates_removed": self.duplicates_removed,
            "conflicting_duplicates": self.conflicting_duplicates,
            "encoding_fallbacks": len(self.encoding_fallbacks),
            "rare_labels_dropped": list(self.rare_labels_dropped),
        }


@dataclass
class Dataset:
    """Deduplicated, validated articles plus the report of how they were loaded."""

    articles: list[Article]
    multi_label: bool
    report: LoadReport

    def __len__(self) -> int:
        return len(self.articles)

    @property
    def texts(self) -> list[str]:
        """Cleaned model inputs, in order."""
        return [a.prepared for a in self.articles]

    @property
    def labels(self) -> list[tuple[str, ...]]:
        """Label tuples, in order."""
        return [a.labels for a in self.articles]

    @property
    def label_counts(self) -> Counter[str]:
        """How many articles carry each label."""
        return Counter(label for a in self.articles for label in a.labels)

    @property
    def has_summaries(self) -> bool:
        """True when every article has a non-empty reference summary."""
        return bool(self.articles) and all(a.summary for a in self.articles)

    def fingerprint(self) -> str:
        """A sha256 over texts and labels: identifies the training data in a manifest."""
        digest = hashlib.sha256()
        for article in self.articles:
            digest.update(article.prepared.encode("utf-8"))
            digest.update(b"\x1f" + LABEL_SEPARATOR.join(article.labels).encode("utf-8") + b"\x1e")
        return digest.hexdigest()


# --------------------------------------------------------------------------- reading files


def _missing_column_error(
    path: Path, wanted: str, field_name: str, columns: list[str], columns_map: ColumnMap
) -> DatasetError:
    aliases = COLUMN_ALIASES.get(field_name, ())
    likely = next((c for c in columns if c.lower() in aliases), "NAME")
    hint = f"pass {columns_map.option_for(field_name)} {likely}"
    return DatasetError(f"column '{wanted}' not found in {path}; columns are {columns}; {hint}")


def _is_missing(value: Any) -> bool:
    """None or NaN: how pandas and JSON spell an empty cell."""
    return value is None or (isinstance(value, float) and pd.isna(value))


def _label_text(value: Any) -> str:
    """One label as text; a float that is a whole number (pandas' int-with-missing) loses its '.0'."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, str)) and getattr(value, "ndim", 0) == 0:
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_labels(value: Any) -> tuple[tuple[str, ...], bool]:
    """Return (labels, is_multi) for one cell: a JSON/array list, a '|'-separated string, or one label."""
    if _is_missing(value):
        return (), False
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        labels = tuple(dict.fromkeys(t for t in map(_label_text, items) if t))
        return labels, True
    text = _label_text(value)
    if LABEL_SEPARATOR in text:
        return tuple(dict.fromkeys(p.strip() for p in text.split(LABEL_SEPARATOR) if p.strip())), True
    return ((text,) if text else ()), False


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if _is_missing(value):
        return ""
    return str(value)


def articles_from_frame(
    frame: pd.DataFrame, path: Path, columns: ColumnMap, require_labels: bool
) -> tuple[list[Article], bool]:
    """Map a raw table onto articles, checking the required columns are present."""
    names = [str(c) for c in frame.columns]
    if columns.text not in names:
        raise _missing_column_error(path, columns.text, "text", names, columns)
    if require_labels and columns.label not in names:
        raise _missing_column_error(path, columns.label, "label", names, columns)
    multi = False
    articles = []
    for index, row in enumerate(frame.to_dict(orient="records")):
        labels: tuple[str, ...] = ()
        if columns.label in names:
            labels, is_multi = parse_labels(row.get(columns.label))
            multi = multi or is_multi
        summary = _cell(row, columns.summary) if columns.summary in names else None
        articles.append(
            Article(
                id=_cell(row, columns.id) or str(index) if columns.id in names else str(index),
                text=_cell(row, columns.text),
                title=_cell(row, columns.title) if columns.title in names else "",
                labels=labels,
                summary=summary or None,
            )
        )
    return articles, multi


# --------------------------------------------------------------------------- folder trees


def _split_title(text: str) -> tuple[str, str]:
    """A first line followed by a blank line is the title (the BBC layout); otherwise there is none."""
    lines = text.lstrip("\ufeff").split("\n", 2)
    if len(lines) >= 2 and lines[0].strip() and not lines[1].strip() and len(lines[0]) <= 300:
        return lines[0].strip(), lines[2] if len(lines) > 2 else ""
    return "", text


def find_tree_roots(root: Path) -> tuple[Path, Path | None]:
    """Return (articles root, summaries root or None) for a tree like ``raw/{News Articles,Summaries}``."""
    subdirs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    summaries = next((p for name, p in subdirs.items() if "summar" in name), None)
    articles = next((p for name, p in subdirs.items() if "article" in name), None)
    if summaries is not None and articles is not None:
        return articles, summaries
    return root, None


def load_tree(root: Path, report: LoadReport, summaries_root: Path | None = None) -> list[Article]:
    """Load ``<root>/<label>/*.txt`` (and ``<summaries_root>/<label>/*.txt`` when given)."""
    if summaries_root is None:
        root, summaries_root = find_tree_roots(root)
    label_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not label_dirs:
        raise DatasetError(
            f"{root} has no sub-folders; expected a tree <root>/<label>/*.txt with one folder per label."
        )
    files = [(d.name, f) for d in label_dirs for f in sorted(d.glob("*.txt"))]
    articles = []
    for label, file in track(files, "reading files", "files"):
        title, body = _split_title(decode_bytes(file.read_bytes(), str(file), report.encoding_fallbacks))
        summary = None
        if summaries_root is not None:
            summary_file = summaries_root / label / file.name
            if summary_file.exists():
                summary = decode_bytes(summary_file.read_bytes(), str(summary_file), report.encoding_fallbacks) or None
        articles.append(Article(id=f"{label}/{file.stem}", text=body, title=title, labels=(label,), summary=summary))
    return articles


# --------------------------------------------------------------------------- the one entry point


def _deduplicate(articles: list[Article], report: LoadReport) -> list[Article]:
    kept: dict[str, Article] = {}
    for article in articles:
        key = clean_body(article.text) or clean_text(article.title)
        first = kept.get(key)
        if first is None:
            kept[key] = article
            continue
        report.duplicates_removed += 1
        if set(first.labels) != set(article.labels):
            report.conflicting_duplicates += 1
    return list(kept.values())


def load_dataset(
    path: str | Path,
    columns: ColumnMap | None = None,
    *,
    require_labels: bool = True,
    summaries_dir: str | Path | None = None,
    deduplicate: bool = True,
) -> Dataset:
    """Load, clean up and deduplicate a dataset file or folder; raise :class:`DatasetError` if unusable."""
    path = Path(path)
    columns = columns or ColumnMap()
    if not path.exists():
        raise DatasetError(
            f"{path} does not exist; expected a CSV/TSV/JSONL/Parquet file or a folder <root>/<label>/*.txt."
        )
    report = LoadReport(source=str(path))
    if path.is_dir():
        articles = load_tree(path, report, Path(summaries_dir) if summaries_dir else None)
        multi = False
    else:
        articles, multi = articles_from_frame(
            read_table(path, report.encoding_fallbacks), path, columns, require_labels
        )
    report.rows_read = len(articles)
    if not articles:
        raise DatasetError(f"{path} has no rows; expected at least one article.")

    non_empty = [a for a in articles if a.prepared]
    report.empty_dropped = len(articles) - len(non_empty)
    if require_labels:
        labelled = [a for a in non_empty if a.labels]
        report.unlabeled_dropped = len(non_empty) - len(labelled)
        non_empty = labelled
    multi = multi or any(len(a.labels) > 1 for a in non_empty)
    result = _deduplicate(non_empty, report) if deduplicate else non_empty
    if not result:
        raise DatasetError(
            f"{path} has no usable rows: {report.rows_read} read, {report.empty_dropped} with empty text, "
            f"{report.unlabeled_dropped} without a label. Check the --text-col and --label-col options."
        )
    return Dataset(articles=result, multi_label=multi, report=report)


def check_label_counts(dataset: Dataset, min_examples: int = 2, drop_rare: bool = False) -> Dataset:
    """Refuse (or, with ``drop_rare``, remove) labels with fewer than ``min_examples`` articles."""
    counts = dataset.label_counts
    rare = sorted(label for label, n in counts.items() if n < min_examples)
    if not rare:
        if len(counts) < 2:
            raise DatasetError(
                f"{dataset.report.source} has only one label ({', '.join(counts) or 'none'}); "
                f"a topic classifier needs at least two. Check the --label-col option."
            )
        return dataset
    if not drop_rare:
        shown = ", ".join(f"'{label}' ({counts[label]})" for label in rare[:10])
        more = f" and {len(rare) - 10} more" if len(rare) > 10 else ""
        raise DatasetError(
            f"every label needs at least {min_examples} examples (one to train on, one to evaluate); "
            f"these have fewer: {shown}{more}. Add examples, or pass --drop-rare-labels to leave them out."
        )
    rare_set = set(rare)
    kept = []
    for article in dataset.articles:
        labels = tuple(label for label in article.labels if label not in rare_set)
        if labels:
            kept.append(Article(article.id, article.text, article.title, labels, article.summary))
        else:
            dataset.report.unlabeled_dropped += 1
    dataset.report.rare_labels_dropped = rare
    return check_label_counts(Dataset(kept, dataset.multi_label, dataset.report), min_examples, drop_rare=False)
