"""A bundle's ``manifest.json``: format name and version, its own digest, file checksums, library versions."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from newsdesk.train.durable import sha256_file
from newsdesk.train.versions import MANIFEST, BundleError

FORMAT_NAME = "newsdesk-bundle"
FORMAT_VERSION = 2
"""Version 2 added the summariser; version 1 bundles (classifier only) still load, without one."""
READABLE_FORMAT_VERSIONS = (1, 2)
LIBRARIES = ("newsdesk", "scikit-learn", "numpy", "scipy", "pandas")
TRANSFORMER_LIBRARIES = ("torch", "transformers", "tokenizers", "safetensors")


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The sha256 of a manifest's canonical JSON without its own ``manifest_sha256`` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def library_versions(transformers: bool = False) -> dict[str, str]:
    """Versions of Python and the libraries that shape a saved model (with torch's for transformer models)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES + (TRANSFORMER_LIBRARIES if transformers else ()):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """Read and check a manifest: format, format version and its own digest."""
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{version_dir / MANIFEST} cannot be read as JSON ({exc}); the bundle is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BundleError(f"{version_dir} is not a newsdesk model bundle (manifest format is not {FORMAT_NAME!r})")
    found = manifest.get("format_version")
    if found not in READABLE_FORMAT_VERSIONS:
        advice = "upgrade newsdesk" if isinstance(found, int) and found > FORMAT_VERSION else "retrain the model"
        raise BundleError(
            f"{version_dir} has bundle format version {found}; this newsdesk reads versions "
            f"{', '.join(map(str, READABLE_FORMAT_VERSIONS))}: {advice}"
        )
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
        raise BundleError(
            f"{version_dir / MANIFEST} was modified after saving (its digest does not match); refusing to load"
        )
    return manifest


def verify_files(version_dir: Path, manifest: dict[str, Any]) -> None:
    """Check every file listed in the manifest exists and matches its sha256."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{version_dir / MANIFEST} lists no files; the bundle is damaged")
    for filename, expected in files.items():
        file = version_dir / filename
        if not _is_inside(filename) or not file.is_file():
            raise BundleError(
                f"{version_dir} is missing {filename}, which its manifest lists; the bundle is incomplete"
            )
        actual = sha256_file(file)
        if actual != expected:
            raise BundleError(
                f"{file} does not match its checksum (expected sha256 {expected[:12]}..., found {actual[:12]}...); "
                f"the file was altered or truncated. Retrain, or point 'current' at an intact version."
            )


def _is_inside(filename: str) -> bool:
    """Whether a manifest file name is a plain relative path inside the bundle (no '..', no absolute path)."""
    path = PurePosixPath(filename)
    return (
        bool(filename)
        and "\\" not in filename
        and not path.is_absolute()
        and all(part not in ("", ".", "..") for part in path.parts)
        and path.as_posix() == filename
    )
