"""Request and response bodies of the HTTP API, with limits and the examples shown in the OpenAPI docs.

Requests are strict (``"3"`` is not a number) and refuse unknown fields, so a
typo such as ``max_sentence`` fails with a 422 naming it instead of being ignored.
Length limits that are settings (text length, batch size) are checked by the
endpoints, because they are not known when this module is imported.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, field_validator

EXAMPLE_TITLE = "Chelsea sign Danish striker"
EXAMPLE_TEXT = (
    "Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of £12m. "
    "The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract. "
    "Manager Jose Mourinho said Larsen would add pace to the attack. "
    "Larsen is expected to make his debut in Saturday's Premiership match against Everton."
)
MAX_TOP_K = 50
VERSION_PATTERN = r"^v\d{4,}$"


INTEGER_FIELDS = ("top_k", "max_sentences", "max_words")


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator(*INTEGER_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _integral_float(cls, value: Any) -> Any:
        """JSON Schema (and so /openapi.json) counts 2.0 as an integer; strict mode still refuses 2.5,
        "2" and true."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ArticleFields(_Request):
    """The article itself: body text and an optional headline."""

    text: str = Field(min_length=1, description="the article body (plain text or HTML)")
    title: str | None = Field(None, description="the headline, if there is one")
    format: Literal["auto", "text", "html"] | None = Field(
        None,
        description="'html': extract the article from a web page; 'text': plain text; 'auto': detect "
        "(default: as the model was trained, normally auto)",
    )
    remove_boilerplate: bool | None = Field(
        None,
        description="drop page furniture lines (menus, timestamps, share links, headline lists); "
        "default: as the model was trained, normally on",
    )
    return_cleaned: bool = Field(
        False, description="also return the cleaned text and every removed line with the reason it was removed"
    )


class SummaryOptions(_Request):
    """How long a summary may be: a named length, or explicit options (which win over it).

    Without any option the model's default length is used (``brief`` unless it was trained with
    ``--summary-length``).
    """

    length: Literal["brief", "standard", "reference"] | None = Field(
        None,
        description="brief: 3 sentences, about 75 words; standard: 5 sentences, about 150 words; reference: "
        "the length learned from the training references. max_sentences, max_words and ratio win over it; "
        "without any, the model's default (brief unless trained with --summary-length)",
    )
    max_sentences: int | None = Field(None, ge=1, le=1000, description="at most this many sentences")
    max_words: int | None = Field(None, ge=1, le=100_000, description="at most this many words")
    ratio: float | None = Field(None, gt=0, le=1, description="this share of the article's sentences, in (0, 1]")
    include_cleaned_text: bool = Field(
        False, description="also return the cleaned text that the sentence offsets (start, end) point into"
    )


class DocumentOption(_Request):
    """Ask for the article as display blocks (see :class:`DocumentOut`)."""

    return_document: bool = Field(
        False,
        description="also return 'document': the article in its original order, kept lines split into spans "
        "marking the summary's sentences, removed lines in place with their reasons (for a reader, e.g. GET /)",
    )


class PredictRequest(ArticleFields):
    """One article to classify."""

    top_k: int = Field(3, ge=1, le=MAX_TOP_K, description="how many labels to return with their scores")
    explain: bool = Field(False, description="also return 'explanation': the terms behind the topic, with weights")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": EXAMPLE_TITLE, "text": EXAMPLE_TEXT, "top_k": 3}]}
    )


class BatchArticle(PredictRequest):
    """One article of a batch; ``id`` is echoed back to help match results."""

    id: str | None = Field(None, max_length=200, description="your identifier for this article, echoed back")


class BatchPredictRequest(_Request):
    """Several articles to classify in one vectorised call.

    Each article is validated on its own: an invalid one gets an error entry in
    the results and the others are still classified.
    """

    # SkipValidation: items are validated one by one in the endpoint, so one bad
    # article does not fail the batch; the OpenAPI schema still shows BatchArticle.
    articles: list[SkipValidation[BatchArticle]] = Field(
        min_length=1, description="the articles, at most the server's max_batch_size (default 256)"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "articles": [
                        {"id": "a1", "title": EXAMPLE_TITLE, "text": EXAMPLE_TEXT},
                        {"id": "a2", "text": "Shares in the bank fell 5% after profits missed forecasts.", "top_k": 2},
                    ]
                }
            ]
        }
    )


class SummarizeRequest(ArticleFields, SummaryOptions, DocumentOption):
    """One article to summarise."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": EXAMPLE_TITLE, "text": EXAMPLE_TEXT, "max_sentences": 2}]}
    )


class AnalyzeRequest(ArticleFields, SummaryOptions, DocumentOption):
    """One article to classify and summarise; it is cleaned once for both."""

    top_k: int = Field(3, ge=1, le=MAX_TOP_K, description="how many labels to return with their scores")
    explain: bool = Field(False, description="also return 'explanation': the terms behind the topic, with weights")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": EXAMPLE_TITLE, "text": EXAMPLE_TEXT, "top_k": 2, "max_sentences": 2}]}
    )


class ReloadRequest(_Request):
    """Which version to load; without one, the version named by the model's ``current`` file."""

    version: str | None = Field(
        None, pattern=VERSION_PATTERN, description="a saved version such as v0002 (default: current)"
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"version": "v0002"}]})


# --------------------------------------------------------------------------- responses


class ErrorDetail(BaseModel):
    """What went wrong: a stable code to branch on and a message for people."""

    code: str = Field(examples=["text_too_long"])
    message: str = Field(examples=["field 'text' has 250000 characters; the limit is 200000"])


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ModelRef(BaseModel):
    """The model that produced a result."""

    name: str = Field(examples=["bbc"])
    version: str = Field(examples=["v0001"])


class LabelScore(BaseModel):
    """A label and its calibrated probability."""

    label: str
    score: float


class RemovedLine(BaseModel):
    """One line that cleaning removed."""

    line: str
    reason: str


class CleaningOut(BaseModel):
    """What the shared cleaning did to the article before the models saw it."""

    format: str = Field(description="'text', or 'html' when the article was extracted from a web page")
    removed_lines: int = Field(description="lines dropped as page furniture (menus, share links, captions...)")
    warnings: list[str] = Field(description="anything the cleaning could not do cleanly")
    text: str | None = Field(None, description="the cleaned text the models saw (with return_cleaned)")
    removed: list[RemovedLine] | None = Field(None, description="every removed line and why (with return_cleaned)")


class TermWeightOut(BaseModel):
    """One term and its contribution to a score."""

    term: str
    weight: float


class ExplanationOut(BaseModel):
    """Why this topic: the terms that pushed the article towards it, and against the runner-up."""

    topic: str = Field(description="the topic explained (the best-scored one when the article needs review)")
    runner_up: str | None = Field(None, description="the next-best topic")
    towards: list[TermWeightOut] = Field(description="terms with the largest contribution to the topic's score")
    against_runner_up: list[TermWeightOut] = Field(description="terms with the largest share of the margin")
    method: str = Field(description="what the weights are (exact coefficient x tf-idf value for the linear model)")


class TopicPrediction(BaseModel):
    """Predicted topic(s) of one article."""

    topic: str | None = Field(
        description="the best predicted label ('' when a multi-label model predicts none; null when it needs review)"
    )
    score: float = Field(description="the probability of 'topic' (of the best label when it needs review)")
    labels: list[str] = Field(description="every predicted label, best first (one unless the model is multi-label)")
    scores: list[LabelScore] = Field(description="the top_k labels with their probabilities, best first")
    needs_review: bool = Field(False, description="true when the model should not name a topic: a person decides")
    review_reason: str | None = Field(
        None, description="why it needs review: 'out_of_scope' (unlike the training data) or 'low_confidence'"
    )
    review_detail: str | None = Field(None, description="the score and threshold behind review_reason")
    explanation: ExplanationOut | None = Field(None, description="the terms behind the topic, with explain: true")


class PredictResponse(TopicPrediction):
    """The prediction for one article and the model that made it."""

    model: ModelRef
    cleaning: CleaningOut

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": {"name": "bbc", "version": "v0001"},
                    "topic": "sport",
                    "score": 0.93,
                    "labels": ["sport"],
                    "scores": [
                        {"label": "sport", "score": 0.93},
                        {"label": "business", "score": 0.03},
                        {"label": "entertainment", "score": 0.02},
                    ],
                    "cleaning": {"format": "text", "removed_lines": 0, "warnings": []},
                }
            ]
        }
    )


class BatchItemResult(BaseModel):
    """The result for one article of a batch: a prediction or an error, never both."""

    index: int = Field(description="position of the article in the request")
    id: str | None = Field(None, description="the id sent with the article, if any")
    prediction: TopicPrediction | None = None
    error: ErrorDetail | None = None


class BatchPredictResponse(BaseModel):
    """One result per article, in request order."""

    model: ModelRef
    results: list[BatchItemResult]
    succeeded: int
    failed: int


class SummarySentenceOut(BaseModel):
    """A sentence chosen for the summary and where it sits in the cleaned article."""

    index: int = Field(description="the sentence's number among the article's sentences, from 0")
    start: int = Field(description="character offset where it starts in the cleaned text")
    end: int = Field(description="character offset where it ends in the cleaned text")
    text: str
    score: float = Field(description="the summariser's score for the sentence")


class SummaryOut(BaseModel):
    """An extractive summary: sentences of the article itself, in article order."""

    summary: str = Field(description="the chosen sentences joined with spaces")
    sentences: list[SummarySentenceOut]
    method: str = Field(
        description="lead-prior (ranked by position), lead-prior+learned, supervised-extractive (the learned ranking, reference length), pacsum, textrank, lead, whole-text or abstractive"
    )
    article_sentences: int = Field(description="how many sentences the cleaned article has")
    cleaned_text: str | None = Field(None, description="the cleaned text, when include_cleaned_text was true")


class DocumentSpan(BaseModel):
    """A piece of a kept line, and the summary sentence it belongs to."""

    text: str
    sentence: int | None = Field(
        description="the index of the summary sentence this text is part of (as in 'sentences'), or null"
    )


class DocumentBlock(BaseModel):
    """One line of the article as sent: kept for the models, or removed by cleaning."""

    kind: Literal["kept", "removed"]
    text: str
    reason: str | None = Field(description="why cleaning removed the line; null for kept lines")
    spans: list[DocumentSpan] = Field(description="the kept line cut where summary sentences start and end")


class DocumentOut(BaseModel):
    """The article in its original order with what cleaning and the summary did to each line.

    Plain text: every non-blank line (after Unicode and whitespace normalisation) in order. HTML: the page's
    visible lines that are not part of the article, in page order, with the extracted article's paragraphs
    placed where they start on the page. Spans are whole strings so that no client has to convert
    character offsets.
    """

    format: str = Field(description="'text' or 'html', as in 'cleaning'")
    placed: bool = Field(
        description="true when removed lines sit where they were; false when they could not be placed and "
        "follow the kept lines"
    )
    blocks: list[DocumentBlock]


class SummarizeResponse(SummaryOut):
    """The summary of one article and the model that made it."""

    model: ModelRef
    cleaning: CleaningOut
    document: DocumentOut | None = Field(None, description="the article as display blocks, with return_document")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": {"name": "bbc", "version": "v0001"},
                    "summary": "Chelsea have completed the signing of Danish striker Jon Larsen from Ajax "
                    "for a fee of £12m.",
                    "sentences": [
                        {
                            "index": 0,
                            "start": 0,
                            "end": 93,
                            "text": "Chelsea have completed the signing of Danish striker Jon Larsen from Ajax "
                            "for a fee of £12m.",
                            "score": 1.0,
                        }
                    ],
                    "method": "lead-prior",
                    "article_sentences": 4,
                    "cleaned_text": None,
                    "cleaning": {"format": "text", "removed_lines": 0, "warnings": []},
                }
            ]
        }
    )


class AnalyzeResponse(BaseModel):
    """Topic and summary of one article, both from the same model version."""

    model: ModelRef
    prediction: TopicPrediction
    summary: SummaryOut
    cleaning: CleaningOut
    document: DocumentOut | None = Field(None, description="the article as display blocks, with return_document")


class ModelInfo(BaseModel):
    """The model being served, from its manifest."""

    name: str
    version: str
    created: str = Field(description="when the version was trained (ISO 8601, UTC)")
    labels: list[str]
    multi_label: bool
    metrics: dict[str, Any] = Field(description="held-out classifier metrics")
    summary_metrics: dict[str, Any] | None = Field(None, description="held-out ROUGE of the summariser")
    summarizer: str | None = Field(None, description="the summariser's kind, or null when the bundle has none")
    path: str = Field(description="the version folder being served")
    loaded_at: str = Field(description="when this server loaded it (ISO 8601, UTC)")
    versions: list[str] = Field(description="versions saved beside it, oldest first")
    current_on_disk: str | None = Field(None, description="the version the 'current' file names now")


class ModelsResponse(BaseModel):
    """What ``GET /v1/models`` returns."""

    models: list[ModelInfo]


class ReloadResponse(BaseModel):
    """The result of a successful reload."""

    status: str = Field("reloaded", examples=["reloaded"])
    model: ModelRef
    previous: ModelRef | None
    changed: bool = Field(description="false when the same version was loaded again")
    seconds: float = Field(description="how long loading took")
    workers: str = Field(description="which workers serve the new model")


class HealthResponse(BaseModel):
    """The process is alive."""

    status: str = Field("ok", examples=["ok"])


class ReadyResponse(BaseModel):
    """A model is loaded and requests can be served."""

    status: str = Field("ready", examples=["ready"])
    model: ModelRef
