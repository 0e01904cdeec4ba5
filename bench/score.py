"""Benchmark batch scoring (``newsdesk score``) on a large CSV built from BBC News rows.

What it measures, in a temporary folder:

* **Input**: BBC News rows (``bbc-news-summary.csv``: columns id, category, title, text) repeated
  to ``--rows`` rows (default 200,000; ids made unique as ``business/001#k``), plus the first
  50,000 rows and the first 20,000 rows as smaller files.
* **Model**: a BBC bundle trained with ``newsdesk train`` into the temporary folder (or ``--model``).
* **local**: ``newsdesk score`` with the local engine and its defaults, topic only, on the
  200,000-row file and on the 50,000-row file, each in its own process; rows/s from the scorer's
  own report (wall time of the whole run: input checks, fingerprint, model load, helpers, output
  rename). Peak RSS is sampled every 0.1 s over the scoring process *and its helper processes*
  (their sum), so memory the helpers hold is counted too.
* **local, one process**: the same with ``--workers 0`` on the 20,000-row file: what the scorer's
  own machinery (reading, writing, checkpointing) costs next to the same work done in memory.
* **summarize**: the local engine with ``--summarize`` on the 20,000-row file.
* **inprocess** (the ceiling): on 20,000 of the same texts already in memory, in this process,
  ``newsdesk.serve.analysis.predict_topics`` on articles cleaned beforehand (``inprocess.docs_per_s``), and
  cleaning plus prediction together (``inprocess.clean_predict_docs_per_s``); best of 3.
* **dask**: ``--engine dask`` on a 2-worker ``LocalCluster`` (started by the command), topic only,
  on the 200,000-row file.

Targets (reported as met or not; the script exits 0 either way):

* local topic scoring >= 70% of the in-process ceiling (``inprocess.docs_per_s``);
* peak RSS < 1 GB on the 200,000-row file, and flat from 50,000 to 200,000 rows (within 25%);
* Dask on 2 workers at least as fast as the local engine (topic only).

Usage, from the project root::

    python bench/score.py [--data PATH] [--rows 200000] [--model models/bbc] [--out PATH] [--keep]

Data comes from ``--data``, else ``NEWSDESK_DATA``, else ``shared/data`` beside the checkout.
Results are printed as a table and written to ``bench/results/score.json``. The machine should be
otherwise idle: before each run the script waits (up to ``--quiet-timeout`` s) until other processes
use less than a quarter of a core, records how much CPU they used during the run, and measures
again (up to 3 times, keeping the quietest) when they used more.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
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

from common import BBC_FILE, ensure_project_importable, machine_info, markdown_table, write_results

COLUMNS = ("id", "category", "title", "text")
SMALL_ROWS = 50_000
SLICE_ROWS = 20_000
CEILING_RUNS = 3
RSS_INTERVAL_S = 0.1
PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUIET_CORES = 0.25
"""Other processes may use at most this many cores before (and during) a measurement."""
ATTEMPTS = 3


@dataclass(frozen=True)
class Target:
    """A goal for one result key: ``value >= bound`` (or ``value < bound`` when ``below``)."""

    key: str
    bound: float
    below: bool = False
    label: str = ""

    def met(self, value: float) -> bool:
        return value < self.bound if self.below else value >= self.bound

    def describe(self) -> str:
        return self.label or f"{'<' if self.below else '>='} {self.bound:g}"


TARGETS = (
    Target("local.ceiling_fraction", 0.70, label=">= 0.70"),
    Target("local.peak_rss_mb", 1024, below=True, label="< 1024"),
    Target("local.rss_growth_50k_to_200k", 1.25, below=True, label="< 1.25 (flat)"),
    Target("dask.speedup_over_local", 1.0, label=">= 1.0"),
)


# --------------------------------------------------------------------------- setup


def default_data_dir() -> Path:
    """``NEWSDESK_DATA`` if set, else ``shared/data`` beside the checkout."""
    env = os.environ.get("NEWSDESK_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the large CSV (default %(default)s)")
    parser.add_argument("--model", type=Path, default=None, help="a trained BBC bundle (default: train one)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default bench/results/score.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument(
        "--quiet-timeout", type=float, default=900, help="seconds to wait for other processes before each run"
    )
    return parser.parse_args(argv)


def build_inputs(source: Path, folder: Path, rows: int) -> dict[str, Path]:
    """The large CSV and its 50,000- and 20,000-row prefixes, BBC rows repeated with unique ids."""
    with source.open(newline="", encoding="utf-8") as handle:
        base = [[r[c] for c in COLUMNS] for r in csv.DictReader(handle)]
    sizes = {"large": rows, "small": min(rows, SMALL_ROWS), "slice": min(rows, SLICE_ROWS)}
    paths = {name: folder / f"bbc-{n}.csv" for name, n in sizes.items()}
    handles = {name: paths[name].open("w", newline="", encoding="utf-8") for name in paths}
    writers = {name: csv.writer(h) for name, h in handles.items()}
    try:
        for writer in writers.values():
            writer.writerow(COLUMNS)
        for i in range(rows):
            row = base[i % len(base)]
            line = [f"{row[0]}#{i // len(base)}", *row[1:]]
            for name, n in sizes.items():
                if i < n:
                    writers[name].writerow(line)
    finally:
        for h in handles.values():
            h.close()
    return paths


def train_bundle(data: Path, folder: Path) -> Path:
    """Train a BBC bundle with ``newsdesk train`` into ``folder``; returns ``models/bbc``."""
    models = folder / "models"
    command = [sys.executable, "-m", "newsdesk.serve.cli", "train", "--data", str(data), "--label-col", "category",
               "--name", "bbc", "--models-dir", str(models)]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=PROJECT_ROOT)
    return models / "bbc"


# --------------------------------------------------------------------------- measuring


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used so far."""
    import psutil

    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished (waited-for) children and their children."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def wait_for_quiet(timeout: float) -> float:
    """Wait (up to ``timeout`` s) until other processes use under QUIET_CORES; returns what they used."""
    deadline = time.monotonic() + timeout
    while True:
        machine, own, started = machine_cpu_seconds(), own_cpu_seconds(), time.monotonic()
        time.sleep(3)
        others = max(0.0, (machine_cpu_seconds() - machine) - (own_cpu_seconds() - own)) / (time.monotonic() - started)
        if others < QUIET_CORES or time.monotonic() > deadline:
            return round(others, 2)
        print(f"  waiting for other processes to finish (they use {others:.2f} cores) ...", flush=True)


def run_scorer(args: list[str], quiet_timeout: float) -> dict[str, Any]:
    """Run ``newsdesk score ... --json`` in a new process; its report plus peak RSS of it and its children."""
    import psutil

    others_before = wait_for_quiet(quiet_timeout)
    command = [sys.executable, "-m", "newsdesk.serve.cli", "score", *args, "--json", "--no-progress"]
    machine, own = machine_cpu_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    watched = psutil.Process(process.pid)
    peak_tree = peak_main = 0
    while process.poll() is None:
        try:
            main_rss = watched.memory_info().rss
            children = 0
            for child in watched.children(recursive=True):
                try:
                    children += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        peak_main = max(peak_main, main_rss)
        peak_tree = max(peak_tree, main_rss + children)
        time.sleep(RSS_INTERVAL_S)
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{err}")
    wall = time.perf_counter() - started
    others = max(0.0, (machine_cpu_seconds() - machine) - (own_cpu_seconds() - own)) / wall
    report = json.loads(out.strip().splitlines()[-1])
    report["wall_seconds"] = wall
    report["others_cores_before"] = others_before
    report["others_cores_during"] = round(others, 2)
    report["peak_rss_mb"] = peak_tree / 2**20
    report["peak_rss_main_mb"] = peak_main / 2**20
    return report


def in_process_ceiling(model: Path, data: Path, rows: int) -> dict[str, float]:
    """Docs/s of prediction on texts already in memory and cleaned, and of cleaning plus prediction."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from newsdesk.serve.analysis import clean_article, predict_topics
    from newsdesk.train.bundle import load_bundle

    bundle = load_bundle(model)
    frame = pd.read_csv(data, dtype=str, keep_default_na=False, nrows=rows)
    texts, titles = frame.text.tolist(), frame.title.tolist()
    articles = [clean_article(t, ti, bundle.cleaning) for t, ti in zip(texts, titles)]
    predict_topics(bundle, articles[:100], 1)  # warm-up
    best_predict = best_both = float("inf")
    with threadpool_limits(1):
        for _ in range(CEILING_RUNS):
            started = time.perf_counter()
            predict_topics(bundle, articles, 1)
            best_predict = min(best_predict, time.perf_counter() - started)
        for _ in range(CEILING_RUNS):
            started = time.perf_counter()
            predict_topics(bundle, [clean_article(t, ti, bundle.cleaning) for t, ti in zip(texts, titles)], 1)
            best_both = min(best_both, time.perf_counter() - started)
    return {
        "inprocess.docs_per_s": round(len(articles) / best_predict, 1),
        "inprocess.clean_predict_docs_per_s": round(len(articles) / best_both, 1),
        "inprocess.docs": len(articles),
    }


def git_state() -> str:
    """The checked-out commit, and whether train/ or serve/ have uncommitted changes."""
    root = PROJECT_ROOT
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "train", "serve"],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (with uncommitted changes in train/ or serve/)" if dirty else "")


# --------------------------------------------------------------------------- reporting


TABLE_ROWS = (
    ("rows", "rows in the large CSV"),
    ("input_mb", "size of the large CSV (MB)"),
    ("local.rows_per_s", "local engine, topics (rows/s)"),
    ("inprocess.docs_per_s", "in-process ceiling: predict on cleaned texts (docs/s)"),
    ("local.ceiling_fraction", "local / in-process ceiling"),
    ("inprocess.clean_predict_docs_per_s", "in-process clean + predict, 1 process (docs/s)"),
    ("local.single_process_rows_per_s", "local engine --workers 0, 20k rows (rows/s)"),
    ("local.single_process_fraction", "local --workers 0 / in-process clean + predict"),
    ("local.peak_rss_mb", "local peak RSS, 200k rows, process + helpers (MB)"),
    ("local.peak_rss_mb_50k", "local peak RSS, 50k rows, process + helpers (MB)"),
    ("local.rss_growth_50k_to_200k", "RSS 200k / RSS 50k"),
    ("local.peak_rss_main_mb", "local peak RSS, 200k rows, main process only (MB)"),
    ("local.summarize_rows_per_s", "local engine --summarize, 20k rows (rows/s)"),
    ("dask.rows_per_s", "dask, 2-worker LocalCluster, topics (rows/s)"),
    ("dask.speedup_over_local", "dask / local"),
    ("dask.peak_rss_mb", "dask peak RSS, client + cluster processes (MB)"),
)


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """[measure, value, target, met] for every measured result in :data:`TABLE_ROWS`."""
    targets = {target.key: target for target in TARGETS}
    rows = []
    for key, name in TABLE_ROWS:
        if key not in results:
            continue
        target = targets.get(key)
        met = "" if target is None else ("yes" if target.met(results[key]) else "NO")
        value = results[key]
        shown = f"{value:,.0f}" if isinstance(value, (int, float)) and abs(value) >= 100 else f"{value:g}"
        rows.append([name, shown, target.describe() if target else "", met])
    return rows


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Build the inputs, run every measurement, print the table and write the JSON."""
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    bbc = data_dir / BBC_FILE
    if not bbc.is_file():
        print(f"benchmark data not found: {bbc}. Point --data or NEWSDESK_DATA at the shared data folder.",
              file=sys.stderr)  # fmt: skip
        return 2
    ensure_project_importable()
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-bench-score-"))
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "code": git_state(),
        "data": str(bbc.resolve()),
        "command": "python bench/score.py" + (f" --rows {args.rows}" if args.rows != 200_000 else ""),
    }
    try:
        print(f"building inputs in {folder} ...", flush=True)
        inputs = build_inputs(bbc, folder, args.rows)
        results["rows"] = args.rows
        results["input_mb"] = round(inputs["large"].stat().st_size / 1e6, 1)
        model = args.model or train_bundle(bbc, folder)
        results["model"] = str(model)
        out = folder / "out"
        out.mkdir()

        def score(name: str, source: Path, *extra: str) -> dict[str, Any]:
            print(f"{name} ...", flush=True)
            target = str(out / f"{name}.csv")
            reports = []
            for _ in range(ATTEMPTS):  # measure again when other processes took CPU during the run
                report = run_scorer([str(source), "--model", str(model), "--out", target, *extra], args.quiet_timeout)
                print(f"  {report['rows_read']:,} rows in {report['seconds']:.1f} s: {report['rows_per_s']:,.0f} rows/s, "
                      f"peak RSS {report['peak_rss_mb']:.0f} MB (other processes used "
                      f"{report['others_cores_during']:.2f} cores)", flush=True)  # fmt: skip
                reports.append(report)
                Path(target).unlink(missing_ok=True)
                if report["others_cores_during"] < QUIET_CORES:
                    break
            report = min(reports, key=lambda r: r["others_cores_during"])
            results[f"runs.{name}"] = {k: report[k] for k in ("rows_read", "rows_with_errors", "seconds", "rows_per_s",
                                       "wall_seconds", "peak_rss_mb", "peak_rss_main_mb", "others_cores_before",
                                       "others_cores_during")} | {"attempts": len(reports)}  # fmt: skip
            return report

        print("in-process ceiling ...", flush=True)
        for _ in range(ATTEMPTS):
            results["inprocess.others_cores_before"] = wait_for_quiet(args.quiet_timeout)
            machine, own, started = machine_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
            results.update(in_process_ceiling(model, inputs["slice"], SLICE_ROWS))
            others = ((machine_cpu_seconds() - machine) - (own_cpu_seconds() - own)) / (time.perf_counter() - started)
            results["inprocess.others_cores_during"] = round(max(0.0, others), 2)
            if others < QUIET_CORES:
                break
        large = score("local_large", inputs["large"])
        small = score("local_small", inputs["small"])
        single = score("local_single_process", inputs["slice"], "--workers", "0")
        summarize = score("local_summarize", inputs["slice"], "--summarize")
        dask = score("dask_large", inputs["large"], "--engine", "dask", "--workers", "2")
        results.update({
            "local.rows_per_s": round(large["rows_per_s"], 1),
            "local.peak_rss_mb": round(large["peak_rss_mb"], 1),
            "local.peak_rss_main_mb": round(large["peak_rss_main_mb"], 1),
            "local.peak_rss_mb_50k": round(small["peak_rss_mb"], 1),
            "local.rss_growth_50k_to_200k": round(large["peak_rss_mb"] / small["peak_rss_mb"], 3),
            "local.single_process_rows_per_s": round(single["rows_per_s"], 1),
            "local.summarize_rows_per_s": round(summarize["rows_per_s"], 1),
            "dask.rows_per_s": round(dask["rows_per_s"], 1),
            "dask.peak_rss_mb": round(dask["peak_rss_mb"], 1),
        })  # fmt: skip
        results["local.ceiling_fraction"] = round(results["local.rows_per_s"] / results["inprocess.docs_per_s"], 3)
        results["local.single_process_fraction"] = round(
            results["local.single_process_rows_per_s"] / results["inprocess.clean_predict_docs_per_s"], 3
        )
        results["dask.speedup_over_local"] = round(results["dask.rows_per_s"] / results["local.rows_per_s"], 3)
        for name, path in inputs.items():
            if large["rows_read"] != args.rows and name == "large":
                raise RuntimeError(f"the scorer read {large['rows_read']} rows of {path}, expected {args.rows}")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    print()
    print(markdown_table(["measure", "value", "target", "met"], table_rows(results)))
    for target in TARGETS:
        if target.key in results:
            verdict = "met" if target.met(results[target.key]) else "NOT met"
            print(f"target {target.key} {target.describe()}: {verdict} ({results[target.key]:g})")
    out_path = args.out or Path(__file__).resolve().parent / "results" / "score.json"
    write_results(results, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
