"""``POST /v1/cluster``: group articles into near-duplicates and stories, with a representative per group.

Articles are cleaned as for ``/v1/predict`` (:func:`newsdesk.serve.api.routes.articles.clean_checked`),
sketched and grouped by :mod:`newsdesk.train.stories` (the code ``newsdesk score --cluster`` uses),
so a set of articles groups the same way over HTTP as in a scored file.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Response

from newsdesk.serve.analysis import CleanArticle, summarize_article
from newsdesk.serve.api.cluster_schemas import (
    ClusterGroup,
    ClusterMember,
    ClusterRequest,
    ClusterResponse,
    GroupSentence,
)
from newsdesk.serve.api.deps import ModelContextDep
from newsdesk.serve.api.errors import BATCH_TOO_LARGE, ApiError, documented_errors
from newsdesk.serve.api.routes.articles import clean_checked, json_response, model_ref
from newsdesk.train.bundle import Bundle
from newsdesk.train.stories.clusters import NONE, assign
from newsdesk.train.stories.config import ClusterConfig
from newsdesk.train.stories.digest import DigestSentence, group_digest, representative
from newsdesk.train.stories.sketches import Sketcher, StoryTerms
from newsdesk.train.summarize.base import SummaryError

router = APIRouter(prefix="/v1", tags=["stories"])

CLUSTER = "/v1/cluster"
REPRESENTATIVE_SENTENCES = 2
OTHER_SENTENCES = 2


def _summary_sentences(bundle: Bundle, article: CleanArticle, index: int, limit: int) -> list[DigestSentence]:
    """An article's best ``limit`` summary sentences (none when it cannot be summarised)."""
    if bundle.summarizer is None or not article.body:
        return []
    try:
        summary = summarize_article(bundle, article, max_sentences=limit)
    except SummaryError:
        return []
    return [DigestSentence(index, s.text) for s in summary.sentences]


@router.post(
    "/cluster",
    response_model=ClusterResponse,
    responses=documented_errors(401, 413, 422, 500, 503),
    summary="Group articles into stories and near-duplicates",
    description="Up to max_cluster_size articles (default 200; more is a 413). Near-duplicates: estimated "
    "Jaccard similarity of word 5-shingles (MinHash) at least duplicate_threshold; stories: cosine similarity "
    "of the model's TF-IDF terms at least story_threshold, joined transitively. Each group names a "
    "representative (the article most similar to the others) and, with summarize, a short extractive summary: "
    "the representative's summary sentences plus sentences of the other articles that add something.",
)
def cluster(body: ClusterRequest, model: ModelContextDep) -> Response:
    bundle, settings = model.bundle, model.settings
    n = len(body.articles)
    if n > settings.max_cluster_size:
        raise ApiError(
            413,
            BATCH_TOO_LARGE,
            f"field 'articles' has {n} items; this server accepts at most {settings.max_cluster_size} per request "
            f"(NEWSDESK_MAX_CLUSTER_SIZE); split the set",
        )
    config = ClusterConfig(
        duplicate_threshold=body.duplicate_threshold,
        story_threshold=body.story_threshold,
        window_days=body.window_days,
    )
    articles = [clean_checked(a, bundle, settings, f"articles[{i}].") for i, a in enumerate(body.articles)]
    sketches = Sketcher(config, StoryTerms.from_classifier(bundle.classifier)).sketch([a.model_input for a in articles])
    dates = np.array([a.days() for a in body.articles])
    result = assign(sketches, config, None if np.isnan(dates).all() else dates)
    stories: dict[int, list[int]] = {}
    for index, story in enumerate(result.story):
        stories.setdefault(int(story) if story != NONE else index, []).append(index)

    def member(index: int) -> ClusterMember:
        duplicate_of = int(result.duplicate_of[index])
        return ClusterMember(
            index=index,
            id=body.articles[index].id,
            title=articles[index].title or None,
            duplicate_of=duplicate_of if duplicate_of != NONE else None,
        )

    groups = []
    for story, members in stories.items():
        chosen = representative(sketches, members)
        summary = None
        if body.summarize:
            base = _summary_sentences(bundle, articles[chosen], chosen, REPRESENTATIVE_SENTENCES)
            others = [
                sentence
                for index in members
                if index != chosen and result.duplicate_of[index] == NONE and result.duplicate_of[chosen] != index
                for sentence in _summary_sentences(bundle, articles[index], index, OTHER_SENTENCES)
            ]
            summary = [GroupSentence(article=s.article, text=s.text) for s in group_digest(base, others)]
        groups.append(
            ClusterGroup(
                story=story,
                representative=member(chosen),
                articles=[member(i) for i in members],
                duplicates=int(sum(result.duplicate_of[i] != NONE for i in members)),
                summary=summary,
            )
        )
    model.metrics.count_articles(CLUSTER, bundle.version, n)
    return json_response(
        ClusterResponse(
            model=model_ref(bundle),
            groups=groups,
            articles=n,
            stories=len(groups),
            duplicates=result.duplicate_rows,
        )
    )
