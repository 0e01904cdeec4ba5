"""Helpers every benchmark script shares: data location, thread pinning, targets, tables, results files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BBC_FILE = Path("bbc-news-summary") / "bbc-news-summary.csv"
"""The BBC dataset under the shared data folder."""
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Target:
    """A goal for one result key: ``value >= bound`` (or ``value < bound`` when ``below``)."""

    key: str
    bound: float
    below: bool = False

    def met(self, value: float) -> bool:
        return value < self.bound if self.below else value >= self.bound

    def describe(self) -> str:
        return f"{'<' if self.below else '>='} {self.bound:g}"


def default_data_dir() -> Path:
    """``NEWSDESK_DATA`` if set, else ``shared/data`` beside the checkout."""
    env = os.environ.get("NEWSDESK_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def limit_threads() -> None:
    """Pin BLAS/OpenMP to one thread; only effective before numpy is first imported."""
    for name in THREAD_ENV_VARS:
        os.environ[name] = "1"


def ensure_project_importable() -> None:
    """Stop with an install hint when ``newsdesk`` is not installed (the benchmarks import it by its package name)."""
    try:
        import newsdesk.train  # noqa: F401
    except ImportError:
        sys.exit("newsdesk is not installed in this Python; run: pip install -e . (from the checkout)")


def missing_data_message(data_dir: Path, missing: Sequence[Path]) -> str:
    return (
        f"benchmark data not found under {data_dir}: missing {', '.join(str(p) for p in missing)}.\n"
        "Point --data or NEWSDESK_DATA at the shared data folder (see shared/data/README.md)."
    )


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``action`` and return (its result, seconds taken)."""
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def results_header(data_dir: Path) -> dict[str, Any]:
    """The date, machine and data folder every results file starts with."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "data": str(data_dir.resolve()),
    }


def table_rows(results: dict[str, Any], rows: Sequence[tuple[str, str]], targets: Sequence[Target]) -> list[list[str]]:
    """[metric, value, target, met] for every measured result named in ``rows``."""
    by_key = {target.key: target for target in targets}
    table = []
    for key, name in rows:
        if key not in results:
            continue
        target = by_key.get(key)
        met = "" if target is None else ("yes" if target.met(results[key]) else "NO")
        table.append([name, f"{results[key]:g}", target.describe() if target else "", met])
    return table


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """An aligned markdown table; the value column is right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [cell.rjust(w) if i == 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if i == 1 else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def target_summary(results: dict[str, Any], targets: Sequence[Target]) -> list[str]:
    return [
        f"target {t.key} {t.describe()}: {'met' if t.met(results[t.key]) else 'NOT met'} ({results[t.key]:g})"
        for t in targets
        if t.key in results
    ]


def report(results: dict[str, Any], rows: Sequence[tuple[str, str]], targets: Sequence[Target], out: Path) -> None:
    """Print the table and the target lines, and write ``results`` as JSON to ``out``."""
    print()
    print(markdown_table(["Metric", "Value", "Target", "Met"], table_rows(results, rows, targets)))
    print()
    print("\n".join(target_summary(results, targets)))
    write_results(results, out)


def write_results(results: dict[str, Any], out: Path) -> None:
    """Write ``results`` as indented JSON to ``out`` (its folder made if needed) and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


# --------------------------------------------------------------------------- processes (Linux /proc)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant of it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in parents.get(parent, [])]
        found += frontier
    return found


def process_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes (those that have exited count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def machine_steal_seconds() -> float:
    """CPU seconds the hypervisor has given to other guests so far, all cores ("steal" in /proc/stat).

    On a shared virtual machine this is time our processes were ready to run and had no real CPU: a
    benchmark run with much steal measures the host's load as well as the code.
    """
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def process_memory_mb(pids: Sequence[int]) -> dict[str, float]:
    """RSS (all, anonymous), peak RSS and PSS summed over these processes, in MB (10^6 bytes); exited ones count 0."""
    totals = {"rss_mb": 0, "rss_anon_mb": 0, "rss_peak_mb": 0, "pss_mb": 0}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for key, text, field in (
            ("rss_mb", status, "VmRSS"),
            ("rss_anon_mb", status, "RssAnon"),
            ("rss_peak_mb", status, "VmHWM"),
            ("pss_mb", rollup, "Pss"),
        ):
            found = re.search(rf"^{field}:\s+(\d+)", text, flags=re.MULTILINE)
            totals[key] += int(found.group(1)) if found else 0
    return {key: round(kb * 1024 / 1e6, 1) for key, kb in totals.items()}


# --------------------------------------------------------------------------- a real server

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_server(
    model: Path,
    log: Path,
    workers: int = 1,
    extra_args: Sequence[str] = (),
    startup_seconds: float = 180,
    python: str = sys.executable,
    checkout: Path = PROJECT_ROOT,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``newsdesk serve`` on a free loopback port, as a user would start it (no NEWSDESK_* or thread
    variables from this process); yields its URL and process once every worker has loaded the model,
    and stops it with SIGTERM. ``python`` and ``checkout``: another installation of newsdesk (an older
    commit with its own virtual environment) to serve from."""
    port = free_port()
    command = [python, "-m", "newsdesk.serve.cli", "serve", "--model", str(model), "--port", str(port)]
    command += ["--host", "127.0.0.1", "--workers", str(workers), *extra_args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") and k not in THREAD_ENV_VARS}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=checkout, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while not all_workers_ready(url, workers):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def all_workers_ready(url: str, workers: int) -> bool:
    """/ready answers 200 and every worker reports a loaded model in /metrics."""
    try:
        with urllib.request.urlopen(url + "/ready", timeout=2) as response:
            if response.status != 200:
                return False
        with urllib.request.urlopen(url + "/metrics", timeout=2) as response:
            return live_versions(response.read().decode(), workers) is not None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def live_versions(metrics: str, workers: int) -> list[str] | None:
    """The versions the workers report in ``newsdesk_model_info`` (None until all ``workers`` report one)."""
    versions = [
        line.split('version="', 1)[1].split('"', 1)[0]
        for line in metrics.splitlines()
        if line.startswith("newsdesk_model_info{") and line.endswith(" 1.0")
    ]
    return versions if len(versions) >= workers else None
