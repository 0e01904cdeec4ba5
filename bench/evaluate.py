"""Benchmark ``newsdesk evaluate`` on BBC (2,225 rows): the full report with every baseline, and the quick check.

Runs the real command as a user would, in a subprocess:

1. ``newsdesk evaluate --model MODEL --data bbc-news-summary.csv --label-col category --json``
   (classifier, plus summaries with ours, Lead-3, Lead-k, TextRank and the oracle), on one process
   per core (the default ``--jobs``), then with ``--jobs 1``;
2. the same with ``--no-baselines`` (ours, Lead-3 and Lead-k only).

For each it records the wall time, the CPU seconds of the command and its workers (load-independent
where the wall time is not), and the machine's load average before the run, and checks that every
run reports the same ROUGE and accuracy (the numbers must not depend on ``--jobs``). The model must
exist: ``newsdesk train --data .../bbc-news-summary.csv --label-col category --name bbc``.

Target (issue 17): the full evaluate in <= 30 s on the 2-core machine. A busy machine (load average
above the core count) makes the wall times longer; the CPU seconds say what a quiet machine would take.

Usage, from the project root::

    python bench/evaluate.py [--data PATH] [--model models/bbc] [--out PATH]

Prints a table and writes ``bench/results/evaluate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import BBC_FILE, RESULTS_DIR, Target, default_data_dir, missing_data_message, report, results_header

RUNS = {
    "full": [],
    "full_jobs1": ["--jobs", "1"],
    "quick": ["--no-baselines"],
}
TARGETS = (Target("full.wall_s", 30.0, below=True),)
ROWS = (
    ("full.wall_s", "full evaluate, wall s (default --jobs)"),
    ("full.cpu_s", "full evaluate, CPU s"),
    ("full_jobs1.wall_s", "full evaluate --jobs 1, wall s"),
    ("full_jobs1.cpu_s", "full evaluate --jobs 1, CPU s"),
    ("quick.wall_s", "--no-baselines, wall s"),
    ("quick.cpu_s", "--no-baselines, CPU s"),
    ("full.articles", "articles with reference summaries"),
    ("full.ours_rouge2", "ours ROUGE-2"),
    ("full.oracle_rouge2", "oracle ROUGE-2"),
    ("full.textrank_rouge2", "TextRank ROUGE-2"),
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_evaluate(model: Path, data: Path, extra: Sequence[str]) -> tuple[dict[str, Any], float, float]:
    """One ``newsdesk evaluate --json`` run: its metrics, wall seconds and CPU seconds."""
    command = [sys.executable, "-m", "newsdesk.serve.cli", "evaluate", "--model", str(model), "--data", str(data)]
    command += ["--label-col", "category", "--json", *extra]
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout), wall, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="shared data folder (default: NEWSDESK_DATA or ../shared/data)"
    )
    parser.add_argument("--model", type=Path, default=Path("models/bbc"), help="the BBC model (models/NAME)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "evaluate.json")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    data = data_dir / BBC_FILE
    if not data.exists():
        sys.exit(missing_data_message(data_dir, [data]))
    results: dict[str, Any] = {**results_header(data_dir), "cores": os.cpu_count()}
    reference: dict[str, Any] | None = None
    for name, extra in RUNS.items():
        load = os.getloadavg()[0]
        metrics, wall, cpu = run_evaluate(args.model, data, extra)
        summary = metrics["summarizer"]
        results[f"{name}.wall_s"] = round(wall, 2)
        results[f"{name}.cpu_s"] = round(cpu, 2)
        results[f"{name}.load_average_before"] = round(load, 2)
        results[f"{name}.articles"] = summary["articles"]
        for system in ("ours", "lead3", "lead_matched", "textrank", "oracle"):
            if system in summary:
                results[f"{name}.{system}_rouge2"] = summary[system]["rouge2"]
        print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU (load average before: {load:.1f})", flush=True)
        scores = {k: v for k, v in summary.items() if k in ("ours", "lead3", "lead_matched", "textrank", "oracle")}
        for values in scores.values():
            values.pop("articles_per_s", None)
        if reference is None:
            reference = {"accuracy": metrics["accuracy"], **scores}
        else:
            shared = {k: reference[k] for k in scores}
            results[f"{name}.same_numbers_as_full"] = shared == scores and metrics["accuracy"] == reference["accuracy"]
    report(results, ROWS, TARGETS, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
