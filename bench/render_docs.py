"""Render the benchmark tables in the docs from ``bench/results/*.json``, so that they cannot drift.

Every table sits in a region of a markdown file between two marker lines::

    <!-- bench:classify -->
    ... generated; do not edit by hand ...
    <!-- /bench:classify -->

``python bench/render_docs.py`` rewrites every region in ``docs/*.md`` and ``README.md`` from the
results files; ``python bench/render_docs.py --check`` changes nothing and exits 1 when a region is
stale (a results file changed after the docs were rendered, or a region was edited by hand).
Targets come from each benchmark script's ``TARGETS``, so a changed goal shows up here too.

Region names are the keys of ``REGIONS``; the tables themselves are rendered by ``bench/doc_tables.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from doc_tables import (
    render_classify,
    render_clean,
    render_cluster,
    render_headline,
    render_score,
    render_serve,
    render_soak,
    render_summarize,
    render_transformers,
)
from doc_tables_designs import render_summarize_designs, render_summarize_systems
from doc_tables_shift import render_shift
from doc_tables_timing import render_evaluate, render_serve_ab, render_summarize_stages

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# A marker is a line of its own, so that prose can quote one.
REGION = re.compile(r"^(<!-- bench:([\w-]+) -->\n)(.*?)^(<!-- /bench:\2 -->)$", re.DOTALL | re.MULTILINE)
OPENING = re.compile(r"^<!-- bench:([\w-]+) -->$", re.MULTILINE)


@dataclass(frozen=True)
class Region:
    """A generated part of a doc: the results files it reads and how it is rendered from them."""

    results: tuple[str, ...]
    render: Callable[..., str]


REGIONS = {
    "classify": Region(("classify.json",), render_classify),
    "shift": Region(("classify.json",), render_shift),
    "summarize": Region(("summarize.json",), render_summarize),
    "clean": Region(("clean.json",), render_clean),
    "serve": Region(("serve.json",), render_serve),
    "serve_ab": Region(("serve_ab.json",), render_serve_ab),
    "score": Region(("score.json",), render_score),
    "transformers": Region(("transformers.json",), render_transformers),
    "soak": Region(("soak.json",), render_soak),
    "cluster": Region(("cluster.json",), render_cluster),
    "evaluate": Region(("evaluate.json",), render_evaluate),
    "summarize_stages": Region(("summarize_stages.json",), render_summarize_stages),
    "summarize_designs": Region(("summarize_designs.json",), render_summarize_designs),
    "summarize_systems": Region(("summarize.json",), render_summarize_systems),
    "headline": Region(("classify.json", "summarize.json", "serve.json", "score.json"), render_headline),
}


# --------------------------------------------------------------------------- rewriting the docs


class RenderError(Exception):
    """A doc names an unknown region, leaves one open, or its results file is missing."""


def render_region(name: str, results_dir: Path) -> str:
    if name not in REGIONS:
        raise RenderError(f"unknown benchmark region 'bench:{name}'; expected one of {sorted(REGIONS)}")
    results = []
    for file_name in REGIONS[name].results:
        path = results_dir / file_name
        if not path.exists():
            raise RenderError(f"{path} not found for region 'bench:{name}'; run python bench/{path.stem}.py")
        results.append(json.loads(path.read_text(encoding="utf-8")))
    try:
        return REGIONS[name].render(*results)
    except KeyError as missing:
        files = ", ".join(REGIONS[name].results)
        raise RenderError(
            f"region 'bench:{name}' needs the result {missing}, which {files} does not have; "
            "rerun the benchmark, or update its renderer in bench/render_docs.py"
        ) from None


def render_text(text: str, results_dir: Path, where: str = "") -> str:
    """``text`` with every ``bench:NAME`` region replaced by its freshly rendered table."""
    opened = OPENING.findall(text)
    closed = [m.group(2) for m in REGION.finditer(text)]
    if sorted(opened) != sorted(closed):
        unclosed = sorted(set(opened) - set(closed)) or opened
        raise RenderError(f"{where}: region(s) {unclosed} opened but not closed; add <!-- /bench:NAME --> after each")

    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)}{render_region(match.group(2), results_dir)}\n{match.group(4)}"

    return REGION.sub(replace, text)


def doc_files(root: Path) -> list[Path]:
    """The markdown files that may hold regions: README.md and docs/*.md."""
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.exists()]


def render_docs(root: Path = PROJECT_ROOT, results_dir: Path = RESULTS_DIR, check: bool = False) -> list[Path]:
    """Rewrite (or, with ``check``, only compare) every doc; returns the files that were stale."""
    stale = []
    for path in doc_files(root):
        text = path.read_text(encoding="utf-8")
        fresh = render_text(text, results_dir, where=str(path))
        if fresh != text:
            stale.append(path)
            if not check:
                path.write_text(fresh, encoding="utf-8")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a doc is stale")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="checkout holding README.md and docs/")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder of benchmark results (*.json)")
    args = parser.parse_args(argv)
    try:
        stale = render_docs(args.root, args.results, check=args.check)
    except RenderError as error:
        print(f"render_docs: error: {error}", file=sys.stderr)
        return 2
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path}")
    if args.check and stale:
        print("run: python bench/render_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
