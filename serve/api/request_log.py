"""The server's logging: plain lines for events, one JSON object per line for requests.

Kept free of heavy imports because the parent of several workers uses it too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

REQUEST_LOGGER = "newsdesk.requests"
REQUEST_FIELDS = "request_fields"
"""Attribute of a request log record holding its fields (request_id, method, path, status, ms, ...)."""


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, and the request's fields (or the message)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, REQUEST_FIELDS, None) or {"message": record.getMessage()}
        return json.dumps({"time": self.formatTime(record), "level": record.levelname, **fields})


def log_config(level: str) -> dict[str, Any]:
    """The logging config given to uvicorn: server events as plain lines, requests as JSON lines, on stderr."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"},
            "json": {"()": f"{__name__}.JsonLineFormatter"},
        },
        "handlers": {
            "plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["plain"], "level": upper, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "newsdesk": {"handlers": ["plain"], "level": upper, "propagate": False},
            REQUEST_LOGGER: {"handlers": ["json"], "level": upper, "propagate": False},
        },
    }
