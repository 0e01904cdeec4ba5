"""Tests for train/data.py: loading, validating and reporting on labelled article files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsdesk.train.data import ColumnMap, Dataset, LoadReport, check_label_counts, load_dataset, parse_labels
from newsdesk.train.tables import DatasetError
from newsdesk.train.text.cleaning import TITLE_SEPARATOR

# A handful of news-like rows: two per topic, so check_label_counts is satisfied.
ROWS = [
    ("Shares in the carmaker rose 4% after it reported record quarterly profits.", "business"),
    ("The central bank held interest rates at 5.25% for a third straight meeting.", "business"),
    ("The striker scored twice as United came from behind to win 3-2 at home.", "sport"),
    ("Wimbledon organisers confirmed the roof will be closed for the men's final.", "sport"),
    ("The new smartphone ships with a faster chip and a brighter display.", "tech"),
    ("Researchers released an open-source tool that finds bugs in web browsers.", "tech"),
]
TEXTS = [text for text, _ in ROWS]
LABELS = [(label,) for _, label in ROWS]


def frame(rows=ROWS, text="text", label="label") -> pd.DataFrame:
    return pd.DataFrame({text: [t for t, _ in rows], label: [lab for _, lab in rows]})


def write_csv(path: Path, df: pd.DataFrame, sep: str = ",") -> Path:
    df.to_csv(path, index=False, sep=sep)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{"label/name.txt": content}`` under ``root``."""
    for relative, content in files.items():
        file = root / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(content, encoding="utf-8")
    return root


def message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------- every table format


def _write_format(tmp_path: Path, kind: str) -> Path:
    df = frame()
    if kind == "csv":
        return write_csv(tmp_path / "news.csv", df)
    if kind == "tsv":
        return write_csv(tmp_path / "news.tsv", df, sep="\t")
    if kind in ("jsonl", "ndjson"):
        return write_jsonl(tmp_path / f"news.{kind}", df.to_dict(orient="records"))
    if kind in ("parquet", "pq"):
        path = tmp_path / f"news.{kind}"
        df.to_parquet(path)
        return path
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "ndjson", "parquet", "pq"])
def test_load_each_table_format(tmp_path, kind):
    dataset = load_dataset(_write_format(tmp_path, kind))
    assert isinstance(dataset, Dataset)
    assert len(dataset) == len(ROWS)
    assert dataset.texts == TEXTS
    assert dataset.labels == LABELS
    assert dataset.multi_label is False
    assert dataset.report.rows_read == len(ROWS)
    assert dataset.report.duplicates_removed == 0
    assert dataset.report.encoding_fallbacks == []


def test_extension_is_matched_case_insensitively(tmp_path):
    dataset = load_dataset(write_csv(tmp_path / "NEWS.CSV", frame()))
    assert dataset.labels == LABELS


def test_csv_with_utf8_bom_finds_the_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + frame().to_csv(index=False).encode("utf-8"))
    dataset = load_dataset(path)
    assert dataset.texts == TEXTS
    assert dataset.report.encoding_fallbacks == []


def test_csv_fields_with_commas_quotes_and_newlines_survive(tmp_path):
    rows = [
        ('"We will win," the coach said, before the final.\nFans agreed.', "sport"),
        ("Oil fell 2%, its biggest drop in a month.", "business"),
    ]
    dataset = load_dataset(write_csv(tmp_path / "quoted.csv", frame(rows)))
    assert dataset.texts == ['"We will win," the coach said, before the final.\nFans agreed.', rows[1][0]]


def test_column_map_renames_text_and_label(tmp_path):
    path = write_csv(tmp_path / "renamed.csv", frame(text="body", label="category"))
    dataset = load_dataset(path, ColumnMap(text="body", label="category"))
    assert dataset.texts == TEXTS
    assert dataset.labels == LABELS


def test_title_and_summary_columns_are_used(tmp_path):
    df = frame().assign(
        title=[f"Headline {i}" for i in range(len(ROWS))],
        summary=[f"Summary {i}." for i in range(len(ROWS))],
        id=[f"art-{i}" for i in range(len(ROWS))],
    )
    dataset = load_dataset(write_csv(tmp_path / "full.csv", df))
    first = dataset.articles[0]
    assert first.id == "art-0"
    assert first.title == "Headline 0"
    assert first.summary == "Summary 0."
    assert first.prepared == f"Headline 0{TITLE_SEPARATOR}{TEXTS[0]}"
    assert dataset.has_summaries


def test_title_only_rows_are_kept(tmp_path):
    # Some Reuters documents have a headline and no body.
    df = pd.DataFrame(
        {
            "title": ["OPEC AGREES TO CUT OUTPUT", "Bank raises rates", "Cup final postponed"],
            "text": ["", "The bank raised its main rate by a quarter point.", ""],
            "label": ["business", "business", "sport"],
        }
    )
    dataset = load_dataset(write_csv(tmp_path / "titles.csv", df))
    assert dataset.texts == [
        "OPEC AGREES TO CUT OUTPUT",
        f"Bank raises rates{TITLE_SEPARATOR}The bank raised its main rate by a quarter point.",
        "Cup final postponed",
    ]
    assert dataset.report.empty_dropped == 0


def test_missing_id_values_fall_back_to_row_number(tmp_path):
    df = frame().assign(id=["a1", "", "a3", "", "a5", "a6"])
    dataset = load_dataset(write_csv(tmp_path / "ids.csv", df))
    assert [a.id for a in dataset.articles] == ["a1", "1", "a3", "3", "a5", "a6"]


# --------------------------------------------------------------------------- folder trees


def test_tree_reads_labels_titles_and_bodies(tmp_path):
    root = write_tree(
        tmp_path / "tree",
        {
            "business/001.txt": "Ad sales boost profit\n\nQuarterly profits at the media giant jumped 76%.\n",
            "business/002.txt": "Dollar gains on jobs data\n\nThe dollar rose against the euro on Friday.",
            "sport/001.txt": "Keeper saves late penalty\n\nThe goalkeeper denied the striker in stoppage time.",
            "sport/002.txt": "Open champion retires\n\nThe two-time winner said she would stop at 31.",
        },
    )
    dataset = load_dataset(root)
    assert len(dataset) == 4
    first = dataset.articles[0]
    assert first.id == "business/001"
    assert first.title == "Ad sales boost profit"
    assert first.labels == ("business",)
    assert first.prepared == "Ad sales boost profit\n\nQuarterly profits at the media giant jumped 76%."
    assert dataset.labels == [("business",), ("business",), ("sport",), ("sport",)]
    assert dataset.multi_label is False
    assert dataset.has_summaries is False


def test_tree_first_line_without_blank_line_is_not_a_title(tmp_path):
    body = "Quarterly profits rose.\nThe company said demand was strong."
    root = write_tree(tmp_path / "tree", {"business/001.txt": body, "sport/001.txt": "One line only."})
    dataset = load_dataset(root)
    assert dataset.articles[0].title == ""
    assert dataset.articles[0].prepared == body
    assert dataset.articles[1].prepared == "One line only."


def test_tree_title_with_crlf_line_endings(tmp_path):
    root = write_tree(
        tmp_path / "tree",
        {"business/001.txt": b"Profits jump\r\n\r\nThe firm made more money.\r\nShares rose.\r\n"},
    )
    article = load_dataset(root).articles[0]
    assert article.title == "Profits jump"
    assert article.prepared == "Profits jump\n\nThe firm made more money.\nShares rose."


def test_tree_ignores_hidden_folders_and_non_txt_files(tmp_path):
    root = write_tree(
        tmp_path / "tree",
        {
            "business/001.txt": "Profits jump\n\nThe firm made more money.",
            "business/notes.md": "not an article",
            ".cache/001.txt": "Hidden\n\nShould not be read.",
            "sport/001.txt": "Cup win\n\nThe team won the cup.",
        },
    )
    dataset = load_dataset(root)
    assert [a.id for a in dataset.articles] == ["business/001", "sport/001"]


def test_bbc_layout_attaches_summaries(tmp_path):
    root = write_tree(
        tmp_path / "raw",
        {
            "News Articles/business/001.txt": "Ad sales boost profit\n\nQuarterly profits at the media giant jumped 76%.",
            "News Articles/sport/001.txt": "Keeper saves late penalty\n\nThe goalkeeper denied the striker late on.",
            "Summaries/business/001.txt": "Quarterly profits at the media giant jumped 76%.",
            "Summaries/sport/001.txt": "The goalkeeper denied the striker late on.",
        },
    )
    dataset = load_dataset(root)
    assert [a.labels for a in dataset.articles] == [("business",), ("sport",)]
    assert [a.id for a in dataset.articles] == ["business/001", "sport/001"]
    assert dataset.articles[0].summary == "Quarterly profits at the media giant jumped 76%."
    assert dataset.articles[1].summary == "The goalkeeper denied the striker late on."
    assert dataset.articles[0].title == "Ad sales boost profit"
    assert dataset.has_summaries


def test_bbc_layout_with_a_missing_summary_file(tmp_path):
    root = write_tree(
        tmp_path / "raw",
        {
            "News Articles/business/001.txt": "Profits jump\n\nThe firm made more money.",
            "News Articles/business/002.txt": "Dollar gains\n\nThe dollar rose on Friday.",
            "Summaries/business/001.txt": "The firm made more money.",
        },
    )
    dataset = load_dataset(root)
    assert dataset.articles[0].summary == "The firm made more money."
    assert dataset.articles[1].summary is None
    assert dataset.has_summaries is False


def test_tree_with_explicit_summaries_dir(tmp_path):
    root = write_tree(tmp_path / "articles", {"tech/001.txt": "Chip launch\n\nA faster chip ships today."})
    summaries = write_tree(tmp_path / "sums", {"tech/001.txt": "A faster chip ships."})
    article = load_dataset(root, summaries_dir=summaries).articles[0]
    assert article.labels == ("tech",)
    assert article.summary == "A faster chip ships."


def test_tree_without_label_folders_raises(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    (root / "001.txt").write_text("Profits jump\n\nThe firm made more money.")
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(root)
    assert "no sub-folders" in message(excinfo)
    assert "<root>/<label>/*.txt" in message(excinfo)


def test_tree_with_empty_label_folders_raises(tmp_path):
    (tmp_path / "tree" / "business").mkdir(parents=True)
    with pytest.raises(DatasetError, match="has no rows"):
        load_dataset(tmp_path / "tree")


def test_tree_cp1252_file_is_read_with_fallback_and_reported(tmp_path):
    root = write_tree(
        tmp_path / "tree",
        {
            "business/001.txt": b"Profits hit \xa33bn\n\nThe retailer made \xa33bn, up 8%.",
            "business/002.txt": "Dollar gains\n\nThe dollar rose on Friday.",
        },
    )
    dataset = load_dataset(root)
    assert dataset.articles[0].title == "Profits hit \u00a33bn"
    assert "\u00a33bn, up 8%" in dataset.articles[0].prepared
    assert dataset.report.encoding_fallbacks == [str(root / "business" / "001.txt")]


# --------------------------------------------------------------------------- fatal errors


def test_missing_text_column_names_columns_and_option(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame(text="headline", label="label"))
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    text = message(excinfo)
    assert "'text'" in text
    assert "'headline'" in text and "'label'" in text
    assert "--text-col" in text


def test_missing_text_column_suggests_body_column(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame(text="body", label="label"))
    with pytest.raises(DatasetError, match="--text-col body"):
        load_dataset(path)


def test_missing_label_column_suggests_category(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame(text="text", label="category"))
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    text = message(excinfo)
    assert "'label'" in text
    assert "['text', 'category']" in text
    assert "--label-col category" in text


def test_missing_label_column_without_a_known_alias(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame(text="text", label="kind"))
    with pytest.raises(DatasetError, match="--label-col NAME"):
        load_dataset(path)


def test_missing_label_column_is_fine_when_labels_not_required(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame().drop(columns="label"))
    dataset = load_dataset(path, require_labels=False)
    assert dataset.labels == [()] * len(ROWS)


def test_missing_text_column_in_jsonl_and_parquet(tmp_path):
    write_jsonl(tmp_path / "news.jsonl", [{"body": TEXTS[0], "label": "business"}])
    frame(text="content").to_parquet(tmp_path / "news.parquet")
    with pytest.raises(DatasetError, match="--text-col body"):
        load_dataset(tmp_path / "news.jsonl")
    with pytest.raises(DatasetError, match="--text-col content"):
        load_dataset(tmp_path / "news.parquet")


def test_parquet_extension_holding_csv_text(tmp_path):
    path = tmp_path / "news.parquet"
    path.write_text(frame().to_csv(index=False), encoding="utf-8")
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    assert "not a Parquet file" in message(excinfo)
    assert "rename" in message(excinfo)


def test_corrupt_parquet_with_magic_bytes(tmp_path):
    path = tmp_path / "news.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage that is not a parquet footer" + b"PAR1")
    with pytest.raises(DatasetError, match="could not be read as Parquet"):
        load_dataset(path)


def test_csv_extension_holding_parquet(tmp_path):
    path = tmp_path / "news.csv"
    frame().to_parquet(path)
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    text = message(excinfo)
    assert "binary data" in text
    assert "CSV" in text and ".parquet" in text


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_text_extension_holding_nul_bytes(tmp_path, suffix):
    path = tmp_path / f"news{suffix}"
    path.write_bytes(b"text,label\nShares rose\x00\x00\x01\x02,business\n")
    with pytest.raises(DatasetError, match="binary data"):
        load_dataset(path)


def test_utf16_csv_is_reported_as_binary(tmp_path):
    path = tmp_path / "news.csv"
    path.write_bytes(frame().to_csv(index=False).encode("utf-16"))
    with pytest.raises(DatasetError, match="binary data"):
        load_dataset(path)


def test_jsonl_invalid_line_names_line_number(tmp_path):
    path = tmp_path / "news.jsonl"
    lines = [json.dumps({"text": TEXTS[0], "label": "business"}), "", json.dumps({"text": TEXTS[2], "label": "sport"})]
    lines.append('{"text": "Oil fell sharply", "label": "business"')  # unterminated object
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    text = message(excinfo)
    assert "line 4" in text
    assert "not valid JSON" in text


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text(json.dumps({"text": TEXTS[0], "label": "business"}) + '\n["Oil fell", "business"]\n')
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    assert "line 2" in message(excinfo)
    assert "JSON list" in message(excinfo)


def test_json_array_file_named_jsonl_is_explained(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text(json.dumps([{"text": TEXTS[0], "label": "business"}], indent=2))
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    assert "line 1" in message(excinfo)


def test_jsonl_with_raw_line_separator_inside_a_string(tmp_path):
    path = tmp_path / "news.jsonl"
    records = [
        {"text": "Storm hits coast.\u2028Thousands without power.", "label": "world"},
        {"text": "Floods close roads.\u2029Schools shut.\x85Trains halted.", "label": "world"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    dataset = load_dataset(path)
    assert dataset.texts == [
        "Storm hits coast.\nThousands without power.",
        "Floods close roads.\nSchools shut.\nTrains halted.",
    ]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"news{suffix}"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="is empty"):
        load_dataset(path)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("\n  \n", "is empty"),
        ("text,label\n", "has no rows"),
        ('text,label\n"Shares rose sharply,business\nThe team won,sport\n', "could not be parsed as CSV.*quoting"),
        ("text,label\nThe team won the cup,sport\nShares rose, analysts said,business\n", "quoting"),
        ("text,label\nShares rose, analysts said,business\nThe team won the cup,sport\n", "quoting"),
    ],
    ids=[
        "whitespace-only",
        "header-only",
        "unterminated-quote",
        "unquoted-comma-later-row",
        "unquoted-comma-first-row",
    ],
)
def test_malformed_csv_is_a_clear_error(tmp_path, content, expected):
    path = tmp_path / "news.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=expected):
        load_dataset(path)


@pytest.mark.parametrize("name", ["news.xlsx", "news.json", "news.txt"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("text,label\nShares rose,business\n")
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    text = message(excinfo)
    assert "unsupported file type" in text
    assert f"'{path.suffix}'" in text
    assert ".csv" in text and ".jsonl" in text and ".parquet" in text


def test_nonexistent_path(tmp_path):
    path = tmp_path / "missing.csv"
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    assert "does not exist" in message(excinfo)
    assert str(path) in message(excinfo)


def test_all_rows_empty_or_unlabelled_is_an_error(tmp_path):
    df = pd.DataFrame({"text": ["", "   ", "Shares rose."], "label": ["business", "sport", ""]})
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(write_csv(tmp_path / "news.csv", df))
    text = message(excinfo)
    assert "no usable rows" in text
    assert "3 read" in text and "2 with empty text" in text and "1 without a label" in text
    assert "--label-col" in text


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


# --------------------------------------------------------------------------- label counts


def test_check_label_counts_passes_a_good_dataset(tmp_path):
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame()))
    assert check_label_counts(dataset) is dataset


def test_rare_label_is_an_error_mentioning_drop_rare_labels(tmp_path):
    rows = ROWS + [("Astronomers spotted a comet visible to the naked eye next week.", "science")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    with pytest.raises(DatasetError) as excinfo:
        check_label_counts(dataset)
    text = message(excinfo)
    assert "'science' (1)" in text
    assert "at least 2" in text
    assert "--drop-rare-labels" in text


def test_min_examples_is_respected(tmp_path):
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame()))
    with pytest.raises(DatasetError, match="at least 3 examples"):
        check_label_counts(dataset, min_examples=3)


def test_drop_rare_removes_the_label_and_records_it(tmp_path):
    rows = ROWS + [("Astronomers spotted a comet visible to the naked eye next week.", "science")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    kept = check_label_counts(dataset, drop_rare=True)
    assert len(kept) == len(ROWS)
    assert set(kept.label_counts) == {"business", "sport", "tech"}
    assert kept.report.rare_labels_dropped == ["science"]
    assert kept.report.unlabeled_dropped == 1
    assert any("dropped rare labels: science" in line for line in kept.report.lines())
    assert kept.report.to_dict()["rare_labels_dropped"] == ["science"]


def test_drop_rare_keeps_multi_label_article_with_its_other_labels(tmp_path):
    records = [{"text": t, "label": [lab]} for t, lab in ROWS]
    records.append({"text": "Sony shares rose after its gaming unit beat forecasts.", "label": ["business", "gaming"]})
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    kept = check_label_counts(dataset, drop_rare=True)
    assert len(kept) == len(records)
    assert kept.labels[-1] == ("business",)
    assert kept.report.rare_labels_dropped == ["gaming"]


def test_only_one_label_is_an_error(tmp_path):
    rows = [(t, "business") for t, _ in ROWS]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    with pytest.raises(DatasetError) as excinfo:
        check_label_counts(dataset)
    assert "only one label (business)" in message(excinfo)
    assert "--label-col" in message(excinfo)


def test_dropping_rare_labels_that_leaves_one_label_is_an_error(tmp_path):
    rows = ROWS[:2] + [(ROWS[2][0], "sport")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    with pytest.raises(DatasetError, match="only one label"):
        check_label_counts(dataset, drop_rare=True)


# --------------------------------------------------------------------------- fixed and reported


def test_empty_texts_are_dropped_and_counted(tmp_path):
    df = frame(ROWS + [("", "sport"), ("   \n\t", "tech"), ("\u200b\ufeff", "business")])
    dataset = load_dataset(write_csv(tmp_path / "news.csv", df))
    assert dataset.texts == TEXTS
    assert dataset.report.rows_read == len(ROWS) + 3
    assert dataset.report.empty_dropped == 3
    assert "dropped 3 rows with empty text" in dataset.report.lines()


def test_jsonl_null_and_missing_text_count_as_empty(tmp_path):
    records = [{"text": t, "label": lab} for t, lab in ROWS]
    records += [{"text": None, "label": "sport"}, {"label": "tech"}]
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    assert dataset.texts == TEXTS
    assert dataset.report.empty_dropped == 2


def test_exact_duplicates_are_removed_and_counted(tmp_path):
    rows = ROWS + [ROWS[0], ROWS[2], (ROWS[4][0], "business")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    assert dataset.texts == TEXTS
    assert dataset.labels == LABELS  # the first copy wins
    assert dataset.report.duplicates_removed == 3
    assert dataset.report.conflicting_duplicates == 1


def test_duplicates_differing_only_in_whitespace_are_duplicates(tmp_path):
    # The model sees cleaned text, so copies that clean to the same input are duplicates.
    spaced = "  Shares in the carmaker  rose 4% after it reported\trecord quarterly profits.\u200b "
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(ROWS + [(spaced, "business")])))
    assert dataset.texts == TEXTS
    assert dataset.report.duplicates_removed == 1
    assert dataset.report.conflicting_duplicates == 0


def test_deduplicate_false_keeps_duplicates(tmp_path):
    rows = ROWS + [ROWS[0]]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)), deduplicate=False)
    assert len(dataset) == len(rows)
    assert dataset.report.duplicates_removed == 0


def test_report_lines_mention_duplicates(tmp_path):
    rows = ROWS + [ROWS[0], (ROWS[1][0], "sport")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    lines = dataset.report.lines()
    assert lines[0] == f"read {len(rows)} rows from {tmp_path / 'news.csv'}"
    duplicate_lines = [line for line in lines if "duplicate" in line]
    assert len(duplicate_lines) == 1
    assert "removed 2 exact duplicate texts" in duplicate_lines[0]
    assert "1 of them had a different label" in duplicate_lines[0]


def test_report_lines_for_a_clean_load_is_one_line():
    assert LoadReport(source="news.csv", rows_read=6).lines() == ["read 6 rows from news.csv"]


def test_report_to_dict_counts(tmp_path):
    rows = ROWS + [ROWS[0], ("", "sport"), ("Oil prices fell again.", "")]
    report = load_dataset(write_csv(tmp_path / "news.csv", frame(rows))).report
    assert report.to_dict() == {
        "source": str(tmp_path / "news.csv"),
        "rows_read": 9,
        "empty_dropped": 1,
        "unlabeled_dropped": 1,
        "duplicates_removed": 1,
        "conflicting_duplicates": 0,
        "encoding_fallbacks": 0,
        "rare_labels_dropped": [],
    }
    json.dumps(report.to_dict())


@pytest.mark.parametrize("sep,suffix", [(",", "csv"), ("\t", "tsv")])
def test_cp1252_file_is_read_with_fallback_and_counted(tmp_path, sep, suffix):
    path = tmp_path / f"news.{suffix}"
    content = f"text{sep}label\n" + "".join(f"{t}{sep}{lab}\n" for t, lab in ROWS[1:])
    raw = content.encode("ascii") + f"Retail sales hit \xa34bn in December{sep}business\n".encode("cp1252")
    assert b"\xa3" in raw
    path.write_bytes(raw)
    dataset = load_dataset(path)
    assert dataset.texts[-1] == "Retail sales hit \u00a34bn in December"
    assert dataset.report.encoding_fallbacks == [str(path)]
    assert dataset.report.to_dict()["encoding_fallbacks"] == 1
    assert any("not valid UTF-8" in line and "cp1252" in line for line in dataset.report.lines())


def test_cp1252_jsonl_smart_quotes(tmp_path):
    path = tmp_path / "news.jsonl"
    line = '{"text": "The minister said \x93no comment\x94 about the \xa3 rate.", "label": "business"}\n'
    path.write_bytes(line.encode("latin-1"))
    dataset = load_dataset(path)
    assert dataset.texts == ["The minister said \u201cno comment\u201d about the \u00a3 rate."]
    assert dataset.report.encoding_fallbacks == [str(path)]


def test_rows_without_label_are_dropped_and_counted_csv(tmp_path):
    df = frame(ROWS + [("Oil prices fell for a third day.", ""), ("Gold hit a record high.", "  ")])
    dataset = load_dataset(write_csv(tmp_path / "news.csv", df))
    assert dataset.texts == TEXTS
    assert dataset.report.unlabeled_dropped == 2
    assert "dropped 2 rows without a label" in dataset.report.lines()


def test_rows_without_label_are_dropped_and_counted_jsonl(tmp_path):
    records = [{"text": t, "label": lab} for t, lab in ROWS]
    records += [
        {"text": "Oil prices fell for a third day.", "label": None},
        {"text": "Gold hit a record high."},
        {"text": "Copper slid on weak demand.", "label": []},
    ]
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    assert dataset.texts == TEXTS
    assert dataset.report.unlabeled_dropped == 3


@pytest.mark.parametrize("dtype", [object, "string"])
def test_rows_without_label_are_dropped_and_counted_parquet(tmp_path, dtype):
    df = pd.DataFrame(
        {
            "text": pd.array(TEXTS + ["Oil prices fell for a third day.", None], dtype=dtype),
            "label": pd.array([lab for _, lab in ROWS] + [None, "business"], dtype=dtype),
        }
    )
    df.to_parquet(tmp_path / "news.parquet")
    dataset = load_dataset(tmp_path / "news.parquet")
    assert dataset.texts == TEXTS
    assert dataset.labels == LABELS
    assert dataset.report.unlabeled_dropped == 1
    assert dataset.report.empty_dropped == 1


def test_unlabelled_rows_are_kept_when_labels_not_required(tmp_path):
    df = frame(ROWS[:2] + [("Oil prices fell for a third day.", "")])
    dataset = load_dataset(write_csv(tmp_path / "news.csv", df), require_labels=False)
    assert len(dataset) == 3
    assert dataset.labels[-1] == ()
    assert dataset.report.unlabeled_dropped == 0


def test_integer_labels_stay_integers_when_a_row_has_no_label(tmp_path):
    records = [
        {"text": TEXTS[0], "label": 1},
        {"text": TEXTS[1], "label": 2},
        {"text": TEXTS[2]},
    ]
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    assert dataset.labels == [("1",), ("2",)]
    assert dataset.report.unlabeled_dropped == 1


def test_integer_labels_become_strings(tmp_path):
    records = [{"text": TEXTS[0], "label": 1}, {"text": TEXTS[1], "label": 2}]
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    assert dataset.labels == [("1",), ("2",)]


# --------------------------------------------------------------------------- multi-label


def test_jsonl_list_labels_are_multi_label(tmp_path):
    records = [
        {"text": TEXTS[0], "label": ["business", "autos"]},
        {"text": TEXTS[2], "label": ["sport"]},
        {"text": TEXTS[4], "label": "tech"},
    ]
    dataset = load_dataset(write_jsonl(tmp_path / "news.jsonl", records))
    assert dataset.multi_label is True
    assert dataset.labels == [("business", "autos"), ("sport",), ("tech",)]


def test_csv_pipe_separated_labels_are_multi_label(tmp_path):
    rows = [(TEXTS[0], "business|autos"), (TEXTS[2], "sport"), (TEXTS[4], " tech | science |tech")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    assert dataset.multi_label is True
    assert dataset.labels == [("business", "autos"), ("sport",), ("tech", "science")]


def test_parquet_list_labels_are_multi_label(tmp_path):
    df = pd.DataFrame({"text": TEXTS[:3], "label": [["business", "autos"], ["business"], ["sport", "world"]]})
    df.to_parquet(tmp_path / "news.parquet")
    dataset = load_dataset(tmp_path / "news.parquet")
    assert dataset.multi_label is True
    assert dataset.labels == [("business", "autos"), ("business",), ("sport", "world")]


def test_single_label_csv_is_not_multi_label(tmp_path):
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame()))
    assert dataset.multi_label is False
    assert all(len(labels) == 1 for labels in dataset.labels)


def test_label_counts_count_every_label_of_multi_label_rows(tmp_path):
    rows = [(TEXTS[0], "business|autos"), (TEXTS[1], "business"), (TEXTS[2], "sport")]
    dataset = load_dataset(write_csv(tmp_path / "news.csv", frame(rows)))
    assert dataset.label_counts == {"business": 2, "autos": 1, "sport": 1}


@pytest.mark.parametrize(
    "value,expected",
    [
        ("sport", (("sport",), False)),
        ("  sport  ", (("sport",), False)),
        ("", ((), False)),
        (None, ((), False)),
        (float("nan"), ((), False)),
        ("business|autos", (("business", "autos"), True)),
        ("business | | autos | business", (("business", "autos"), True)),
        (["business", "autos"], (("business", "autos"), True)),
        (("sport",), (("sport",), True)),
        (["", " world ", "world"], (("world",), True)),
        ([], ((), True)),
        (7, (("7",), False)),
    ],
)
def test_parse_labels(value, expected):
    assert parse_labels(value) == expected


def test_parse_labels_accepts_numpy_arrays():
    import numpy as np

    assert parse_labels(np.array(["business", "autos"], dtype=object)) == (("business", "autos"), True)


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_across_loads(tmp_path):
    path = write_csv(tmp_path / "news.csv", frame())
    first = load_dataset(path).fingerprint()
    second = load_dataset(path).fingerprint()
    assert first == second
    assert len(first) == 64 and int(first, 16) >= 0


def test_fingerprint_is_the_same_for_the_same_data_in_another_format(tmp_path):
    csv = load_dataset(write_csv(tmp_path / "news.csv", frame())).fingerprint()
    jsonl = load_dataset(write_jsonl(tmp_path / "news.jsonl", frame().to_dict(orient="records"))).fingerprint()
    assert csv == jsonl


def test_fingerprint_changes_when_a_label_changes(tmp_path):
    before = load_dataset(write_csv(tmp_path / "a.csv", frame())).fingerprint()
    changed = list(ROWS)
    changed[3] = (changed[3][0], "world")
    after = load_dataset(write_csv(tmp_path / "b.csv", frame(changed))).fingerprint()
    assert before != after


def test_fingerprint_changes_when_a_text_changes(tmp_path):
    before = load_dataset(write_csv(tmp_path / "a.csv", frame())).fingerprint()
    changed = list(ROWS)
    changed[0] = (changed[0][0].replace("4%", "5%"), changed[0][1])
    after = load_dataset(write_csv(tmp_path / "b.csv", frame(changed))).fingerprint()
    assert before != after
