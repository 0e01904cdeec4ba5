"""Soak ``newsdesk serve`` under steady load while new model versions are trained and reloaded.

What it does (loopback only, 127.0.0.1; bounded in time):

1. Trains a BBC bundle (``newsdesk train``, v0001) into a temporary models folder;
   ``--data-limit N`` (or ``--quick``) trains on N articles, stratified by category.
2. Starts ``newsdesk serve`` as a real process on a free port (1 worker, or ``--workers 2``).
3. Drives it with ``--concurrency`` closed-loop clients (threads, each with its own keep-alive
   httpx connection; no think time) sending real BBC articles, a mix of ``/v1/predict`` (half),
   ``/v1/summarize`` and ``/v1/analyze`` (a quarter each); one article in eight has page
   boilerplate glued around it and one in eight is sent as an HTML page.
4. Phases: ``warmup`` (``--warmup`` seconds and at least one pass over the articles, so that the
   first RSS reading is of a server that has seen every kind of input; not part of the figures
   below), ``before`` (a quarter of ``--duration``),
   ``during``: ``--reloads`` times, a new version is trained with ``newsdesk train`` into the
   same model (it becomes current) and loaded with ``POST /v1/admin/reload``; then
   ``--concurrency`` reloads are sent at the same moment (serialised by the server, each must
   answer 200); then a corrupted version (the last good one copied, one byte of its classifier
   flipped) is asked for once with ``{"version": ...}``: it must be refused with 409
   ``reload_failed`` while the old model keeps serving. ``after``: the rest of ``--duration``
   (at least a quarter of it, even when training took longer than planned).
5. Records every request (start, latency, status, the ``model.version`` that answered), the
   server's RSS summed over its process tree (from /proc) after the warm-up and at the end, and
   the CPU used by the server, by this load generator and by everything else on the machine.

A request fails when it gets a connection error, a timeout, a non-2xx status or a body without
``model.version``. The script exits 1 when any request failed, the server's RSS grew by more
than 10%, a reload did not do what it should, or a phase was answered by the wrong version;
so it can gate a release.

Usage, from the project root::

    python bench/soak.py [--duration 180] [--concurrency 8] [--workers 1] [--data-limit N | --quick]

Results are printed as tables and written to ``bench/results/soak.json``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    Target,
    default_data_dir,
    ensure_project_importable,
    machine_busy_seconds,
    markdown_table,
    missing_data_message,
    process_cpu_seconds,
    process_memory_mb,
    process_tree,
    report,
    results_header,
    running_server,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LABEL_COL = "category"
MODEL_NAME = "bbc"
PHASES = ("warmup", "before", "during", "after")
REPORTED_PHASES = PHASES[1:]
ENDPOINTS = ("/v1/predict", "/v1/summarize", "/v1/predict", "/v1/analyze")
"""Each client walks this cycle: half predict, a quarter summarize, a quarter analyze."""
STARTUP_SECONDS = 180
REQUEST_TIMEOUT = 60.0
RELOAD_TIMEOUT = 300.0
MEMORY_SAMPLE_SECONDS = 2.0
RSS_GROWTH_LIMIT_PCT = 10.0
WARMUP_LIMIT = 120.0
"""Longest warm-up, however few articles it has sent by then."""
QUICK_DATA_LIMIT = 300
QUICK_DURATION = 45.0
CORRUPT_OFFSET = 200
"""Byte of the classifier file that the corrupted version has flipped."""

BOILERPLATE_HEAD = (
    "Skip to main content",
    "Home | News | Sport | Business | Technology | Entertainment | Politics",
    "Last updated: Monday, 14 March 2005, 09:12 GMT",
)
BOILERPLATE_TAIL = (
    "Share this article: Email | Facebook | Twitter | Print",
    "Related stories",
    "Most popular stories now",
    "Copyright 2005. All rights reserved. Terms of use | Privacy | Cookies",
)

TARGETS = (
    Target("failed", 1, below=True),
    Target("rss_growth_pct", RSS_GROWTH_LIMIT_PCT + 1e-9, below=True),
)
ROWS = (
    ("requests", "requests (before + during + after)"),
    ("failed", "failed requests"),
    ("rps", "requests/s"),
    ("p50_ms", "p50 latency (ms)"),
    ("p99_ms", "p99 latency (ms)"),
    ("rss_start_mb", "server RSS after warm-up (MB)"),
    ("rss_end_mb", "server RSS at the end (MB)"),
    ("rss_peak_mb", "server RSS, highest sample (MB)"),
    ("rss_growth_pct", "server RSS growth (%)"),
    ("server_cpu_cores", "server CPU (cores)"),
    ("client_cpu_cores", "load generator CPU (cores)"),
    ("other_cpu_cores", "other processes' CPU (cores)"),
)


@dataclass
class SoakConfig:
    """One soak run."""

    data_file: Path
    duration: float = 180.0
    concurrency: int = 8
    workers: int = 1
    reloads: int = 2
    data_limit: int | None = None
    articles: int | None = None
    """Send only N of the articles, spread over the file (default all)."""
    warmup: float = 10.0
    scratch: Path | None = None
    """Where models, the training subset and the server log go (default: a temporary folder, removed)."""

    def __post_init__(self) -> None:
        if self.duration <= 0 or self.warmup < 0:
            raise ValueError(f"duration must be > 0 and warmup >= 0; got {self.duration} and {self.warmup}")
        if self.concurrency < 1 or self.workers < 1 or self.reloads < 1:
            raise ValueError(
                f"concurrency, workers and reloads must be at least 1; "
                f"got {self.concurrency}, {self.workers}, {self.reloads}"
            )
        if self.articles is not None and self.articles < 1:
            raise ValueError(f"--articles must be at least 1; got {self.articles}")
        if self.data_limit is not None and self.data_limit < 20:
            raise ValueError(f"--data-limit must be at least 20 articles; got {self.data_limit}")


# --------------------------------------------------------------------------- data and models


def request_bodies(data_file: Path) -> list[dict[str, str]]:
    """The BBC articles as request bodies; one in eight with page boilerplate, one in eight as an HTML page."""
    import pandas as pd

    frame = pd.read_csv(data_file, dtype=str, keep_default_na=False)
    bodies = []
    for i, (title, text) in enumerate(zip(frame["title"], frame["text"])):
        if not text.strip():
            continue
        if i % 8 == 3:
            text = "\n".join([*BOILERPLATE_HEAD, "", text, "", *BOILERPLATE_TAIL])
        elif i % 8 == 7:
            text = html_page(title, text)
        bodies.append({"title": title, "text": text})
    return bodies


def html_page(title: str, text: str) -> str:
    """The article as a small news web page: navigation, the story in <article>, a footer."""
    from html import escape

    paragraphs = "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n") if p.strip())
    nav = "".join(f"<li><a href='/{s.lower()}'>{s}</a></li>" for s in ("News", "Sport", "Business", "Tech"))
    return (
        f"<!DOCTYPE html><html><head><title>{escape(title)} - News</title></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{escape(title)}</h1>{paragraphs}</article></main>"
        f"<footer><p>{escape(BOILERPLATE_TAIL[-1])}</p></footer></body></html>"
    )


def training_data(data_file: Path, limit: int | None, scratch: Path) -> Path:
    """``data_file``, or its first ``limit`` articles spread evenly over the categories."""
    if limit is None:
        return data_file
    import pandas as pd

    frame = pd.read_csv(data_file, dtype=str, keep_default_na=False)
    per_label = math.ceil(limit / frame[LABEL_COL].nunique())
    subset = frame.groupby(LABEL_COL, sort=False).head(per_label)
    path = scratch / f"train-{limit}.csv"
    subset.to_csv(path, index=False)
    return path


def train_version(data: Path, models_dir: Path, seed: int) -> tuple[str, float]:
    """Run ``newsdesk train`` (a new version, made current); return the version and the seconds taken."""
    command = [
        sys.executable,
        "-m",
        "newsdesk.serve.cli",
        "train",
        "--data",
        str(data),
        "--label-col",
        LABEL_COL,
        "--name",
        MODEL_NAME,
        "--models-dir",
        str(models_dir),
        "--seed",
        str(seed),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"newsdesk train failed ({done.returncode}):\n{done.stderr[-3000:]}")
    version = (models_dir / MODEL_NAME / "current").read_text(encoding="utf-8").strip()
    return version, round(seconds, 1)


def corrupt_copy(model: Path, version: str) -> str:
    """Copy ``version`` to the next version number and flip one byte of its classifier; return the new name."""
    from newsdesk.train.bundle import CLASSIFIER_ARRAYS
    from newsdesk.train.versions import list_versions

    bad = f"v{int(list_versions(model)[-1][1:]) + 1:04d}"
    shutil.copytree(model / version, model / bad)
    target = model / bad / CLASSIFIER_ARRAYS
    data = bytearray(target.read_bytes())
    data[min(CORRUPT_OFFSET, len(data) - 1)] ^= 0xFF
    target.write_bytes(bytes(data))
    return bad


# --------------------------------------------------------------------------- the server


# --------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Sample:
    """One request: when it started (s since the load began), how long it took, and what answered."""

    start: float
    ms: float
    endpoint: str
    phase: str
    status: int
    version: str | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


class LoadGenerator:
    """``concurrency`` client threads, each with one keep-alive connection, sending requests back to back."""

    def __init__(self, url: str, bodies: Sequence[dict[str, str]], concurrency: int) -> None:
        self.url = url
        self.bodies = bodies
        self.concurrency = concurrency
        self.phase = PHASES[0]
        self.origin = time.perf_counter()
        self._stop = threading.Event()
        self._samples: list[list[Sample]] = [[] for _ in range(concurrency)]
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(concurrency)]

    def now(self) -> float:
        """Seconds since the load began (the clock of :attr:`Sample.start`)."""
        return time.perf_counter() - self.origin

    def sent(self) -> int:
        """Requests answered (or failed) so far."""
        return sum(len(samples) for samples in self._samples)

    def start(self) -> None:
        self.origin = time.perf_counter()
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Sample]:
        """Stop every client after its current request; all samples, in start order."""
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)
        return sorted((s for samples in self._samples for s in samples), key=lambda s: s.start)

    def _client(self, n: int) -> None:
        import httpx

        samples = self._samples[n]
        article = n * len(self.bodies) // self.concurrency
        turn = n
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT, limits=limits) as client:
            while not self._stop.is_set():
                endpoint = ENDPOINTS[turn % len(ENDPOINTS)]
                body = self.bodies[article % len(self.bodies)]
                turn, article = turn + 1, article + 1
                phase, started = self.phase, time.perf_counter()
                status, version, error = 0, None, None
                try:
                    response = client.post(endpoint, json=body)
                    status = response.status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}: {response.text[:300]}"
                    else:
                        version = response.json().get("model", {}).get("version")
                        if version is None:
                            error = f"HTTP {status} without model.version: {response.text[:300]}"
                except (httpx.HTTPError, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - started) * 1000
                samples.append(Sample(started - self.origin, ms, endpoint, phase, status, version, error))


class MemorySampler:
    """Samples the RSS of a process tree every few seconds on a thread of its own."""

    def __init__(self, pid: int, clock: Callable[[], float], phase: Callable[[], str]) -> None:
        self.pid = pid
        self.clock = clock
        self.phase = phase
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def measure(self) -> dict[str, float]:
        """RSS/PSS of the server's processes now."""
        pids = process_tree(self.pid)
        return {**process_memory_mb(pids), "processes": len(pids)}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_SECONDS):
            memory = self.measure()
            self.samples.append({"t": round(self.clock(), 1), "phase": self.phase(), "rss_mb": memory["rss_mb"]})


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, q)), 2) if len(values) else 0.0


def latency_figures(samples: Sequence[Sample], seconds: float | None = None) -> dict[str, Any]:
    """Requests, failures, p50/p90/p99/max latency and (given the seconds) requests/s of some samples."""
    ms = [s.ms for s in samples]
    figures: dict[str, Any] = {
        "requests": len(samples),
        "failed": sum(s.failed for s in samples),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": round(max(ms), 2) if ms else 0.0,
    }
    if seconds is not None:
        figures["seconds"] = round(seconds, 1)
        figures["rps"] = round(len(samples) / seconds, 1) if seconds > 0 else 0.0
    return figures


def phase_figures(samples: Sequence[Sample], bounds: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """Latency, versions and per-endpoint figures of each phase."""
    phases = {}
    for phase, (start, end) in bounds.items():
        mine = [s for s in samples if s.phase == phase]
        figures = latency_figures(mine, end - start)
        figures["versions"] = dict(sorted(Counter(s.version for s in mine if s.version).items()))
        figures["by_endpoint"] = {
            endpoint: latency_figures([s for s in mine if s.endpoint == endpoint])
            for endpoint in sorted(set(ENDPOINTS))
        }
        phases[phase] = figures
    return phases


def in_flight(samples: Sequence[Sample], start: float, end: float) -> dict[str, Any]:
    """Requests that were running at some moment between ``start`` and ``end`` (a reload call)."""
    overlapping = [s for s in samples if s.start < end and s.start + s.ms / 1000 > start]
    return latency_figures(overlapping)


def stale_answers(samples: Sequence[Sample], switches: Sequence[tuple[float, float, str]], grace: float) -> int:
    """Requests answered by another version than the one a reload had swapped in before they were sent.

    ``switches`` are (when the reload call was sent, when it answered, the version it loaded), in
    order. A request sent between one reload's answer (plus ``grace`` s, for other workers to
    follow) and the next reload's call must be answered by that reload's version.
    """
    stale = 0
    for (_, answered, version), (following, _, _) in zip(switches, [*switches[1:], (math.inf, 0.0, "")]):
        stale += sum(1 for s in samples if answered + grace <= s.start < following and s.version not in (None, version))
    return stale


# --------------------------------------------------------------------------- the run


class Soak:
    """One soak run: the server, the load, the phases and what they measured."""

    def __init__(self, config: SoakConfig, scratch: Path, progress: Callable[[str], None]) -> None:
        self.config = config
        self.scratch = scratch
        self.say = progress
        self.models = scratch / "models"
        self.model = self.models / MODEL_NAME
        self.reloads: list[dict[str, Any]] = []
        self.bounds: dict[str, tuple[float, float]] = {}
        self.switches: list[tuple[float, float, str]] = []

    def run(self) -> dict[str, Any]:
        config = self.config
        data = training_data(config.data_file, config.data_limit, self.scratch)
        self.say(f"training {MODEL_NAME} v0001 on {data.name} ...")
        first, first_seconds = train_version(data, self.models, seed=0)
        bodies = request_bodies(config.data_file)
        if config.articles is not None:  # spread over the file, which is sorted by category
            bodies = bodies[:: max(1, len(bodies) // config.articles)][: config.articles]
        results: dict[str, Any] = {
            "duration_s": config.duration,
            "concurrency": config.concurrency,
            "workers": config.workers,
            "data_limit": config.data_limit,
            "articles": len(bodies),
            "first_version": {"version": first, "train_seconds": first_seconds, "bundle_mb": self._bundle_mb(first)},
        }
        log = self.scratch / "server.log"
        with running_server(self.model, log, config.workers, startup_seconds=STARTUP_SECONDS) as (url, server):
            load = LoadGenerator(url, bodies, config.concurrency)
            memory = MemorySampler(server.pid, load.now, lambda: load.phase)
            self.say(f"server up at {url}; {config.concurrency} clients, warm-up {config.warmup:g} s ...")
            load.start()
            memory.start()
            self._warm_up(load, config.warmup, len(bodies))
            rss_start = memory.measure()
            cpu_start = self._cpu(server.pid)
            self.switches.append((0.0, load.now(), first))
            self._phase(load, "before", config.duration / 4)
            during_start = load.now()
            load.phase = "during"
            self.say("during: training and reloading ...")
            version = first
            for n in range(1, config.reloads + 1):
                version = self._train_and_reload(url, load, data, seed=n, previous=version)
            results["concurrent_reloads"] = self._concurrent_reloads(url, load, version)
            results["corrupted_reload"] = self._corrupted_reload(url, load, version)
            self.bounds["during"] = (during_start, load.now())
            remaining = config.duration - (load.now() - self.bounds["before"][0])
            self._phase(load, "after", max(config.duration / 4, remaining))
            rss_end = memory.measure()
            cpu_end = self._cpu(server.pid)
            memory.stop()
            samples = load.stop()
        self.say("server stopped")
        measured = [s for s in samples if s.phase in REPORTED_PHASES]
        overall = latency_figures(
            measured, sum(end - start for p, (start, end) in self.bounds.items() if p != "warmup")
        )
        phases = phase_figures(samples, self.bounds)
        warmup = phases.pop("warmup")
        grace = 0.0 if config.workers == 1 else 3.0  # other workers follow within --reload-poll-seconds (1 s)
        for reload in [*self.reloads, results["concurrent_reloads"], results["corrupted_reload"]]:
            reload["in_flight"] = in_flight(samples, reload.pop("_start"), reload.pop("_end"))
        wall = cpu_end["wall"] - cpu_start["wall"]
        server_cpu = cpu_end["server"] - cpu_start["server"]
        client_cpu = cpu_end["client"] - cpu_start["client"]
        training_cpu = cpu_end["children"] - cpu_start["children"]
        other_cpu = cpu_end["machine"] - cpu_start["machine"] - server_cpu - client_cpu - training_cpu
        results.update(
            {
                "requests": overall["requests"],
                "failed": overall["failed"],
                "warmup_s": warmup["seconds"],
                "warmup_requests": warmup["requests"],
                "failed_warmup": warmup["failed"],
                "rps": overall["rps"],
                "p50_ms": overall["p50_ms"],
                "p90_ms": overall["p90_ms"],
                "p99_ms": overall["p99_ms"],
                "max_ms": overall["max_ms"],
                "measured_seconds": overall["seconds"],
                "phases": phases,
                "versions_seen": {phase: figures["versions"] for phase, figures in phases.items()},
                "stale_answers": stale_answers(samples, self.switches, grace),
                "reloads": self.reloads,
                "rss_start_mb": rss_start["rss_mb"],
                "rss_end_mb": rss_end["rss_mb"],
                "rss_peak_mb": max([rss_start["rss_mb"], rss_end["rss_mb"], *(m["rss_mb"] for m in memory.samples)]),
                "rss_growth_pct": round((rss_end["rss_mb"] - rss_start["rss_mb"]) / rss_start["rss_mb"] * 100, 2),
                "rss_anon_start_mb": rss_start["rss_anon_mb"],
                "rss_anon_end_mb": rss_end["rss_anon_mb"],
                "pss_start_mb": rss_start["pss_mb"],
                "pss_end_mb": rss_end["pss_mb"],
                "server_processes": rss_end["processes"],
                "rss_timeline": memory.samples,
                "server_cpu_cores": round(server_cpu / wall, 2),
                "client_cpu_cores": round(client_cpu / wall, 2),
                "training_cpu_cores": round(training_cpu / wall, 2),
                "other_cpu_cores": round(max(0.0, other_cpu) / wall, 2),
                "failures": [s.error for s in samples if s.failed][:20],
                "server_log_lines": sum(
                    1 for line in log.read_text(errors="replace").splitlines() if line.startswith("{")
                ),
            }
        )
        results["checks"] = self._checks(results, first, version)
        results["passed"] = all(results["checks"].values())
        return results

    def _warm_up(self, load: LoadGenerator, seconds: float, articles: int) -> None:
        """Load for ``seconds`` and until every article has been sent once (at most WARMUP_LIMIT s)."""
        self._phase(load, "warmup", seconds)
        start = self.bounds["warmup"][0]
        while load.sent() < articles and load.now() - start < WARMUP_LIMIT:
            time.sleep(0.5)
        self.bounds["warmup"] = (start, load.now())
        self.say(f"warm-up done: {load.sent()} requests in {load.now() - start:.0f} s")

    def _phase(self, load: LoadGenerator, phase: str, seconds: float) -> None:
        load.phase = phase
        start = load.now()
        self.say(f"{phase}: {seconds:.0f} s")
        time.sleep(seconds)
        self.bounds[phase] = (start, load.now())

    def _bundle_mb(self, version: str) -> float:
        """Size of a saved version on disk, in MB."""
        return round(sum(f.stat().st_size for f in (self.model / version).rglob("*") if f.is_file()) / 1e6, 1)

    def _cpu(self, server_pid: int) -> dict[str, float]:
        usage = os.times()
        return {
            "wall": time.perf_counter(),
            "server": process_cpu_seconds(process_tree(server_pid)),
            "client": usage.user + usage.system,
            "children": usage.children_user + usage.children_system,  # finished training runs
            "machine": machine_busy_seconds(),
        }

    def _train_and_reload(self, url: str, load: LoadGenerator, data: Path, seed: int, previous: str) -> str:
        """Train a new version (it becomes current), reload, and check the answer; return the served version."""
        import httpx

        self.say(f"  training a new version (seed {seed}) ...")
        version, train_seconds = train_version(data, self.models, seed=seed)
        start = load.now()
        response = httpx.post(url + "/v1/admin/reload", timeout=RELOAD_TIMEOUT)
        end = load.now()
        body = response.json()
        loaded = body.get("model", {}).get("version")
        ok = response.status_code == 200 and loaded == version and body.get("changed") is True
        self.reloads.append(
            {
                "version": version,
                "bundle_mb": self._bundle_mb(version),
                "train_seconds": train_seconds,
                "status": response.status_code,
                "loaded": loaded,
                "previous": (body.get("previous") or {}).get("version"),
                "changed": body.get("changed"),
                "server_load_seconds": body.get("seconds"),
                "http_ms": round((end - start) * 1000, 1),
                "ok": ok,
                "_start": start,
                "_end": end,
            }
        )
        self.say(f"  reload -> {response.status_code} {loaded} in {(end - start) * 1000:.0f} ms")
        if not ok:
            self.say(f"  reload did not load {version}: {response.text[:500]}")
            return previous
        self.switches.append((start, end, version))
        return version

    def _concurrent_reloads(self, url: str, load: LoadGenerator, version: str) -> dict[str, Any]:
        """``concurrency`` reloads of current at the same moment: each must answer 200 with ``version``."""
        import httpx

        n = self.config.concurrency
        barrier = threading.Barrier(n)
        answers: list[tuple[int, str | None, float]] = []

        def one() -> None:
            barrier.wait(30)
            started = time.perf_counter()
            try:
                response = httpx.post(url + "/v1/admin/reload", json={}, timeout=RELOAD_TIMEOUT)
                loaded = response.json().get("model", {}).get("version")
                answers.append((response.status_code, loaded, time.perf_counter() - started))
            except (httpx.HTTPError, ValueError) as exc:
                answers.append((0, f"{type(exc).__name__}: {exc}", time.perf_counter() - started))

        start = load.now()
        threads = [threading.Thread(target=one) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RELOAD_TIMEOUT + 30)
        end = load.now()
        statuses = Counter(status for status, _, _ in answers)
        ok = len(answers) == n and statuses == Counter({200: n}) and {v for _, v, _ in answers} == {version}
        self.say(f"  {n} concurrent reloads -> {dict(statuses)} in {(end - start) * 1000:.0f} ms")
        return {
            "calls": n,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "versions": sorted({str(v) for _, v, _ in answers}),
            "slowest_ms": round(max((s for _, _, s in answers), default=0) * 1000, 1),
            "seconds": round(end - start, 2),
            "_start": start,
            "_end": end,
            "ok": ok,
        }

    def _corrupted_reload(self, url: str, load: LoadGenerator, good: str) -> dict[str, Any]:
        """Ask once for a copy of ``good`` with one byte flipped: must be a 409 while ``good`` keeps serving."""
        import httpx

        bad = corrupt_copy(self.model, good)
        start = load.now()
        response = httpx.post(url + "/v1/admin/reload", json={"version": bad}, timeout=RELOAD_TIMEOUT)
        end = load.now()
        error = response.json().get("error", {}) if response.status_code != 200 else {}
        check = httpx.post(url + "/v1/predict", json={"text": "The striker scored twice."}, timeout=REQUEST_TIMEOUT)
        serving = check.json().get("model", {}).get("version") if check.status_code == 200 else None
        shutil.rmtree(self.model / bad)
        ok = (
            response.status_code == 409
            and error.get("code") == "reload_failed"
            and f"still serving {MODEL_NAME} {good}" in error.get("message", "")
            and serving == good
        )
        self.say(f"  corrupted {bad} -> {response.status_code} {error.get('code')}; still serving {serving}")
        return {
            "version": bad,
            "status": response.status_code,
            "code": error.get("code"),
            "message": error.get("message"),
            "http_ms": round((end - start) * 1000, 1),
            "serving_after": serving,
            "_start": start,
            "_end": end,
            "ok": ok,
        }

    def _checks(self, results: dict[str, Any], first: str, last: str) -> dict[str, bool]:
        versions = results["versions_seen"]
        return {
            "no_failed_requests": results["failed"] == 0 and results["failed_warmup"] == 0,
            "rss_growth_within_limit": results["rss_growth_pct"] <= RSS_GROWTH_LIMIT_PCT,
            "reloads_loaded_the_new_versions": all(r["ok"] for r in self.reloads),
            "concurrent_reloads_all_answered_200": results["concurrent_reloads"]["ok"],
            "corrupted_reload_refused_and_old_model_kept": results["corrupted_reload"]["ok"],
            "before_answered_by_first_version": set(versions.get("before", {})) == {first},
            "after_answered_by_last_version": set(versions.get("after", {})) == {last},
            "no_stale_answers_after_a_reload": results["stale_answers"] == 0,
        }


def run_soak(config: SoakConfig, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Run one soak and return its results (see the module docstring)."""
    ensure_project_importable()
    if config.scratch is not None:
        config.scratch.mkdir(parents=True, exist_ok=True)
        return Soak(config, config.scratch, progress).run()
    with tempfile.TemporaryDirectory(prefix="newsdesk-soak-") as scratch:
        return Soak(config, Path(scratch), progress).run()


# --------------------------------------------------------------------------- output


def phase_table(results: dict[str, Any]) -> str:
    """Requests, failures, latency and answering versions per phase."""
    rows = []
    for phase in REPORTED_PHASES:
        figures = results["phases"][phase]
        versions = ", ".join(f"{v} ({n})" for v, n in figures["versions"].items())
        rows.append(
            [
                phase,
                str(figures["requests"]),
                str(figures["failed"]),
                f"{figures['seconds']:g}",
                f"{figures['rps']:g}",
                f"{figures['p50_ms']:g}",
                f"{figures['p99_ms']:g}",
                f"{figures['max_ms']:g}",
                versions,
            ]
        )
    header = ["Phase", "Requests", "Failed", "Seconds", "req/s", "p50 ms", "p99 ms", "max ms", "Versions (requests)"]
    return markdown_table(header, rows)


def reload_table(results: dict[str, Any]) -> str:
    """Every reload: what was asked, how it answered, how long it took, what ran meanwhile."""
    rows = []
    for reload in results["reloads"]:
        flight = reload["in_flight"]
        rows.append(
            [
                f"train + reload {reload['version']}",
                str(reload["status"]),
                f"{reload['http_ms']:g}",
                (
                    f"trained in {reload['train_seconds']:g} s; {reload['previous']} -> {reload['loaded']}; "
                    f"{flight['requests']} requests in flight, {flight['failed']} failed, max {flight['max_ms']:g} ms"
                ),
            ]
        )
    burst = results["concurrent_reloads"]
    rows.append(
        [
            f"{burst['calls']} concurrent reloads",
            ", ".join(f"{k} x{v}" for k, v in burst["statuses"].items()),
            f"{burst['slowest_ms']:g}",
            (
                f"versions {', '.join(burst['versions'])}; {burst['in_flight']['requests']} requests in flight, "
                f"{burst['in_flight']['failed']} failed"
            ),
        ]
    )
    bad = results["corrupted_reload"]
    rows.append(
        [
            f"corrupted {bad['version']}",
            str(bad["status"]),
            f"{bad['http_ms']:g}",
            (
                f"{bad['code']}; still serving {bad['serving_after']}; {bad['in_flight']['requests']} requests in flight, "
                f"{bad['in_flight']['failed']} failed"
            ),
        ]
    )
    return markdown_table(["Reload", "Status", "ms", "Detail"], rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default: NEWSDESK_DATA)")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds of measured load (default 180; 45 with --quick)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2), help="server worker processes (default 1)")
    parser.add_argument("--reloads", type=int, default=2, help="new versions trained and reloaded (default 2)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of load before measuring, and at least one pass over the articles (default 10)",
    )
    parser.add_argument(
        "--articles", type=int, default=None, help="send only N articles, spread over the file (default all)"
    )
    parser.add_argument(
        "--data-limit", type=int, default=None, help="train on this many articles, even over categories (default all)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: --data-limit {QUICK_DATA_LIMIT}, --duration {QUICK_DURATION:g}, --warmup 3 unless given",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the models and the server log in this folder")
    parser.add_argument("--out", type=Path, default=None, help="results file (default bench/results/soak.json)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    data_file = data_dir / BBC_FILE
    if not data_file.is_file():
        print(missing_data_message(data_dir, [BBC_FILE]), file=sys.stderr)
        return 2
    try:
        import httpx  # noqa: F401
    except ImportError:
        print("the soak needs httpx: pip install httpx (or pip install -e '.[test]')", file=sys.stderr)
        return 2
    config = SoakConfig(
        data_file=data_file,
        duration=args.duration if args.duration is not None else (QUICK_DURATION if args.quick else 180.0),
        concurrency=args.concurrency,
        workers=args.workers,
        reloads=args.reloads,
        data_limit=args.data_limit if args.data_limit is not None else (QUICK_DATA_LIMIT if args.quick else None),
        articles=args.articles,
        warmup=args.warmup if args.warmup is not None else (3.0 if args.quick else 10.0),
        scratch=args.keep,
    )
    results = {**results_header(data_dir), **run_soak(config)}
    print()
    print(phase_table(results))
    print()
    print(reload_table(results))
    report(results, ROWS, TARGETS, args.out or RESULTS_DIR / "soak.json")
    print()
    for check, ok in results["checks"].items():
        print(f"{'ok  ' if ok else 'FAIL'} {check}")
    if results["failures"]:
        print("first failures:\n  " + "\n  ".join(results["failures"][:5]))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
