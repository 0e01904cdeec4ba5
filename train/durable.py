"""Flushing to disk for the write-then-rename saves (model bundles, scored parts and outputs).

A full disk can show up only when a file is flushed, so a file's fsync error is raised; a
folder's is ignored where the file system does not support it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


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
