"""Renderers for the evaluate and summarize-stage benchmarks (see doc_tables.py for the others)."""

from __future__ import annotations

from typing import Any

from doc_tables import load_script, num, table, target_cell

Results = dict[str, Any]


def render_evaluate(r: Results) -> str:
    """``newsdesk evaluate`` on BBC: wall and CPU seconds per mode, and whether the numbers agree."""
    targets = load_script("evaluate").TARGETS
    rows = []
    for name, label in (
        ("full", "every baseline, default --jobs"),
        ("full_jobs1", "every baseline, --jobs 1"),
        ("quick", "--no-baselines"),
    ):
        wall = r[f"{name}.wall_s"]
        same = r.get(f"{name}.same_numbers_as_full")
        rows.append(
            [
                label,
                num(wall, 1),
                num(r[f"{name}.cpu_s"], 1),
                num(r[f"{name}.load_average_before"], 1),
                "" if same is None else ("yes" if same else "**no**"),
                target_cell(targets, f"{name}.wall_s", wall),
            ]
        )
    header = ["evaluate on BBC", "wall s", "CPU s", "load before", "same numbers", "target"]
    return (
        table(header, rows, right=(1, 2, 3))
        + f"\n\n{r['full.articles']} articles with references; ROUGE-2: ours {r['full.ours_rouge2']}, "
        f"TextRank {r['full.textrank_rouge2']}, oracle {r['full.oracle_rouge2']}. Measured {r['date'][:10]} on "
        f"{r['cores']} cores."
    )


def render_summarize_stages(r: Results) -> str:
    """Where one summarize request's model work goes, stage by stage."""
    rows = [[stage, num(v["mean"], 3), num(v["p99"], 3), f"{v['share']:.0%}"] for stage, v in r["stages_ms"].items()]
    total = r["total_ms"]
    rows.append(["**total**", num(total["mean"], 3), num(total["p99"], 3), "100%"])
    return (
        table(["stage (one BBC article per call)", "mean ms", "p99 ms", "share"], rows, right=(1, 2, 3))
        + f"\n\n{r['articles']} articles, load average {r['load_average'][0]:.1f} while measured"
        + (f", {r['steal_cores']:.2f} cores taken by the hypervisor (steal)" if "steal_cores" in r else "")
        + f" ({r['date'][:10]})."
    )


def render_serve_ab(r: Results) -> str:
    """This code against a base commit, one worker each, in interleaved wrk runs."""
    rows = []
    for endpoint in ("predict", "summarize"):
        e = r[endpoint]
        rows.append(
            [
                f"`POST /v1/{endpoint}`",
                f"{num(e['base_rps_median'], 1)} / {num(e['this_rps_median'], 1)}",
                f"{e['rps_ratio_median']:.2f}",
                f"{num(e['base_p99_median_ms'], 1)} / {num(e['this_p99_median_ms'], 1)}",
                f"{e['p99_ratio_median']:.2f}",
                f"{min(e['this_rps']):,.0f}-{max(e['this_rps']):,.0f}",
            ]
        )
    header = [
        f"1 worker, 16 clients: {r['base_commit']} / {r['this_commit']}",
        "requests/s (median)",
        "ratio",
        "p99 ms (median)",
        "ratio",
        "this code's runs, requests/s",
    ]
    return (
        table(header, rows, right=(1, 2, 3, 4, 5))
        + f"\n\n{r['rounds']} runs of {r['seconds']} s per side and endpoint, in turns; a ratio is the median of "
        f"the per-round ratios (this / base). Measured {r['date'][:10]}."
    )
