"""Promises of SECURITY.md that no other module tests: model files never run code.

The forged bundles here have their checksums recomputed, as an attacker who can write the
model folder would do, so they test the file formats themselves, not the tamper check.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import newsdesk.train.manifest as manifest_module
from newsdesk.train.bundle import CLASSIFIER_ARRAYS, load_bundle
from newsdesk.train.versions import BundleError

ROOT = Path(__file__).resolve().parents[3]
# Ways Python code can be run from a file: any of these in train/ or serve/ needs a review.
UNSAFE_LOADERS = re.compile(
    r"\bimport pickle\b|\bpickle\.loads?\(|\bjoblib\b|\btorch\.load\(|allow_pickle\s*=\s*True"
    r"|\bdill\b|\bcloudpickle\b|\byaml\.load\(|\bmarshal\.loads?\(|(?<![.\w])eval\(|(?<![.\w])exec\(|trust_remote_code\s*=\s*True"
)


class _Payload:
    """Unpickling this writes a file: the proof that a pickle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "ran"))  # type: ignore[return-value]


def forge(version: Path) -> None:
    """Recompute every checksum and the manifest digest of a version folder after editing it."""
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"] = {name: manifest_module.sha256_file(version / name) for name in manifest["files"]}
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    (version / "manifest.json").write_text(json.dumps(manifest))


def version_of(model: Path) -> Path:
    return model / (model / "current").read_text().strip()


@pytest.mark.parametrize("package", ["train", "serve"])
def test_no_code_path_unpickles_or_evaluates(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if UNSAFE_LOADERS.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "code that can run what a file holds:\n" + "\n".join(found)


def test_a_pickled_array_in_a_forged_bundle_is_refused_not_run(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_bundle_dir, model)
    version = version_of(model)
    marker = tmp_path / "ran"
    with np.load(version / CLASSIFIER_ARRAYS, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    first = next(iter(arrays))
    arrays[first] = np.array([_Payload(marker)], dtype=object)  # saved as a pickle inside the .npz
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (version / CLASSIFIER_ARRAYS).write_bytes(buffer.getvalue())
    forge(version)
    with pytest.raises(BundleError, match="classifier files cannot be read.*pickle"):
        load_bundle(model)
    assert not marker.exists(), "loading the bundle ran the pickle"


def test_the_forging_helper_makes_a_bundle_that_loads(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    """Without this, the test above could pass because forge() itself breaks bundles."""
    model = tmp_path / "model"
    shutil.copytree(tiny_bundle_dir, model)
    forge(version_of(model))
    assert load_bundle(model).classifier is not None


def test_the_api_key_never_shows_in_logs_metrics_or_answers(
    tiny_bundle_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the server's key nor a wrong one a client sent is written anywhere a reader could see it."""
    from helpers.api_fixtures import SPORT_TEXT, serving

    key, wrong = "k3y-that-must-stay-secret", "wr0ng-key-a-client-typed"
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG), serving(tiny_bundle_dir, api_key=key) as client:
        for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}, {"X-API-Key": wrong}, {}):
            for call in (
                lambda h: client.post("/v1/predict", json={"text": SPORT_TEXT}, headers=h),
                lambda h: client.post("/v1/predict", json={"text": SPORT_TEXT, "typo": 1}, headers=h),
                lambda h: client.get("/v1/models", headers=h),
            ):
                response = call(headers)
                seen.append(response.text + str(response.headers))
        assert client.post("/v1/predict", json={"text": SPORT_TEXT}, headers={"X-API-Key": wrong}).status_code == 401
        seen.append(client.get("/metrics").text)
        seen.append(json.dumps(client.get("/openapi.json").json()))
        seen.append(repr(client.app.state.settings))
    seen.extend(record.getMessage() + json.dumps(getattr(record, "request_fields", {})) for record in caplog.records)
    leaks = [text for text in seen if key in text or wrong in text]
    assert not leaks, f"a key was written out: {leaks[0][:300]}"
