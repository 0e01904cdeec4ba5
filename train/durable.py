"""Durable files for the write-then-rename saves (model bundles, scored parts and outputs).

A full disk can show up only when a file is flushed, so a file's fsync error is raised; a
folder's is ignored where the file system does not support it. Also: checksums, JSON files,
recognising a full disk, and the test hook that pauses a save at a known point.

Test hook: ``NEWSDESK_TEST_PAUSE=POINT:FLAG`` makes the process stop at POINT (see
:func:`pause_for_tests`), so a test can kill it at a known moment. Unset, it does nothing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

TEST_PAUSE_ENV = "NEWSDESK_TEST_PAUSE"
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def fsync_file(path: Path) -> None:
    """Flush a written file to disk; a failure (such as ENOSPC) is raised."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames) to disk, where the file system allows it."""
    with contextlib.suppress(OSError):
        fsync_file(path)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, data: Any) -> None:
    """Write pretty JSON with a trailing newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def disk_full(exc: BaseException) -> bool:
    """Whether an error means the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def pause_for_tests(point: str, detail: str = "") -> None:
    """Test hook: stop here while ``$NEWSDESK_TEST_PAUSE`` is ``POINT:FLAG`` for this point; otherwise nothing.

    At the point, the process writes ``detail`` into the file FLAG and waits while FLAG exists
    (at most a minute), so a test knows the process is exactly there and can ``kill -9`` it.
    """
    setting = os.environ.get(TEST_PAUSE_ENV)
    if not setting:
        return
    wanted, _, flag = setting.partition(":")
    if wanted != point or not flag:
        return
    ready = Path(f"{flag}.{os.getpid()}.tmp")
    ready.write_text(detail, encoding="utf-8")
    os.replace(ready, flag)
    deadline = time.monotonic() + 60
    while os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.01)
