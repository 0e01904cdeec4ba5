"""Request and response bodies of ``POST /v1/cluster`` (grouping near-duplicates and stories)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newsdesk.serve.api.schemas import ArticleFields, ModelRef, _Request
from newsdesk.train.stories.config import ClusterConfig

_DEFAULTS = ClusterConfig()


class ClusterArticle(ArticleFields):
    """One article to group; ``id`` is echoed back, ``date`` keeps groups within ``window_days``."""

    id: str | None = Field(None, max_length=200, description="your identifier for this article, echoed back")
    date: str | None = Field(
        None,
        max_length=64,
        description="when the article was published (ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z); "
        "articles further apart than window_days are never grouped",
        # The schema says what the validator accepts, so clients (and the API fuzzer) send real dates.
        json_schema_extra={"format": "date-time"},
    )

    @field_validator("date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"expected an ISO 8601 date such as 2026-03-01T09:30:00Z, got {value!r}") from None
        return value

    def days(self) -> float:
        """The date as days since 1970 (UTC when no zone is given); NaN without a date."""
        if self.date is None:
            return float("nan")
        parsed = dt.datetime.fromisoformat(self.date)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp() / 86400.0


class ClusterRequest(_Request):
    """Several articles to group into near-duplicates and stories."""

    articles: list[ClusterArticle] = Field(
        min_length=1, description="the articles, at most the server's max_cluster_size (default 200)"
    )
    summarize: bool = Field(
        False,
        description="add a short extractive summary per group: its representative's summary plus what the "
        "other articles add",
    )
    duplicate_threshold: float = Field(
        _DEFAULTS.duplicate_threshold,
        gt=0,
        le=1,
        description="Jaccard similarity of word 5-shingles for near-duplicates",
    )
    story_threshold: float = Field(
        _DEFAULTS.story_threshold, gt=0, le=1, description="cosine similarity of TF-IDF terms for one story"
    )
    window_days: float = Field(_DEFAULTS.window_days, gt=0, le=36_500, description="see 'date'")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "articles": [
                        {"id": "a1", "title": "Bank profits fall", "text": "Shares in the bank fell 5% after ..."},
                        {"id": "a2", "title": "UPDATE 1-Bank profits fall", "text": "Shares in the bank fell 5% ..."},
                    ],
                    "summarize": True,
                }
            ]
        }
    )


class ClusterMember(BaseModel):
    """An article of a group."""

    index: int = Field(description="its position in the request")
    id: str | None = None
    title: str | None = None
    duplicate_of: int | None = Field(None, description="index of the first article it nearly duplicates, if any")


class GroupSentence(BaseModel):
    """A sentence of a group summary and the article it comes from."""

    article: int = Field(description="index of the article in the request")
    text: str


class ClusterGroup(BaseModel):
    """One story: its articles (request order), its representative and, when asked, a summary."""

    story: int = Field(description="index of the story's first article")
    representative: ClusterMember
    articles: list[ClusterMember]
    duplicates: int = Field(description="articles that nearly duplicate an earlier one of the group")
    summary: list[GroupSentence] | None = None


class ClusterResponse(BaseModel):
    """Groups in order of their first article; every article is in exactly one group."""

    model: ModelRef
    groups: list[ClusterGroup]
    articles: int
    stories: int
    duplicates: int
