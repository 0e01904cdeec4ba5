"""``newsdesk score`` called in-process: output shape, every input fault, overwrite and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import newsdesk.serve.batch.local
from newsdesk.serve.analysis import clean_article, predict_topics, summarize_article
from newsdesk.serve.batch.output import Checkpoint
from newsdesk.serve.cli import main
from newsdesk.train.bundle import load_bundle

HEADER = b"id,title,text\n"
SPORT = b"The striker scored twice as United beat City in the league match at the stadium."
TECH = b"The software company released a faster phone chip and new broadband apps for users."


def score(tmp_path: Path, model: Path, source: Path, *extra: str, out: str = "out.csv") -> tuple[int, Path]:
    target = tmp_path / out
    spelled = str(target) + ("/" if out.endswith("/") else "")  # a trailing / asks for a folder of parts
    code = main(["score", str(source), "--model", str(model), "--out", spelled, "--workers", "0", *extra])
    return code, target


def read_out(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- the output


def test_every_row_scored_in_order_like_the_api(
    tmp_path: Path,
    tiny_bundle_dir: Path,
    articles_csv: Path,
    articles: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, articles_csv)
    assert code == 0
    scored = read_out(out)
    assert list(scored.columns) == [*articles.columns, "topic", "topic_score", "needs_review", "review_reason", "error"]
    assert scored.id.tolist() == articles.id.tolist()
    assert (scored.error == "").all()
    # Exactly what newsdesk.serve.analysis (the HTTP API's code) says for the same articles.
    bundle = load_bundle(tiny_bundle_dir)
    cleaned = [clean_article(t, ti, bundle.cleaning) for t, ti in zip(articles.text, articles.title)]
    expected = predict_topics(bundle, cleaned)
    assert scored.topic.tolist() == [r.topic for r in expected]
    assert [float(s) for s in scored.topic_score] == pytest.approx([r.score for r in expected])
    report = capsys.readouterr().out
    assert "rows read 24; scored 24; with errors 0" in report
    assert "rows/s" in report


def test_top_k_summaries_and_parquet_output(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, articles_csv, "--top-k", "2", "--summarize", out="out.parquet")
    assert code == 0
    scored = read_out(out)
    assert list(scored.columns)[-7:] == [
        "topic",
        "topic_score",
        "needs_review",
        "review_reason",
        "topics",
        "summary",
        "error",
    ]
    assert len(scored) == 24
    for row in scored.itertuples():
        ranked = json.loads(row.topics)
        assert len(ranked) == 2 and ranked[0]["topic"] == row.topic
        assert ranked[0]["score"] >= ranked[1]["score"]
        assert row.summary and row.summary[:40] in row.text  # extractive: the article's own sentences
    assert pq.read_schema(out).field("topic_score").type == pa.float64()


def test_json_report(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path, capsys) -> None:
    code, _ = score(tmp_path, tiny_bundle_dir, articles_csv, "--json")
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows_read"] == report["rows_scored"] == 24
    assert report["rows_with_errors"] == 0 and report["rows_per_s"] > 0


def test_glob_and_folder_inputs_keep_file_order(tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    articles.iloc[:10].to_csv(folder / "a.csv", index=False)
    articles.iloc[10:18].to_json(folder / "b.jsonl", orient="records", lines=True)
    articles.iloc[18:].to_parquet(folder / "c.parquet", index=False)
    (folder / "notes.txt").write_text("not an input")
    code, out = score(tmp_path, tiny_bundle_dir, folder, "--chunksize", "7")
    assert code == 0
    assert read_out(out).id.tolist() == articles.id.tolist()
    code, out = score(tmp_path, tiny_bundle_dir, Path(str(folder / "*.csv")), out="glob.csv")
    assert code == 0
    assert read_out(out).id.tolist() == articles.id.tolist()[:10]


def test_folder_output_holds_parts(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, articles_csv, "--chunksize", "10", out="parts/")
    assert code == 0
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 3
    assert sum(pq.read_metadata(p).num_rows for p in parts) == 24
    assert json.loads((out / "_newsdesk_score.json").read_text())["rows"] == 24


# --------------------------------------------------------------------------- input faults


def test_quoted_newlines_and_commas_are_kept_intact(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    body = b'"' + SPORT + b'\n\nSecond paragraph, with ""quotes"", and commas."'
    source = write(tmp_path, "in.csv", HEADER + b'1,"Title, with comma",' + body + b"\n2,Tech," + TECH + b"\n")
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 0
    scored = read_out(out)
    assert scored.id.tolist() == ["1", "2"]
    assert scored.title[0] == "Title, with comma"
    assert scored.text[0].endswith('Second paragraph, with "quotes", and commas.')
    assert (scored.error == "").all()


def test_missing_text_column_names_the_columns(tmp_path: Path, tiny_bundle_dir: Path, capsys) -> None:
    source = write(tmp_path, "in.csv", b"id,headline,body\n1,A,some words\n")
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 2
    err = capsys.readouterr().err
    assert "column 'text' not found" in err and "['id', 'headline', 'body']" in err and "--text-col body" in err
    assert not out.exists()


def test_nul_bytes_and_invalid_utf8_give_row_errors(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    rows = [b"1,a," + SPORT, b"2,b,caf\xe9 and \xff bytes " + TECH, b"3,c,nul\x00 in " + SPORT, b"4,d," + TECH]
    source = write(tmp_path, "in.csv", HEADER + b"\n".join(rows) + b"\n")
    code, out = score(tmp_path, tiny_bundle_dir, source, "--encoding", "utf-8")
    assert code == 0
    scored = read_out(out)
    assert scored.id.tolist() == ["1", "2", "3", "4"]
    assert scored.error[0] == scored.error[3] == ""
    assert scored.error[1].startswith("invalid_bytes: line 3 ") and "--encoding" in scored.error[1]
    assert scored.error[2].startswith("nul_bytes: line 4 ")
    assert scored.topic[1] == scored.topic[2] == ""
    assert "\ufffd" in scored.text[1] and "\x00" not in scored.text[2]


def test_other_encodings_are_read_with_encoding_option(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    source = write(tmp_path, "in.csv", HEADER + b"1,Caf\xe9," + SPORT + b" \x80 5\n")
    code, out = score(tmp_path, tiny_bundle_dir, source, "--encoding", "cp1252")
    assert code == 0
    scored = read_out(out)
    assert scored.title[0] == "Café" and "€" in scored.text[0] and scored.error[0] == ""


def test_a_cp1252_file_that_trains_also_scores_without_an_encoding_option(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    from newsdesk.train.data import ColumnMap, load_dataset

    frame = articles.copy()
    frame.loc[0, "title"] = "Café society \u2013 \u201cquoted\u201d"
    source = tmp_path / "windows.csv"
    source.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    dataset = load_dataset(source, ColumnMap(label="category"))
    assert dataset.report.encoding_fallbacks == [str(source)]
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 0
    scored = read_out(out)
    assert scored.title[0] == "Café society \u2013 \u201cquoted\u201d" and (scored.error == "").all()
    assert "not valid UTF-8; reading the input as cp1252" in caplog.text


def test_ragged_rows_are_kept_with_an_error(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    rows = [b"1,a," + SPORT, b"2,too,many,fields," + TECH, b"3,few", b"4,d," + TECH]
    source = write(tmp_path, "in.csv", HEADER + b"\n".join(rows) + b"\n")
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 0
    scored = read_out(out)
    assert scored.id.tolist() == ["1", "2", "3", "4"]
    assert scored.error[1].startswith("ragged_row: line 3 has 5 fields but the header has 3")
    assert scored.error[2].startswith("ragged_row: line 4 has 2 fields but the header has 3")
    assert scored.title[1] == "too" and scored.text[2] == ""
    assert scored.error[0] == scored.error[3] == "" and scored.topic[0] and scored.topic[3]


def test_empty_and_missing_texts_are_kept_with_an_error(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    articles = pd.DataFrame({"id": ["1", "2", "3"], "title": ["A", "B", "C"], "text": [SPORT.decode(), "   ", None]})
    source = tmp_path / "in.parquet"
    articles.to_parquet(source, index=False)
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 0
    scored = read_out(out)
    assert scored.id.tolist() == ["1", "2", "3"]
    assert scored.error[0] == ""
    assert scored.error[1].startswith("empty_text: ") and scored.error[2].startswith("empty_text: ")


def test_jsonl_bad_lines_are_kept(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    lines = [
        json.dumps({"id": 1, "text": SPORT.decode()}),
        "{not json",
        "[1, 2]",
        json.dumps({"id": 4, "text": TECH.decode(), "extra": [1]}),
    ]
    source = write(tmp_path, "in.jsonl", "\n".join(lines).encode() + b"\n")
    code, out = score(tmp_path, tiny_bundle_dir, source)
    assert code == 0
    scored = read_out(out)
    assert list(scored.columns[:3]) == ["id", "text", "extra"]
    assert scored.id.tolist() == ["1", "", "", "4"]
    assert scored.error[1].startswith("invalid_json: line 2") and scored.error[2].startswith("invalid_json: line 3")
    assert scored.extra[3] == "[1]"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty (0 bytes)"),
        ("blank.csv", b"\n\n", "is empty"),
        ("empty.parquet", b"", "is empty (0 bytes); expected a Parquet file"),
        ("fake.parquet", b"id,text\n1,a\n", "not a Parquet file"),
        ("binary.csv", b"PAR1\x00\x00\x15", "holds a Parquet file"),
        ("empty.jsonl", b"", "is empty (0 bytes)"),
    ],
)
def test_unusable_files_are_refused_clearly(
    tmp_path: Path, tiny_bundle_dir: Path, capsys, name, content, message
) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, write(tmp_path, name, content))
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_header_only_file_gives_an_empty_output(tmp_path: Path, tiny_bundle_dir: Path, capsys) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, write(tmp_path, "in.csv", HEADER))
    assert code == 0
    assert out.read_text() == '"id","title","text","topic","topic_score","needs_review","review_reason","error"\n'
    assert "has no rows (a header only)" in capsys.readouterr().out


def test_missing_input_and_output_folder(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path, capsys) -> None:
    code, _ = score(tmp_path, tiny_bundle_dir, tmp_path / "nope.csv")
    assert code == 2 and "does not exist" in capsys.readouterr().err
    code, out = score(tmp_path, tiny_bundle_dir, articles_csv, out="missing/dir/out.csv")
    assert code == 2
    assert "the folder" in capsys.readouterr().err and not out.parent.exists()
    code, _ = score(tmp_path, tiny_bundle_dir, articles_csv, out="out.txt")
    assert code == 2 and "end --out in .csv or .parquet" in capsys.readouterr().err


def test_existing_output_needs_overwrite(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path, capsys) -> None:
    existing = write(tmp_path, "out.csv", b"precious")
    code, _ = score(tmp_path, tiny_bundle_dir, articles_csv)
    assert code == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert existing.read_bytes() == b"precious"
    code, _ = score(tmp_path, tiny_bundle_dir, articles_csv, "--overwrite")
    assert code == 0 and len(read_out(existing)) == 24


def test_input_that_already_has_score_columns_is_refused(
    tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path, capsys
) -> None:
    code, out = score(tmp_path, tiny_bundle_dir, articles_csv)
    assert code == 0
    code, _ = score(tmp_path, tiny_bundle_dir, out, out="again.csv")
    assert (
        code == 2
        and "already has column(s) ['topic', 'topic_score', 'needs_review', 'review_reason', 'error']"
        in capsys.readouterr().err
    )


# --------------------------------------------------------------------------- interruption and resume


def _big_input(tmp_path: Path, articles: pd.DataFrame) -> Path:
    """The 24 articles three times over (ids unique), with a ragged row in the middle."""
    frames = [articles.assign(id=articles.id + f"#{k}") for k in range(3)]
    path = tmp_path / "big.csv"
    pd.concat(frames).to_csv(path, index=False)
    lines = path.read_bytes().split(b"\n")
    lines.insert(30, b"ragged,row")
    path.write_bytes(b"\n".join(lines))
    return path


def test_resume_after_interruption_matches_an_uninterrupted_run(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    source = _big_input(tmp_path, articles)
    code, reference = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "10", "--top-k", "2", out="ref.csv")
    assert code == 0

    real = newsdesk.serve.batch.local.score_rows
    calls: list[int] = []

    def interrupted(bundle, texts, titles, errors, options):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(len(texts))
        return real(bundle, texts, titles, errors, options)

    monkeypatch.setattr(newsdesk.serve.batch.local, "score_rows", interrupted)
    code, out = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "10", "--top-k", "2")
    assert code == 130
    assert "--resume" in capsys.readouterr().err
    assert not out.exists()  # nothing that looks finished
    checkpoint = out.parent / ".out.csv.newsdesk-partial"
    assert len(list(checkpoint.glob("part-*.json"))) == 3

    code, _ = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "10", "--top-k", "2")
    assert code == 2 and "pass --resume to continue it" in capsys.readouterr().err

    calls.clear()
    monkeypatch.setattr(
        newsdesk.serve.batch.local, "score_rows", lambda b, t, ti, e, o: calls.append(len(t)) or real(b, t, ti, e, o)
    )
    code, out = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "8", "--top-k", "2", "--resume")
    assert code == 0
    assert sum(calls) == 73 - 30  # only the rows the interrupted run had not finished
    assert "resumed: 30 rows were already scored" in capsys.readouterr().out
    assert out.read_bytes() == reference.read_bytes()
    assert not checkpoint.exists()


def test_crash_between_part_and_its_record_redoes_that_part(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _big_input(tmp_path, articles)
    code, reference = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "20", out="ref.parquet")
    assert code == 0
    real_commit = Checkpoint.commit

    def crash_on_third(self, info):
        if info.index == 2:
            raise RuntimeError("power cut")
        real_commit(self, info)

    monkeypatch.setattr(Checkpoint, "commit", crash_on_third)
    with pytest.raises(RuntimeError, match="power cut"):
        main(
            [
                "score",
                str(source),
                "--model",
                str(tiny_bundle_dir),
                "--out",
                str(tmp_path / "out.parquet"),
                "--workers",
                "0",
                "--chunksize",
                "20",
            ]
        )
    assert (tmp_path / ".out.parquet.newsdesk-partial" / "part-00002.parquet").exists()
    monkeypatch.setattr(Checkpoint, "commit", real_commit)
    code, out = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "20", "--resume", out="out.parquet")
    assert code == 0
    pd.testing.assert_frame_equal(read_out(out), read_out(reference))


def test_resume_refuses_a_changed_input_or_options(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    source = _big_input(tmp_path, articles)
    real = newsdesk.serve.batch.local.score_rows
    calls: list[int] = []

    def interrupted(bundle, texts, titles, errors, options):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(bundle, texts, titles, errors, options)

    monkeypatch.setattr(newsdesk.serve.batch.local, "score_rows", interrupted)
    assert score(tmp_path, tiny_bundle_dir, source, "--chunksize", "10")[0] == 130
    monkeypatch.setattr(newsdesk.serve.batch.local, "score_rows", real)
    code, _ = score(tmp_path, tiny_bundle_dir, source, "--top-k", "3", "--resume")
    assert code == 2 and "options differ (top_k was None, now 3)" in capsys.readouterr().err
    source.write_bytes(source.read_bytes() + b"extra,row,here\n")
    code, _ = score(tmp_path, tiny_bundle_dir, source, "--resume")
    assert code == 2 and "the input changed since the interrupted run" in capsys.readouterr().err
    code, out = score(tmp_path, tiny_bundle_dir, source, "--overwrite")
    assert code == 0 and len(read_out(out)) == 74


def test_helper_processes_give_the_same_output(tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame) -> None:
    source = _big_input(tmp_path, articles)
    code, alone = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "16", "--summarize", out="alone.csv")
    assert code == 0
    target = tmp_path / "helped.csv"
    code = main(
        [
            "score",
            str(source),
            "--model",
            str(tiny_bundle_dir),
            "--out",
            str(target),
            "--workers",
            "2",
            "--chunksize",
            "16",
            "--summarize",
        ]
    )
    assert code == 0
    assert target.read_bytes() == alone.read_bytes()


def test_rows_are_cleaned_with_the_bundles_cleaning_options(tmp_path: Path) -> None:
    """A bundle trained to keep boilerplate is scored keeping it, as the server would clean it."""
    from helpers.training import train_tiny
    from newsdesk.serve.batch.rows import prepare_rows
    from newsdesk.train.text.cleaning import CleaningOptions

    train_tiny(tmp_path, name="keep", cleaning=CleaningOptions(remove_boilerplate=False))
    keep = load_bundle(tmp_path / "keep")
    assert keep.cleaning.remove_boilerplate is False
    text = f"Advertisement\n\n{SPORT.decode()}\n\nShare this article on Facebook"
    source = write(tmp_path, "in.csv", HEADER + b'1,Match,"' + text.encode() + b'"\n')
    code, out = score(tmp_path, tmp_path / "keep", source, "--summarize")
    assert code == 0
    prepared = prepare_rows([text], ["Match"], [""], "text", keep.cleaning)
    assert prepared.articles[0] == clean_article(text, "Match", keep.cleaning)
    assert "Share this article" in prepared.articles[0].body
    assert read_out(out).summary[0] == summarize_article(keep, prepared.articles[0]).text


def child_pids(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def test_resume_after_kill_9_matches_an_uninterrupted_run(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame
) -> None:
    """A real crash: SIGKILL the scoring process right after its third part is recorded, then --resume.

    The test hook NEWSDESK_TEST_PAUSE=score-part-2:FLAG stops the process there (it writes FLAG and
    waits), so the kill always lands mid-run, never after the run has finished.
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    from newsdesk.train.durable import TEST_PAUSE_ENV

    source = tmp_path / "in.csv"
    pd.concat([articles.assign(id=articles.id + f"#{k}") for k in range(20)]).to_csv(source, index=False)
    code, reference = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "8", out="ref.csv")
    assert code == 0
    out = tmp_path / "out.csv"
    flag = tmp_path / "paused"
    command = [sys.executable, "-m", "newsdesk.serve.cli", "score", str(source), "--model", str(tiny_bundle_dir),
               "--out", str(out), "--workers", "1", "--chunksize", "8", "--no-progress"]  # fmt: skip
    env = {**os.environ, TEST_PAUSE_ENV: f"score-part-2:{flag}"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert process.poll() is None, "the scoring process ended before it reached part 2"
            assert time.monotonic() < deadline, "the scoring process never reached part 2"
            time.sleep(0.01)
        helpers = child_pids(process.pid)
        assert helpers, "with --workers 1 the scorer runs a helper process"
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    checkpoint = tmp_path / ".out.csv.newsdesk-partial"
    assert sorted(p.name for p in checkpoint.glob("part-*.json")) == [f"part-0000{i}.json" for i in range(3)]
    assert not out.exists()  # nothing that looks finished
    deadline = time.monotonic() + 10  # the helper processes notice their parent is gone and exit
    try:
        while any(pid_alive(pid) for pid in helpers):
            assert time.monotonic() < deadline, f"helper processes {helpers} outlived the killed scorer"
            time.sleep(0.1)
    finally:
        for pid in filter(pid_alive, helpers):
            os.kill(pid, signal.SIGKILL)
    code, _ = score(tmp_path, tiny_bundle_dir, source, "--chunksize", "8", "--resume")
    assert code == 0
    assert out.read_bytes() == reference.read_bytes()
    assert not checkpoint.exists()


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["score", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: newsdesk score" in out and "--resume" in out and "--engine {local,dask}" in out


def test_nested_parquet_columns_need_parquet_output(tmp_path: Path, tiny_bundle_dir: Path, capsys) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"id": [1, 2], "text": [SPORT.decode(), TECH.decode()], "tags": [["a"], ["b", "c"]]}).to_parquet(
        source
    )
    code, _ = score(tmp_path, tiny_bundle_dir, source)
    assert code == 2 and "columns ['tags'] hold lists or records" in capsys.readouterr().err
    code, out = score(tmp_path, tiny_bundle_dir, source, out="out.parquet")
    assert code == 0
    scored = read_out(out)
    assert scored.id.tolist() == [1, 2] and list(scored.tags[1]) == ["b", "c"] and (scored.error == "").all()


def test_score_cleans_html_and_boilerplate_as_asked(tmp_path: Path, tiny_bundle_dir: Path) -> None:
    import pandas as pd

    from newsdesk.serve.cli import main

    story = "The striker scored twice as United beat City in the league on Saturday afternoon at home."
    messy = f"Home | News | Sport\n\n- 6 hours ago\n\n{story}\n\nShare this"
    page = f"<html><body><nav><a href='/'>Home</a> | <a href='/n'>News</a></nav><article><p>{story}</p></article></body></html>"
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b"], "text": [messy, page]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "score",
                str(source),
                "--model",
                str(tiny_bundle_dir),
                "--out",
                str(out),
                "--summarize",
                "--workers",
                "0",
                "--no-progress",
            ]
        )
        == 0
    )
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored["summary"]) == [story, story]  # menus, times, share links and tags removed
    kept = tmp_path / "kept.csv"
    assert (
        main(
            [
                "score",
                str(source),
                "--model",
                str(tiny_bundle_dir),
                "--out",
                str(kept),
                "--summarize",
                "--workers",
                "0",
                "--no-progress",
                "--keep-boilerplate",
                "--format",
                "text",
            ]
        )
        == 0
    )
    raw = pd.read_csv(kept, keep_default_na=False)
    # Cleaning kept the furniture lines, but a summary never uses them (train/summarize/hygiene.py).
    assert raw["summary"][0] == story
    assert "<p>" in raw["summary"][1]


# --------------------------------------------------------------------------- summary length


def _sentences(summary: str) -> list[str]:
    from newsdesk.train.text.sentences import sentence_texts

    return sentence_texts(summary)


def test_summary_length_brief_writes_brief_summaries(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame
) -> None:
    # Long articles: each joins four fixture articles (about 12 sentences, 200 words).
    texts = [" ".join(articles.text[i : i + 4]) for i in range(0, 12, 4)]
    source = tmp_path / "long.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "text": texts}).to_csv(source, index=False)
    code, out = score(tmp_path, tiny_bundle_dir, source, "--summarize", "--summary-length", "brief")
    assert code == 0
    brief = read_out(out)
    _, out = score(tmp_path, tiny_bundle_dir, source, "--summarize", "--summary-length", "standard", out="s.csv")
    standard = read_out(out)
    for short, longer, text in zip(brief.summary, standard.summary, texts):
        assert len(_sentences(short)) == 3 and len(short.split()) <= 75
        assert 3 < len(_sentences(longer)) <= 5 and len(longer.split()) <= 150
        assert all(sentence in text for sentence in _sentences(short))


def test_without_a_length_score_uses_the_models_default(
    tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path
) -> None:
    _, default = score(tmp_path, tiny_bundle_dir, articles_csv, "--summarize", out="d.csv")
    _, brief = score(tmp_path, tiny_bundle_dir, articles_csv, "--summarize", "--summary-length", "brief", out="b.csv")
    assert list(read_out(default).summary) == list(read_out(brief).summary)


def test_explicit_max_sentences_wins_over_the_preset(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path) -> None:
    code, out = score(
        tmp_path, tiny_bundle_dir, articles_csv, "--summarize", "--summary-length", "reference", "--max-sentences", "1"
    )
    assert code == 0
    assert all(len(_sentences(s)) == 1 for s in read_out(out).summary)


def test_length_options_need_summarize(tmp_path: Path, tiny_bundle_dir: Path, articles_csv: Path, capsys) -> None:
    code, _ = score(tmp_path, tiny_bundle_dir, articles_csv, "--summary-length", "brief")
    assert code != 0
    assert "need --summarize" in capsys.readouterr().err
