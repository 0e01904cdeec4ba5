"""``newsdesk score --cluster``: duplicate_of and story_id, the same with both engines, resumable, validated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsdesk.serve.cli import main


def clustered_input(articles: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The fixture articles, then a lightly edited copy of two of them and an exact copy of a third."""
    articles = articles.assign(text=articles.text.str.replace(". ", ".\n\n", n=2, regex=False))  # paragraphs
    copies = articles.iloc[[2, 5, 9]].copy()
    copies["id"] = copies["id"] + "-copy"
    copies.iloc[0, copies.columns.get_loc("text")] = "UPDATE 1 - " + copies.iloc[0]["text"] + " (Reporting by J. Doe)"
    copies.iloc[1, copies.columns.get_loc("text")] = copies.iloc[1]["text"] + '\n\nShare this article, "quoted"'
    empty = pd.DataFrame([{"id": "empty-1", "title": "No body", "text": "", "category": "sport"}])
    frame = pd.concat([articles, copies, empty], ignore_index=True)
    frame["date"] = "2026-03-01"
    frame.to_csv(path, index=False)
    return frame


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_cluster_columns_with_the_local_engine(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk.serve.batch import clusters

    monkeypatch.setattr(clusters, "PART_READ_BLOCK", 1500)  # texts with line breaks span the reader's blocks
    source = tmp_path / "in.csv"
    frame = clustered_input(articles, source)
    out = tmp_path / "out.csv"
    common = ["--model", str(tiny_bundle_dir), "--chunksize", "7", "--no-progress"]
    assert main(["score", str(source), "--out", str(out), "--workers", "0", "--cluster", *common]) == 0
    scored = read(out)
    assert scored.columns.tolist()[-3:] == ["duplicate_of", "story_id", "error"]
    copies = scored[scored.id.str.endswith("-copy")]
    assert copies.duplicate_of.tolist() == [frame.id[2], frame.id[5], frame.id[9]]
    assert (copies.story_id.to_numpy() == copies.duplicate_of.to_numpy()).all()
    originals = scored.iloc[: len(articles)]
    assert (originals.duplicate_of == "").all() and (originals.story_id != "").all()
    assert not (tmp_path / ".out.csv.newsdesk-partial").exists()
    empty = scored[scored.id == "empty-1"].iloc[0]
    assert empty.error.startswith("empty_text") and empty.duplicate_of == "" and empty.story_id == ""
    # every other column is what scoring without --cluster writes
    plain = tmp_path / "plain.csv"
    assert main(["score", str(source), "--out", str(plain), "--workers", "0", *common]) == 0
    assert scored.drop(columns=["duplicate_of", "story_id"]).equals(read(plain))

    # Without an id column, rows are named by their 0-based position; Parquet folder output keeps no side files.
    no_ids = tmp_path / "no_ids.csv"
    frame.drop(columns=["id"]).to_csv(no_ids, index=False)
    folder = tmp_path / "folder"
    assert main(["score", str(no_ids), "--out", f"{folder}/", "--workers", "0", "--cluster", *common]) == 0
    assert sorted(p.suffix for p in folder.iterdir()) == [".json"] + [".parquet"] * 4  # no side files
    scored = pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("part-*.parquet")))
    assert scored.duplicate_of.iloc[len(articles) :].tolist()[:3] == ["2", "5", "9"]
    assert pd.isna(scored.duplicate_of.iloc[-1]) and pd.isna(scored.story_id.iloc[-1])  # the empty row


def test_dask_engine_gives_the_same_cluster_columns(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame
) -> None:
    source = tmp_path / "in.csv"
    clustered_input(articles, source)
    common = ["--model", str(tiny_bundle_dir), "--chunksize", "9", "--cluster", "--date-col", "date", "--no-progress"]
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert main(["score", str(source), "--out", str(local), "--workers", "0", *common]) == 0
    assert main(["score", str(source), "--out", str(dask), "--engine", "dask", "--workers", "2", *common]) == 0
    assert dask.read_bytes() == local.read_bytes()


def test_resume_after_the_first_pass_fills_every_part(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk.serve.batch import runner

    source = tmp_path / "in.csv"
    clustered_input(articles, source)
    out = tmp_path / "out.csv"
    args = ["score", str(source), "--out", str(out), "--model", str(tiny_bundle_dir), "--chunksize", "7"]
    args += ["--workers", "0", "--cluster", "--no-progress"]

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "assign_clusters", crash)
    assert main(args) != 0  # interrupted after every part was scored, before the second pass
    assert not out.exists() and list((tmp_path / ".out.csv.newsdesk-partial").glob("*.sketch.side"))
    monkeypatch.undo()
    assert main([*args, "--resume"]) == 0
    scored = read(out)
    expected = articles.id.iloc[[2, 5, 9]].tolist()
    assert scored.duplicate_of[scored.id.str.endswith("-copy")].tolist() == expected


def test_cluster_options_are_checked(tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, capsys) -> None:
    source = tmp_path / "in.csv"
    clustered_input(articles, source)
    base = ["score", str(source), "--out", str(tmp_path / "o.csv"), "--model", str(tiny_bundle_dir), "--no-progress"]
    assert main([*base, "--cluster", "--date-col", "published"]) != 0
    assert "--date-col 'published' is not a column of the input" in capsys.readouterr().err
    assert main([*base, "--date-col", "date"]) != 0
    assert "--date-col needs --cluster" in capsys.readouterr().err
    assert main([*base, "--cluster", "--duplicate-threshold", "1.5"]) != 0
    assert "duplicate_threshold must be in (0, 1]" in capsys.readouterr().err
