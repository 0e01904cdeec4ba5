"""The parent of several uvicorn workers: ``python -m serve.multiworker``, started by ``newsdesk serve --workers N``.

It imports uvicorn and the settings only (the workers load the model), so it
stays small. It reads the settings from the ``NEWSDESK_*`` variables that
``newsdesk serve`` exported, makes a temporary folder the workers share for
reload notices and Prometheus files, and removes it on exit.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

APP_FACTORY = "serve.app:app_from_environment"
PROMETHEUS_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def main() -> int:
    """Run uvicorn with ``settings.workers`` worker processes; returns the exit code."""
    import uvicorn

    from serve.server import uvicorn_options
    from serve.settings import ENV_PREFIX, SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"newsdesk serve: error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsdesk-serve-") as shared:
        if settings.reload_dir is None:
            os.environ[ENV_PREFIX + "RELOAD_DIR"] = str(Path(shared) / "reload")
        if not os.environ.get(PROMETHEUS_MULTIPROC_ENV):
            metrics_dir = Path(shared) / "metrics"
            metrics_dir.mkdir()
            os.environ[PROMETHEUS_MULTIPROC_ENV] = str(metrics_dir)
        uvicorn.run(APP_FACTORY, factory=True, workers=settings.workers, **uvicorn_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
