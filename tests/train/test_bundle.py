"""Bundles: round trip, versions, tamper detection, interrupted saves."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import newsdesk.train.bundle as bundle_module
import newsdesk.train.manifest as manifest_module
from helpers.training import BUNDLE_FILES, train_tiny
from newsdesk.train.bundle import CLASSIFIER_ARRAYS, MANIFEST, SUMMARIZER_JSON, VOCABULARY, load_bundle
from newsdesk.train.manifest import FORMAT_VERSION
from newsdesk.train.versions import CURRENT, BundleError, list_versions, read_current, set_current


@pytest.fixture
def model_copy(tiny_bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model that a test may damage."""
    target = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_bundle_dir, target)
    return target


def version_dir(model: Path) -> Path:
    return model / read_current(model)


def test_round_trip_predicts_the_same(tmp_path: Path, articles) -> None:
    result = train_tiny(tmp_path)
    loaded = load_bundle(tmp_path / "tiny")
    texts = result.dataset.texts
    assert loaded.version == "v0001" and loaded.name == "tiny"
    assert loaded.labels == ["business", "politics", "sport", "tech"]
    assert loaded.path == result.path
    files = {p.name for p in result.path.iterdir()}
    assert files == {
        MANIFEST,
        VOCABULARY,
        CLASSIFIER_ARRAYS,
        "summarizer.json",
        "summarizer.npz",
        "metrics.json",
        "confusion_matrix.png",
        "README.md",
    }
    manifest = loaded.manifest
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["data"]["fingerprint"] == result.dataset.fingerprint()
    assert set(manifest["files"]) == files - {MANIFEST}
    assert {"python", "scikit-learn", "numpy"} <= set(manifest["libraries"])
    metrics = json.loads((result.path / "metrics.json").read_text())["classifier"]
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix", "calibration"} <= set(metrics)
    assert (result.path / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "tiny v0001" in (result.path / "README.md").read_text()
    # the reloaded classifier is the trained one, not merely a similar one
    trained = load_bundle(result.path).classifier
    assert np.allclose(trained.predict_proba(texts), loaded.classifier.predict_proba(texts))


def test_new_versions_become_current_and_old_ones_stay(tmp_path: Path) -> None:
    train_tiny(tmp_path)
    train_tiny(tmp_path, seed=3)
    model = tmp_path / "tiny"
    assert list_versions(model) == ["v0001", "v0002"]
    assert read_current(model) == "v0002"
    assert load_bundle(model).version == "v0002"
    assert load_bundle(model, version="v0001").version == "v0001"
    set_current(model, "v0001")  # rollback
    assert load_bundle(model).version == "v0001"
    with pytest.raises(BundleError, match="no version v0009; versions there: v0001, v0002"):
        load_bundle(model, version="v0009")


def test_the_tamper_tests_cover_every_file_of_a_bundle(tiny_bundle_dir: Path) -> None:
    manifest = json.loads((version_dir(tiny_bundle_dir) / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(BUNDLE_FILES)


@pytest.mark.parametrize("filename", BUNDLE_FILES)
def test_a_changed_byte_is_refused(model_copy: Path, filename: str) -> None:
    target = version_dir(model_copy) / filename
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"{filename} does not match its checksum"):
        load_bundle(model_copy)


@pytest.mark.parametrize("filename", BUNDLE_FILES)
def test_a_truncated_file_is_refused(model_copy: Path, filename: str) -> None:
    target = version_dir(model_copy) / filename
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(BundleError, match=f"{filename} does not match its checksum.*altered or truncated"):
        load_bundle(model_copy)


@pytest.mark.parametrize("filename", BUNDLE_FILES)
def test_a_missing_file_is_refused(model_copy: Path, filename: str) -> None:
    (version_dir(model_copy) / filename).unlink()
    with pytest.raises(BundleError, match=f"missing {filename}"):
        load_bundle(model_copy)


def test_a_changed_byte_in_the_manifest_is_refused(model_copy: Path) -> None:
    """Any byte of the manifest: its digest, a checksum, a setting; or JSON that no longer parses."""
    path = version_dir(model_copy) / MANIFEST
    original = path.read_bytes()
    for offset in range(0, len(original), max(1, len(original) // 40)):
        data = bytearray(original)
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(BundleError):
            load_bundle(model_copy)
    path.write_bytes(original)
    assert load_bundle(model_copy).version == "v0001"


def test_an_edited_manifest_is_refused(model_copy: Path) -> None:
    path = version_dir(model_copy) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["labels"][0] = "finance"
    path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="modified after saving"):
        load_bundle(model_copy)


def test_other_format_versions_are_refused(model_copy: Path) -> None:
    path = version_dir(model_copy) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="upgrade newsdesk"):
        load_bundle(model_copy)


def test_format_1_bundles_load_without_a_summariser(model_copy: Path) -> None:
    directory = version_dir(model_copy)
    manifest = json.loads((directory / MANIFEST).read_text())
    for filename in manifest.pop("summarizer")["files"]:
        (directory / filename).unlink()
        del manifest["files"][filename]
    manifest["format_version"] = 1
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))
    loaded = load_bundle(model_copy)
    assert loaded.summarizer is None
    assert loaded.classifier.predict(["The striker scored a goal."])


def test_a_summariser_that_does_not_match_this_version_is_refused(model_copy: Path) -> None:
    directory = version_dir(model_copy)
    meta = json.loads((directory / SUMMARIZER_JSON).read_text())
    meta["kind"] = "abstractive-magic"
    (directory / SUMMARIZER_JSON).write_text(json.dumps(meta))
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["files"][SUMMARIZER_JSON] = manifest_module.sha256_file(directory / SUMMARIZER_JSON)
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="summariser cannot be rebuilt.*unknown summariser kind"):
        load_bundle(model_copy)


def test_not_a_bundle_messages(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no model at"):
        load_bundle(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="no 'current' version pointer"):
        load_bundle(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="cannot be read as JSON"):
        load_bundle(tmp_path / "junk")


def test_a_failure_while_saving_leaves_current_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train_tiny(tmp_path)
    model = tmp_path / "tiny"
    before = (model / CURRENT).read_text()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # Fail after the weights are written but before the version is published.
    monkeypatch.setattr(bundle_module, "_publish", explode)
    with pytest.raises(BundleError, match="no space left on device .* 'current' still names v0001"):
        train_tiny(tmp_path)
    assert (model / CURRENT).read_text() == before
    assert list_versions(model) == ["v0001"]
    assert not [p for p in model.iterdir() if p.name.startswith(".tmp-")]
    assert load_bundle(model).version == "v0001"


def test_a_crash_while_saving_leaves_current_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process killed mid-save leaves only a temporary folder, which the next save removes."""
    train_tiny(tmp_path)
    model = tmp_path / "tiny"
    # What a killed process leaves: a half-written temporary folder of a dead pid.
    dead_pid = 2**22 + 12345
    leftover = model / f".tmp-{dead_pid}-abc"
    leftover.mkdir()
    (leftover / CLASSIFIER_ARRAYS).write_bytes(b"half")
    pointer = model / f".tmp-{dead_pid}-{CURRENT}-xyz"  # killed while replacing 'current'
    pointer.write_text("v0002\n")
    assert load_bundle(model).version == "v0001"
    train_tiny(tmp_path)
    assert not leftover.exists() and not pointer.exists()
    assert list_versions(model) == ["v0001", "v0002"]


def test_current_pointer_is_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train_tiny(tmp_path)
    model = tmp_path / "tiny"
    train_tiny(tmp_path, seed=1)
    real_replace = os.replace

    def failing_replace(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        set_current(model, "v0001")
    monkeypatch.setattr(os, "replace", real_replace)
    assert read_current(model) == "v0002"
    assert sorted(p.name for p in model.iterdir()) == [CURRENT, "v0001", "v0002"]


def test_bad_model_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not allowed"):
        train_tiny(tmp_path, name="../escape")


def test_kill_9_while_saving_leaves_current_loadable(tmp_path: Path) -> None:
    """A real SIGKILL in the middle of writing a bundle: the current version still loads."""
    import signal
    import subprocess
    import sys
    import time

    train_tiny(tmp_path)
    model = tmp_path / "tiny"
    marker = tmp_path / "writing"
    child = f"""
import sys, time
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parents[1])!r})
from helpers.training import ARTICLES_CSV
from newsdesk.train.bundle import save_bundle, load_bundle
bundle = load_bundle({str(model)!r})
def slow_writer(path):
    path.write_bytes(b"half a file")
    Path({str(marker)!r}).write_text(str(path))
    time.sleep(60)
save_bundle(Path({str(tmp_path)!r}), "tiny", bundle.classifier, {{}}, extra_files={{"slow.bin": slow_writer}})
"""
    process = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the saving process ended before it was killed"
            assert time.monotonic() < deadline, "the saving process never started writing"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    half_written = Path(marker.read_text()).parent
    assert half_written.exists() and half_written.name.startswith(".tmp-")
    assert read_current(model) == "v0001"
    assert list_versions(model) == ["v0001"]
    assert load_bundle(model).version == "v0001"
    train_tiny(tmp_path)  # the next save clears what the killed one left
    assert not half_written.exists()
    assert list_versions(model) == ["v0001", "v0002"]


def test_a_current_pointer_outside_the_model_is_refused(model_copy: Path) -> None:
    (model_copy / CURRENT).write_text("../../elsewhere/v0001\n")
    with pytest.raises(BundleError, match="not a version name"):
        load_bundle(model_copy)
