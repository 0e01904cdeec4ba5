"""The saved-model format: versioned bundle directories with manifests, checksums and safe weights.

Layout::

    models/NAME/
        current              the version the server loads (a one-line text file)
        v0001/               one directory per training run, kept for rollback
            manifest.json    format version, labels, parameters, data fingerprint,
                             library versions, metrics summary, sha256 of every file
            vocabulary.json  the TF-IDF terms, in feature order
            classifier.npz   idf weights, linear weights, calibration and thresholds
                             (numpy arrays only; loaded with allow_pickle=False)
            summarizer.json  the summariser's kind, length model, settings and TF-IDF terms
            summarizer.npz   its idf weights and sentence-scorer weights (numpy arrays only)
            metrics.json     held-out metrics
            confusion_matrix.png
            README.md        model card

Transformer backends (the optional ``transformers`` extra) add, as the manifest's
``classifier.backend`` and ``summarizer.kind`` say:

            encoder/         sentence encoder: tokenizer files, config.json, model.safetensors
            encoder_head.npz logistic-regression head on its embeddings
            ensemble.npz     thresholds of the TF-IDF + encoder ensemble (weight in the manifest)
            transformer/     a fine-tuned sequence classifier (save_pretrained, safetensors)
            finetune.npz     its multi-label thresholds
            summarizer_model/  a seq2seq summariser (save_pretrained, safetensors)

Every file, in folders too, has its sha256 in the manifest. The modules that read the
transformer parts (and torch with them) are imported only for bundles that have them.

A version is written into a temporary directory and renamed into place, and only
then is ``current`` replaced (write-then-rename), so a crash at any point leaves
the previous current version untouched. A full disk stops the save with a
:class:`BundleError` saying so, and removes the temporary directory.

The folder of versions and its ``current`` pointer are :mod:`newsdesk.train.versions`; durable writes and
the test hook that pauses a save are :mod:`newsdesk.train.durable`.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from newsdesk.train.classify.linear import LinearTopicModel
from newsdesk.train.classify.review import encoder_part, load_review, tfidf_part
from newsdesk.train.durable import disk_full, fsync_dir, fsync_file, pause_for_tests, sha256_file, write_json
from newsdesk.train.manifest import (
    FORMAT_NAME,
    FORMAT_VERSION,
    library_versions,
    manifest_digest,
    read_manifest,
    verify_files,
)
from newsdesk.train.summarize.abstractive import AbstractiveSummarizer
from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.text.cleaning import CleaningOptions
from newsdesk.train.versions import (
    MANIFEST,
    TMP_PREFIX,
    BundleError,
    check_model_name,
    current_or_none,
    list_versions,
    remove_stale_temporaries,
    resolve_version_dir,
    set_current,
    umask_mode,
)

VOCABULARY = "vocabulary.json"
CLASSIFIER_ARRAYS = "classifier.npz"
SUMMARIZER_JSON = "summarizer.json"
SUMMARIZER_ARRAYS = "summarizer.npz"
METRICS = "metrics.json"
MODEL_CARD = "README.md"
CONFUSION_PNG = "confusion_matrix.png"
MODELS_ENV = "NEWSDESK_MODELS"
PAUSE_IN_SAVE = "bundle-save"
"""The :func:`pause_for_tests` point in :func:`save_bundle`: the weights are written, the manifest is not."""
DEFAULT_MODELS_DIR = "models"

TFIDF_BACKEND = "tfidf-linear-svm"
CLASSIFIER_BACKENDS = {
    TFIDF_BACKEND: None,
    "sentence-encoder-linear": "newsdesk.train.classify.encoder:EncoderClassifier",
    "ensemble": "newsdesk.train.classify.ensemble:EnsembleClassifier",
    "finetuned-transformer": "newsdesk.train.classify.finetune:FinetunedClassifier",
}
"""Manifest ``classifier.backend`` -> the class that loads it (imported only when such a bundle is loaded)."""
ENCODER_MODULE = "newsdesk.train.classify.encoder"
"""Sentence-encoder parts (torch and scikit-learn): imported only for a bundle that holds an encoder."""
ABSTRACTIVE_KIND = "abstractive"


class TopicModel(Protocol):
    """What the server and the batch scorer use of a classifier, whatever its backend."""

    classes_: Any
    multi_label_: bool

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_from_proba(self, probs: np.ndarray) -> list[tuple[str, ...]]: ...

    def predict(self, texts: Sequence[str]) -> list[tuple[str, ...]]: ...

    def top_k(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]: ...


@dataclass
class Bundle:
    """A loaded model bundle: its manifest and the models it holds."""

    path: Path
    manifest: dict[str, Any]
    classifier: TopicModel
    summarizer: Any = None
    """An :class:`ExtractiveSummarizer`, a ``newsdesk.train.summarize.abstractive.AbstractiveSummarizer``, or None (format 1)."""
    review: Any = None
    """The "needs review" rule (:class:`newsdesk.train.classify.review.ReviewRule`), None for bundles without one."""

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def cleaning(self) -> CleaningOptions:
        """The cleaning the models were trained with, which serving must repeat."""
        return CleaningOptions.from_dict(self.manifest.get("cleaning"))


# --------------------------------------------------------------------------- helpers


def default_models_dir() -> Path:
    """``$NEWSDESK_MODELS`` or ``./models``, read when called (never at import)."""
    return Path(os.environ.get(MODELS_ENV, DEFAULT_MODELS_DIR))


# --------------------------------------------------------------------------- saving


FileWriter = Callable[[Path], None]
"""Writes one file of a bundle at the path it is given."""


def save_bundle(
    models_dir: Path,
    name: str,
    classifier: TopicModel,
    manifest_fields: dict[str, Any],
    extra_files: dict[str, FileWriter] | None = None,
    card: Callable[[dict[str, Any]], str] | None = None,
    make_current: bool = True,
    summarizer: Any = None,
) -> Path:
    """Write a new version of ``models_dir/name`` and (by default) make it current. Returns its path.

    ``classifier`` is a :class:`TopicClassifier` or a transformer backend (which writes its own
    files with ``save_files``); ``summarizer`` an :class:`ExtractiveSummarizer`, an abstractive
    one, or None.
    """
    check_model_name(name)
    model_dir = models_dir / name
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(model_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=model_dir))
        try:
            os.chmod(tmp, umask_mode(0o777))
            manifest = _write_files(tmp, name, classifier, manifest_fields, extra_files, summarizer)
            version_dir = _publish(model_dir, tmp, manifest, card)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except OSError as exc:
        if not disk_full(exc):
            raise
        raise BundleError(
            f"no space left on device while writing a new version of {name} in {model_dir}; nothing was saved "
            f"and 'current' still names {current_or_none(model_dir)}. Free space on that disk, or save to "
            f"another one (--models-dir)"
        ) from exc
    if make_current:
        try:
            set_current(model_dir, version_dir.name)
        except BundleError as exc:
            raise BundleError(
                f"{exc}; {version_dir.name} itself was saved complete: once there is space, make it current with "
                f"'newsdesk versions --model {model_dir} --use {version_dir.name}'"
            ) from exc
    return version_dir


def _write_files(
    tmp: Path,
    name: str,
    classifier: TopicModel,
    manifest_fields: dict[str, Any],
    extra_files: dict[str, FileWriter] | None,
    summarizer: Any,
) -> dict[str, Any]:
    """Write every file of a version into ``tmp``, fsynced; return its manifest (without version and digest)."""
    classifier_entry = write_classifier(tmp, classifier)
    summarizer_entry = (
        write_summarizer(tmp, summarizer, getattr(classifier, "sentence_encoder", None))
        if summarizer is not None
        else None
    )
    pause_for_tests(PAUSE_IN_SAVE, str(tmp))
    for filename, writer in (extra_files or {}).items():
        writer(tmp / filename)
    files = {}
    for file in sorted(p for p in tmp.rglob("*") if p.is_file()):
        fsync_file(file)
        files[file.relative_to(tmp).as_posix()] = sha256_file(file)
    uses_torch = classifier_entry["backend"] != TFIDF_BACKEND or (
        summarizer_entry is not None
        and (summarizer_entry["kind"] == ABSTRACTIVE_KIND or "sentence_encoder" in summarizer_entry)
    )
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": None,  # filled in once the version number is reserved
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": [str(c) for c in classifier.classes_],
        "multi_label": bool(classifier.multi_label_),
        "classifier": classifier_entry,
        **({"summarizer": summarizer_entry} if summarizer_entry else {}),
        **manifest_fields,
        "libraries": library_versions(transformers=uses_torch),
        "files": files,
    }


def write_classifier(directory: Path, classifier: TopicModel) -> dict[str, Any]:
    """Write the classifier's files; return its manifest entry (``backend``, ``params``, ``files``)."""
    if not isinstance(classifier, LinearTopicModel):
        return classifier.save_files(directory)  # type: ignore[attr-defined]
    terms, arrays, meta = classifier.fitted_state()
    (directory / VOCABULARY).write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    np.savez_compressed(directory / CLASSIFIER_ARRAYS, **arrays)  # type: ignore[arg-type]
    return {"backend": TFIDF_BACKEND, "params": meta["params"], "files": [VOCABULARY, CLASSIFIER_ARRAYS]}


SUMMARY_ENCODER_DIR = "summarizer_encoder"


def write_summarizer(directory: Path, summarizer: Any, classifier_encoder: Any = None) -> dict[str, Any]:
    """Write the summariser's files; return its manifest entry.

    An extractive summariser with sentence-encoder features names the encoder folder it needs:
    the classifier's own (``encoder/``) when they share one, else a copy of its own.
    """
    if not isinstance(summarizer, ExtractiveSummarizer):
        return summarizer.save_files(directory)
    terms, arrays, meta = summarizer.fitted_state()
    (directory / SUMMARIZER_JSON).write_text(json.dumps({**meta, "terms": terms}, ensure_ascii=False), encoding="utf-8")
    np.savez_compressed(directory / SUMMARIZER_ARRAYS, **arrays)  # type: ignore[arg-type]
    entry: dict[str, Any] = {
        "kind": meta["kind"],
        "length": meta["length"],
        "default_length": meta["config"]["default_length"],
        "training": meta["training"],
        "files": [SUMMARIZER_JSON, SUMMARIZER_ARRAYS],
    }
    if meta.get("extra_features"):
        encoder = summarizer.extra_features.encoder  # type: ignore[union-attr]
        folder = (
            importlib.import_module(ENCODER_MODULE).ENCODER_DIR
            if encoder is classifier_encoder
            else SUMMARY_ENCODER_DIR
        )
        if folder == SUMMARY_ENCODER_DIR:
            encoder.save(directory / folder)
        entry["sentence_encoder"] = {"folder": folder, **encoder.params()}
        entry["extra_features"] = meta["extra_features"]
        entry["files"].append(folder)
    return entry


def _publish(
    model_dir: Path, tmp: Path, manifest: dict[str, Any], card: Callable[[dict[str, Any]], str] | None
) -> Path:
    """Write the card and the manifest, then reserve the next version number by renaming ``tmp`` into place."""
    while True:
        existing = list_versions(model_dir)
        number = int(existing[-1][1:]) + 1 if existing else 1
        version = f"v{number:04d}"
        manifest["version"] = version
        if card is not None:
            (tmp / MODEL_CARD).write_text(card(manifest), encoding="utf-8")
            fsync_file(tmp / MODEL_CARD)
            manifest["files"][MODEL_CARD] = sha256_file(tmp / MODEL_CARD)
        manifest["manifest_sha256"] = manifest_digest(manifest)
        write_json(tmp / MANIFEST, manifest)
        fsync_file(tmp / MANIFEST)
        fsync_dir(tmp)
        try:
            os.rename(tmp, model_dir / version)
        except OSError:
            if (model_dir / version).exists():
                continue  # another process took this number first; take the next one
            raise
        break
    fsync_dir(model_dir)
    return model_dir / version


# --------------------------------------------------------------------------- loading


def _backend_class(backend: str, version_dir: Path) -> Any:
    """The class that loads a transformer backend, imported now (this is where torch comes in)."""
    target = CLASSIFIER_BACKENDS.get(backend)
    if target is None:
        raise BundleError(
            f"{version_dir} has a classifier of backend {backend!r}; this newsdesk knows "
            f"{', '.join(CLASSIFIER_BACKENDS)}: upgrade newsdesk"
        )
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _read_json_and_arrays(version_dir: Path, json_name: str, arrays_name: str, part: str) -> tuple[Any, dict[str, Any]]:
    """A part's JSON file and its numpy arrays (``allow_pickle=False``: an object array is an error, never run)."""
    try:
        data = json.loads((version_dir / json_name).read_text(encoding="utf-8"))
        with np.load(version_dir / arrays_name, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{version_dir}: the {part} files cannot be read ({exc})") from None
    return data, arrays


def load_classifier(version_dir: Path, manifest: dict[str, Any]) -> TopicModel:
    """Load the classifier of a verified bundle: TF-IDF (JSON and numpy arrays) or a transformer backend
    (safetensors weights; needs the ``transformers`` extra). Nothing is unpickled."""
    entry = manifest["classifier"]
    backend = entry.get("backend", TFIDF_BACKEND)
    if backend != TFIDF_BACKEND:
        cls = _backend_class(backend, version_dir)
        try:
            return cls.load_files(version_dir, entry, manifest)
        except ImportError as exc:
            raise BundleError(f"{version_dir} holds a {backend} model: {exc}") from None
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{version_dir}: the {backend} classifier cannot be loaded ({exc})") from None
    terms, arrays = _read_json_and_arrays(version_dir, VOCABULARY, CLASSIFIER_ARRAYS, "classifier")
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise BundleError(f"{version_dir / VOCABULARY} is not a list of terms; the bundle is damaged")
    meta = {
        "labels": manifest["labels"],
        "multi_label": manifest["multi_label"],
        "params": manifest["classifier"]["params"],
    }
    try:
        return LinearTopicModel.from_fitted_state(terms, arrays, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{version_dir}: the classifier does not match its manifest ({exc})") from None


def load_summarizer(version_dir: Path, manifest: dict[str, Any], classifier: Any = None) -> Any:
    """Load the summariser of a verified bundle, or None for a bundle saved without one.

    An abstractive summariser, or an extractive one with sentence-encoder features, needs the
    ``transformers`` extra; the latter shares the classifier's encoder when the bundle says so.
    """
    if "summarizer" not in manifest:
        return None
    entry = manifest["summarizer"]
    extra = None
    try:
        if entry.get("kind") == ABSTRACTIVE_KIND:
            return AbstractiveSummarizer.load_files(version_dir, entry)
        if "sentence_encoder" in entry:
            settings = entry["sentence_encoder"]
            encoders = importlib.import_module(ENCODER_MODULE)
            shared = getattr(classifier, "sentence_encoder", None)
            if settings["folder"] == encoders.ENCODER_DIR and shared is not None:
                encoder = shared
            else:
                encoder = encoders.load_bundled_encoder(version_dir / settings["folder"], settings)
            extra = encoders.SentenceSimilarityFeatures(encoder)
    except ImportError as exc:
        raise BundleError(f"{version_dir} holds a transformer summariser: {exc}") from None
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{version_dir}: the summariser cannot be loaded ({exc})") from None
    meta, arrays = _read_json_and_arrays(version_dir, SUMMARIZER_JSON, SUMMARIZER_ARRAYS, "summariser")
    terms = meta.pop("terms", None) if isinstance(meta, dict) else None
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise BundleError(f"{version_dir / SUMMARIZER_JSON} has no list of terms; the bundle is damaged")
    try:
        return ExtractiveSummarizer.from_fitted_state(terms, arrays, meta, extra)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{version_dir}: the summariser cannot be rebuilt ({exc})") from None


def load_bundle(path: str | Path, version: str | None = None) -> Bundle:
    """Load ``models/NAME`` (its current version, or ``version``) or a version directory, verifying it."""
    version_dir = resolve_version_dir(path, version)
    manifest = read_manifest(version_dir)
    verify_files(version_dir, manifest)
    classifier = load_classifier(version_dir, manifest)
    summarizer = load_summarizer(version_dir, manifest, classifier)
    review = _load_review_rule(version_dir, manifest, classifier)
    return Bundle(path=version_dir, manifest=manifest, classifier=classifier, summarizer=summarizer, review=review)


def _load_review_rule(version_dir: Path, manifest: dict[str, Any], classifier: Any) -> Any:
    """The bundle's needs-review rule (None when it was saved without one)."""
    part = tfidf_part(classifier)
    n_terms = len(part.vectorizer_.vocabulary_) if part is not None and hasattr(part, "vectorizer_") else None
    embedded = encoder_part(classifier)
    n_dims = int(embedded.head_.coef_.shape[1]) if embedded is not None else None
    try:
        return load_review(version_dir, manifest.get("review"), len(manifest["labels"]), n_terms, n_dims)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{version_dir}: the needs-review rule cannot be loaded ({exc})") from None
