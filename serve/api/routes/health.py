"""Operations endpoints, open without an API key: ``/health``, ``/ready`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from newsdesk.serve.api.deps import MetricsDep, ServedModelDep
from newsdesk.serve.api.errors import NOT_READY, ApiError, documented_errors
from newsdesk.serve.api.routes.articles import model_ref
from newsdesk.serve.api.schemas import HealthResponse, ReadyResponse

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthResponse, summary="The process is alive")
async def health() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses=documented_errors(503),
    summary="A model is loaded and requests can be served",
)
async def ready(served: ServedModelDep) -> ReadyResponse:
    bundle = served.bundle
    if bundle is None:
        raise ApiError(503, NOT_READY, f"no model loaded yet from {served.source}")
    return ReadyResponse(model=model_ref(bundle))


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Requests, errors and latency by endpoint, articles processed and the served model version, "
    "in the Prometheus text format.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}},
)
def metrics(metrics: MetricsDep) -> Response:
    body, content_type = metrics.exposition()
    return Response(content=body, media_type=content_type)
