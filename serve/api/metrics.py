"""Prometheus metrics of one app: requests, errors and latency by endpoint, articles processed, model version.

Each app has its own :class:`~prometheus_client.CollectorRegistry`, so tests can
build many apps in one process. With several uvicorn workers, ``newsdesk serve``
sets ``PROMETHEUS_MULTIPROC_DIR`` and ``GET /metrics`` adds up every worker's
numbers (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
"""Endpoint label of requests that matched no route (keeps label values bounded)."""
NO_MODEL = "none"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ServiceMetrics:
    """The app's metrics and their exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None
        self.requests = Counter(
            "newsdesk_requests",
            "HTTP requests by endpoint, method, status and the model version that served them",
            ["endpoint", "method", "status", "model_version"],
            registry=self.registry,
        )
        self.errors = Counter(
            "newsdesk_request_errors",
            "HTTP responses with status >= 400, by endpoint and error code",
            ["endpoint", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsdesk_request_duration_seconds",
            "time from receiving a request to sending its response, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.articles = Counter(
            "newsdesk_articles_processed",
            "articles classified or summarised successfully, by endpoint and model version",
            ["endpoint", "model_version"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "newsdesk_model_info",
            "1 for the model name and version each worker serves",
            ["name", "version"],
            multiprocess_mode="liveall",
            registry=self.registry,
        )
        self.reloads = Counter(
            "newsdesk_model_reloads",
            "model reloads by result (success or failure)",
            ["result"],
            registry=self.registry,
        )
        self._served: tuple[str, str] | None = None

    def observe_request(
        self, endpoint: str, method: str, status: int, seconds: float, model_version: str, error_code: str | None
    ) -> None:
        """Count one finished request."""
        method = method if method in KNOWN_METHODS else "OTHER"
        self.requests.labels(endpoint, method, str(status), model_version).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint, error_code or f"http_{status}").inc()

    def count_articles(self, endpoint: str, model_version: str, n: int = 1) -> None:
        """Count articles processed successfully."""
        if n:
            self.articles.labels(endpoint, model_version).inc(n)

    def model_loaded(self, name: str, version: str) -> None:
        """Show ``name``/``version`` as the served model (and no longer the previous one)."""
        if self._served is not None and self._served != (name, version):
            self.model_info.labels(*self._served).set(0)
            self.model_info.remove(*self._served)
        self.model_info.labels(name, version).set(1)
        self._served = (name, version)

    def reload_finished(self, ok: bool) -> None:
        """Count one reload attempt."""
        self.reloads.labels("success" if ok else "failure").inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format for ``GET /metrics`` and its content type."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def process_exiting(self) -> None:
        """Drop this worker's live gauges from the shared multiprocess files."""
        if self.multiprocess_dir is not None:
            prometheus_multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)
