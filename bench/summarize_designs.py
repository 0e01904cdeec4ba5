"""Which sentence ranking for news lengths: the designs compared for issue 14, chosen without cnndm-frank.

Each design ranks an article's candidate sentences; selection (``selection.py``) then takes them
within the length. Every design is scored on:

* the choosing validation, built from BBC and Reuters only: ``bbc_val`` (the BBC training split of
  ``bench/summarize.py`` split again 80/20; a summariser fitted on the 80% is scored with the brief
  length against the 20%'s references) and ``reuters_head`` (500 Reuters ModApte test stories of at least
  150 words, summarised at the brief length without their headline, scored against the headline: an
  editor's one-line summary from an outlet the model never saw);
* the reported sets, for a summariser fitted on the whole BBC training split: ``cnndm`` (cnndm-frank,
  brief and exactly 4 sentences) and ``bbc_reference`` (BBC's held-out 20% at the reference length, as if
  the design also ranked the reference length).

ROUGE F1 as ``bench/summarize.py`` computes it. Results go to ``bench/results/summarize_designs.json``.

Usage, from the project root::

    python bench/summarize_designs.py [--data PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    default_data_dir,
    ensure_project_importable,
    limit_threads,
    results_header,
    write_results,
)

REUTERS_FILE = Path("reuters21578") / "modapte-test.jsonl"
REUTERS_STORIES = 500
REUTERS_MIN_WORDS = 150
BRIEF = (3, None, 75)
"""Brief: 3 sentences, about 75 words (no hard cap), as the preset."""
LENGTH_RULES = {
    "brief, at most 75 words (a hard cap; the rule before)": (3, 75, None),
    "brief, about 75 words (chosen)": (3, None, 75),
    "standard, at most 150 words": (5, 150, None),
    "standard, about 150 words (chosen)": (5, None, 150),
}
"""The word-length rules compared for the presets, with the position prior: a cap, or a length to come near
(``presets.within_words``: a sentence joins when at least half of it fits)."""


def designs() -> dict[str, tuple[Callable[..., Any], bool, bool]]:
    """Name -> (scores(model, prepared, standardized features), stop at overflow, apply the source guard)."""
    import numpy as np

    from newsdesk.train.summarize.pacsum import pacsum_scores
    from newsdesk.train.summarize.position import adjusted_scores, log_position_prior

    def logit(m: Any, p: Any, x: Any) -> Any:
        return x @ m.coef_ + m.intercept_

    def prior(m: Any, p: Any, x: Any) -> Any:
        return log_position_prior(len(p.sentences))

    def mix(w: float) -> Callable[..., Any]:
        return lambda m, p, x: adjusted_scores(logit(m, p, x), w)

    def novelty(m: Any, p: Any, x: Any) -> Any:  # less for a sentence close to an earlier one
        return prior(m, p, x) - 0.5 * np.tril(p.similarity, -1).max(axis=1)

    def shorter(m: Any, p: Any, x: Any) -> Any:
        return prior(m, p, x) - 0.3 * np.log1p([len(s.text.split()) for s in p.sentences])

    return {
        "learned scorer": (logit, False, False),
        "learned scorer + source guard (before)": (logit, False, True),
        "position prior, skip to a sentence that fits": (prior, False, False),
        "position prior, stop at the budget (chosen)": (prior, True, False),
        "prior + 0.1 x learned log-odds": (mix(0.1), True, False),
        "prior + 0.25 x learned log-odds": (mix(0.25), True, False),
        "prior + 1 x learned log-odds": (mix(1.0), True, False),
        "prior - 0.5 x similarity to an earlier sentence": (novelty, True, False),
        "prior - 0.3 x log(1 + words)": (shorter, True, False),
        "PacSum": (lambda m, p, x: pacsum_scores(p.similarity), False, False),
    }


def prepared_set(model: Any, articles: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
    """(referenced article, prepared article, standardised features) for each usable article."""
    from newsdesk.train.summarize.metrics import referenced_article

    out = []
    for article in articles:
        prepared: list[Any] = []

        def split(body: str, title: str, prepared: list[Any] = prepared) -> list[str]:
            prepared.append(model.prepare(body, title))
            return [s.text for s in prepared[0].sentences]

        item = referenced_article(article, split=split)
        if item is not None and prepared[0].sentences:
            p = prepared[0]
            out.append((item, p, (model._features(p) - model.mean_) / model.scale_))
    return out


def score(
    model: Any,
    rows: Sequence[Any],
    design: tuple[Callable[..., Any], bool, bool],
    k: int | None,
    cap: int | None,
    about: int | None = None,
) -> dict[str, float]:
    """Mean ROUGE-1/2 F1 and median words of one design at ``k`` sentences (None: the learned length)."""
    import numpy as np

    from newsdesk.train.summarize.rouge_judge import RougeJudge, mean_scores
    from newsdesk.train.summarize.selection import select_sentences
    from newsdesk.train.summarize.shift import lead_prior

    rank, stop, guard = design
    scores, words = [], []
    for item, p, x in rows:
        n = len(p.sentences)
        unfamiliar = guard and model.profile_ is not None and n > 1 and model.profile_.is_unfamiliar(x)
        s = lead_prior(n) if unfamiliar else rank(model, p, x)
        count = model.length.sentences_for(n) if k is None else min(k, n)
        chosen = select_sentences(p, s, count, cap, model.config.redundancy, k is not None, stop, about)
        summary = [p.sentences[i].text for i in chosen]
        scores.append(RougeJudge(item.reference).score(summary))
        words.append(sum(len(t.split()) for t in summary))
    mean = mean_scores(scores)
    return {"rouge1": mean["rouge1"], "rouge2": mean["rouge2"], "median_words": float(np.median(words))}


def lead(rows: Sequence[Any], k: int) -> dict[str, float]:
    """Lead-k over the same candidate sentences."""
    from newsdesk.train.summarize.rouge_judge import RougeJudge, mean_scores

    mean = mean_scores([RougeJudge(item.reference).score(item.sentences[:k]) for item, _p, _x in rows])
    return {"rouge1": mean["rouge1"], "rouge2": mean["rouge2"]}


def load_sets(data_dir: Path) -> dict[str, list[Any]]:
    """BBC fit/validation/training/test articles, Reuters stories with their headline as the reference, cnndm-frank."""
    import numpy as np
    from summarize import load_cnndm

    from newsdesk.train.data import Article, ColumnMap, load_dataset
    from newsdesk.train.pipeline import split_dataset

    dataset = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    train_idx, test_idx = split_dataset(dataset, 0.2, seed=0)
    train = [dataset.articles[i] for i in train_idx]
    order = np.random.default_rng(1).permutation(len(train))
    held = set(order[: len(train) // 5].tolist())
    reuters = []
    with open(data_dir / REUTERS_FILE, encoding="utf-8") as lines:
        for line in lines:
            story = json.loads(line)
            if story["title"] and len(story["text"].split()) >= REUTERS_MIN_WORDS:
                reuters.append(Article(id=str(story["id"]), text=story["text"], title="", summary=story["title"]))
    return {
        "fit": [a for i, a in enumerate(train) if i not in held],
        "val": [a for i, a in enumerate(train) if i in held],
        "train": train,
        "test": [dataset.articles[i] for i in test_idx],
        "reuters": reuters[:REUTERS_STORIES],
        "cnndm": load_cnndm(data_dir),
    }


def run(data_dir: Path) -> dict[str, Any]:
    from newsdesk.train.summarize.extractive import ExtractiveSummarizer

    sets = load_sets(data_dir)

    def fit(articles: Sequence[Any]) -> Any:
        texts, titles, summaries = zip(*((a.text, a.title, a.summary) for a in articles))
        return ExtractiveSummarizer().fit(texts, titles, summaries)

    chooser, model = fit(sets["fit"]), fit(sets["train"])
    val, head = prepared_set(chooser, sets["val"]), prepared_set(chooser, sets["reuters"])
    cnndm, test = prepared_set(model, sets["cnndm"]), prepared_set(model, sets["test"])
    results: dict[str, Any] = {
        "lead": {
            "bbc_val.lead3": lead(val, 3),
            "reuters_head.lead3": lead(head, 3),
            "cnndm.lead3": lead(cnndm, 3),
            "cnndm.lead4": lead(cnndm, 4),
        },
        "designs": {},
    }
    for name, design in designs().items():
        print(name, file=sys.stderr)
        results["designs"][name] = {
            "bbc_val.brief": score(chooser, val, design, *BRIEF),
            "reuters_head.brief": score(chooser, head, design, *BRIEF),
            "cnndm.brief": score(model, cnndm, design, *BRIEF),
            "cnndm.k4": score(model, cnndm, design, 4, None),
            "bbc_reference": score(model, test, design, None, None),
        }
    chosen = designs()["position prior, stop at the budget (chosen)"]
    results["length_rules"] = {
        name: {
            "bbc_val": score(chooser, val, chosen, *rule),
            "reuters_head": score(chooser, head, chosen, *rule),
            "cnndm": score(model, cnndm, chosen, *rule),
        }
        for name, rule in LENGTH_RULES.items()
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "summarize_designs.json", help="JSON results path")
    args = parser.parse_args(argv)
    limit_threads()
    ensure_project_importable()
    data_dir = args.data or default_data_dir()
    results = {**results_header(data_dir), **run(data_dir)}

    def cell(d: dict[str, float]) -> str:
        return f"{d['rouge1']:.4f} / {d['rouge2']:.4f}"

    print(
        "| design | BBC val brief R2 | Reuters headline brief R1 / R2 | cnndm brief R1 / R2 (words) | cnndm 4 sentences | BBC reference R2 |"
    )
    for name, d in results["designs"].items():
        print(
            f"| {name} | {d['bbc_val.brief']['rouge2']:.4f} | {cell(d['reuters_head.brief'])} | "
            f"{cell(d['cnndm.brief'])} ({d['cnndm.brief']['median_words']:.0f}) | {cell(d['cnndm.k4'])} | "
            f"{d['bbc_reference']['rouge2']:.4f} |"
        )
    print({key: cell(value) for key, value in results["lead"].items()})
    print(
        "| length rule (position prior) | BBC val R1 / R2 (words) | Reuters headline R1 / R2 (words) | cnndm R1 / R2 (words) |"
    )
    for name, d in results["length_rules"].items():
        print(f"| {name} | " + " | ".join(f"{cell(d[s])} ({d[s]['median_words']:.0f})" for s in d) + " |")
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
