"""Faults: ``kill -9`` while training or scoring, a full disk, altered bundle files.

Kills land at a known moment through the test hook ``NEWSDESK_TEST_PAUSE=POINT:FLAG``
(:func:`newsdesk.train.bundle.pause_for_tests`): at POINT the process writes FLAG and waits while it
exists, so the test kills it (or fills the disk, then lets it go on) exactly there.
A full disk is a real 1 MB tmpfs (needs root; skipped otherwise) and, always, an ``os.fsync``
that raises ENOSPC at each write of a save or a scoring run in turn.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from helpers.api_fixtures import SPORT_TEXT, flip_byte, serving
from helpers.server_process import free_port, running_server
from helpers.training import ARTICLES_CSV, BUNDLE_FILES, train_tiny
from newsdesk.serve.api.settings import ENV_PREFIX
from newsdesk.serve.batch.output import PARTIAL_SUFFIX
from newsdesk.serve.cli import main
from newsdesk.train.bundle import MANIFEST, METRICS, MODEL_CARD, PAUSE_IN_SAVE, load_bundle, save_bundle
from newsdesk.train.durable import TEST_PAUSE_ENV
from newsdesk.train.versions import CURRENT, TMP_PREFIX, BundleError, list_versions, read_current, set_current

TRAIN_OPTIONS = ["--data", str(ARTICLES_CSV), "--label-col", "category", "--test-size", "0.25",
                 "--calibration-folds", "3", "--name", "tiny"]  # fmt: skip
"""``newsdesk train`` as :func:`helpers.training.train_tiny` trains (add ``--models-dir``)."""
NO_SPACE = "no space left on device while writing"


def train_command(models: Path) -> list[str]:
    return ["train", *TRAIN_OPTIONS, "--models-dir", str(models)]


def wait_for(flag: Path, alive: Callable[[], bool], seconds: float = 60) -> str:
    """Wait until a paused process has written ``flag``; return what it wrote there."""
    deadline = time.monotonic() + seconds
    while not flag.exists():
        assert alive(), "the process ended before it reached the pause point"
        assert time.monotonic() < deadline, "the process never reached the pause point"
        time.sleep(0.01)
    return flag.read_text()


def leftovers(model: Path) -> list[str]:
    """Temporary files and folders of saves in ``models/NAME``."""
    return sorted(p.name for p in model.iterdir() if p.name.startswith(TMP_PREFIX))


def only_error_line(stderr: str, command: str) -> str:
    """The error line of a failed command, checking it is the only one and there is no traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith(f"newsdesk {command}: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


# --------------------------------------------------------------------------- kill -9 while training


def test_kill_9_while_train_writes_a_bundle_leaves_current_and_the_server_untouched(tmp_path: Path) -> None:
    """``newsdesk train`` killed with the weights half written: current, a running server and the next train."""
    models = tmp_path / "models"
    model = models / "tiny"
    assert main(train_command(models)) == 0
    flag = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env[TEST_PAUSE_ENV] = f"{PAUSE_IN_SAVE}:{flag}"
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def keep_asking(url: str) -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                response = client.post(url + "/v1/predict", json={"text": SPORT_TEXT})
                answers.append((response.status_code, response.json().get("model", {}).get("version", "?")))

    with running_server(model, tmp_path / "server.log") as url, ThreadPoolExecutor(1) as pool:
        asking = pool.submit(keep_asking, url)
        command = [sys.executable, "-m", "newsdesk.serve.cli", *train_command(models)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            half_written = Path(wait_for(flag, lambda: process.poll() is None))
            written = {p.name for p in half_written.iterdir()}
            assert written and MANIFEST not in written  # weights on disk, no manifest yet
            asked_before_kill = len(answers)
            process.send_signal(signal.SIGKILL)
            assert process.wait(10) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        while len(answers) < asked_before_kill + 20:  # the server goes on answering after the kill
            assert not asking.done(), asking.exception()
            time.sleep(0.01)
        stop.set()
        asking.result(10)
        assert half_written.is_dir() and leftovers(model) == [half_written.name]
        assert read_current(model) == "v0001" and list_versions(model) == ["v0001"]
        assert load_bundle(model).version == "v0001"
        assert set(answers) == {(200, "v0001")}
        reload = httpx.post(url + "/v1/admin/reload", timeout=30)
        assert reload.status_code == 200, reload.text
        assert reload.json()["model"]["version"] == "v0001" and reload.json()["changed"] is False

        assert main(train_command(models)) == 0  # the next train works and clears what the killed one left
        assert leftovers(model) == [] and list_versions(model) == ["v0001", "v0002"]
        assert read_current(model) == "v0002"
        reload = httpx.post(url + "/v1/admin/reload", timeout=30)
        assert reload.status_code == 200 and reload.json()["model"]["version"] == "v0002"


# --------------------------------------------------------------------------- a full disk: a real tmpfs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted for the test (needs root; skipped with the reason when mounting is refused)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a 1 MB tmpfs, and mounting one needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); the injected-error tests run"
        )
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte with one file; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for block in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    handle.write(b"\0" * block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def run_paused(point: str, flag: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Future[int]:
    """Run ``main(argv)`` in a thread that stops at ``point``; the caller lets it go on by deleting ``flag``."""
    monkeypatch.setenv(TEST_PAUSE_ENV, f"{point}:{flag}")
    pool = ThreadPoolExecutor(1)
    running = pool.submit(main, argv)
    pool.shutdown(wait=False)
    wait_for(flag, lambda: not running.done())
    return running


def test_train_on_a_full_disk_fails_cleanly_and_the_next_train_succeeds(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = small_disk / "tiny"
    assert main(train_command(small_disk)) == 0
    flag = tmp_path / "paused"
    running = run_paused(PAUSE_IN_SAVE, flag, train_command(small_disk), monkeypatch)
    filler = fill(small_disk)  # the disk fills up while the weights are written
    capsys.readouterr()
    flag.unlink()
    assert running.result(60) == 2
    error = only_error_line(capsys.readouterr().err, "train")
    assert f"{NO_SPACE} a new version of tiny in {model}" in error
    assert "'current' still names v0001" in error and "Free space" in error
    assert read_current(model) == "v0001" and list_versions(model) == ["v0001"]
    assert leftovers(model) == []
    assert load_bundle(model).version == "v0001"
    monkeypatch.delenv(TEST_PAUSE_ENV)
    filler.unlink()
    assert main(train_command(small_disk)) == 0
    assert read_current(model) == "v0002" and load_bundle(model).version == "v0002"


def big_input(tmp_path: Path) -> Path:
    """240 rows: the fixture articles ten times over, with unique ids."""
    articles = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)
    source = tmp_path / "in.csv"
    pd.concat([articles.assign(id=articles.id + f"#{k}") for k in range(10)]).to_csv(source, index=False)
    return source


def score_command(source: Path, model: Path, out: str, *extra: str) -> list[str]:
    return ["score", str(source), "--model", str(model), "--out", out, "--workers", "0", "--no-progress", *extra]


def same_output(out: Path, reference: Path) -> None:
    """The same bytes (every part, for a folder output)."""
    if reference.is_dir():
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
        for part in reference.glob("part-*"):
            assert (out / part.name).read_bytes() == part.read_bytes()
    else:
        assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize(
    ("out", "stop_after", "failing"),
    [
        ("out.csv", 1, "part-00002.csv"),  # a part cannot be written
        ("out.parquet", 5, "out.parquet"),  # every part is done; joining them into OUTPUT fails
        ("out.csv/", 5, "_newsdesk_score.json"),  # a folder of parts: its summary cannot be written
    ],
)
def test_score_on_a_full_disk_stops_cleanly_and_resumes_exactly(
    small_disk: Path,
    tmp_path: Path,
    tiny_bundle_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    out: str,
    stop_after: int,
    failing: str,
) -> None:
    source = big_input(tmp_path)
    chunks = ("--chunksize", "40")  # six parts
    folder = "/" if out.endswith("/") else ""  # a trailing / asks for a folder of parts
    reference = tmp_path / out.rstrip("/")
    assert main(score_command(source, tiny_bundle_dir, f"{reference}{folder}", *chunks)) == 0
    target = small_disk / out.rstrip("/")
    checkpoint = small_disk / f".{target.name}{PARTIAL_SUFFIX}"
    flag = tmp_path / "paused"
    spelled = f"{target}{folder}"
    command = score_command(source, tiny_bundle_dir, spelled, *chunks)
    running = run_paused(f"score-part-{stop_after}", flag, command, monkeypatch)
    filler = fill(small_disk)
    capsys.readouterr()
    flag.unlink()
    assert running.result(60) == 2
    error = only_error_line(capsys.readouterr().err, "score")
    assert NO_SPACE in error and failing in error and f"{target} was not written" in error and "--resume" in error
    assert not target.exists()  # nothing that looks finished
    records = sorted(p.name for p in checkpoint.glob("part-*.json"))
    assert records == [f"part-{i:05d}.json" for i in range(stop_after + 1)]
    assert not [p.name for p in checkpoint.iterdir() if p.name.startswith(".")]  # no half-written file

    monkeypatch.delenv(TEST_PAUSE_ENV)
    filler.unlink()
    assert main([*command, "--resume"]) == 0
    assert f"resumed: {40 * (stop_after + 1)} rows were already scored" in capsys.readouterr().out
    same_output(target, reference)
    assert not checkpoint.exists()


# --------------------------------------------------------------------------- a full disk: injected ENOSPC


class FsyncFailure:
    """``os.fsync`` that raises ENOSPC at the ``fail_at``-th fsync of a regular file (folders pass)."""

    def __init__(self, fail_at: int | None) -> None:
        self.fail_at, self.files = fail_at, 0
        self.real = os.fsync

    def __call__(self, fd: Any) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            self.files += 1
            if self.files - 1 == self.fail_at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.real(fd)


SAVE_FSYNCS = 9
"""Files a save fsyncs: 6 written first (weights, metrics, plot), then the card, the manifest, ``current``."""


def resave(model: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int | None) -> FsyncFailure:
    """Save the current version of ``model`` again as a new version, with every kind of bundle file."""
    bundle = load_bundle(model)
    fields = {k: v for k, v in bundle.manifest.items() if k in ("data", "training", "cleaning", "metrics")}
    copy = {name: (lambda p, name=name: shutil.copyfile(bundle.path / name, p)) for name in BUNDLE_FILES}
    extra = {name: writer for name, writer in copy.items() if name in (METRICS, "confusion_matrix.png")}
    failure = FsyncFailure(fail_at)
    monkeypatch.setattr(os, "fsync", failure)
    try:
        save_bundle(
            model.parent, model.name, bundle.classifier, fields, extra_files=extra,
            card=lambda manifest: (bundle.path / MODEL_CARD).read_text(), summarizer=bundle.summarizer,
        )  # fmt: skip
    finally:
        monkeypatch.setattr(os, "fsync", failure.real)
    return failure


def test_a_save_fsyncs_every_file_it_writes(tiny_bundle_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The parametrisation below fails each of these writes in turn."""
    model = tmp_path / "tiny"
    shutil.copytree(tiny_bundle_dir, model)
    assert resave(model, monkeypatch, None).files == SAVE_FSYNCS
    assert sorted(load_bundle(model).manifest["files"]) == sorted(BUNDLE_FILES)


@pytest.mark.parametrize("fail_at", range(SAVE_FSYNCS))
def test_no_space_at_any_write_of_a_save_leaves_current_untouched(
    tiny_bundle_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    model = tmp_path / "tiny"
    shutil.copytree(tiny_bundle_dir, model)
    with pytest.raises(BundleError, match=NO_SPACE) as raised:
        resave(model, monkeypatch, fail_at)
    assert read_current(model) == "v0001" and load_bundle(model).version == "v0001"
    assert leftovers(model) == []
    if fail_at < SAVE_FSYNCS - 1:
        assert list_versions(model) == ["v0001"]  # no half bundle under a version name
        assert "nothing was saved and 'current' still names v0001" in str(raised.value)
    else:  # only 'current' could not be written: the new version is complete, and says how to use it
        assert list_versions(model) == ["v0001", "v0002"] and load_bundle(model, "v0002").version == "v0002"
        assert f"{NO_SPACE} {model / CURRENT}" in str(raised.value) and "--use v0002" in str(raised.value)
    resave(model, monkeypatch, None)  # with space again, the next save works
    assert read_current(model) == list_versions(model)[-1]


def test_train_on_a_full_disk_is_one_line_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "fsync", FsyncFailure(1))
    assert main(train_command(tmp_path)) == 2
    error = only_error_line(capsys.readouterr().err, "train")
    assert f"{NO_SPACE} a new version of tiny in {tmp_path / 'tiny'}; nothing was saved" in error
    assert "--models-dir" in error
    assert list_versions(tmp_path / "tiny") == [] and leftovers(tmp_path / "tiny") == []


SCORE_PARTS = 3
SCORE_FSYNCS = 1 + 2 * SCORE_PARTS + 1
"""Files a three-part run fsyncs: checkpoint.json, each part and its record, the joined OUTPUT."""


@pytest.fixture(scope="module")
def scored_reference(tiny_bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture articles scored without a fault, in three parts."""
    out = tmp_path_factory.mktemp("reference") / "ref.csv"
    assert main(score_command(ARTICLES_CSV, tiny_bundle_dir, str(out), "--chunksize", "8")) == 0
    return out


def test_a_score_run_fsyncs_every_file_it_writes(
    tiny_bundle_dir: Path, tmp_path: Path, scored_reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parametrisation below fails each of these writes in turn."""
    failure = FsyncFailure(None)
    monkeypatch.setattr(os, "fsync", failure)
    assert main(score_command(ARTICLES_CSV, tiny_bundle_dir, str(tmp_path / "out.csv"), "--chunksize", "8")) == 0
    assert failure.files == SCORE_FSYNCS
    same_output(tmp_path / "out.csv", scored_reference)


@pytest.mark.parametrize("fail_at", range(SCORE_FSYNCS))
def test_no_space_at_any_write_of_a_score_run_stops_cleanly_and_resumes_exactly(
    tiny_bundle_dir: Path,
    tmp_path: Path,
    scored_reference: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail_at: int,
) -> None:
    out = tmp_path / "out.csv"
    checkpoint = tmp_path / f".out.csv{PARTIAL_SUFFIX}"
    command = score_command(ARTICLES_CSV, tiny_bundle_dir, str(out), "--chunksize", "8")
    monkeypatch.setattr(os, "fsync", FsyncFailure(fail_at))
    assert main(command) == 2
    error = only_error_line(capsys.readouterr().err, "score")
    assert NO_SPACE in error and f"{out} was not written" in error
    assert not out.exists()
    if checkpoint.exists():  # only finished parts, each with its record: what --resume continues from
        assert not [p.name for p in checkpoint.iterdir() if p.name.startswith(".")]
        parts = sorted(p.name for p in checkpoint.glob("part-*.csv"))
        assert parts == [f"part-{i:05d}.csv" for i in range(len(parts))]
        assert sorted(p.name for p in checkpoint.glob("part-*.json")) == [p[:-4] + ".json" for p in parts]
    else:  # nothing was finished, so nothing was kept
        assert fail_at <= 2
    monkeypatch.setattr(os, "fsync", FsyncFailure(None).real)
    assert main([*command, "--resume"]) == 0
    same_output(out, scored_reference)
    assert not checkpoint.exists()


def test_a_part_cut_short_by_a_full_disk_is_removed(
    tiny_bundle_dir: Path, tmp_path: Path, scored_reference: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The writer dies halfway through a part's bytes (what a real full disk does)."""
    from newsdesk.serve.batch import output

    real = output.write_table
    calls: list[Path] = []

    def half_then_full(table, path: Path, fmt: str) -> None:
        calls.append(path)
        real(table, path, fmt)
        if len(calls) == 2:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "write_table", half_then_full)
    out = tmp_path / "out.csv"
    command = score_command(ARTICLES_CSV, tiny_bundle_dir, str(out), "--chunksize", "8")
    assert main(command) == 2
    assert f"{NO_SPACE} {tmp_path / f'.out.csv{PARTIAL_SUFFIX}' / 'part-00001.csv'}" in capsys.readouterr().err
    assert not calls[1].exists() and not out.exists()
    monkeypatch.setattr(output, "write_table", real)
    assert main([*command, "--resume"]) == 0
    assert "resumed: 8 rows were already scored" in capsys.readouterr().out
    same_output(out, scored_reference)


# --------------------------------------------------------------------------- altered bundles


ALL_FILES = [MANIFEST, *BUNDLE_FILES]


def refusal(filename: str) -> str:
    """What the refusal of a bundle with ``filename`` altered says (a regular expression)."""
    if filename == MANIFEST:
        return f"{MANIFEST} (cannot be read as JSON|was modified after saving)"
    return f"{filename} does not match its checksum"


@pytest.fixture
def damaged(tiny_bundle_dir: Path, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """A copy of the tiny model with one byte of one file (the parameter) inverted."""
    model = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_bundle_dir, model)
    flip_byte(model / "v0001" / request.param)
    return model, request.param


@pytest.mark.parametrize("damaged", ALL_FILES, indirect=True)
def test_commands_refuse_an_altered_bundle(
    damaged: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, filename = damaged
    commands = {
        "evaluate": ["evaluate", "--model", str(model), "--data", str(ARTICLES_CSV), "--label-col", "category"],
        "score": score_command(ARTICLES_CSV, model, str(tmp_path / "out.csv")),
        "versions": ["versions", "--model", str(model), "--use", "v0001"],
    }
    for name, argv in commands.items():
        assert main(argv) == 2, name
        error = only_error_line(capsys.readouterr().err, name)
        assert re.search(refusal(filename), error), error
    assert not (tmp_path / "out.csv").exists()


def test_serve_refuses_to_start_with_an_altered_bundle(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "tiny"
    shutil.copytree(tiny_bundle_dir, model)
    flip_byte(model / "v0001" / "summarizer.npz")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk.serve.cli", "serve", "--model", str(model), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    error = only_error_line(done.stderr, "serve")
    assert "summarizer.npz does not match its checksum" in error and "Uvicorn running" not in done.stderr


def test_reload_refuses_every_altered_file_and_keeps_serving(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "tiny"
    shutil.copytree(tiny_bundle_dir, model)
    train_tiny(tmp_path, seed=1)
    set_current(model, "v0001")
    with serving(model) as client:
        for filename in ALL_FILES:
            path = model / "v0002" / filename
            original = path.read_bytes()
            flip_byte(path)
            set_current(model, "v0002")
            response = client.post("/v1/admin/reload")
            assert response.status_code == 409, (filename, response.text)
            message = response.json()["error"]["message"]
            assert re.search(refusal(filename), message) and "still serving tiny v0001" in message, message
            answer = client.post("/v1/predict", json={"text": SPORT_TEXT})
            assert answer.status_code == 200 and answer.json()["model"]["version"] == "v0001"
            path.write_bytes(original)
        response = client.post("/v1/admin/reload")  # restored: the refusals were the damage, nothing else
        assert response.status_code == 200 and response.json()["model"]["version"] == "v0002"
    assert read_current(model) == "v0002"
