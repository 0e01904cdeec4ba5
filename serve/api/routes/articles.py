"""``/v1`` article endpoints: predict, batch predict, summarize and analyze.

The models are CPU-bound: batch predict is a plain ``def`` (FastAPI runs it on a worker thread), and
the one-article endpoints run on the event loop when their text is short and on a thread otherwise
(:mod:`newsdesk.serve.api.execution`). All call :mod:`newsdesk.serve.analysis`, the same code the
batch scorer uses, so both give an article the same topic and summary.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from newsdesk.serve.analysis import (
    CleanArticle,
    NoSummarizerError,
    TopicResult,
    clean_article,
    predict_topics,
    summarize_article,
)
from newsdesk.serve.api.annotate import annotate_article
from newsdesk.serve.api.deps import ModelContext, ModelContextDep
from newsdesk.serve.api.errors import (
    BATCH_TOO_LARGE,
    CANNOT_SUMMARIZE,
    EMPTY_TEXT,
    NO_SUMMARIZER,
    TEXT_TOO_LONG,
    VALIDATION_ERROR,
    ApiError,
    describe_validation_errors,
    documented_errors,
)
from newsdesk.serve.api.execution import TopicJob, model_endpoint, runs_inline
from newsdesk.serve.api.metrics import ServiceMetrics
from newsdesk.serve.api.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ArticleFields,
    BatchArticle,
    BatchItemResult,
    BatchPredictRequest,
    BatchPredictResponse,
    CleaningOut,
    DocumentOut,
    ErrorDetail,
    ExplanationOut,
    LabelScore,
    ModelRef,
    PredictRequest,
    PredictResponse,
    RemovedLine,
    SummarizeRequest,
    SummarizeResponse,
    SummaryOptions,
    SummaryOut,
    SummarySentenceOut,
    TermWeightOut,
    TopicPrediction,
)
from newsdesk.serve.api.settings import ServeSettings
from newsdesk.train.bundle import Bundle
from newsdesk.train.classify.explain import Explanation
from newsdesk.train.summarize.base import Summary, SummaryError
from newsdesk.train.text.cleaning import CleaningOptions
from newsdesk.train.text.webpage import looks_like_html

router = APIRouter(prefix="/v1", tags=["articles"])

PREDICT = "/v1/predict"
PREDICT_BATCH = "/v1/predict/batch"
SUMMARIZE = "/v1/summarize"
ANALYZE = "/v1/analyze"


ARTICLE_ERRORS = documented_errors(401, 413, 422, 500, 503)
SUMMARY_ERRORS = documented_errors(401, 409, 413, 422, 500, 503)


# --------------------------------------------------------------------------- helpers


def text_too_long(field: str, length: int, limit: int, html: bool = False) -> ApiError:
    """The error for a text field longer than the server allows."""
    setting = "NEWSDESK_MAX_HTML_CHARS" if html else "NEWSDESK_MAX_TEXT_CHARS"
    return ApiError(
        413,
        TEXT_TOO_LONG,
        f"field '{field}' has {length} characters; this server accepts at most {limit} "
        f"({setting}){' for an HTML page' if html else ''}; shorten or split the article",
    )


def cleaning_options(body: ArticleFields, bundle: Bundle) -> CleaningOptions:
    """The bundle's cleaning, with the request's format and boilerplate choices on top."""
    return bundle.cleaning.overridden(body.format, body.remove_boilerplate)


def clean_checked(body: ArticleFields, bundle: Bundle, settings: ServeSettings, field_prefix: str = "") -> CleanArticle:
    """Check the text limits, then clean the article once, the way the bundle's training cleaned.

    A web page may be longer than a plain-text article (``max_html_chars``): most of it is markup.
    """
    options = cleaning_options(body, bundle)
    is_html = options.format == "html" or (options.format == "auto" and looks_like_html(body.text))
    for name, value in (("text", body.text), ("title", body.title or "")):
        limit = settings.max_html_chars if is_html and name == "text" else settings.max_text_chars
        if len(value) > limit:
            raise text_too_long(field_prefix + name, len(value), limit, is_html and name == "text")
    article = clean_article(body.text, body.title, options)
    if article.is_empty:
        raise ApiError(
            422,
            EMPTY_TEXT,
            f"field '{field_prefix}text' is empty after cleaning (markup and whitespace removed); send the article text",
        )
    return article


def json_response(model: BaseModel) -> Response:
    """The model as JSON, serialised once by pydantic.

    Returning a Response skips FastAPI's second validation of the return value, which
    for a plain ``def`` endpoint is one more trip through the thread pool; the route's
    ``response_model`` still documents the shape.
    """
    return Response(model.model_dump_json(), media_type="application/json")


def cleaning_out(article: CleanArticle, return_cleaned: bool = False) -> CleaningOut:
    """What cleaning did, for the response; with ``return_cleaned`` the text and every removed line."""
    return CleaningOut(
        format=article.format,
        removed_lines=len(article.removed),
        warnings=list(article.warnings),
        text=article.body if return_cleaned else None,
        removed=[RemovedLine(line=line, reason=reason) for line, reason in article.removed] if return_cleaned else None,
    )


def model_ref(bundle: Bundle) -> ModelRef:
    """The name and version of a bundle."""
    return ModelRef(name=bundle.name, version=bundle.version)


def topic_prediction(result: TopicResult, top_k: int) -> TopicPrediction:
    """The HTTP form of a :class:`TopicResult`."""
    return TopicPrediction(
        topic=None if result.needs_review else result.topic,
        score=round(float(result.score), 6),
        labels=list(result.labels),
        scores=[LabelScore(label=label, score=score) for label, score in result.scores[:top_k]],
        needs_review=result.needs_review,
        review_reason=result.review.reason,
        review_detail=result.review.detail,
        explanation=explanation_out(result.explanation),
    )


def explanation_out(explanation: Explanation | None) -> ExplanationOut | None:
    """The HTTP form of an :class:`Explanation`."""
    if explanation is None:
        return None
    return ExplanationOut(
        topic=explanation.topic,
        runner_up=explanation.runner_up,
        towards=[TermWeightOut(term=t.term, weight=t.weight) for t in explanation.towards],
        against_runner_up=[TermWeightOut(term=t.term, weight=t.weight) for t in explanation.against_runner_up],
        method=explanation.method,
    )


def summarize_checked(bundle: Bundle, article: CleanArticle, options: SummaryOptions) -> Summary:
    """Summarise a cleaned article, turning the summariser's errors into HTTP errors."""
    if not article.body:
        raise ApiError(422, EMPTY_TEXT, "field 'text' is empty after cleaning; a summary needs the article body")
    try:
        summary = summarize_article(
            bundle,
            article,
            max_sentences=options.max_sentences,
            max_words=options.max_words,
            ratio=options.ratio,
            length=options.length,
        )
    except NoSummarizerError as exc:
        raise ApiError(409, NO_SUMMARIZER, f"{exc}; or reload a version that has one (POST /v1/admin/reload)") from None
    except SummaryError as exc:
        raise ApiError(422, CANNOT_SUMMARIZE, f"field 'text': {exc}") from None
    return summary


def summary_out(summary: Summary, include_cleaned_text: bool) -> SummaryOut:
    """The HTTP form of a :class:`~newsdesk.train.summarize.extractive.Summary`."""
    return SummaryOut(
        summary=summary.text,
        sentences=[SummarySentenceOut.model_validate(s, from_attributes=True) for s in summary.sentences],
        method=summary.method,
        article_sentences=summary.n_sentences,
        cleaned_text=summary.cleaned_text if include_cleaned_text else None,
    )


def document_out(body: ArticleFields, article: CleanArticle, summary: Summary, wanted: bool) -> DocumentOut | None:
    """The article as display blocks (:mod:`newsdesk.serve.api.annotate`) when the request asked for them."""
    if not wanted:
        return None
    document = annotate_article(body.text, article, summary)
    return DocumentOut.model_validate(document, from_attributes=True)


# --------------------------------------------------------------------------- endpoints


def predict_response(
    body: PredictRequest, bundle: Bundle, article: CleanArticle, result: TopicResult, metrics: ServiceMetrics
) -> Response:
    """The /v1/predict answer for one classified article."""
    metrics.count_articles(PREDICT, bundle.version)
    prediction = topic_prediction(result, body.top_k)
    return json_response(
        PredictResponse(
            model=model_ref(bundle), cleaning=cleaning_out(article, body.return_cleaned), **dict(prediction)
        )
    )


def predict_alone(body: PredictRequest, model: ModelContext) -> Response:
    """Clean and classify one article in one model call (on a worker thread)."""
    article = clean_checked(body, model.bundle, model.settings)
    [result] = predict_topics(model.bundle, [article], top_k=body.top_k, explain_terms=body.explain)
    return predict_response(body, model.bundle, article, result, model.metrics)


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=ARTICLE_ERRORS,
    summary="Classify one article",
    description="Returns the predicted topic(s), the top_k labels with calibrated probabilities, "
    "and the model name and version.",
)
async def predict(body: PredictRequest, model: ModelContextDep) -> Response:
    # A short text on a numpy-only bundle is cleaned on the loop and classified with the other requests of
    # this loop pass (serve/api/loop_batching.py); anything else runs alone on a worker thread.
    bundle = model.bundle
    if not runs_inline(bundle, len(body.text) + len(body.title or ""), model.settings):
        return await run_in_threadpool(predict_alone, body, model)
    article = clean_checked(body, bundle, model.settings)
    result = await model.topic_batcher.submit(TopicJob(bundle, article, body.top_k, body.explain))
    return predict_response(body, bundle, article, result, model.metrics)


@router.post(
    "/predict/batch",
    response_model=BatchPredictResponse,
    responses=ARTICLE_ERRORS,
    summary="Classify several articles in one call",
    description="Up to max_batch_size articles (default 256; more is a 413). Results come back in request "
    "order, one per article; an article that fails validation gets an `error` entry and the others "
    "are still classified, in one vectorised call.",
)
def predict_batch(body: BatchPredictRequest, model: ModelContextDep) -> Response:
    bundle, settings = model.bundle, model.settings
    n = len(body.articles)
    if n > settings.max_batch_size:
        raise ApiError(
            413,
            BATCH_TOO_LARGE,
            f"field 'articles' has {n} items; this server accepts at most {settings.max_batch_size} per request "
            f"(NEWSDESK_MAX_BATCH_SIZE); split the batch",
        )
    results: list[BatchItemResult | None] = [None] * n
    accepted: list[tuple[int, BatchArticle, CleanArticle]] = []
    for index, raw in enumerate(body.articles):
        prefix = f"articles[{index}]"
        item_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        try:
            item = BatchArticle.model_validate(raw)
            accepted.append((index, item, clean_checked(item, bundle, settings, prefix + ".")))
        except ValidationError as exc:
            message = describe_validation_errors(exc.errors(), prefix)
            results[index] = BatchItemResult(
                index=index, id=item_id, error=ErrorDetail(code=VALIDATION_ERROR, message=message)
            )
        except ApiError as exc:
            results[index] = BatchItemResult(
                index=index, id=item_id, error=ErrorDetail(code=exc.code, message=exc.message)
            )
    if accepted:
        top_k = max(item.top_k for _, item, _ in accepted)
        explain_any = any(item.explain for _, item, _ in accepted)
        predictions = predict_topics(
            bundle, [article for _, _, article in accepted], top_k=top_k, explain_terms=explain_any
        )
        for (index, item, _), result in zip(accepted, predictions):
            shown = result if item.explain else replace(result, explanation=None)
            results[index] = BatchItemResult(index=index, id=item.id, prediction=topic_prediction(shown, item.top_k))
        model.metrics.count_articles(PREDICT_BATCH, bundle.version, len(accepted))
    done = [r for r in results if r is not None]
    return json_response(
        BatchPredictResponse(model=model_ref(bundle), results=done, succeeded=len(accepted), failed=n - len(accepted))
    )


@router.post(
    "/summarize",
    response_model=SummarizeResponse,
    responses=SUMMARY_ERRORS,
    summary="Summarise one article",
    description="An extractive summary: the article's own sentences in article order, each with its "
    "sentence number and character offsets in the cleaned text (ask for that text with "
    "include_cleaned_text). Length: a preset (length: brief, standard or reference; the model's default, "
    "brief unless trained otherwise, when nothing is asked), unless max_sentences, max_words or ratio say otherwise.",
)
@model_endpoint
def summarize(body: SummarizeRequest, model: ModelContextDep) -> Response:
    bundle = model.bundle
    article = clean_checked(body, bundle, model.settings)
    summary = summarize_checked(bundle, article, body)
    model.metrics.count_articles(SUMMARIZE, bundle.version)
    return json_response(
        SummarizeResponse(
            model=model_ref(bundle),
            cleaning=cleaning_out(article, body.return_cleaned),
            document=document_out(body, article, summary, body.return_document),
            **dict(summary_out(summary, body.include_cleaned_text)),
        )
    )


@router.post(
    "/analyze",
    response_model=AnalyzeResponse,
    responses=SUMMARY_ERRORS,
    summary="Classify and summarise one article",
    description="Topic and summary in one call: the text is cleaned once and both come from the same model version.",
)
@model_endpoint
def analyze(body: AnalyzeRequest, model: ModelContextDep) -> Response:
    bundle = model.bundle
    article = clean_checked(body, bundle, model.settings)
    summary = summarize_checked(bundle, article, body)
    [result] = predict_topics(bundle, [article], top_k=body.top_k, explain_terms=body.explain)
    model.metrics.count_articles(ANALYZE, bundle.version)
    return json_response(
        AnalyzeResponse(
            model=model_ref(bundle),
            prediction=topic_prediction(result, body.top_k),
            summary=summary_out(summary, body.include_cleaned_text),
            cleaning=cleaning_out(article, body.return_cleaned),
            document=document_out(body, article, summary, body.return_document),
        )
    )
