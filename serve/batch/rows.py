"""The per-chunk scoring function of ``newsdesk score``, shared by the local and Dask engines.

:func:`score_rows` turns a chunk of input rows into the score columns (:func:`score_table`: the
input table with them appended). It cleans, summarises and classifies through
:mod:`newsdesk.serve.analysis`, the code behind the HTTP API, with the bundle's cleaning options, so a file
scores exactly as the same articles sent to the server would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from newsdesk.serve.analysis import CleanArticle, clean_article, predict_topics, summarize_article
from newsdesk.serve.batch.input import ScoreInput
from newsdesk.serve.batch.job import (
    EMPTY_TEXT_ROW,
    ERROR_COL,
    EXPLANATION_COL,
    NEEDS_REVIEW_COL,
    REVIEW_REASON_COL,
    SCORE_COL,
    SUMMARY_COL,
    SUMMARY_FAILED_ROW,
    TOPIC_COL,
    TOPICS_COL,
    ScoreOptions,
)
from newsdesk.serve.batch.reader import Chunk
from newsdesk.train.bundle import Bundle
from newsdesk.train.classify.explain import Explanation
from newsdesk.train.stories.sketches import Sketches
from newsdesk.train.summarize.base import SummaryError
from newsdesk.train.summarize.presets import SummaryLength
from newsdesk.train.tables import DatasetError
from newsdesk.train.text.cleaning import CleaningOptions


def score_columns(options: ScoreOptions) -> list[pa.Field]:
    """The columns scoring adds after the input's, in order."""
    fields = [
        pa.field(TOPIC_COL, pa.string()),
        pa.field(SCORE_COL, pa.float64()),
        pa.field(NEEDS_REVIEW_COL, pa.bool_()),
        pa.field(REVIEW_REASON_COL, pa.string()),
    ]
    if options.top_k is not None:
        fields.append(pa.field(TOPICS_COL, pa.string()))
    if options.explain:
        fields.append(pa.field(EXPLANATION_COL, pa.string()))
    if options.summarize:
        fields.append(pa.field(SUMMARY_COL, pa.string()))
    if options.clustering is not None:
        from newsdesk.serve.batch.clusters import cluster_fields

        fields += cluster_fields()  # filled by the second pass
    return [*fields, pa.field(ERROR_COL, pa.string())]


def output_schema(input_schema: pa.Schema, options: ScoreOptions) -> pa.Schema:
    """Input columns, then the score columns; refuses an input that already has a score column's name."""
    added = score_columns(options)
    clash = [f.name for f in added if f.name in input_schema.names]
    if clash:
        raise DatasetError(
            f"the input already has column(s) {clash}, which scoring adds; rename or drop them in the input "
            f"(is this file already scored?)"
        )
    return pa.schema([*input_schema, *added])


# --------------------------------------------------------------------------- the per-chunk scoring function


@dataclass
class Prepared:
    """A chunk's articles after cleaning (None where a row is not scored), errors and summaries."""

    articles: list[CleanArticle | None]
    errors: list[str]
    summaries: list[str | None] | None = None


def column_texts(table: pa.Table, name: str | None) -> list[str]:
    """A column's values as text ('' for missing), or all '' when ``name`` is None."""
    if name is None:
        return [""] * table.num_rows
    return ["" if v is None else v if isinstance(v, str) else str(v) for v in table.column(name).to_pylist()]


def prepare_rows(
    texts: Sequence[str],
    titles: Sequence[str],
    errors: Sequence[str],
    text_col: str,
    cleaning: CleaningOptions,
    summarizer: Bundle | None = None,
    summary_length: SummaryLength | None = None,
) -> Prepared:
    """Clean each row as the server does (:func:`newsdesk.serve.analysis.clean_article` with the bundle's
    cleaning options); summarise when given a bundle.

    A row that already has an error (it could not be read cleanly) is not scored.
    """
    articles: list[CleanArticle | None] = []
    out_errors = list(errors)
    summaries: list[str | None] | None = [] if summarizer is not None else None
    for i, (text, title) in enumerate(zip(texts, titles)):
        article = None
        if not out_errors[i]:
            article = clean_article(text, title, cleaning)
            if not article.body:
                what = "missing or empty" if not text.strip() else "empty after cleaning"
                out_errors[i] = f"{EMPTY_TEXT_ROW}: the text (column '{text_col}') is {what}"
                article = None
        articles.append(article)
        if summaries is not None:
            summary = None
            if article is not None:
                try:
                    summary = summarize_article(  # type: ignore[arg-type]
                        summarizer, article, **(summary_length or SummaryLength()).as_kwargs()
                    ).text
                except SummaryError as exc:
                    out_errors[i] = f"{SUMMARY_FAILED_ROW}: {exc}"
            summaries.append(summary)
    return Prepared(articles, out_errors, summaries)


def classify_prepared(bundle: Bundle, prepared: Prepared, options: ScoreOptions) -> list[pa.Array]:
    """Classify the prepared articles in one vectorised call; the score columns, in order."""
    rows = [i for i, a in enumerate(prepared.articles) if a is not None]
    n = len(prepared.articles)
    topics: list[str | None] = [None] * n
    scores: list[float | None] = [None] * n
    ranked: list[str | None] = [None] * n
    review: list[bool | None] = [None] * n
    reasons: list[str | None] = [None] * n
    explained: list[str | None] = [None] * n
    results = predict_topics(
        bundle,
        [prepared.articles[i] for i in rows],  # type: ignore[misc]
        options.top_k or 1,
        explain_terms=options.explain,
    )
    for i, result in zip(rows, results):
        topics[i], scores[i] = (None if result.needs_review else result.topic), result.score
        review[i], reasons[i] = result.needs_review, result.review.reason
        if options.top_k is not None:
            ranked[i] = json.dumps([{"topic": label, "score": score} for label, score in result.scores])
        if result.explanation is not None:
            explained[i] = explanation_json(result.explanation)
    columns = [
        pa.array(topics, pa.string()),
        pa.array(scores, pa.float64()),
        pa.array(review, pa.bool_()),
        pa.array(reasons, pa.string()),
    ]
    if options.top_k is not None:
        columns.append(pa.array(ranked, pa.string()))
    if options.explain:
        columns.append(pa.array(explained, pa.string()))
    if options.summarize:
        columns.append(pa.array(prepared.summaries, pa.string()))
    if options.clustering is not None:
        columns += [pa.nulls(n, pa.string()), pa.nulls(n, pa.string())]  # filled by the second pass
    return [*columns, pa.array(prepared.errors, pa.string())]


def explanation_json(explanation: Explanation) -> str:
    """An explanation as one JSON cell: topic, runner-up, term weights and what they are."""
    return json.dumps(
        {
            "topic": explanation.topic,
            "runner_up": explanation.runner_up,
            "towards": [[t.term, t.weight] for t in explanation.towards],
            "against_runner_up": [[t.term, t.weight] for t in explanation.against_runner_up],
            "method": explanation.method,
        },
        ensure_ascii=False,
    )


def attach(table: pa.Table, columns: list[pa.Array], options: ScoreOptions) -> pa.Table:
    """The input table with the score columns appended."""
    for f, column in zip(score_columns(options), columns):
        table = table.append_column(f, column)
    return table


def score_rows(
    bundle: Bundle, texts: Sequence[str], titles: Sequence[str], errors: Sequence[str], options: ScoreOptions
) -> list[pa.Array]:
    """Score rows given by text, title and read error ('' when read cleanly): the score columns, in order.

    Rows with a read error are kept but not scored. This is the work of one chunk or partition,
    whichever engine and process runs it.
    """
    return score_rows_and_sketches(bundle, texts, titles, errors, options)[0]


def score_rows_and_sketches(
    bundle: Bundle, texts: Sequence[str], titles: Sequence[str], errors: Sequence[str], options: ScoreOptions
) -> tuple[list[pa.Array], Sketches | None]:
    """:func:`score_rows`, plus each row's clustering sketch with ``options.clustering`` (else None)."""
    summarizer = bundle if options.summarize else None
    prepared = prepare_rows(
        texts, titles, errors, options.text_col, options.cleaning(bundle), summarizer, options.summary_length
    )
    sketches = None
    if options.clustering is not None:
        from newsdesk.serve.batch.clusters import sketch_articles

        sketches = sketch_articles(bundle, prepared.articles, options)
    return classify_prepared(bundle, prepared, options), sketches


def score_table(bundle: Bundle, table: pa.Table, errors: Sequence[str], options: ScoreOptions) -> pa.Table:
    """Score one chunk or partition: the input columns plus the score columns, row for row."""
    texts, titles = column_texts(table, options.text_col), column_texts(table, options.title_col)
    return attach(table, score_rows(bundle, texts, titles, errors, options), options)


def error_locations(source: ScoreInput, chunk: Chunk, errors: Sequence[str], limit: int) -> list[str]:
    """Up to ``limit`` lines 'FILE line N (id X): error' for the rows of ``chunk`` with errors."""
    rows = [i for i, error in enumerate(errors) if error][:limit]
    if not rows:
        return []
    ids = column_texts(chunk.table, source.id_col) if source.id_col else None
    out = []
    for i in rows:
        file = source.files[chunk.files[i]]
        unit = "row" if file.kind == "parquet" else "line"
        row_id = f" (id {ids[i]})" if ids and ids[i] else ""
        out.append(f"{file.path.name} {unit} {chunk.lines[i]}{row_id}: {errors[i]}")
    return out
