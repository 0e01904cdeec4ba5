"""One training run: load and validate data, split, fit, evaluate on the held-out part, save a bundle."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.train.backends import ClassifierBackend, TfidfBackend
from newsdesk.train.bundle import CONFUSION_PNG, METRICS, Bundle, default_models_dir, save_bundle
from newsdesk.train.card import render_model_card
from newsdesk.train.classify.encoder import EncoderConfig, SentenceSimilarityFeatures
from newsdesk.train.classify.ensemble import EnsembleConfig
from newsdesk.train.classify.evaluation import evaluate_classifier, headline, plot_confusion_matrix
from newsdesk.train.classify.finetune import FinetuneConfig
from newsdesk.train.classify.review import REVIEW_JSON, ReviewConfig, fit_centroids, learn_review, write_review
from newsdesk.train.classify.tfidf import PRIORS, TopicClassifier
from newsdesk.train.data import Article, ColumnMap, Dataset, check_label_counts, load_dataset
from newsdesk.train.durable import write_json
from newsdesk.train.progress import note, stage_line, track
from newsdesk.train.stories.dedupe import DEDUPE_MODES, find_near_duplicates, keep_first, near_duplicate_lines
from newsdesk.train.summarize.abstractive import KIND as ABSTRACTIVE
from newsdesk.train.summarize.abstractive import AbstractiveConfig
from newsdesk.train.summarize.abstractive_metrics import evaluate_abstractive
from newsdesk.train.summarize.extractive import SUPERVISED, ExtractiveSummarizer, SummarizerConfig
from newsdesk.train.summarize.features import SentenceFeatureProvider
from newsdesk.train.summarize.metrics import evaluate_summarizer, headline_line, not_evaluated, rouge_headline
from newsdesk.train.text.cleaning import CleaningOptions
from newsdesk.train.transformer_pipeline import TransformerBackend, train_abstractive
from newsdesk.train.versions import check_model_name

log = logging.getLogger(__name__)


@dataclass
class ClassifierConfig:
    """Options of the TF-IDF linear classifier."""

    ngram_max: int = field(default=2, metadata={"help": "longest word n-gram (1 = words only)"})
    min_df: int = field(default=2, metadata={"help": "ignore n-grams seen in fewer documents"})
    C: float = field(default=1.0, metadata={"help": "inverse regularisation strength of the linear SVM"})
    stop_words: bool = field(default=True, metadata={"help": "drop English stop words"})
    calibration_folds: int = field(default=5, metadata={"help": "folds for out-of-fold calibration and thresholds"})
    prior: str = field(
        default="uniform",
        metadata={
            "help": "single-label decisions: uniform (each topic from the article's words alone, no per-topic "
            "intercepts; holds up better on short texts and other outlets) or training (the SVM's intercepts, "
            "which carry the training set's balance of topics); also the encoder and ensemble backends' "
            "logistic head (uniform: fitted without intercepts)"
        },
    )

    def __post_init__(self) -> None:
        if self.ngram_max < 1:
            raise ValueError(f"ngram_max must be >= 1, got {self.ngram_max}")
        if self.min_df < 1:
            raise ValueError(f"min_df must be >= 1, got {self.min_df}")
        if self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        if self.calibration_folds < 2:
            raise ValueError(f"calibration_folds must be >= 2, got {self.calibration_folds}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")

    def build(self, seed: int) -> TopicClassifier:
        """A fresh, unfitted classifier with these options."""
        return TopicClassifier(
            ngram_max=self.ngram_max,
            min_df=self.min_df,
            C=self.C,
            stop_words="english" if self.stop_words else None,
            calibration_folds=self.calibration_folds,
            prior=self.prior,
            seed=seed,
        )


TRAINING_BACKENDS: dict[str, ClassifierBackend] = {
    "tfidf": TfidfBackend(),
    "encoder": TransformerBackend(),
    "ensemble": TransformerBackend(),
    "finetune": TransformerBackend(),
}
"""``newsdesk train --backend`` name -> how it trains."""
BACKENDS = tuple(TRAINING_BACKENDS)
"""Classifier backends of ``newsdesk train --backend``; all but tfidf need the ``transformers`` extra."""
SUMMARIZERS = ("extractive", "abstractive")


@dataclass
class TrainConfig:
    """Everything one ``newsdesk train`` run needs."""

    data: Path = field(metadata={"help": "dataset file (CSV, TSV, JSONL, Parquet) or folder <root>/<label>/*.txt"})
    name: str = field(metadata={"help": "model name: the bundle goes to MODELS_DIR/NAME/vNNNN"})
    models_dir: Path | None = field(
        default=None, metadata={"help": "where bundles live (default $NEWSDESK_MODELS or ./models)"}
    )
    columns: ColumnMap = field(default_factory=ColumnMap)
    summaries_dir: Path | None = field(default=None, metadata={"help": "parallel tree of reference summaries"})
    test_size: float = field(default=0.2, metadata={"help": "share of articles held out for evaluation"})
    seed: int = field(default=0, metadata={"help": "random seed for the split and the models"})
    min_examples: int = field(default=2, metadata={"help": "fewest articles a label may have"})
    drop_rare_labels: bool = field(
        default=False, metadata={"help": "leave out labels below --min-examples instead of failing"}
    )
    dedupe: str = field(
        default="exact",
        metadata={
            "help": "exact: remove exact duplicate texts (near-duplicates are reported); near: also remove "
            "near-duplicates (the same article lightly edited), keeping the first of each group, before splitting"
        },
    )
    refit_on_all: bool = field(
        default=False,
        metadata={"help": "after evaluating, refit on all articles (metrics stay those of the held-out run)"},
    )
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    summarizer: SummarizerConfig = field(default_factory=SummarizerConfig)
    cleaning: CleaningOptions = field(default_factory=CleaningOptions)
    backend: str = field(
        default="tfidf",
        metadata={
            "help": "classifier: tfidf (TF-IDF + linear SVM), encoder (sentence-encoder embeddings + logistic "
            "regression), ensemble (both, weighted on a validation split) or finetune (a fine-tuned transformer)"
        },
    )
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    summarizer_kind: str = field(
        default="extractive",
        metadata={"help": "summariser: extractive (chooses sentences) or abstractive (a seq2seq model writes one)"},
    )
    abstractive: AbstractiveConfig = field(default_factory=AbstractiveConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)

    def __post_init__(self) -> None:
        self.data = Path(self.data)
        check_model_name(self.name)
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be between 0 and 1 (a share of the articles), got {self.test_size}")
        if self.min_examples < 2:
            raise ValueError(f"min_examples must be >= 2 (one to train on, one to evaluate), got {self.min_examples}")
        if self.models_dir is None:
            self.models_dir = default_models_dir()
        self.models_dir = Path(self.models_dir)
        if self.dedupe not in DEDUPE_MODES:
            raise ValueError(f"dedupe must be one of {', '.join(DEDUPE_MODES)}, got {self.dedupe!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.summarizer_kind not in SUMMARIZERS:
            raise ValueError(f"summarizer must be one of {', '.join(SUMMARIZERS)}, got {self.summarizer_kind!r}")
        if self.backend == "finetune" and not self.finetune.base_model:
            raise ValueError("--backend finetune needs a model to fine-tune: pass --base-model PATH_OR_ID")
        if self.summarizer_kind == ABSTRACTIVE and not self.abstractive.base_model:
            raise ValueError("--summarizer abstractive needs a seq2seq model: pass --base-model PATH_OR_ID")
        if self.refit_on_all and (
            self.backend == "finetune" or (self.summarizer_kind == ABSTRACTIVE and self.abstractive.finetune)
        ):
            raise ValueError(
                "--refit-on-all cannot be used with fine-tuning (it stops early on a validation split of the "
                "training articles); leave it out"
            )

    @property
    def uses_encoder(self) -> bool:
        """Whether the run embeds articles with the sentence encoder."""
        return self.backend in ("encoder", "ensemble")


@dataclass
class TrainResult:
    """What a training run produced."""

    path: Path
    metrics: dict[str, Any]
    dataset: Dataset
    seconds: float


Progress = Callable[[str], None]


def split_strata(dataset: Dataset) -> list[str]:
    """One stratum per article: its label, or for multi-label data its rarest label.

    Stratifying multi-label data by the rarest label keeps rare labels on both sides of the
    split. Strata with a single article are merged into one, since a stratum needs two.
    """
    counts = dataset.label_counts
    strata = [min(labels, key=lambda label: (counts[label], label)) for labels in dataset.labels]
    sizes = Counter(strata)
    return [stratum if sizes[stratum] >= 2 else "\x00rare" for stratum in strata]


def split_dataset(dataset: Dataset, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/test split, stratified by label (the rarest one for multi-label data).

    Every stratum of two or more articles puts at least one in each part, so no label that can
    be both trained and evaluated is left out of either.
    """
    if len(dataset) < 2:
        raise ValueError(f"{len(dataset)} article is too few to hold one out for evaluation; add articles")
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for index, stratum in enumerate(split_strata(dataset)):
        groups.setdefault(stratum, []).append(index)
    names = sorted(groups)
    sizes = np.array([len(groups[name]) for name in names])
    # Largest-remainder allocation of round(test_size * n) test articles over the strata,
    # with at least one on each side of every stratum that has two or more articles.
    quota = sizes * test_size
    take = np.where(sizes >= 2, np.clip(np.floor(quota), 1, sizes - 1), 0).astype(int)
    remaining = round(test_size * len(dataset)) - int(take.sum())
    order = np.lexsort((rng.random(len(names)), -(quota - np.floor(quota))))
    for i in order:
        if remaining <= 0:
            break
        if take[i] < sizes[i] - 1:
            take[i] += 1
            remaining -= 1
    test: list[int] = []
    for name, count in zip(names, take):
        test.extend(int(i) for i in rng.permutation(groups[name])[:count])
    test_idx = np.array(sorted(test), dtype=int)
    train_idx = np.setdiff1d(np.arange(len(dataset)), test_idx)
    return train_idx, test_idx


def train_model(config: TrainConfig, progress: Progress = log.info) -> TrainResult:
    """Run the whole training pipeline and write a new bundle version; return where it went."""
    started = time.perf_counter()
    dataset = load_dataset(config.data, config.columns, summaries_dir=config.summaries_dir)
    for line in dataset.report.lines():
        progress(line)
    dataset = check_label_counts(dataset, config.min_examples, config.drop_rare_labels)
    texts = [article.prepare(config.cleaning) for article in dataset.articles]
    near = find_near_duplicates(texts, dataset.labels)
    if config.dedupe == "near" and near.count:
        keep = keep_first(near)
        dataset = check_label_counts(
            replace(dataset, articles=[dataset.articles[i] for i in keep]), config.min_examples, config.drop_rare_labels
        )
        texts = [article.prepare(config.cleaning) for article in dataset.articles]
    labels = dataset.labels
    train_idx, test_idx = split_dataset(dataset, config.test_size, config.seed)
    removed = config.dedupe == "near"
    for line in near_duplicate_lines(near, removed, None if removed else near.leaking(train_idx, test_idx)):
        progress(line)
    progress(
        f"{len(dataset)} articles, {len(dataset.label_counts)} labels "
        f"({'multi' if dataset.multi_label else 'single'}-label); "
        f"training on {len(train_idx)}, holding out {len(test_idx)}"
    )

    backend = TRAINING_BACKENDS[config.backend]
    run = backend.fit(config, texts, labels, train_idx, test_idx, dataset.multi_label, progress)
    classifier, metrics, comparison = run.classifier, run.metrics, run.comparison
    review_rule, review_metrics = None, None
    if config.review.enabled and not dataset.multi_label and len(test_idx) < config.review.min_held_out:
        progress(
            f"no needs-review rule: {len(test_idx)} held-out articles are fewer than the "
            f"{config.review.min_held_out} needed to learn one; the model always names a topic"
        )
    elif config.review.enabled and not dataset.multi_label:
        review_rule, review_metrics = learn_review(
            classifier,
            ([texts[i] for i in train_idx], [labels[i][0] for i in train_idx]),
            ([texts[i] for i in test_idx], [labels[i][0] for i in test_idx]),
            config.review,
        )
        metrics["review"] = review_metrics
        progress(
            f"needs review below confidence {review_rule.min_confidence:.3f}"
            + ("" if review_rule.min_similarity is None else f" or similarity {review_rule.min_similarity:.3f}")
            + f": held-out coverage {review_metrics['held_out_coverage']:.3f}, "
            f"selective accuracy {review_metrics['held_out_selective_accuracy']:.4f}"
        )
    features = _summary_features(config, run.sentence_encoder)
    summarizer, summary_metrics = _train_summarizer(
        config, [dataset.articles[i] for i in train_idx], [dataset.articles[i] for i in test_idx], progress, features
    )
    if config.refit_on_all:
        progress("refitting on all articles")
        classifier = backend.refit_on_all(run, texts, labels)
        if review_rule is not None and review_rule.centroids is not None:
            centroids = fit_centroids(classifier, texts, [ls[0] for ls in labels], space=review_rule.space)
            review_rule = replace(review_rule, centroids=centroids)
        if config.summarizer_kind != ABSTRACTIVE:
            summarizer = _fit_summarizer(config.summarizer, dataset.articles, config.cleaning, extra=features)
    seconds = time.perf_counter() - started

    manifest_fields = {
        "data": {
            "source": str(config.data),
            "fingerprint": dataset.fingerprint(),
            "articles": len(dataset),
            "label_counts": dict(sorted(dataset.label_counts.items())),
            "columns": asdict(config.columns),
            "report": dataset.report.to_dict(),
        },
        "training": {
            "seed": config.seed,
            "test_size": config.test_size,
            "train_articles": len(texts) if config.refit_on_all else len(train_idx),
            "test_articles": len(test_idx),
            "refit_on_all": config.refit_on_all,
            "seconds": round(seconds, 2),
        },
        "cleaning": config.cleaning.to_dict(),
        "metrics": headline(metrics),
        "summary_metrics": rouge_headline(summary_metrics) if summary_metrics.get("evaluated") else {},
        **({"backend_comparison": comparison} if comparison else {}),
        **({"review": review_rule.to_dict()} if review_rule is not None else {}),
    }
    assert config.models_dir is not None
    path = save_bundle(
        config.models_dir,
        config.name,
        classifier,
        manifest_fields,
        summarizer=summarizer,
        extra_files={
            METRICS: lambda p: write_json(
                p,
                {
                    "classifier": metrics,
                    "summarizer": summary_metrics,
                    **({"backend_comparison": comparison} if comparison else {}),
                },
            ),
            CONFUSION_PNG: lambda p: plot_confusion_matrix(metrics, p),
            **({REVIEW_JSON: lambda p: write_review(p.parent, review_rule)} if review_rule is not None else {}),
        },
        card=lambda manifest: render_model_card(manifest, metrics, summary_metrics),
    )
    progress(f"saved {path} ({seconds:.1f} s)")
    return TrainResult(path=path, metrics=metrics, dataset=dataset, seconds=seconds)


def _summary_features(config: TrainConfig, encoder: Any) -> SentenceFeatureProvider | None:
    """Sentence-encoder features for the extractive summariser, when the run has an encoder and wants them."""
    if encoder is None or not config.encoder.summary_features or config.summarizer_kind == ABSTRACTIVE:
        return None
    return SentenceSimilarityFeatures(encoder)


def _fit_summarizer(
    config: SummarizerConfig,
    articles: list[Article],
    cleaning: CleaningOptions,
    progress: bool = False,
    extra: SentenceFeatureProvider | None = None,
) -> ExtractiveSummarizer:
    """A supervised summariser when the articles have reference summaries, TextRank otherwise."""
    references = [a.summary for a in articles] if any(a.summary for a in articles) else None
    return ExtractiveSummarizer(config, extra).fit(
        [a.text for a in articles], [a.title for a in articles], references, progress=progress, cleaning=cleaning
    )


def _train_summarizer(
    config: TrainConfig,
    train: list[Article],
    test: list[Article],
    progress: Progress,
    extra: SentenceFeatureProvider | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fit the summariser on the training part and evaluate it on the held-out part when it has references."""
    if config.summarizer_kind == ABSTRACTIVE:
        return train_abstractive(config, train, test, progress)
    summarizer = _fit_summarizer(config.summarizer, train, config.cleaning, progress=True, extra=extra)
    if summarizer.kind != SUPERVISED:
        progress("no reference summaries: the bundle gets an unsupervised TextRank summariser (Lead-k fallback)")
        return summarizer, not_evaluated(summarizer.kind)
    results = evaluate_summarizer(summarizer, test, progress=True, cleaning=config.cleaning)
    results["evaluated"] = True
    progress(headline_line(results))
    if extra is not None:
        # The ROUGE change the encoder features make: the same summariser without them, same split.
        plain = _fit_summarizer(config.summarizer, train, config.cleaning)
        without = rouge_headline(evaluate_summarizer(plain, test, cleaning=config.cleaning))
        results["extra_features"] = list(extra.names)
        results["without_extra_features"] = without
        progress("without the encoder features: " + ", ".join(f"{name} {value:.4f}" for name, value in without.items()))
    return summarizer, results


def evaluate_bundle(
    bundle: Bundle,
    data: Path,
    columns: ColumnMap | None = None,
    *,
    baselines: bool = True,
    progress: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """Score a saved model on a labelled dataset (deduplicated the same way as in training).

    When the data has reference summaries, the summariser is scored too (ROUGE beside the baselines;
    ``baselines=False`` skips TextRank and the oracle; ``jobs`` processes share the summaries).
    """
    dataset = load_dataset(data, columns or ColumnMap())
    texts = [
        article.prepare(bundle.cleaning)
        for article in track(dataset.articles, "cleaning articles", "articles", enabled=progress)
    ]
    started = time.perf_counter()
    metrics = evaluate_classifier(bundle.classifier, texts, dataset.labels)
    if progress:
        note(stage_line("classifying", len(texts), "articles", time.perf_counter() - started))
    metrics["data"] = dataset.report.to_dict()
    metrics["model"] = {"name": bundle.name, "version": bundle.version}
    if dataset.has_summaries and bundle.summarizer is not None:
        if getattr(bundle.summarizer, "kind", None) == ABSTRACTIVE:
            metrics["summarizer"] = evaluate_abstractive(
                bundle.summarizer, dataset.articles, progress=progress, cleaning=bundle.cleaning
            )
        else:
            metrics["summarizer"] = evaluate_summarizer(
                bundle.summarizer,
                dataset.articles,
                progress=progress,
                cleaning=bundle.cleaning,
                baselines=baselines,
                jobs=jobs,
            )
    return metrics
