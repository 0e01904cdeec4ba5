"""Benchmark ``newsdesk serve`` over HTTP on loopback with wrk, against the same model called in-process.

What it does:

1. Trains a BBC bundle with ``newsdesk train`` (or reuses one already in ``--models-dir``
   that still loads).
2. Starts ``newsdesk serve`` as a real process on 127.0.0.1 as a user would (its defaults:
   one worker, two model threads, request log on, written to a file), then again with
   ``--workers 2`` (``--compare-workers``); results of the second server are under ``workers2.*``.
3. Drives ``POST /v1/predict`` and then ``POST /v1/summarize`` with wrk (one load-generator
   thread, 16 keep-alive connections, so 16 concurrent clients) for ``--duration`` seconds each,
   after a warm-up run, ``--repeats`` times (default 3). The request bodies are the BBC articles (title
   and text), in turn. Reported: requests/s, p50/p99 latency and errors (socket errors, timeouts and
   non-2xx answers) of the run with the median p99, and every run's requests/s and p99 (on a shared
   2-core machine they vary by a quarter from run to run).
   Before each run it waits for other processes to leave the CPU, and repeats a run that other
   work disturbed; the CPU the server and everything else used is recorded with each run.
4. Reads the server's memory (RSS and PSS summed over its processes) and checks that no process
   of it has torch loaded.
5. The ceiling: the same bundle called in-process on the same texts, one article per call on
   one thread (what one request asks of the model), plus one vectorised call for all of them.

Targets (reported as met or not; the script still exits 0 when one is missed), on a
2-core machine with the load generator on the same machine:

* /v1/predict >= 400 requests/s, p99 <= 50 ms, no errors (issue 17)
* /v1/summarize p99 <= 100 ms, no errors (issue 17)
* server RSS <= 170 MB per worker: one worker <= 170 MB, two workers <= 340 MB (issue 16)

Usage, from the project root (needs wrk: ``apt-get install -y wrk``)::

    python bench/serve.py [--data PATH] [--models-dir DIR] [--duration S] [--workers N] [--out PATH]

Results are printed as a table and written to ``bench/results/serve.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    Target,
    default_data_dir,
    ensure_project_importable,
    limit_threads,
    machine_busy_seconds,
    machine_steal_seconds,
    missing_data_message,
    process_cpu_seconds,
    process_memory_mb,
    process_tree,
    report,
    results_header,
    running_server,
)

MODEL_NAME = "bbc"
CONNECTIONS = 16
WRK_THREADS = 1
WARMUP_SECONDS = 3
STARTUP_SECONDS = 120
INPROCESS_RUNS = 3
RUN_ATTEMPTS = 3
BUSY_CORES = 0.2
"""A run during which other processes used more CPU than this is repeated (up to RUN_ATTEMPTS times)."""

SERVER_TARGETS = (
    Target("predict.rps", 400.0),
    Target("predict.p99_ms", 50.0, below=True),
    Target("predict.errors", 1, below=True),
    Target("summarize.p99_ms", 100.0, below=True),
    Target("summarize.errors", 1, below=True),
    Target("server.rss_mb", 170.0, below=True),
)
"""Targets of a one-worker server; :func:`server_targets` scales the memory goal with the workers."""
RSS_PER_WORKER_MB = 170.0
"""Resident memory per worker process (issue 16: one worker <= 170 MB, two <= 340 MB, all processes summed)."""


def server_targets(workers: int) -> tuple[Target, ...]:
    """:data:`SERVER_TARGETS` for a server with ``workers`` worker processes."""
    return tuple(
        Target(t.key, RSS_PER_WORKER_MB * workers, below=True) if t.key == "server.rss_mb" else t
        for t in SERVER_TARGETS
    )


SERVER_ROWS = (
    ("predict.rps", "POST /v1/predict, requests/s (16 clients)"),
    ("predict.p50_ms", "POST /v1/predict, p50 latency (ms)"),
    ("predict.p99_ms", "POST /v1/predict, p99 latency (ms)"),
    ("predict.errors", "POST /v1/predict, errors"),
    ("summarize.rps", "POST /v1/summarize, requests/s (16 clients)"),
    ("summarize.p50_ms", "POST /v1/summarize, p50 latency (ms)"),
    ("summarize.p99_ms", "POST /v1/summarize, p99 latency (ms)"),
    ("summarize.errors", "POST /v1/summarize, errors"),
    ("server.rss_mb", "server RSS, all processes (MB)"),
    ("server.pss_mb", "server PSS, all processes (MB)"),
)
INPROCESS_ROWS = (
    ("inprocess.predict_docs_per_s", "in-process predict, one article per call (docs/s)"),
    ("inprocess.predict_batch_docs_per_s", "in-process predict, one call for all (docs/s)"),
    ("inprocess.summarize_docs_per_s", "in-process summarize, one article per call (docs/s)"),
)


def rows_and_targets(
    prefixes: Sequence[tuple[str, str, int]],
) -> tuple[list[tuple[str, str]], list[Target]]:
    """Table rows and targets for each measured server (``prefix``, label, workers), then the in-process ceiling."""
    rows: list[tuple[str, str]] = []
    targets: list[Target] = []
    for prefix, label, workers in prefixes:
        rows += [(prefix + key, f"{label}: {name}") for key, name in SERVER_ROWS]
        targets += [Target(prefix + t.key, t.bound, t.below) for t in server_targets(workers)]
    return [*rows, *INPROCESS_ROWS], targets


# wrk script: each connection sends the request bodies (one JSON object per line of a file) in turn,
# and at the end the summary is printed as one JSON line that this script reads.
WRK_SCRIPT = r"""
local bodies = {}
local next_body = 0
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  next_body = math.random(#bodies)
end
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


# --------------------------------------------------------------------------- the model


def ensure_bundle(data_file: Path, models_dir: Path) -> Path:
    """``models_dir/bbc``, trained now unless a bundle there still loads with this code."""
    from newsdesk.train.bundle import load_bundle
    from newsdesk.train.versions import BundleError

    model = models_dir / MODEL_NAME
    if model.exists():
        try:
            load_bundle(model)
            print(f"reusing {model}")
            return model
        except BundleError as exc:
            print(f"retraining: the bundle in {model} does not load ({exc})")
            shutil.rmtree(model)
    print(f"training a BBC bundle into {models_dir} (about a minute) ...")
    command = [
        sys.executable,
        "-m",
        "newsdesk.serve.cli",
        "train",
        "--data",
        str(data_file),
        "--label-col",
        "category",
        "--name",
        MODEL_NAME,
        "--models-dir",
        str(models_dir),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return model


def load_articles(data_file: Path) -> list[dict[str, str]]:
    """The BBC articles as request bodies: {"title", "text"}."""
    import pandas as pd

    frame = pd.read_csv(data_file, dtype=str, keep_default_na=False)
    return [{"title": title, "text": text} for title, text in zip(frame["title"], frame["text"]) if text.strip()]


def inprocess_ceiling(model: Path, articles: list[dict[str, str]]) -> dict[str, float]:
    """Documents/s of the bundle called directly (same cleaning and model code as the server), one thread."""
    from newsdesk.serve.analysis import clean_article, predict_topics, summarize_article
    from newsdesk.serve.api.state import prepare_for_serving
    from newsdesk.train.bundle import load_bundle

    bundle = prepare_for_serving(load_bundle(model))  # as the server loads it

    def per_call_predict() -> None:
        for article in articles:
            predict_topics(bundle, [clean_article(article["text"], article["title"], bundle.cleaning)])

    def one_call_predict() -> None:
        predict_topics(bundle, [clean_article(a["text"], a["title"], bundle.cleaning) for a in articles])

    def per_call_summarize() -> None:
        for article in articles:
            summarize_article(bundle, clean_article(article["text"], article["title"], bundle.cleaning))

    def best_rate(action: Any) -> float:
        best = float("inf")
        for _ in range(INPROCESS_RUNS):
            start = time.perf_counter()
            action()
            best = min(best, time.perf_counter() - start)
        return round(len(articles) / best, 1)

    return {
        "inprocess.predict_docs_per_s": best_rate(per_call_predict),
        "inprocess.predict_batch_docs_per_s": best_rate(one_call_predict),
        "inprocess.summarize_docs_per_s": best_rate(per_call_summarize),
    }


# --------------------------------------------------------------------------- the server


def torch_loaded(pids: Sequence[int]) -> bool:
    """Whether any of these processes has a torch library mapped."""
    for pid in pids:
        try:
            if "/torch/" in Path(f"/proc/{pid}/maps").read_text():
                return True
        except OSError:
            continue
    return False


# --------------------------------------------------------------------------- load


@dataclass(frozen=True)
class LoadResult:
    """One wrk run, in the units the results file uses."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    requests: int
    errors: int
    server_cpu_cores: float
    other_cpu_cores: float
    steal_cores: float
    """Cores' worth of CPU time the hypervisor gave to other guests during the run (see machine_steal_seconds)."""

    def as_results(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}.{key}": value for key, value in self.__dict__.items()}


def run_wrk(url: str, bodies: Path, script: Path, seconds: int, pids: Sequence[int]) -> LoadResult:
    """Run wrk for ``seconds`` and measure how much CPU the server and everything else used meanwhile."""
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        str(bodies),
    ]
    server_before, machine_before, steal_before = (
        process_cpu_seconds(pids),
        machine_busy_seconds(),
        machine_steal_seconds(),
    )
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out, _ = wrk.communicate()
    server_cpu = process_cpu_seconds(pids) - server_before
    machine_cpu = machine_busy_seconds() - machine_before
    steal = machine_steal_seconds() - steal_before
    wrk_cpu = _children_cpu_seconds()  # wrk has exited and been waited for: its CPU is in our children's times
    line = next((line for line in out.splitlines() if line.startswith("WRK_JSON ")), None)
    if wrk.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({wrk.returncode}):\n{out}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    duration = data["duration_us"] / 1e6
    errors = sum(data[key] for key in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        rps=round(data["requests"] / duration, 1),
        p50_ms=round(data["p50_us"] / 1000, 2),
        p90_ms=round(data["p90_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        max_ms=round(data["max_us"] / 1000, 2),
        mean_ms=round(data["mean_us"] / 1000, 2),
        requests=data["requests"],
        errors=errors,
        server_cpu_cores=round(server_cpu / duration, 2),
        other_cpu_cores=round(max(0.0, machine_cpu - server_cpu - wrk_cpu - steal) / duration, 2),
        steal_cores=round(steal / duration, 2),
    )


def wait_for_quiet(own: Sequence[int], timeout: float, threshold: float = BUSY_CORES) -> float:
    """Wait (up to ``timeout`` s) until other processes use less than ``threshold`` cores; return their last use."""
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        own_before, machine_before, steal_before = (
            process_cpu_seconds(own),
            machine_busy_seconds(),
            machine_steal_seconds(),
        )
        time.sleep(2.0)
        busy = machine_busy_seconds() - machine_before - (machine_steal_seconds() - steal_before)
        others = max(0.0, busy - (process_cpu_seconds(own) - own_before)) / 2.0
        if others < threshold or time.monotonic() > deadline:
            return round(others, 2)
        if not announced:
            print(f"  waiting for other processes to finish (they use {others:.2f} cores) ...")
            announced = True


_children_cpu_seen = 0.0


def _children_cpu_seconds() -> float:
    """CPU seconds used by child processes that finished since the last call (the wrk run)."""
    global _children_cpu_seen
    usage = os.times()
    total = usage.children_user + usage.children_system
    delta, _children_cpu_seen = total - _children_cpu_seen, total
    return delta


def write_inputs(directory: Path, articles: list[dict[str, str]]) -> tuple[Path, Path]:
    """The wrk script and the request bodies (one JSON object per line)."""
    script = directory / "post.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    bodies = directory / "articles.jsonl"
    bodies.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    return script, bodies


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "wrk"


# --------------------------------------------------------------------------- main


def measure_server(
    model: Path, workers: int, args: argparse.Namespace, script: Path, bodies: Path, log: Path, prefix: str
) -> dict[str, Any]:
    """Start a server, load /v1/predict and /v1/summarize in turn, read its memory; results keyed with ``prefix``."""
    from newsdesk.serve.api.settings import ServeSettings

    threads = args.threads or ServeSettings.model_fields["threads"].default
    results: dict[str, Any] = {f"{prefix}server.workers": workers, f"{prefix}server.threads": threads}
    threads = ["--threads", str(args.threads)] if args.threads else []
    with running_server(model, log, workers, threads, startup_seconds=STARTUP_SECONDS) as (url, process):
        pids = process_tree(process.pid)
        _children_cpu_seconds()
        for endpoint in ("predict", "summarize"):
            target = f"{url}/v1/{endpoint}"
            print(f"warming up {target} ...")
            run_wrk(target, bodies, script, WARMUP_SECONDS, pids)
            runs = [measure_endpoint(target, bodies, script, args, pids) for _ in range(args.repeats)]
            # Timings on a shared machine vary run to run: report the run with the median p99, and every run's.
            median, attempts = sorted(runs, key=lambda run: run[0].p99_ms)[len(runs) // 2]
            results.update(median.as_results(prefix + endpoint))
            results[f"{prefix}{endpoint}.attempts"] = attempts
            results[f"{prefix}{endpoint}.runs"] = len(runs)
            for key in ("rps", "p99_ms"):
                results[f"{prefix}{endpoint}.{key}_each_run"] = [getattr(run, key) for run, _ in runs]
        memory = process_memory_mb(pids)
        results.update({f"{prefix}server.{key}": value for key, value in memory.items()})
        results[f"{prefix}server.processes"] = len(pids)
        results[f"{prefix}server.torch_imported"] = torch_loaded(pids)
    results[f"{prefix}server.request_log_lines"] = sum(
        1 for line in log.read_text().splitlines() if line.startswith("{")
    )
    return results


def measure_endpoint(
    target: str, bodies: Path, script: Path, args: argparse.Namespace, pids: Sequence[int]
) -> tuple[LoadResult, int]:
    """One undisturbed wrk run (repeated up to :data:`RUN_ATTEMPTS` times while other work disturbs it)."""
    for attempt in range(1, RUN_ATTEMPTS + 1):
        wait_for_quiet([os.getpid(), *pids], args.quiet_timeout)
        print(f"loading {target} for {args.duration} s with {CONNECTIONS} connections ...")
        result = run_wrk(target, bodies, script, args.duration, pids)
        print(
            f"  {result.rps} requests/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
            f"{result.errors} errors; other processes used {result.other_cpu_cores} cores, "
            f"the hypervisor took {result.steal_cores}"
        )
        if result.other_cpu_cores <= BUSY_CORES:
            break
        print(f"  other work disturbed the run (attempt {attempt} of {RUN_ATTEMPTS})")
    return result, attempt


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default: NEWSDESK_DATA)")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "newsdesk-bench" / "models",
        help="where the BBC bundle is trained or reused (default: %(default)s)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint (default 20)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="load runs per endpoint; the run with the median p99 is reported, with every run's rps and p99 "
        "(default 3)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument(
        "--compare-workers",
        type=int,
        default=2,
        help="then measure a server with this many workers too, under workersN.* keys (default 2; 0 skips it)",
    )
    parser.add_argument("--threads", type=int, default=None, help="server threads per worker (default: the server's)")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=600,
        help="before each run, wait up to this many seconds for other processes to leave the CPU (default 600)",
    )
    parser.add_argument("--out", type=Path, default=None, help="results file (default bench/results/serve.json)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    limit_threads()  # for the in-process ceiling; the server is started without these variables
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    data_dir = args.data if args.data is not None else default_data_dir()
    data_file = data_dir / BBC_FILE
    if not data_file.is_file():
        print(missing_data_message(data_dir, [BBC_FILE]), file=sys.stderr)
        return 2
    ensure_project_importable()
    model = ensure_bundle(data_file, args.models_dir)
    articles = load_articles(data_file)

    results: dict[str, Any] = results_header(data_dir)
    results.update(
        {
            "load.generator": wrk_version(),
            "load.connections": CONNECTIONS,
            "load.wrk_threads": WRK_THREADS,
            "load.seconds": args.duration,
            "load.articles": len(articles),
        }
    )
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-serve-") as scratch:
        script, bodies = write_inputs(Path(scratch), articles)
        runs = [("", args.workers)]
        if args.compare_workers and args.compare_workers != args.workers:
            runs.append((f"workers{args.compare_workers}.", args.compare_workers))
        for prefix, workers in runs:
            print(f"\nserver with {workers} worker(s):")
            log = Path(scratch) / f"server-{workers}.log"
            results.update(measure_server(model, workers, args, script, bodies, log, prefix))
    # The ceiling, after the servers have stopped so that nothing else competes for the CPU.
    print("in-process ceiling ...")
    results.update(inprocess_ceiling(model, articles))
    import importlib.util

    results["torch_installed"] = importlib.util.find_spec("torch") is not None
    results["torch_imported_in_process"] = "torch" in sys.modules
    labels = [("", f"{args.workers} worker", args.workers)]
    if f"workers{args.compare_workers}.predict.rps" in results:
        labels.append((f"workers{args.compare_workers}.", f"{args.compare_workers} workers", args.compare_workers))
    rows, targets = rows_and_targets(labels)
    report(results, rows, targets, args.out or RESULTS_DIR / "serve.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
