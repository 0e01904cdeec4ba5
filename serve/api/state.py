"""The model a server process is serving, swapped atomically on reload.

Endpoints take one reference to the bundle when a request starts (through a
dependency) and use it to the end, so a request that is running when a reload
swaps the model in finishes on the old model. The swap itself is one attribute
assignment; a lock serialises loads, so concurrent reloads run one after the
other and each swaps in a whole bundle. A failed load raises
:class:`~newsdesk.train.bundle.BundleError` before the swap, so the old model keeps
serving.

After a swap, once the last request using the old bundle has finished, the
memory it held is handed back to the operating system (glibc's allocator keeps
freed memory otherwise: in ``bench/soak.py`` the server's RSS grew by about
12 MB with every reload).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.serve.api.batching import MicroBatcher
from newsdesk.train.bundle import MANIFEST, TFIDF_BACKEND, Bundle, load_bundle
from newsdesk.train.classify.review import tfidf_part
from newsdesk.train.text.vectors import TfidfVectors
from newsdesk.train.versions import BundleError, list_versions, read_current

BundleLoader = Callable[[Path, str | None], Bundle]
MICRO_BATCH = 16
"""Most one-article requests grouped into one forward pass of a torch-backed classifier."""
MICRO_BATCH_WAIT_MS = 5.0
"""Longest a request waits for others to join its micro-batch."""
RELEASE_WAIT_SECONDS = 60.0
"""Longest the memory release after a reload waits for requests still using the old bundle."""
RELEASE_POLL_SECONDS = 0.05


def torch_backed(bundle: Bundle) -> bool:
    """Whether the bundle's classifier is a transformer backend (a torch forward pass per call)."""
    return bundle.manifest.get("classifier", {}).get("backend", TFIDF_BACKEND) != TFIDF_BACKEND


def prepare_for_serving(bundle: Bundle) -> Bundle:
    """Lay the classifier's weights out for one-article requests and build the TF-IDF n-gram indexes;
    every result stays the same.

    The classifier multiplies the TF-IDF row by ``coef_.T``. scipy copies a dense
    operand that is not C-contiguous on every call, which for a BBC model is most
    of a single prediction's matrix work. In Fortran order ``coef_.T`` is
    C-contiguous and nothing is copied. (Once the classifier stores its weights
    that way itself, this does nothing.)
    """
    coef = getattr(bundle.classifier, "coef_", None)
    if isinstance(coef, np.ndarray) and coef.ndim == 2 and not coef.T.flags.c_contiguous:
        bundle.classifier.coef_ = np.asfortranarray(coef)
    # The TF-IDF n-gram indexes are built on first use (about 0.2 s for a BBC classifier): build them
    # while loading, so that the first request does not wait for them.
    for model in (tfidf_part(bundle.classifier), bundle.summarizer):
        vectors = getattr(model, "vectorizer_", None)
        if isinstance(vectors, TfidfVectors):
            vectors.prepare()
    if torch_backed(bundle):
        # A transformer forward pass costs little more for 16 articles than for one: let
        # concurrent one-article requests share it.
        bundle.classifier = BatchedClassifier(bundle.classifier)
    return bundle


class BatchedClassifier:
    """A torch-backed classifier whose one-article ``predict_proba`` calls are grouped into micro-batches.

    Calls with several texts (the batch endpoint) go straight to the model, already batched.
    Everything else is the wrapped classifier's. The batcher's thread stops when the wrapper is
    garbage-collected (after a reload has swapped the model out).
    """

    def __init__(self, inner: Any, max_batch: int = MICRO_BATCH, max_wait_ms: float = MICRO_BATCH_WAIT_MS) -> None:
        self.inner = inner
        self.batcher: MicroBatcher[str, np.ndarray] = MicroBatcher(
            lambda texts: list(inner.predict_proba(texts)), max_batch=max_batch, max_wait_ms=max_wait_ms
        )
        weakref.finalize(self, self.batcher.close, 0)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return np.asarray(self.inner.predict_proba(texts))
        return np.vstack([self.batcher.submit(texts[0])])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class UnknownVersionError(BundleError):
    """A reload asked for a version that is not saved under the model folder."""


class ModelNotLoadedError(RuntimeError):
    """No model has been loaded yet."""


@dataclass(frozen=True)
class ServedVersion:
    """Which bundle was served: enough to report it, without keeping its memory alive."""

    name: str
    version: str
    path: Path

    @classmethod
    def of(cls, bundle: Bundle) -> ServedVersion:
        return cls(bundle.name, bundle.version, bundle.path)


@dataclass(frozen=True)
class LoadResult:
    """What a (re)load did."""

    previous: ServedVersion | None
    current: Bundle
    seconds: float

    @property
    def changed(self) -> bool:
        """Whether a different version (or a different folder) is now served."""
        return self.previous is None or self.previous.path != self.current.path


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None on other C libraries and systems."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def release_freed_memory() -> None:
    """Return the allocator's free memory to the operating system (glibc only; elsewhere nothing happens)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def freeze_long_lived_objects() -> None:
    """Collect garbage, then move every object alive now out of the garbage collector's sight.

    A loaded bundle is about 90,000 Python objects (vocabularies, term lists) that live as long as it is
    served. Every full collection walked all of them: 45 ms with a BBC bundle, a pause that landed on
    whichever requests were running. Frozen objects are never walked (``gc.freeze``); they are still
    freed by reference counting when the bundle is replaced.
    """
    gc.collect()
    gc.freeze()


def release_when_unused(old: weakref.ref[Bundle], wait_seconds: float = RELEASE_WAIT_SECONDS) -> None:
    """Wait until the old bundle is gone (requests still running on it hold it), then release its memory.

    The frozen objects (:func:`freeze_long_lived_objects`) are unfrozen first, so that any reference
    cycle in the old bundle is collected; then the new bundle's objects are frozen.
    """
    deadline = time.monotonic() + wait_seconds
    while old() is not None and time.monotonic() < deadline:
        time.sleep(RELEASE_POLL_SECONDS)
    gc.unfreeze()
    freeze_long_lived_objects()
    release_freed_memory()


class ServedModel:
    """Holds the bundle being served and loads new versions of it from ``source``."""

    def __init__(self, source: Path, loader: BundleLoader = load_bundle) -> None:
        self.source = Path(source)
        self._loader = loader
        self._bundle: Bundle | None = None
        self._lock = threading.Lock()
        self.loaded_at: datetime | None = None

    @property
    def bundle(self) -> Bundle | None:
        """The bundle being served, or None before the first load."""
        return self._bundle

    def require(self) -> Bundle:
        """The bundle being served; raises :class:`ModelNotLoadedError` before the first load."""
        bundle = self._bundle
        if bundle is None:
            raise ModelNotLoadedError(f"no model loaded yet from {self.source}")
        return bundle

    @property
    def is_version_folder(self) -> bool:
        """True when the server was pointed at one version folder rather than ``models/NAME``."""
        return (self.source / MANIFEST).is_file()

    def versions(self) -> list[str]:
        """Versions saved under ``models/NAME`` (empty when serving a single version folder)."""
        return [] if self.is_version_folder else list_versions(self.source)

    def current_on_disk(self) -> str | None:
        """The version ``models/NAME/current`` names now (None for a version folder or a bad pointer)."""
        if self.is_version_folder:
            return None
        try:
            return read_current(self.source)
        except BundleError:
            return None

    def load(self, version: str | None = None) -> LoadResult:
        """Load ``version`` (default: the current one) and swap it in; the old model stays on any error."""
        if version is not None:
            if self.is_version_folder:
                raise BundleError(
                    f"the server was started with the version folder {self.source}, so it cannot load {version}; "
                    f"start it with --model {self.source.parent} to switch between versions"
                )
            known = self.versions()
            if version not in known:
                raise UnknownVersionError(
                    f"{self.source} has no version {version}; versions there: {', '.join(known) or 'none'}"
                )
        with self._lock:
            started = time.perf_counter()
            try:
                bundle = prepare_for_serving(self._loader(self.source, version))
            except OSError as exc:  # a file that vanished or cannot be read is a refused reload, not a crash
                raise BundleError(f"cannot read {version or 'the current version'} of {self.source} ({exc})") from None
            previous, self._bundle = self._bundle, bundle
            self.loaded_at = datetime.now(UTC)
            result = LoadResult(
                ServedVersion.of(previous) if previous is not None else None, bundle, time.perf_counter() - started
            )
        if previous is None:
            freeze_long_lived_objects()
        else:
            old = weakref.ref(previous)
            del previous  # the last reference here: in-flight requests hold the others
            threading.Thread(target=release_when_unused, args=(old,), name="newsdesk-release", daemon=True).start()
        return result
