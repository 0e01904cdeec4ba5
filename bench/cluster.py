"""Benchmark near-duplicate detection and story clusters (``newsdesk score --cluster``, ``POST /v1/cluster``).

Three parts (``--parts a,b,c``; all by default):

* **a. Reuters-21578** (train and test files, 12,902 wire items with dates): near-duplicate pairs and
  groups found with the default settings and the items' dates, and a seeded random sample of 50
  near-duplicate pairs written to ``bench/results/cluster_reuters_sample.md`` for a manual check
  (the verdicts are in ``bench/results/cluster_manual_check.md``).
* **b. A labelled set built from BBC and huffpost-10k.** 300 BBC articles (seeded sample; articles
  whose title occurs twice in BBC, or whose text is an exact duplicate, are left out of the pool so
  the truth is not muddied by BBC's own copies) each get two variants, each made by one
  transformation, drawn in turn:

  - ``reorder``: the paragraphs in a random order (the first stays first half of the time);
  - ``new_lede``: a new first paragraph (a HuffPost headline and description from the same broad
    topic, as a rewrite desk would add a different opening);
  - ``boilerplate``: 3 to 5 page-furniture lines inserted between paragraphs ("Advertisement",
    "Share this article", "Related: <a HuffPost headline>", ...);
  - ``truncate``: the first 60 to 80% of the paragraphs (at least two);
  - ``paraphrase``: 15 to 25% of the sentences dropped at random.

  Distractors: the other 299 BBC originals (distinct stories, 5 topics, so many of the same topic)
  and 300 HuffPost items (headline + description) from the same run. The truth: an original and its
  variants are one near-duplicate group and one story; every other article is alone. Reported: pair
  precision, recall and F1 of the near-duplicate groups, adjusted Rand index (and pair F1) of the
  story clusters, and the recall of each transformation (variant grouped with its original).
* **c. Overhead** on ``bench/score.py``'s input (BBC rows repeated to 200,000 rows, made by its
  ``build_inputs``): ``newsdesk score`` with and without ``--cluster`` (local engine, defaults),
  seconds and peak RSS of the process tree (``--repeat``: twice each, the faster kept), and ``POST /v1/cluster`` with 100 BBC articles
  (in-process TestClient, median of 20).

Usage, from the project root::

    python bench/cluster.py [--data PATH] [--parts a,b,c] [--rows 200000] [--model models/bbc]

Results are printed as a table and written to ``bench/results/cluster.json``. Timings depend on the
load of the machine: the script records how many cores other processes used during each run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import BBC_FILE, RESULTS_DIR, Target, default_data_dir, ensure_project_importable, report, results_header

SEED = 18
ORIGINALS = 300
HUFFPOST_DISTRACTORS = 300
VARIANTS_PER_ORIGINAL = 2
TRANSFORMATIONS = ("reorder", "new_lede", "boilerplate", "truncate", "paraphrase")
MANUAL_SAMPLE = 50
API_ARTICLES = 100
API_RUNS = 20
BOILERPLATE = (
    "Advertisement",
    "Share this article",
    "Sign up for our daily newsletter",
    "Read more:",
    "Copyright 2005 News Ltd. All rights reserved.",
    "Follow us on Twitter",
    "Most popular stories",
)
TOPIC_OF_HUFFPOST = {"business": "BUSINESS", "politics": "POLITICS", "sport": "SPORTS", "tech": "TECH",
                     "entertainment": "ENTERTAINMENT"}  # fmt: skip
TARGETS = [
    Target("built.duplicate_pair_f1", 0.95),
    Target("built.story_ari", 0.85),
    Target("overhead.slowdown", 1.25, below=True),
    Target("overhead.cluster_peak_rss_mb", 1500, below=True),
    Target("api.cluster_100_median_ms", 300, below=True),
]
ROWS = [
    ("reuters.articles", "Reuters articles"),
    ("reuters.duplicate_rows", "Reuters: near-duplicates of an earlier item"),
    ("reuters.duplicate_pairs", "Reuters: near-duplicate pairs checked"),
    ("reuters.duplicate_groups", "Reuters: near-duplicate groups"),
    ("reuters.stories_multi", "Reuters: stories of 2+ items"),
    ("reuters.seconds", "Reuters: sketch + group seconds"),
    ("built.articles", "built set: articles"),
    ("built.duplicate_pair_precision", "built: near-dup pair precision"),
    ("built.duplicate_pair_recall", "built: near-dup pair recall"),
    ("built.duplicate_pair_f1", "built: near-dup pair F1"),
    ("built.story_ari", "built: story-cluster ARI"),
    ("built.story_pair_f1", "built: story pair F1"),
    *[(f"built.recall.{t}", f"built: recall, {t}") for t in TRANSFORMATIONS],
    ("overhead.plain_seconds", "score 200k: seconds"),
    ("overhead.cluster_seconds", "score 200k --cluster: seconds"),
    ("overhead.slowdown", "score --cluster / score"),
    ("overhead.plain_peak_rss_mb", "score 200k: peak RSS MB"),
    ("overhead.cluster_peak_rss_mb", "score 200k --cluster: peak RSS MB"),
    ("api.cluster_100_median_ms", "POST /v1/cluster, 100 articles: median ms"),
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the shared data folder (default: NEWSDESK_DATA)")
    parser.add_argument("--parts", default="a,b,c", help="which parts to run (default: %(default)s)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows for part c (default: %(default)s)")
    parser.add_argument("--model", type=Path, default=None, help="a BBC model (default: train one in a temp folder)")
    parser.add_argument("--quiet-timeout", type=float, default=5, help="seconds to wait for an idle machine in c")
    parser.add_argument("--repeat", action="store_true", help="in c, score twice with and without --cluster")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "cluster.json")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- part a: Reuters


def reuters(data_dir: Path) -> pd.DataFrame:
    """Reuters-21578 (ModApte train and test), with dates as days since 1970."""
    folder = data_dir / "reuters21578"
    frame = pd.concat(
        pd.read_json(folder / name, lines=True, convert_dates=False, dtype=False)
        for name in ("modapte-train.jsonl", "modapte-test.jsonl")
    )
    frame = frame.reset_index(drop=True)
    stamp = frame["date"].str.extract(r"(\d{1,2}-[A-Z]{3}-\d{4} \d{2}:\d{2}:\d{2})")[0]
    stamps = pd.to_datetime(stamp, format="%d-%b-%Y %H:%M:%S", errors="coerce")
    if stamps.isna().mean() > 0.01:
        raise ValueError(
            f"{stamps.isna().sum()} Reuters dates could not be read, e.g. {frame['date'][stamps.isna()].iloc[0]}"
        )
    frame["days"] = (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400
    frame["title"] = frame["title"].fillna("")
    frame["text"] = frame["text"].fillna("")
    return frame


def part_a(data_dir: Path, results: dict[str, Any]) -> None:
    from newsdesk.train.stories.clusters import NONE, assign
    from newsdesk.train.stories.config import ClusterConfig
    from newsdesk.train.stories.minhash import estimated_jaccard
    from newsdesk.train.stories.sketches import Sketcher, StoryTerms

    frame = reuters(data_dir)
    texts = (frame.title + "\n\n" + frame.text).tolist()
    config = ClusterConfig()
    started = time.perf_counter()
    sketches = Sketcher(config, StoryTerms.from_classifier(None)).sketch(texts)
    result = assign(sketches, config, frame.days.to_numpy())
    results["reuters.seconds"] = round(time.perf_counter() - started, 2)
    results["reuters.articles"] = len(frame)
    results["reuters.duplicate_rows"] = result.duplicate_rows
    results["reuters.duplicate_pairs"] = len(result.duplicate_pairs[0])
    results["reuters.duplicate_groups"] = len(np.unique(result.duplicate_of[result.duplicate_of != NONE]))
    sizes = pd.Series(result.story[result.story != NONE]).value_counts()
    results["reuters.stories_multi"] = int((sizes > 1).sum())
    # The manual check: 50 checked pairs at random (seeded), each shown briefly.
    i, j = result.duplicate_pairs
    pick = random.Random(SEED).sample(range(len(i)), min(MANUAL_SAMPLE, len(i)))
    jaccard = estimated_jaccard(sketches.duplicate, i[pick], j[pick])
    lines = ["# Reuters-21578 near-duplicate pairs: random sample for the manual check", "",
             f"{len(pick)} of {len(i)} pairs (seed {SEED}); `python bench/cluster.py --parts a` writes this file.",
             ""]  # fmt: skip
    for n, (k, estimate) in enumerate(zip(pick, jaccard), 1):
        a, b = frame.iloc[i[k]], frame.iloc[j[k]]
        lines += [f"## {n}. ids {a['id']} / {b['id']} (estimated Jaccard {estimate:.2f})", ""]
        for row in (a, b):
            body = re.sub(r"\s+", " ", row["text"]).strip()
            lines.append(f"- **{row['title']}** ({row['date'][:17]}; {len(body.split())} words): {body[:300]}")
        lines.append("")
    (RESULTS_DIR / "cluster_reuters_sample.md").write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- part b: the built set


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def transform(kind: str, title: str, text: str, rng: random.Random, huffpost: pd.DataFrame) -> str:
    """One documented edit of an article (see the module doc)."""
    from newsdesk.train.text.sentences import sentence_texts

    paras = paragraphs(text)
    if kind == "reorder":
        head = paras[:1] if rng.random() < 0.5 else []
        rest = paras[len(head) :]
        rng.shuffle(rest)
        return "\n\n".join(head + rest)
    if kind == "new_lede":
        item = huffpost.iloc[rng.randrange(len(huffpost))]
        return "\n\n".join([f"{item['headline']}. {item['short_description']}", *paras])
    if kind == "boilerplate":
        out = list(paras)
        for _ in range(rng.randint(3, 5)):
            line = rng.choice(BOILERPLATE)
            if line == "Read more:":
                line = f"Related: {huffpost.iloc[rng.randrange(len(huffpost))]['headline']}"
            out.insert(rng.randint(1, len(out)), line)
        return "\n\n".join(out)
    if kind == "truncate":
        keep = max(2, round(len(paras) * rng.uniform(0.6, 0.8)))
        return "\n\n".join(paras[:keep])
    if kind == "paraphrase":
        sentences = sentence_texts(text)
        drop = set(rng.sample(range(len(sentences)), round(len(sentences) * rng.uniform(0.15, 0.25))))
        return " ".join(s for k, s in enumerate(sentences) if k not in drop)
    raise ValueError(kind)


def built_set(data_dir: Path) -> pd.DataFrame:
    """Originals, their variants and the HuffPost distractors, with the truth (columns group, kind)."""
    rng = random.Random(SEED)
    bbc = pd.read_csv(data_dir / BBC_FILE, dtype=str, keep_default_na=False)
    bbc = bbc[~bbc.title.duplicated(keep=False) & ~bbc.text.duplicated(keep=False)]
    huffpost = pd.read_csv(data_dir / "huffpost-10k" / "huffpost-10k.csv", dtype=str, keep_default_na=False)
    originals = bbc.sample(ORIGINALS, random_state=SEED)
    rows = []
    turn = 0
    for group, original in enumerate(originals.itertuples()):
        rows.append({"title": original.title, "text": original.text, "group": group, "kind": "original"})
        pool = huffpost[huffpost.category == TOPIC_OF_HUFFPOST.get(original.category, "")]
        for _ in range(VARIANTS_PER_ORIGINAL):
            kind = TRANSFORMATIONS[turn % len(TRANSFORMATIONS)]
            turn += 1
            text = transform(kind, original.title, original.text, rng, pool if len(pool) else huffpost)
            rows.append({"title": original.title, "text": text, "group": group, "kind": kind})
    distractors = huffpost.sample(HUFFPOST_DISTRACTORS, random_state=SEED)
    for k, item in enumerate(distractors.itertuples()):
        rows.append(
            {"title": item.headline, "text": item.short_description, "group": ORIGINALS + k, "kind": "huffpost"}
        )
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1, random_state=SEED).reset_index(drop=True)  # copies do not follow their original


def pair_scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 over pairs of articles put together."""
    from sklearn.metrics.cluster import pair_confusion_matrix

    (_, fp), (fn, tp) = pair_confusion_matrix(truth, predicted) // 2
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def part_b(data_dir: Path, model: Path, results: dict[str, Any]) -> None:
    from sklearn.metrics import adjusted_rand_score

    from newsdesk.serve.analysis import clean_article
    from newsdesk.train.bundle import load_bundle
    from newsdesk.train.stories.clusters import NONE, assign
    from newsdesk.train.stories.config import ClusterConfig
    from newsdesk.train.stories.sketches import Sketcher, StoryTerms

    frame = built_set(data_dir)
    bundle = load_bundle(model)
    articles = [clean_article(t, ti, bundle.cleaning) for t, ti in zip(frame.text, frame.title)]
    config = ClusterConfig()
    sketches = Sketcher(config, StoryTerms.from_classifier(bundle.classifier)).sketch([a.model_input for a in articles])
    result = assign(sketches, config)
    rows = np.arange(len(frame))
    duplicate_groups = np.where(result.duplicate_of != NONE, result.duplicate_of, rows)
    truth = frame.group.to_numpy()
    precision, recall, f1 = pair_scores(truth, duplicate_groups)
    results["built.articles"] = len(frame)
    results["built.duplicate_pair_precision"] = round(precision, 4)
    results["built.duplicate_pair_recall"] = round(recall, 4)
    results["built.duplicate_pair_f1"] = round(f1, 4)
    results["built.story_ari"] = round(adjusted_rand_score(truth, result.story), 4)
    results["built.story_pair_f1"] = round(pair_scores(truth, result.story)[2], 4)
    original_of = {g: k for k, (g, kind) in enumerate(zip(frame.group, frame.kind)) if kind == "original"}
    for kind in TRANSFORMATIONS:
        variants = [k for k in range(len(frame)) if frame.kind[k] == kind]
        found = sum(duplicate_groups[k] == duplicate_groups[original_of[frame.group[k]]] for k in variants)
        results[f"built.recall.{kind}"] = round(found / len(variants), 4)


# --------------------------------------------------------------------------- part c: overhead


def part_c(data_dir: Path, model: Path, rows: int, quiet_timeout: float, repeat: bool, results: dict[str, Any]) -> None:
    from score import build_inputs, run_scorer

    folder = Path(tempfile.mkdtemp(prefix="newsdesk-bench-cluster-"))
    inputs = build_inputs(data_dir / BBC_FILE, folder, rows)
    runs: dict[str, dict[str, Any]] = {}
    plan = [("plain", []), ("cluster", ["--cluster"])]
    if repeat:
        plan += [("plain2", []), ("cluster2", ["--cluster"])]
    for name, extra in plan:
        out = folder / f"{name}.csv"
        print(f"score {rows:,} rows {' '.join(extra) or '(no --cluster)'} ...", flush=True)
        runs[name] = run_scorer([str(inputs["large"]), "--model", str(model), "--out", str(out), *extra], quiet_timeout)
        print(f"  {runs[name]['seconds']:.1f} s, peak RSS {runs[name]['peak_rss_mb']:.0f} MB, other processes used "
              f"{runs[name]['others_cores_during']:.2f} cores", flush=True)  # fmt: skip
        if name == "cluster":
            scored = pd.read_csv(out, usecols=["id", "duplicate_of", "story_id"], dtype=str, keep_default_na=False)
            results["overhead.cluster_duplicate_rows"] = int((scored.duplicate_of != "").sum())
            results["overhead.cluster_stories"] = int(scored.story_id.nunique())
        out.unlink()
    plain = min(r["seconds"] for name, r in runs.items() if name.startswith("plain"))
    cluster = min(r["seconds"] for name, r in runs.items() if name.startswith("cluster"))
    results["overhead.rows"] = rows
    results["overhead.runs"] = {k: {f: v[f] for f in ("seconds", "peak_rss_mb", "others_cores_during")}
                                for k, v in runs.items()}  # fmt: skip
    results["overhead.plain_seconds"] = round(plain, 1)
    results["overhead.cluster_seconds"] = round(cluster, 1)
    results["overhead.slowdown"] = round(cluster / plain, 3)
    results["overhead.plain_peak_rss_mb"] = round(
        max(r["peak_rss_mb"] for n, r in runs.items() if n.startswith("plain"))
    )
    results["overhead.cluster_peak_rss_mb"] = round(
        max(r["peak_rss_mb"] for n, r in runs.items() if n.startswith("cluster"))
    )


def part_api(data_dir: Path, model: Path, results: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from newsdesk.serve.api.app import create_app
    from newsdesk.serve.api.settings import ServeSettings

    bbc = pd.read_csv(data_dir / BBC_FILE, dtype=str, keep_default_na=False).sample(API_ARTICLES, random_state=SEED)
    body = {"articles": [{"id": r.id, "title": r.title, "text": r.text} for r in bbc.itertuples()]}
    with TestClient(create_app(ServeSettings(model=model))) as client:
        client.post("/v1/cluster", json=body).raise_for_status()  # warm-up
        times = []
        for _ in range(API_RUNS):
            started = time.perf_counter()
            client.post("/v1/cluster", json=body).raise_for_status()
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        client.post("/v1/cluster", json={**body, "summarize": True}).raise_for_status()
        results["api.cluster_100_summarize_ms"] = round(1000 * (time.perf_counter() - started), 1)
    results["api.cluster_100_median_ms"] = round(1000 * statistics.median(times), 1)


def train_model(data_dir: Path) -> Path:
    import subprocess

    folder = Path(tempfile.mkdtemp(prefix="newsdesk-bench-cluster-model-"))
    command = [sys.executable, "-m", "newsdesk.serve.cli", "train", "--data", str(data_dir / BBC_FILE),
               "--label-col", "category", "--name", "bbc", "--models-dir", str(folder)]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder / "bbc"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data or default_data_dir()
    ensure_project_importable()
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {
        **results_header(data_dir),
        "command": "python bench/cluster.py " + " ".join(argv or sys.argv[1:]),
    }
    if args.out.exists():  # keep the parts not run this time
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        results = {**previous, **results}
    model = args.model
    if model is None and parts & {"b", "c", "api"}:
        print("training a BBC model ...", flush=True)
        model = train_model(data_dir)
    if "a" in parts:
        print("a. Reuters-21578 ...", flush=True)
        part_a(data_dir, results)
    if "b" in parts:
        print("b. built set ...", flush=True)
        part_b(data_dir, model, results)
    if "c" in parts or "api" in parts:
        print("c. POST /v1/cluster with 100 articles ...", flush=True)
        part_api(data_dir, model, results)
    if "c" in parts:
        part_c(data_dir, model, args.rows, args.quiet_timeout, args.repeat, results)
    report(results, ROWS, TARGETS, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
