"""Serving speed of this checkout against another commit, in interleaved runs on the same machine.

This machine's speed drifts by half or more within an hour (other guests share the host), so a
serving figure measured today cannot be set against one from yesterday. This script starts two
one-worker servers on the same BBC bundle, one from this checkout and one from a checkout of the base
commit with its own virtual environment, and loads them with the same wrk load in turns (A B, then
B A, ...), ``--rounds`` times per endpoint. Reported: each side's median requests/s and p99, and the
median of the per-round ratios (this / base), which cancels most of the drift.

Make the base checkout as CI does (a clone at the commit, with ``bash .ci/run`` or
``python -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e .``)::

    git clone -q . /tmp/base && git -C /tmp/base checkout -q e63390a && (cd /tmp/base && bash .ci/run)
    python bench/serve_ab.py --base /tmp/base [--rounds 6] [--duration 10]

Results are printed and written to ``bench/results/serve_ab.json``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    PROJECT_ROOT,
    RESULTS_DIR,
    default_data_dir,
    ensure_project_importable,
    missing_data_message,
    results_header,
    running_server,
    write_results,
)

from serve import WARMUP_SECONDS, LoadResult, ensure_bundle, load_articles, run_wrk, write_inputs

ENDPOINTS = ("predict", "summarize")


def commit_of(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def summarise(runs: dict[str, list[LoadResult]]) -> dict[str, Any]:
    """Medians of each side and of the per-round ratios (this / base)."""
    base, this = runs["base"], runs["this"]
    return {
        "base_rps": [run.rps for run in base],
        "this_rps": [run.rps for run in this],
        "base_p99_ms": [run.p99_ms for run in base],
        "this_p99_ms": [run.p99_ms for run in this],
        "steal_cores": [run.steal_cores for run in base + this],
        "base_rps_median": round(statistics.median(run.rps for run in base), 1),
        "this_rps_median": round(statistics.median(run.rps for run in this), 1),
        "base_p99_median_ms": round(statistics.median(run.p99_ms for run in base), 2),
        "this_p99_median_ms": round(statistics.median(run.p99_ms for run in this), 2),
        "rps_ratio_median": round(statistics.median(t.rps / b.rps for b, t in zip(base, this)), 3),
        "p99_ratio_median": round(statistics.median(t.p99_ms / b.p99_ms for b, t in zip(base, this)), 3),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="checkout of the base commit, with its own .venv")
    parser.add_argument("--base-python", default=None, help="its Python (default: BASE/.venv/bin/python)")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default: NEWSDESK_DATA)")
    parser.add_argument("--models-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsdesk-bench" / "models")
    parser.add_argument("--rounds", type=int, default=6, help="runs per endpoint and side (default 6)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "serve_ab.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    base_python = args.base_python or str(args.base / ".venv" / "bin" / "python")
    if shutil.which("wrk") is None:
        print("wrk is not installed; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    if not Path(base_python).is_file():
        print(f"no Python at {base_python}: make the base checkout's .venv or pass --base-python", file=sys.stderr)
        return 2
    data_dir = args.data if args.data is not None else default_data_dir()
    if not (data_dir / BBC_FILE).is_file():
        print(missing_data_message(data_dir, [BBC_FILE]), file=sys.stderr)
        return 2
    ensure_project_importable()
    model = ensure_bundle(data_dir / BBC_FILE, args.models_dir)
    results: dict[str, Any] = {
        **results_header(data_dir),
        "base_commit": commit_of(args.base),
        "this_commit": commit_of(PROJECT_ROOT),
        "rounds": args.rounds,
        "seconds": args.duration,
    }
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-ab-") as scratch, ExitStack() as servers:
        script, bodies = write_inputs(Path(scratch), load_articles(data_dir / BBC_FILE))
        sides = {
            "base": servers.enter_context(
                running_server(model, Path(scratch) / "base.log", python=base_python, checkout=args.base)
            ),
            "this": servers.enter_context(running_server(model, Path(scratch) / "this.log")),
        }
        for endpoint in ENDPOINTS:
            runs: dict[str, list[LoadResult]] = {"base": [], "this": []}
            for url, process in sides.values():
                run_wrk(f"{url}/v1/{endpoint}", bodies, script, WARMUP_SECONDS, [process.pid])
            for round_number in range(args.rounds):
                order = ("base", "this") if round_number % 2 == 0 else ("this", "base")
                for side in order:
                    url, process = sides[side]
                    run = run_wrk(f"{url}/v1/{endpoint}", bodies, script, args.duration, [process.pid])
                    runs[side].append(run)
                    print(f"{endpoint} {side}: {run.rps} requests/s, p99 {run.p99_ms} ms, steal {run.steal_cores}")
            results[endpoint] = summarise(runs)
    print(f"\n| endpoint | {results['base_commit']} req/s | this req/s | ratio | base p99 | this p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for endpoint in ENDPOINTS:
        r = results[endpoint]
        print(
            f"| {endpoint} | {r['base_rps_median']} | {r['this_rps_median']} | {r['rps_ratio_median']} | "
            f"{r['base_p99_median_ms']} | {r['this_p99_median_ms']} |"
        )
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
