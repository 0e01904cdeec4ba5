"""The benchmark tables of the docs, one renderer per region, from the results files of ``bench/*.py``.

Used by ``bench/render_docs.py``. Every number comes from a results file; targets come from the
``TARGETS`` of the script that measured it. Each renderer takes the parsed JSON and returns markdown.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent

Results = dict[str, Any]

# --------------------------------------------------------------------------- formatting


def num(value: float, decimals: int = 0) -> str:
    """``value`` with thousands separators and a fixed number of decimals."""
    return f"{value:,.{decimals}f}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A markdown table; columns listed in ``right`` are right-aligned."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def load_script(name: str) -> ModuleType:
    """The benchmark script ``bench/NAME.py`` as a module (for its targets; importing it runs nothing).

    Loaded under a private name: ``bench/transformers.py`` must not shadow the transformers package."""
    module_name = f"newsdesk_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(BENCH_DIR) not in sys.path:
        sys.path.append(str(BENCH_DIR))  # the scripts import their helpers as ``common``
    spec = importlib.util.spec_from_file_location(module_name, BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


def target_cell(targets: Iterable[Any], key: str, value: float) -> str:
    """The goal the script sets for ``key``, and whether ``value`` met it ('' when it sets none)."""
    for target in targets:
        if target.key == key:
            return target.describe() + ("" if target.met(value) else " (**not met**)")
    return ""


def rows_with_targets(
    results: Results, targets: Iterable[Any], rows: Sequence[tuple[str, str, str]]
) -> list[list[str]]:
    """[name, value, target] for (name, key, formatted value) rows."""
    targets = list(targets)
    return [[name, value, target_cell(targets, key, results[key])] for name, key, value in rows]


# --------------------------------------------------------------------------- one renderer per region


def render_classify(r: Results) -> str:
    targets = load_script("classify").TARGETS
    topics = r["reuters.topics"]
    rows = [
        (
            f"BBC 5-fold accuracy ({num(r['bbc.articles'])} distinct articles)",
            "bbc.accuracy",
            num(r["bbc.accuracy"], 4),
        ),
        ("BBC 5-fold accuracy, worst fold", "bbc.accuracy_min_fold", num(r["bbc.accuracy_min_fold"], 4)),
        ("BBC 5-fold macro-F1", "bbc.macro_f1", num(r["bbc.macro_f1"], 4)),
        ("BBC training on all articles, 1 thread (s)", "bbc.train_seconds", num(r["bbc.train_seconds"], 1)),
        ("BBC prediction, 1 core (documents/s)", "bbc.predict_docs_per_s", num(r["bbc.predict_docs_per_s"])),
        (
            "BBC one-article latency (median ms)",
            "bbc.predict_latency_ms_median",
            num(r["bbc.predict_latency_ms_median"], 1),
        ),
        (f"Reuters-{topics} micro-F1 (tuned per-label thresholds)", "reuters.micro_f1", num(r["reuters.micro_f1"], 4)),
        (f"Reuters-{topics} macro-F1 (tuned per-label thresholds)", "reuters.macro_f1", num(r["reuters.macro_f1"], 4)),
        (
            f"Reuters-{topics} micro / macro-F1 with every threshold at 0.5",
            "reuters.micro_f1_fixed_0.5",
            f"{num(r['reuters.micro_f1_fixed_0.5'], 4)} / {num(r['reuters.macro_f1_fixed_0.5'], 4)}",
        ),
        ("Reuters training, 1 thread (s)", "reuters.train_seconds", num(r["reuters.train_seconds"], 1)),
    ]
    body = table(["measure", "value", "target"], rows_with_targets(r, targets, rows), right=[1])
    micro = r["reuters.micro_f1"] - r["reuters.micro_f1_fixed_0.5"]
    macro = r["reuters.macro_f1"] - r["reuters.macro_f1_fixed_0.5"]
    return (
        f"{body}\n\n"
        f"BBC: {num(r['bbc.rows'])} rows, {num(r['bbc.duplicates_removed'])} duplicates removed, "
        f"{num(r['bbc.vocabulary'])} terms in the vocabulary. Reuters uses the {topics} topics with at least one "
        f"training and one test document ({num(r['reuters.train_docs'])} training documents after removing "
        f"{num(r['reuters.train_duplicates_removed'])} duplicates and {num(r['reuters.train_empty_dropped'])} with "
        f"neither title nor body; {num(r['reuters.test_docs'])} test documents, the "
        f"{num(r['reuters.test_empty_dropped'])} with neither title nor body left out). Tuned thresholds against a "
        f"flat 0.5: micro-F1 {micro:+.4f}, macro-F1 {macro:+.4f}. Measured {r['date'][:10]}."
    )


SUMMARY_SYSTEMS = (
    ("lead3", "Lead-3"),
    ("lead_matched", "Lead-k, k matched to ours"),
    ("textrank", "TextRank (word overlap), k matched to ours"),
    ("oracle", "greedy extractive oracle (ceiling)"),
)


def render_summarize(r: Results) -> str:
    targets = load_script("summarize").TARGETS

    def scores(system: str, bold: bool = False) -> list[str]:
        cells = [num(r[f"bbc.{system}.{m}"], 4) for m in ("rouge1", "rouge2", "rougeLsum")]
        return [f"**{c}**" for c in cells] if bold else cells

    ours = (
        f"**ours** (supervised, its own length: {num(r['bbc.ours.mean_sentences'], 1)} sentences "
        f"vs the references' {num(r['bbc.reference_mean_sentences'], 1)})"
    )
    systems = [[ours, *scores("ours", bold=True)], *([label, *scores(key)] for key, label in SUMMARY_SYSTEMS)]
    header = [f"system ({num(r['bbc.test_articles'])} held-out BBC articles)", "ROUGE-1", "ROUGE-2", "ROUGE-Lsum"]
    goals = [
        ("ROUGE-2 F1, ours", "bbc.ours.rouge2", num(r["bbc.ours.rouge2"], 4)),
        ("ROUGE-1 F1, ours", "bbc.ours.rouge1", num(r["bbc.ours.rouge1"], 4)),
        (
            "summarising raw held-out articles with a bundle-loaded model, 1 core (articles/s)",
            "bbc.ours.articles_per_s",
            num(r["bbc.ours.articles_per_s"]),
        ),
        (
            f"training the summariser on {num(r['bbc.train_articles'])} articles (s)",
            "bbc.train_seconds",
            num(r["bbc.train_seconds"], 1),
        ),
    ]
    lead_gap = r["bbc.ours.rouge2"] - r["bbc.lead_matched.rouge2"]
    textrank_gap = r["bbc.ours.rouge2"] - r["bbc.textrank.rouge2"]
    return (
        f"{table(header, systems, right=[1, 2, 3])}\n\n"
        f"{table(['measure', 'value', 'target'], rows_with_targets(r, targets, goals), right=[1])}\n\n"
        f"ROUGE-2 lead of ours over Lead-k: {lead_gap:+.4f}; over TextRank with our length: {textrank_gap:+.4f}. "
        f"Measured {r['date'][:10]}."
    )


def render_clean(r: Results) -> str:
    targets = load_script("clean").TARGETS

    def pr(prefix: str) -> str:
        return f"{num(r[prefix + 'line_precision'], 3)} / {num(r[prefix + 'line_recall'], 3)}"

    rows = [
        [f"line-removal precision / recall, all {r['fixtures.count']} fixtures", pr("fixtures."), ""],
        ["plain-text pages precision / recall", pr("fixtures.text."), ""],
        ["HTML pages precision / recall", pr("fixtures.html."), ""],
        [
            "BBC held-out accuracy, removal off → on",
            f"{num(r['bbc.accuracy_off'], 4)} → {num(r['bbc.accuracy_on'], 4)} (change {r['bbc.accuracy_delta']:+.4f})",
            target_cell(targets, "bbc.accuracy_delta", r["bbc.accuracy_delta"]),
        ],
        [
            "BBC held-out ROUGE-2, removal off → on",
            f"{num(r['bbc.rouge2_off'], 4)} → {num(r['bbc.rouge2_on'], 4)} (change {r['bbc.rouge2_delta']:+.4f})",
            target_cell(targets, "bbc.rouge2_delta", r["bbc.rouge2_delta"]),
        ],
        [
            f"BBC lines removed ({num(r['bbc.articles'])} clean articles)",
            f"{num(r['bbc.lines_removed'])} lines in {num(r['bbc.articles_touched'])} articles",
            "",
        ],
        [
            f"cleaning one {num(r['page_1mb.bytes'] / 1e6, 1)} MB HTML page (s)",
            num(r["page_1mb.seconds"], 2),
            target_cell(targets, "page_1mb.seconds", r["page_1mb.seconds"]),
        ],
    ]
    # Sections added later: older results files do not have them.
    if "genres.content_lines_kept" in r:
        rows.append(
            [
                "genre fixtures (e-mail, forum, wire, release, transcript, newsletter): share of "
                + f"{num(r['genres.content_lines'])} content lines kept",
                num(r["genres.content_lines_kept"], 3),
                target_cell(targets, "genres.content_lines_kept", r["genres.content_lines_kept"]),
            ]
        )
    for key, label, metric in (
        ("reuters", "Reuters-90 micro-F1", "micro_f1"),
        ("huffpost", "HuffPost in-scope accuracy (BBC-trained)", "accuracy"),
    ):
        if f"{key}.{metric}_delta" in r:
            delta = r[f"{key}.{metric}_delta"]
            rows.append(
                [
                    f"{label}, removal off → on (target on the size of the change)",
                    f"{num(r[f'{key}.{metric}_off'], 4)} → {num(r[f'{key}.{metric}_on'], 4)} (change {delta:+.4f})",
                    target_cell(targets, f"{key}.{metric}_delta_abs", abs(delta)),
                ]
            )
    # precision/recall targets apply to the first row
    goal = [target_cell(targets, f"fixtures.line_{m}", r[f"fixtures.line_{m}"]) for m in ("precision", "recall")]
    rows[0][2] = " / ".join(goal)
    misses = sum(len(e["boilerplate_kept"]) + len(e["story_removed"]) for e in r["fixtures.errors"])
    return (
        f"{table(['measure', 'value', 'target'], rows, right=[1])}\n\n"
        f"Lines decided wrongly on the fixtures: {misses}, in {len(r['fixtures.errors'])} fixtures "
        f"(listed under `fixtures.errors` in `bench/results/clean.json`). Measured {r['date'][:10]}."
    )


SERVE_ROWS = (
    ("`POST /v1/predict` requests/s", "predict.rps", 1),
    ("`POST /v1/predict` p50 / p99 (ms)", "predict.p99_ms", 1),
    ("`POST /v1/predict` errors", "predict.errors", 0),
    ("`POST /v1/summarize` requests/s", "summarize.rps", 1),
    ("`POST /v1/summarize` p50 / p99 (ms)", "summarize.p99_ms", 1),
    ("`POST /v1/summarize` errors", "summarize.errors", 0),
    ("Server RSS, all processes (PSS), MB; target per worker", "server.rss_mb", 1),
)


def render_serve(r: Results) -> str:
    serve = load_script("serve")
    targets = serve.SERVER_TARGETS
    prefixes = [("", f"{r['server.workers']} worker" + ("s" if r["server.workers"] > 1 else ""))]
    others = sorted({key.split(".")[0] for key in r if re.fullmatch(r"workers\d+\..*", key)})
    prefixes += [(f"{p}.", f"{p.removeprefix('workers')} workers") for p in others]
    workers = {
        prefix: int(r[prefix + "server.workers"]) if prefix + "server.workers" in r else 1 for prefix, _ in prefixes
    }

    def cell(prefix: str, key: str, decimals: int) -> str:
        if key.endswith("p99_ms"):
            p50 = key.replace("p99", "p50")
            value = f"{num(r[prefix + p50], 1)} / {num(r[prefix + key], 1)}"
        elif key == "server.rss_mb":
            value = f"{num(r[prefix + key], 1)} ({num(r[prefix + 'server.pss_mb'], 1)})"
        else:
            value = num(r[prefix + key], decimals)
        met = target_cell(serve.server_targets(workers[prefix]), key, r[prefix + key])
        return value + (" (**not met**)" if met.endswith("(**not met**)") else "")

    header = ["", *(label for _, label in prefixes), "target"]
    rows = []
    for name, key, decimals in SERVE_ROWS:
        goal = target_cell(targets, key, r[key]).removesuffix(" (**not met**)")
        rows.append([name, *(cell(p, key, decimals) for p, _ in prefixes), goal])
    rows.append(["torch loaded", *("yes" if r[p + "server.torch_imported"] else "no" for p, _ in prefixes), "no"])
    inprocess = [
        ["predict, one article per call (articles/s)", num(r["inprocess.predict_docs_per_s"], 1)],
        ["predict, one call for all (articles/s)", num(r["inprocess.predict_batch_docs_per_s"], 1)],
        ["summarize, one article per call (articles/s)", num(r["inprocess.summarize_docs_per_s"], 1)],
    ]
    return (
        f"{table(header, rows, right=list(range(1, len(prefixes) + 1)))}\n\n"
        f"The same model called in-process on one thread (the ceiling):\n\n"
        f"{table(['in-process, 1 thread', 'value'], inprocess, right=[1])}\n\n"
        f"Load: {r['load.connections']} keep-alive connections from wrk for {r['load.seconds']} s per endpoint, "
        f"{r['server.threads']} model threads per worker. Measured {r['date'][:10]}.{steal_note(r)}"
    )


def steal_note(r: Results) -> str:
    """How much CPU the hypervisor took from this virtual machine during the 1-worker runs, when recorded."""
    steal = {endpoint: r.get(f"{endpoint}.steal_cores") for endpoint in ("predict", "summarize")}
    if any(value is None for value in steal.values()):
        return ""
    return (
        f" During the reported runs the hypervisor took {num(steal['predict'], 2)} (predict) and "
        f"{num(steal['summarize'], 2)} (summarize) cores of {r['machine']['cpus']} (steal): the timings share the host."
    )


def render_score(r: Results) -> str:
    targets = load_script("score").TARGETS
    large, small = r["runs.local_large"], r["runs.local_small"]
    rows = [
        (
            f"local engine, topics, {num(large['rows_read'])} rows (rows/s)",
            "local.rows_per_s",
            num(r["local.rows_per_s"]),
        ),
        (
            "in-process ceiling: prediction on texts already cleaned, 1 process (docs/s)",
            "inprocess.docs_per_s",
            num(r["inprocess.docs_per_s"]),
        ),
        ("local / ceiling", "local.ceiling_fraction", num(r["local.ceiling_fraction"], 2)),
        (
            "in-process cleaning + prediction, 1 process (docs/s)",
            "inprocess.clean_predict_docs_per_s",
            num(r["inprocess.clean_predict_docs_per_s"]),
        ),
        (
            f"local engine `--workers 0` (one process), {num(r['runs.local_single_process']['rows_read'])} rows (rows/s)",
            "local.single_process_rows_per_s",
            num(r["local.single_process_rows_per_s"]),
        ),
        (
            "local `--workers 0` / in-process cleaning + prediction",
            "local.single_process_fraction",
            num(r["local.single_process_fraction"], 2),
        ),
        (
            f"peak RSS, {num(large['rows_read'])} rows, main + helper processes (MB)",
            "local.peak_rss_mb",
            num(r["local.peak_rss_mb"]),
        ),
        (f"peak RSS, {num(small['rows_read'])} rows (MB)", "local.peak_rss_mb_50k", num(r["local.peak_rss_mb_50k"])),
        (
            "peak RSS growth, small → large input (ratio)",
            "local.rss_growth_50k_to_200k",
            num(r["local.rss_growth_50k_to_200k"], 2),
        ),
        (
            f"local engine `--summarize`, {num(r['runs.local_summarize']['rows_read'])} rows (rows/s)",
            "local.summarize_rows_per_s",
            num(r["local.summarize_rows_per_s"]),
        ),
        ("Dask, 2-worker LocalCluster, topics (rows/s)", "dask.rows_per_s", num(r["dask.rows_per_s"])),
        ("Dask / local", "dask.speedup_over_local", num(r["dask.speedup_over_local"], 2)),
    ]
    return (
        f"{table(['measure', 'value', 'target'], rows_with_targets(r, targets, rows), right=[1])}\n\n"
        f"Input: {num(r['rows'])} BBC rows with unique ids ({num(r['input_mb'])} MB of CSV). "
        f"Measured {r['date'][:10]} at commit `{r['code']}`."
    )


def render_transformers(r: Results) -> str:
    targets = load_script("transformers").TARGETS
    backends = [
        ["tfidf (TF-IDF + linear SVM)", "bbc.tfidf"],
        [f"encoder ({r['encoder.model']} + logistic regression; `--backend encoder`, headlines too)", "bbc.encoder"],
        ["encoder member of the ensemble (whole articles only)", "bbc.encoder_member"],
        [f"ensemble (mean TF-IDF weight {num(r['bbc.ensemble.weight_tfidf_mean'], 2)})", "bbc.ensemble"],
    ]
    scores = [
        [
            name,
            num(r[key + ".accuracy"], 4),
            num(r[key + ".macro_f1"], 4),
            target_cell(targets, key + ".accuracy", r[key + ".accuracy"]),
        ]
        for name, key in backends
    ]
    folds = len(r["bbc.tfidf.folds"])
    lost = sum(e["accuracy"] < t["accuracy"] for e, t in zip(r["bbc.ensemble.folds"], r["bbc.tfidf.folds"]))
    rows = [
        ("ensemble folds that lost to TF-IDF alone", "", f"{lost} of {folds}"),
        ("encoder embedding, 1 process (articles/s)", "encoder.docs_per_s", num(r["encoder.docs_per_s"], 1)),
        (
            f"encoder windows per article ({r['encoder.window']} tokens)",
            "encoder.windows_per_doc",
            num(r["encoder.windows_per_doc"], 1),
        ),
        (
            "extractive summariser ROUGE-2, without → with encoder features",
            "",
            f"{num(r['summarizer.tfidf.rouge2'], 4)} → {num(r['summarizer.encoder_features.rouge2'], 4)}",
        ),
        (
            f"in-process, {r['inprocess.clients']} threads, encoder: requests/s direct → micro-batched",
            "",
            f"{num(r['inprocess.batching_off.rps'], 1)} → {num(r['inprocess.batching_on.rps'], 1)}",
        ),
        (
            "same, p99 (ms)",
            "",
            f"{num(r['inprocess.batching_off.p99_ms'])} → {num(r['inprocess.batching_on.p99_ms'])}",
        ),
        ("micro-batching speed-up (requests/s ratio)", "inprocess.speedup", f"{num(r['inprocess.speedup'], 2)}×"),
    ]
    measures = [[name, value, target_cell(targets, key, r[key]) if key else ""] for name, key, value in rows]
    return (
        f"{table(['', 'accuracy', 'macro-F1', 'target'], scores, right=[1, 2])}\n\n"
        f"{table(['measure', 'value', 'target'], measures, right=[1])}\n\n"
        f"BBC, {num(r['bbc.articles'])} articles, {folds} folds, "
        f"{r['encoder.torch_threads']} torch threads. Measured {r['date'][:10]}."
    )


def render_soak(r: Results) -> str:
    targets = load_script("soak").TARGETS
    names = {
        "before": "before reloads",
        "during": "during (trainings + reloads, simultaneous reloads, corrupted)",
        "after": "after",
    }
    rows = []
    for phase, name in names.items():
        p = r["phases"][phase]
        rows.append(
            [
                f"{name} ({num(p['seconds'])} s)",
                num(p["requests"]),
                num(p["failed"]),
                f"{num(p['p50_ms'], 1)} / {num(p['p99_ms'], 1)}",
                ", ".join(sorted(p["versions"])),
            ]
        )
    rows.append(
        [
            "**all**",
            f"**{num(r['requests'])}**",
            f"**{num(r['failed'])}**",
            f"{num(r['p50_ms'], 1)} / **{num(r['p99_ms'], 1)}**",
            "",
        ]
    )
    reload_ms = ", ".join(num(x["http_ms"]) for x in r["reloads"])
    in_flight = ", ".join(num(x["in_flight"]["requests"]) for x in r["reloads"])
    concurrent, corrupted = r["concurrent_reloads"], r["corrupted_reload"]
    details = [
        ("server RSS after warm-up → end (MB)", "", f"{num(r['rss_start_mb'], 1)} → {num(r['rss_end_mb'], 1)}"),
        ("server RSS growth (%)", "rss_growth_pct", f"{r['rss_growth_pct']:+.1f}"),
        ("failed requests", "failed", num(r["failed"])),
        ("reloads after training: HTTP time (ms) / requests in flight", "", f"{reload_ms} / {in_flight}"),
        (
            f"{concurrent['calls']} simultaneous reloads: statuses, slowest (ms)",
            "",
            f"{', '.join(f'{n}× {s}' for s, n in concurrent['statuses'].items())}, {num(concurrent['slowest_ms'])}",
        ),
        (
            "corrupted version: answer, version still serving",
            "",
            f"{corrupted['status']} `{corrupted['code']}`, {corrupted['serving_after']}",
        ),
        (
            "server / load generator CPU (cores)",
            "",
            f"{num(r['server_cpu_cores'], 2)} / {num(r['client_cpu_cores'], 2)}",
        ),
    ]
    measures = [[name, value, target_cell(targets, key, r[key]) if key else ""] for name, key, value in details]
    return (
        f"{table(['phase', 'requests', 'failed', 'p50 / p99 (ms)', 'versions that answered'], rows, right=[1, 2, 3])}\n\n"
        f"{table(['measure', 'value', 'target'], measures, right=[1])}\n\n"
        f"{r['concurrency']} clients, {r['workers']} worker, {num(r['duration_s'])} s of measured load, "
        f"{'all checks passed' if r['passed'] else 'checks FAILED'}. Measured {r['date'][:10]}."
    )


def render_headline(classify: Results, summarize: Results, serve: Results, score: Results) -> str:
    """A few numbers for the README, each with the command that reproduces it."""
    rows = [
        [
            f"topic accuracy, BBC, 5-fold ({num(classify['bbc.articles'])} articles)",
            num(classify["bbc.accuracy"], 4),
            "`python bench/classify.py`",
        ],
        [
            f"topic micro-F1, Reuters-{classify['reuters.topics']}",
            num(classify["reuters.micro_f1"], 4),
            "`python bench/classify.py`",
        ],
        [
            "summary ROUGE-2, BBC held-out (Lead-3 for comparison)",
            f"{num(summarize['bbc.ours.rouge2'], 4)} ({num(summarize['bbc.lead3.rouge2'], 4)})",
            "`python bench/summarize.py`",
        ],
        [
            "summary ROUGE-2, 250 CNN/Daily Mail stories, trained on BBC only: brief (Lead-3 for comparison)",
            f"{num(summarize['cnndm.ours_brief.rouge2'], 4)} ({num(summarize['cnndm.lead3.rouge2'], 4)})",
            "`python bench/summarize.py`",
        ],
        [
            "topic accuracy, HuffPost in-scope headlines, trained on BBC only (with BBC's topic priors)",
            "{} ({})".format(
                num(classify["shift.huffpost.accuracy"], 4),
                num(classify["shift.designs"]["training_prior"]["accuracy"], 4),
            ),
            "`python bench/classify.py`",
        ],
        [
            "`POST /v1/predict`, 1 worker, 16 clients: requests/s, p99",
            f"{num(serve['predict.rps'], 1)}/s, {num(serve['predict.p99_ms'], 1)} ms",
            "`python bench/serve.py`",
        ],
        ["`newsdesk score`, local engine, 2 cores (rows/s)", num(score["local.rows_per_s"]), "`python bench/score.py`"],
    ]
    return table(["measure", "value", "reproduce with"], rows, right=[1])


def render_cluster(r: Results) -> str:
    targets = load_script("cluster").TARGETS
    recall = ", ".join(f"{name} {num(r['built.recall.' + name], 3)}" for name in load_script("cluster").TRANSFORMATIONS)
    rows = [
        (
            f"built set ({num(r['built.articles'])} articles): near-duplicate pair precision / recall",
            "built.duplicate_pair_precision",
            f"{num(r['built.duplicate_pair_precision'], 4)} / {num(r['built.duplicate_pair_recall'], 4)}",
        ),
        ("built set: near-duplicate pair F1", "built.duplicate_pair_f1", num(r["built.duplicate_pair_f1"], 4)),
        ("built set: story clusters, adjusted Rand index", "built.story_ari", num(r["built.story_ari"], 4)),
        ("built set: story clusters, pair F1", "built.story_pair_f1", num(r["built.story_pair_f1"], 4)),
        (
            f"Reuters-21578 ({num(r['reuters.articles'])} items): near-duplicates of an earlier item / groups",
            "reuters.duplicate_rows",
            f"{num(r['reuters.duplicate_rows'])} / {num(r['reuters.duplicate_groups'])}",
        ),
        (
            f"`score` {num(r['overhead.rows'])} rows, without → with `--cluster` (s)",
            "overhead.cluster_seconds",
            f"{num(r['overhead.plain_seconds'], 1)} → {num(r['overhead.cluster_seconds'], 1)}",
        ),
        ("`score --cluster` / `score` (time)", "overhead.slowdown", num(r["overhead.slowdown"], 2)),
        (
            "`score --cluster` peak RSS, main + helper processes (MB)",
            "overhead.cluster_peak_rss_mb",
            f"{num(r['overhead.cluster_peak_rss_mb'])} (without: {num(r['overhead.plain_peak_rss_mb'])})",
        ),
        (
            "`POST /v1/cluster`, 100 BBC articles (median ms)",
            "api.cluster_100_median_ms",
            num(r["api.cluster_100_median_ms"], 1),
        ),
        (
            "… with `summarize` (ms, one call)",
            "api.cluster_100_summarize_ms",
            num(r["api.cluster_100_summarize_ms"], 1),
        ),
    ]
    loads = ", ".join(f"{name} {run['others_cores_during']:.2f}" for name, run in r["overhead.runs"].items())
    return (
        f"{table(['measure', 'value', 'target'], rows_with_targets(r, targets, rows), right=[1])}\n\n"
        f"Recall of each edit (copy grouped with its original): {recall}. The timings were measured while other "
        f"work shared the machine's 2 cores (cores other processes used during each `score` run: {loads}), so "
        f"the time ratio is noisy; see [stories.md](stories.md#how-well-it-works) for a CPU-time comparison. "
        f"Measured {r['date'][:10]}."
    )
