"""The Dask engine: a 2-worker LocalCluster gives the local engine's output; the model travels as bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsdesk.serve.batch.dask_engine import DaskEngineError, bundle_from_payload, bundle_payload, check_worker_access
from newsdesk.serve.batch.output import Checkpoint, csv_header
from newsdesk.serve.cli import main
from newsdesk.train.bundle import load_bundle
from newsdesk.train.versions import BundleError


def test_dask_on_two_workers_matches_the_local_engine(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame
) -> None:
    frames = [articles.assign(id=articles.id + f"#{k}") for k in range(3)]
    source = tmp_path / "in.csv"
    pd.concat(frames).to_csv(source, index=False)
    lines = source.read_bytes().split(b"\n")
    lines[40:40] = [b"ragged,row", b'x,"Quoted, title","line one\nline two, about the match and the goal",sport']
    source.write_bytes(b"\n".join(lines))
    common = ["--model", str(tiny_bundle_dir), "--chunksize", "9", "--top-k", "2"]

    local = tmp_path / "local.csv"
    assert main(["score", str(source), "--out", str(local), "--workers", "0", *common]) == 0
    folder = tmp_path / "dask.csv"
    assert main(["score", str(source), "--out", f"{folder}/", "--engine", "dask", "--workers", "2", *common]) == 0

    parts = sorted(folder.glob("part-*.csv"))
    assert len(parts) == 9  # 74 rows in partitions of 9
    header = csv_header_of(local)
    joined = header + b"".join(p.read_bytes()[len(header) :] for p in parts)
    assert joined == local.read_bytes()  # same rows, same order, same topics, same errors
    scored = pd.read_csv(local, dtype=str, keep_default_na=False)
    assert len(scored) == 74 and scored.error.str.startswith("ragged_row").sum() == 1


def csv_header_of(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[0] + b"\n"


def test_bundle_travels_as_verified_bytes(tiny_bundle_dir: Path) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    payload = bundle_payload(bundle)
    rebuilt = bundle_from_payload(payload)
    assert rebuilt.path != bundle.path and rebuilt.version == bundle.version
    texts = ["The striker scored a late goal in the cup final."]
    assert rebuilt.classifier.predict(texts) == bundle.classifier.predict(texts)
    assert bundle_from_payload(payload) is rebuilt  # loaded once per worker process

    damaged = {"key": "other", "files": dict(payload["files"])}
    name = next(n for n in damaged["files"] if n.endswith(".npz"))
    damaged["files"][name] = damaged["files"][name][:-10]
    with pytest.raises(BundleError, match="does not match its checksum"):
        bundle_from_payload(damaged)


def test_workers_report_what_they_cannot_reach(tmp_path: Path) -> None:
    present = tmp_path / "in.csv"
    present.write_text("id,text\n")
    assert check_worker_access([str(present)], str(tmp_path)) == []
    problems = check_worker_access([str(tmp_path / "elsewhere.csv")], str(tmp_path / "nope"))
    assert problems == [f"cannot read {tmp_path / 'elsewhere.csv'}", f"cannot write to {tmp_path / 'nope'}"]
    assert issubclass(DaskEngineError, ValueError)  # the CLI turns it into exit code 2 with the message


def test_csv_header_matches_the_part_writer() -> None:
    import pyarrow as pa

    schema = pa.schema([("id", pa.string()), ("topic_score", pa.float64())])
    assert csv_header(schema) == b'"id","topic_score"\n'


def test_dask_resume_skips_the_partitions_already_done(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    source = tmp_path / "in.csv"
    pd.concat([articles.assign(id=articles.id + f"#{k}") for k in range(2)]).to_csv(source, index=False)
    reference = tmp_path / "local.parquet"
    common = ["--model", str(tiny_bundle_dir), "--chunksize", "6"]
    assert main(["score", str(source), "--out", str(reference), "--workers", "0", *common]) == 0

    out = tmp_path / "dask.parquet"
    real_commit = Checkpoint.commit
    committed: list[int] = []

    def stop_after_three(self, info):
        if len(committed) == 3:
            raise KeyboardInterrupt
        committed.append(info.index)
        real_commit(self, info)

    monkeypatch.setattr(Checkpoint, "commit", stop_after_three)
    dask_args = ["score", str(source), "--out", str(out), "--engine", "dask", "--workers", "2", *common]
    assert main(dask_args) == 130
    assert "--resume" in capsys.readouterr().err and not out.exists()
    monkeypatch.setattr(Checkpoint, "commit", real_commit)
    assert main([*dask_args, "--chunksize", "5", "--resume"]) == 2
    assert "chunksize was 6, now 5" in capsys.readouterr().err
    assert main([*dask_args, "--resume"]) == 0
    assert "resumed: 18 rows were already scored" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(reference))
