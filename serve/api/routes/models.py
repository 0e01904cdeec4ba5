"""``/v1`` model endpoints: what is being served (``GET /v1/models``) and reloading it (``POST /v1/admin/reload``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from newsdesk.serve.api.deps import ReloaderDep, ServedModelDep, SettingsDep
from newsdesk.serve.api.errors import NOT_READY, RELOAD_FAILED, VERSION_NOT_FOUND, ApiError, documented_errors
from newsdesk.serve.api.routes.articles import model_ref
from newsdesk.serve.api.schemas import ModelInfo, ModelRef, ModelsResponse, ReloadRequest, ReloadResponse
from newsdesk.serve.api.state import ServedModel, UnknownVersionError
from newsdesk.train.versions import BundleError

router = APIRouter(prefix="/v1", tags=["models"])


@router.get(
    "/models",
    response_model=ModelsResponse,
    responses=documented_errors(401, 503),
    summary="The model being served",
    description="Name, version, labels, held-out metrics and training time from the manifest of the "
    "loaded bundle, plus the versions saved beside it.",
)
async def list_models(served: ServedModelDep) -> ModelsResponse:
    bundle = served.bundle
    if bundle is None or served.loaded_at is None:
        raise ApiError(503, NOT_READY, "no model is loaded yet; retry when GET /ready answers 200")
    manifest = bundle.manifest
    summarizer = manifest.get("summarizer")
    info = ModelInfo(
        name=bundle.name,
        version=bundle.version,
        created=str(manifest.get("created", "")),
        labels=bundle.labels,
        multi_label=bool(manifest.get("multi_label", False)),
        metrics=dict(manifest.get("metrics", {})),
        summary_metrics=manifest.get("summary_metrics"),
        summarizer=summarizer.get("kind") if isinstance(summarizer, dict) and bundle.summarizer else None,
        path=str(bundle.path),
        loaded_at=served.loaded_at.isoformat(timespec="seconds"),
        versions=served.versions(),
        current_on_disk=served.current_on_disk(),
    )
    return ModelsResponse(models=[info])


def still_serving(served: ServedModel) -> str:
    """What is served after a failed reload (read then: a reload queued before this one may have changed it)."""
    bundle = served.bundle
    return f"still serving {bundle.name} {bundle.version}" if bundle is not None else "no model is loaded"


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses=documented_errors(
        401,
        404,
        409,
        422,
        500,
        s404="no such version is saved under the model folder; the old model keeps serving",
        s409="the bundle could not be loaded (damaged, wrong format...); the old model keeps serving",
    ),
    tags=["admin"],
    summary="Load the model again (its current version, or a named one) and swap it in",
    description="Loads models/NAME/current again, or the version given, and swaps it in atomically: requests "
    "already running finish on the old model, new ones use the new model. If loading fails, the old model "
    "keeps serving and the error says why. With several workers, the others follow within "
    "reload_poll_seconds. Concurrent reloads are serialised: each waits for the one before it and gets "
    "its own answer. A named version is served until the next reload or restart; to make it "
    "permanent use 'newsdesk versions --use'.",
)
async def reload_model(
    reloader: ReloaderDep,
    settings: SettingsDep,
    body: Annotated[ReloadRequest | None, Body()] = None,
) -> ReloadResponse:
    version = body.version if body is not None else None
    served = reloader.served
    wanted = version or "the current version"
    try:
        # On the reloader's own thread, so a reload never queues behind model calls; concurrent
        # reloads wait there for each other.
        result = await reloader.run_in_thread(reloader.reload, version)
    except UnknownVersionError as exc:
        raise ApiError(404, VERSION_NOT_FOUND, f"{exc}; {still_serving(served)}") from None
    except BundleError as exc:
        raise ApiError(
            409, RELOAD_FAILED, f"could not load {wanted} of {served.source}: {exc}; {still_serving(served)}"
        ) from None
    others = settings.workers - 1
    workers = (
        "this worker (the only one)"
        if others == 0
        else f"this worker now; the other {others} follow within {settings.reload_poll_seconds:g} s"
    )
    return ReloadResponse(
        model=model_ref(result.current),
        previous=ModelRef(name=result.previous.name, version=result.previous.version) if result.previous else None,
        changed=result.changed,
        seconds=round(result.seconds, 4),
        workers=workers,
    )
