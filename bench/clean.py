"""Benchmark the cleaning of messy input: boilerplate removal quality, no damage to clean text, big pages.

What it measures:

* ``fixtures.*``: on the hand-written messy articles in ``tests/fixtures/messy`` (plain-text pages
  and whole HTML pages, each line marked as story or boilerplate), the precision and recall of
  line removal, pooled over all marked lines: a line is removed when it is not in the cleaned
  output; precision = removed lines that are boilerplate / removed lines; recall = boilerplate
  lines removed / boilerplate lines. Also per format.
* ``bbc.*``: on the clean BBC set (deduplicated, the 80/20 split ``newsdesk train`` uses), the
  held-out classification accuracy and summariser ROUGE-2 with boilerplate removal on (the
  default) and off. The deltas (on minus off) must not fall below -0.002 (no more than 0.2
  points of damage). Also how many BBC lines and articles the cleaner touches.
* ``reuters.*``: the same on/off comparison on Reuters-21578 (ModApte, the 90-topic subset): micro-F1
  of the default classifier on the test set, and how many documents the cleaner touches.
* ``huffpost.*``: on huffpost-10k (headline + description), trained on BBC with cleaning on vs off,
  accuracy on the in-scope records (trained on BBC, never on HuffPost), and documents touched.
* ``genres.*``: on the genre fixtures in ``tests/fixtures/genres`` (e-mail, forum post, wire story,
  press release, transcript, newsletter: every line is content), content lines kept / content lines.
  Target: 1.0. The deltas on BBC, Reuters and HuffPost must stay within 0.003.
* ``page_1mb.*``: seconds to clean a 1 MB HTML page (a fixture page padded with navigation and
  related-link lists), best of 3.

Usage, from the project root::

    python bench/clean.py [--data PATH] [--out PATH] [--skip-bbc] [--skip-reuters] [--skip-huffpost]

Results are printed as a table and written to ``bench/results/clean.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    Target,
    default_data_dir,
    ensure_project_importable,
    limit_threads,
    missing_data_message,
    report,
    results_header,
    timed,
)

PAGE_BYTES = 1_000_000
REUTERS_TRAIN = Path("reuters21578") / "modapte-train.jsonl"
REUTERS_TEST = Path("reuters21578") / "modapte-test.jsonl"

TARGETS = (
    Target("fixtures.line_precision", 0.9),
    Target("fixtures.line_recall", 0.9),
    Target("bbc.accuracy_delta", -0.002),
    Target("bbc.rouge2_delta", -0.002),
    Target("page_1mb.seconds", 5.0, below=True),
    Target("genres.content_lines_kept", 1.0),
    Target("bbc.accuracy_delta_abs", 0.003, below=True),
    Target("reuters.micro_f1_delta_abs", 0.003, below=True),
    Target("huffpost.accuracy_delta_abs", 0.003, below=True),
)
TABLE_ROWS = (
    ("fixtures.count", "messy fixtures"),
    ("fixtures.line_precision", "line removal precision (all fixtures)"),
    ("fixtures.line_recall", "line removal recall (all fixtures)"),
    ("fixtures.text.line_precision", "precision, plain-text pages"),
    ("fixtures.text.line_recall", "recall, plain-text pages"),
    ("fixtures.html.line_precision", "precision, HTML pages"),
    ("fixtures.html.line_recall", "recall, HTML pages"),
    ("bbc.accuracy_off", "BBC held-out accuracy, boilerplate removal off"),
    ("bbc.accuracy_on", "BBC held-out accuracy, boilerplate removal on"),
    ("bbc.accuracy_delta", "BBC accuracy delta (on - off)"),
    ("bbc.rouge2_off", "BBC held-out ROUGE-2, removal off"),
    ("bbc.rouge2_on", "BBC held-out ROUGE-2, removal on"),
    ("bbc.rouge2_delta", "BBC ROUGE-2 delta (on - off)"),
    ("bbc.lines_removed", "BBC lines removed (of all articles)"),
    ("bbc.articles_touched", "BBC articles with a line removed"),
    ("page_1mb.seconds", "clean a 1 MB HTML page (s)"),
    ("genres.count", "genre fixtures (not scraped pages)"),
    ("genres.content_lines_kept", "genre fixtures: content lines kept"),
    ("reuters.micro_f1_off", "Reuters-90 micro-F1, boilerplate removal off"),
    ("reuters.micro_f1_on", "Reuters-90 micro-F1, boilerplate removal on"),
    ("reuters.micro_f1_delta", "Reuters micro-F1 delta (on - off)"),
    ("reuters.documents_touched", "Reuters documents with a line removed"),
    ("huffpost.accuracy_off", "HuffPost in-scope accuracy (BBC-trained), removal off"),
    ("huffpost.accuracy_on", "HuffPost in-scope accuracy (BBC-trained), removal on"),
    ("huffpost.accuracy_delta", "HuffPost accuracy delta (on - off)"),
    ("huffpost.records_touched", "HuffPost records with a line removed"),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results path (default bench/results/clean.json)")
    parser.add_argument("--skip-bbc", action="store_true", help="only the fixtures and the big page")
    parser.add_argument("--skip-reuters", action="store_true", help="no Reuters on/off comparison")
    parser.add_argument("--skip-huffpost", action="store_true", help="no huffpost-10k on/off comparison")
    return parser.parse_args(argv)


def _key(line: str) -> str:
    from newsdesk.train.text.cleaning import clean_text

    return " ".join(clean_text(line).lower().split())


def line_scores(fixtures: Sequence[Any]) -> dict[str, Any]:
    """Pooled precision and recall of line removal, overall and per format."""
    from newsdesk.train.text.cleaning import clean_body, lines_left_out

    counts = {fmt: {"tp": 0, "removed": 0, "boilerplate": 0} for fmt in ("text", "html")}
    misses: list[dict[str, Any]] = []
    for fixture in fixtures:
        output = clean_body(fixture.raw, fixture.title)
        # A marked line counts as removed when it is not in the cleaned output.
        marked = (*fixture.story_lines, *fixture.boilerplate_lines)
        removed = {_key(line) for line in lines_left_out(marked, output)}
        boilerplate = {_key(line) for line in fixture.boilerplate_lines}
        story = {_key(line) for line in fixture.story_lines}
        removed_story = removed & story
        c = counts[fixture.format]
        c["tp"] += len(removed & boilerplate)
        c["removed"] += len(removed & (boilerplate | story))
        c["boilerplate"] += len(boilerplate)
        kept_boilerplate = boilerplate - removed
        if removed_story or kept_boilerplate:
            misses.append(
                {
                    "fixture": fixture.name,
                    "story_removed": sorted(removed_story),
                    "boilerplate_kept": sorted(kept_boilerplate),
                }
            )
    results: dict[str, Any] = {"fixtures.count": len(fixtures)}
    total = {key: sum(c[key] for c in counts.values()) for key in ("tp", "removed", "boilerplate")}
    for prefix, c in (("fixtures", total), ("fixtures.text", counts["text"]), ("fixtures.html", counts["html"])):
        results[f"{prefix}.line_precision"] = round(c["tp"] / c["removed"], 4) if c["removed"] else 1.0
        results[f"{prefix}.line_recall"] = round(c["tp"] / c["boilerplate"], 4) if c["boilerplate"] else 1.0
    results["fixtures.errors"] = misses
    return results


def big_page(fixtures: Sequence[Any]) -> str:
    """An HTML fixture padded to about 1 MB with navigation menus and related-link lists."""
    page = next(f.raw for f in fixtures if f.format == "html")
    links = []
    i = 0
    while sum(len(link) for link in links) < PAGE_BYTES:
        links.append(f'<li><a href="/news/section-{i}">More news from section {i} of our regional desk</a></li>\n')
        i += 1
    half = len(links) // 2
    nav = "<nav><ul>" + "".join(links[:half]) + "</ul></nav>"
    aside = "<aside><h3>Related stories</h3><ul>" + "".join(links[half:]) + "</ul></aside>"
    body_at = page.lower().find("<body")
    body_end = page.find(">", body_at) + 1
    footer_at = page.lower().rfind("</body>")
    return page[:body_end] + nav + page[body_end:footer_at] + aside + page[footer_at:]


def run_page(fixtures: Sequence[Any]) -> dict[str, Any]:
    from newsdesk.train.text.cleaning import clean_body_report

    page = big_page(fixtures)
    best = min(timed(lambda: clean_body_report(page))[1] for _ in range(3))
    result = clean_body_report(page)
    return {
        "page_1mb.bytes": len(page.encode()),
        "page_1mb.seconds": round(best, 3),
        "page_1mb.kept_chars": len(result.text),
    }


def genre_scores(fixtures: Sequence[Any]) -> dict[str, Any]:
    """Content lines kept on the genre fixtures (every line of them is content)."""
    from newsdesk.train.text.cleaning import clean_body, clean_text

    kept = total = 0
    lost: list[dict[str, Any]] = []
    for fixture in fixtures:
        output = {_key(line) for line in clean_body(fixture.raw, fixture.title).split("\n")}
        missing = [line for line in fixture.content_lines if _key(clean_text(line)) not in output]
        kept += len(fixture.content_lines) - len(missing)
        total += len(fixture.content_lines)
        if missing:
            lost.append({"fixture": fixture.name, "content_removed": missing})
    return {
        "genres.count": len(fixtures),
        "genres.content_lines": total,
        "genres.content_lines_kept": round(kept / total, 4) if total else 1.0,
        "genres.errors": lost,
    }


def run_reuters(data_dir: Path) -> dict[str, Any]:
    """Reuters-90 micro-F1 with boilerplate removal on and off (the default classifier, ModApte split)."""
    from newsdesk.train.classify.evaluation import multi_label_metrics
    from newsdesk.train.classify.tfidf import TopicClassifier
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.text.cleaning import CleaningOptions, clean_body_report

    columns = ColumnMap(label="topics")
    train = load_dataset(data_dir / REUTERS_TRAIN, columns)
    test = load_dataset(data_dir / REUTERS_TEST, columns, deduplicate=False)
    topics = set(train.label_counts) & set(test.label_counts)

    def kept(dataset: Any) -> list[tuple[Any, tuple[str, ...]]]:
        rows = [(a, tuple(t for t in a.labels if t in topics)) for a in dataset.articles]
        return [(a, labels) for a, labels in rows if labels]

    train_rows, test_rows = kept(train), kept(test)
    results: dict[str, Any] = {}
    for name, options in (("off", CleaningOptions(remove_boilerplate=False)), ("on", CleaningOptions())):
        print(f"Reuters with boilerplate removal {name}", file=sys.stderr)
        model = TopicClassifier().fit([a.prepare(options) for a, _ in train_rows], [labels for _, labels in train_rows])
        predicted = model.predict([a.prepare(options) for a, _ in test_rows])
        metrics = multi_label_metrics([labels for _, labels in test_rows], predicted, [str(c) for c in model.classes_])
        results[f"reuters.micro_f1_{name}"] = metrics["micro_f1"]
    results["reuters.micro_f1_delta"] = round(results["reuters.micro_f1_on"] - results["reuters.micro_f1_off"], 4)
    results["reuters.micro_f1_delta_abs"] = abs(results["reuters.micro_f1_delta"])
    articles = [a for a, _ in (*train_rows, *test_rows)]
    results["reuters.documents_touched"] = sum(1 for a in articles if clean_body_report(a.text, a.title).removed)
    results["reuters.documents"] = len(articles)
    return results


def run_huffpost(data_dir: Path) -> dict[str, Any]:
    """HuffPost in-scope accuracy of a BBC-trained classifier with boilerplate removal on and off."""
    import pandas as pd
    from shift import HUFFPOST_FILE, HUFFPOST_TOPICS
    from sklearn.metrics import accuracy_score

    from newsdesk.train.classify.tfidf import TopicClassifier
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.text.cleaning import CleaningOptions, clean_body_report, prepare_article

    bbc = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    frame = pd.read_csv(data_dir / HUFFPOST_FILE, dtype=str, keep_default_na=False)
    mapped = zip(frame.headline, frame.short_description, frame.category)
    rows = [(h, d, HUFFPOST_TOPICS[c]) for h, d, c in mapped if c in HUFFPOST_TOPICS]
    results: dict[str, Any] = {}
    for name, options in (("off", CleaningOptions(remove_boilerplate=False)), ("on", CleaningOptions())):
        print(f"HuffPost with boilerplate removal {name}", file=sys.stderr)
        model = TopicClassifier().fit([a.prepare(options) for a in bbc.articles], [a.labels[0] for a in bbc.articles])
        predicted = [row[0] for row in model.predict([prepare_article(d, h, options) for h, d, _ in rows])]
        results[f"huffpost.accuracy_{name}"] = round(float(accuracy_score([t for _, _, t in rows], predicted)), 4)
    results["huffpost.accuracy_delta"] = round(results["huffpost.accuracy_on"] - results["huffpost.accuracy_off"], 4)
    results["huffpost.accuracy_delta_abs"] = abs(results["huffpost.accuracy_delta"])
    results["huffpost.records_touched"] = sum(
        1 for h, d in zip(frame.headline, frame.short_description) if clean_body_report(d, h).removed
    )
    results["huffpost.records"] = len(frame)
    return results


def run_bbc(data_dir: Path) -> dict[str, Any]:
    from newsdesk.train.classify.evaluation import evaluate_classifier
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.pipeline import ClassifierConfig, split_dataset
    from newsdesk.train.summarize.extractive import ExtractiveSummarizer
    from newsdesk.train.summarize.metrics import evaluate_summarizer
    from newsdesk.train.text.cleaning import CleaningOptions, clean_body_report

    dataset = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    train_idx, test_idx = split_dataset(dataset, 0.2, seed=0)
    train = [dataset.articles[i] for i in train_idx]
    test = [dataset.articles[i] for i in test_idx]
    results: dict[str, Any] = {}
    for name, options in (("off", CleaningOptions(remove_boilerplate=False)), ("on", CleaningOptions())):
        print(f"BBC with boilerplate removal {name}", file=sys.stderr)
        classifier = ClassifierConfig().build(seed=0)
        classifier.fit([a.prepare(options) for a in train], [a.labels for a in train])
        metrics = evaluate_classifier(classifier, [a.prepare(options) for a in test], [a.labels for a in test])
        summarizer = ExtractiveSummarizer().fit(
            [a.text for a in train], [a.title for a in train], [a.summary for a in train], cleaning=options
        )
        rouge = evaluate_summarizer(summarizer, test, cleaning=options)
        results[f"bbc.accuracy_{name}"] = metrics["accuracy"]
        results[f"bbc.rouge2_{name}"] = rouge["ours"]["rouge2"]
    results["bbc.accuracy_delta"] = round(results["bbc.accuracy_on"] - results["bbc.accuracy_off"], 4)
    results["bbc.rouge2_delta"] = round(results["bbc.rouge2_on"] - results["bbc.rouge2_off"], 4)
    results["bbc.accuracy_delta_abs"] = abs(results["bbc.accuracy_delta"])
    removed = [clean_body_report(a.text, a.title).removed for a in dataset.articles]
    results["bbc.lines_removed"] = sum(len(r) for r in removed)
    results["bbc.articles_touched"] = sum(1 for r in removed if r)
    results["bbc.articles"] = len(dataset.articles)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    limit_threads()
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    needed = [BBC_FILE] if not (args.skip_bbc and args.skip_huffpost) else []
    needed += [REUTERS_TRAIN, REUTERS_TEST] if not args.skip_reuters else []
    needed += [Path("huffpost-10k") / "huffpost-10k.csv"] if not args.skip_huffpost else []
    missing = [data_dir / name for name in needed if not (data_dir / name).is_file()]
    if missing:
        print(missing_data_message(data_dir, missing), file=sys.stderr)
        return 2
    ensure_project_importable()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers.genre_fixtures import load_genre_fixtures
    from helpers.messy_fixtures import load_messy_fixtures

    fixtures = load_messy_fixtures()
    results = results_header(data_dir)
    results.update(line_scores(fixtures))
    results.update(genre_scores(load_genre_fixtures()))
    results.update(run_page(fixtures))
    if not args.skip_bbc:
        results.update(run_bbc(data_dir))
    if not args.skip_reuters:
        results.update(run_reuters(data_dir))
    if not args.skip_huffpost:
        results.update(run_huffpost(data_dir))
    for miss in results["fixtures.errors"]:
        print(f"{miss['fixture']}: story removed {miss['story_removed']}; boilerplate kept {miss['boilerplate_kept']}")
    report(results, TABLE_ROWS, TARGETS, args.out or RESULTS_DIR / "clean.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
