"""The folder of one model, ``models/NAME``: its version folders, the ``current`` pointer, and names.

Version folders are ``v0001``, ``v0002``, ...; ``current`` is a one-line text file naming the version
the server loads, replaced atomically. Temporary folders of saves in progress start with
:data:`TMP_PREFIX` and the saving process id.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from newsdesk.train.durable import disk_full, fsync_dir

MANIFEST = "manifest.json"
CURRENT = "current"
TMP_PREFIX = ".tmp-"
VERSION_PATTERN = re.compile(r"^v(\d{4,})$")


class BundleError(RuntimeError):
    """A bundle cannot be loaded or written; the message says why and what to do."""


def list_versions(model_dir: Path) -> list[str]:
    """Version directory names under ``models/NAME``, oldest first."""
    if not model_dir.is_dir():
        return []
    found = [
        (int(m.group(1)), p.name) for p in model_dir.iterdir() if (m := VERSION_PATTERN.match(p.name)) and p.is_dir()
    ]
    return [name for _, name in sorted(found)]


def read_current(model_dir: Path) -> str | None:
    """The version named by ``models/NAME/current``, or None when there is none."""
    pointer = model_dir / CURRENT
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8", errors="replace").strip()
    if version and not VERSION_PATTERN.match(version):
        raise BundleError(
            f"{pointer} holds {version[:40]!r}, not a version name like v0001; fix it with 'newsdesk versions --use'"
        )
    return version or None


def set_current(model_dir: Path, version: str) -> None:
    """Point ``models/NAME/current`` at ``version`` atomically (write a temp file, then rename)."""
    if not (model_dir / version / MANIFEST).is_file():
        raise BundleError(f"cannot make {version} current: {model_dir / version} is not a saved version")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{CURRENT}-", dir=model_dir)
        try:
            os.chmod(tmp, umask_mode(0o666))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(version + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, model_dir / CURRENT)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        if not disk_full(exc):
            raise
        raise BundleError(
            f"no space left on device while writing {model_dir / CURRENT}; 'current' still names "
            f"{current_or_none(model_dir)}. Free space on that disk and try again"
        ) from exc
    fsync_dir(model_dir)


def current_or_none(model_dir: Path) -> str:
    """The current version for a message ('no version' when there is none or it cannot be read)."""
    with contextlib.suppress(BundleError, OSError):
        return read_current(model_dir) or "no version"
    return "no version"


def check_model_name(name: str) -> str:
    """Refuse names that are not a single safe folder name."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise BundleError(
            f"model name {name!r} is not allowed; use letters, digits, '.', '_' and '-' (e.g. bbc-topics)"
        )
    return name


def umask_mode(mode: int) -> int:
    current = os.umask(0)
    os.umask(current)
    return mode & ~current


def remove_stale_temporaries(model_dir: Path) -> None:
    """Delete temporary directories (and ``current`` files) left by saves whose process is gone."""
    for tmp in model_dir.glob(TMP_PREFIX + "*"):
        match = re.match(re.escape(TMP_PREFIX) + r"(\d+)-", tmp.name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        except PermissionError:
            pass


def resolve_version_dir(path: str | Path, version: str | None = None) -> Path:
    """Find the version directory for ``models/NAME`` (its current or given version) or a version path."""
    path = Path(path)
    if version is not None:
        if not VERSION_PATTERN.match(version):
            raise BundleError(f"version {version!r} is not a version name; expected one like v0001 (see {path})")
        target = path / version
        if not (target / MANIFEST).is_file():
            known = ", ".join(list_versions(path)) or "none"
            raise BundleError(f"{path} has no version {version}; versions there: {known}")
        return target
    if (path / MANIFEST).is_file():
        return path
    if not path.exists():
        raise BundleError(
            f"no model at {path}; expected models/NAME (a folder made by 'newsdesk train --name NAME') "
            f"or one of its version folders"
        )
    current = read_current(path)
    if current is None:
        versions = list_versions(path)
        hint = f"; versions there: {', '.join(versions)}" if versions else "; train one with 'newsdesk train'"
        raise BundleError(f"{path} has no 'current' version pointer and no manifest.json{hint}")
    if not (path / current / MANIFEST).is_file():
        raise BundleError(f"{path}/current names {current!r}, but {path / current} is not a saved version")
    return path / current
