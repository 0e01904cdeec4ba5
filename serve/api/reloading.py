"""Loading and reloading the served model, and keeping several uvicorn workers on the same version.

``POST /v1/admin/reload`` reaches one worker. After that worker has loaded the
new model it writes a small JSON notice (the version it loaded and a fresh
token) into a folder all workers share; every worker polls the notice and loads
the same version when the token changes. A worker that starts later (uvicorn
replaces a dead one) loads the version of the latest notice, so all workers
agree. With one worker there is no folder and nothing to follow.

Reloads are serialised: every load (a ``POST /v1/admin/reload``, the first
load, following another worker) runs on the reloader's single thread, one at a
time. Concurrent reload calls therefore wait their turn, and each gets its own
answer (what it loaded, or why it could not); none is refused for being
concurrent, and none sees a half-swapped model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from newsdesk.serve.api.metrics import ServiceMetrics
from newsdesk.serve.api.state import LoadResult, ServedModel
from newsdesk.train.versions import BundleError

NOTICE_FILE = "reload.json"
T = TypeVar("T")
log = logging.getLogger("newsdesk.serve")


@dataclass(frozen=True)
class ReloadNotice:
    """A reload done by one worker, for the others to repeat."""

    token: str
    version: str | None
    pid: int


class ReloadBroadcast:
    """Reads and writes the shared reload notice in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / NOTICE_FILE

    def publish(self, version: str | None) -> ReloadNotice:
        """Write a new notice atomically (temporary file, then rename)."""
        notice = ReloadNotice(token=uuid.uuid4().hex, version=version, pid=os.getpid())
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".reload-", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"token": notice.token, "version": notice.version, "pid": notice.pid}, handle)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return notice

    def latest(self) -> ReloadNotice | None:
        """The latest notice, or None when there is none (or it cannot be read)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return ReloadNotice(str(data["token"]), data.get("version"), int(data.get("pid", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None


class ModelReloader:
    """Loads models into a :class:`ServedModel`, counts the loads, and tells the other workers."""

    def __init__(self, served: ServedModel, metrics: ServiceMetrics, broadcast: ReloadBroadcast | None) -> None:
        self.served = served
        self.metrics = metrics
        self.broadcast = broadcast
        self.seen_token: str | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    async def run_in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run a load on a thread of its own (one at a time), apart from the pool that runs model calls."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)

    def start(self) -> LoadResult:
        """The first load: the version of the latest notice when other workers have reloaded, else current."""
        notice = self.broadcast.latest() if self.broadcast is not None else None
        if notice is not None:
            self.seen_token = notice.token
            try:
                return self._load(notice.version)
            except BundleError as exc:
                log.warning("cannot load %s that the other workers serve (%s); loading current", notice.version, exc)
        return self._load(None)

    def reload(self, version: str | None) -> LoadResult:
        """Load ``version`` (default: current) here, then ask the other workers to load the same one."""
        try:
            result = self._load(version)
        except BundleError:
            self.metrics.reload_finished(ok=False)
            raise
        self.metrics.reload_finished(ok=True)
        if self.broadcast is not None:
            loaded = None if self.served.is_version_folder else result.current.version
            self.seen_token = self.broadcast.publish(loaded).token
        return result

    def follow(self, notice: ReloadNotice) -> None:
        """Repeat another worker's reload (tried once per notice; a failure keeps the old model)."""
        if self.broadcast is not None:
            # Read the notice again: a reload done here while this waited its turn may have made it stale.
            latest = self.broadcast.latest()
            if latest is None or latest.token == self.seen_token:
                return
            notice = latest
        self.seen_token = notice.token
        try:
            self._load(notice.version)
        except BundleError as exc:
            self.metrics.reload_finished(ok=False)
            log.error("could not follow the reload by worker %s: %s", notice.pid, exc)
            return
        self.metrics.reload_finished(ok=True)

    def _load(self, version: str | None) -> LoadResult:
        result = self.served.load(version)
        self.metrics.model_loaded(result.current.name, result.current.version)
        log.info(
            "serving model %s %s from %s (loaded in %.2f s)",
            result.current.name,
            result.current.version,
            result.current.path,
            result.seconds,
        )
        return result

    async def follow_other_workers(self, poll_seconds: float) -> None:
        """Poll the shared notice and follow every new one; runs until cancelled."""
        if self.broadcast is None:
            return
        while True:
            await asyncio.sleep(poll_seconds)
            notice = self.broadcast.latest()
            if notice is None or notice.token == self.seen_token:
                continue
            log.info("worker %s reloaded; loading %s here too", notice.pid, notice.version or "the current version")
            await self.run_in_thread(self.follow, notice)
