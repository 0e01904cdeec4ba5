"""The ``train`` and ``evaluate`` subcommands of the ``newsdesk`` command."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from newsdesk.train.classify.review import ReviewConfig
from newsdesk.train.data import ColumnMap
from newsdesk.train.text.cleaning import CleaningOptions
from newsdesk.train.text.webpage import FORMATS


def _help(cls: type, name: str) -> str:
    """The help text stored on a dataclass field, so options and configs say the same thing."""
    for f in fields(cls):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise KeyError(name)


def _config_option(group: Any, flag: str, cls: type, name: str, **kwargs: Any) -> None:
    """An option whose default, type and help come from a config dataclass field, so they cannot disagree."""
    spec = next(f for f in fields(cls) if f.name == name)
    default = spec.default_factory() if spec.default is MISSING else spec.default  # type: ignore[misc]
    if "choices" not in kwargs:
        kwargs.setdefault("type", type(default))
    group.add_argument(flag, default=default, help=f"{_help(cls, name)} (default: %(default)s)", **kwargs)


def add_column_options(parser: argparse.ArgumentParser) -> None:
    """Options naming the dataset's columns (shared by every command that reads a dataset)."""
    group = parser.add_argument_group("columns")
    defaults = ColumnMap()
    for name in ("text", "label", "title", "summary", "id"):
        group.add_argument(
            f"--{name}-col",
            default=getattr(defaults, name),
            metavar="NAME",
            help=f"column holding the {name} (default: %(default)s)",
        )


def columns_from_args(args: argparse.Namespace) -> ColumnMap:
    """Build a :class:`ColumnMap` from parsed column options."""
    return ColumnMap(
        text=args.text_col, label=args.label_col, title=args.title_col, summary=args.summary_col, id=args.id_col
    )


def add_train_command(subparsers: Any, summary: str) -> None:
    """Register ``train`` (with its one-line ``summary``) on the top-level parser's subparsers."""
    from newsdesk.train.classify.tfidf import PRIORS
    from newsdesk.train.pipeline import ClassifierConfig, TrainConfig
    from newsdesk.train.stories.dedupe import DEDUPE_MODES

    train = subparsers.add_parser(
        "train",
        help=summary,
        description="Load a labelled dataset, hold out a test split, fit the topic classifier, "
        "and save a new bundle version under MODELS_DIR/NAME (made current).",
        epilog="example: newsdesk train --data articles.csv --label-col category --name bbc",
    )
    train.add_argument("--data", required=True, type=Path, help=_help(TrainConfig, "data"))
    train.add_argument("--name", required=True, help=_help(TrainConfig, "name"))
    train.add_argument("--models-dir", type=Path, default=None, help=_help(TrainConfig, "models_dir"))
    train.add_argument("--summaries-dir", type=Path, default=None, help=_help(TrainConfig, "summaries_dir"))
    _config_option(train, "--test-size", TrainConfig, "test_size")
    _config_option(train, "--seed", TrainConfig, "seed")
    _config_option(train, "--min-examples", TrainConfig, "min_examples")
    train.add_argument("--drop-rare-labels", action="store_true", help=_help(TrainConfig, "drop_rare_labels"))
    train.add_argument("--refit-on-all", action="store_true", help=_help(TrainConfig, "refit_on_all"))
    _config_option(train, "--dedupe", TrainConfig, "dedupe", choices=DEDUPE_MODES)
    add_column_options(train)
    add_cleaning_options(train)
    model = train.add_argument_group("classifier")
    _config_option(model, "--ngram-max", ClassifierConfig, "ngram_max")
    _config_option(model, "--min-df", ClassifierConfig, "min_df")
    _config_option(model, "--C", ClassifierConfig, "C", dest="C")
    model.add_argument("--keep-stop-words", action="store_true", help="keep English stop words as features")
    _config_option(model, "--calibration-folds", ClassifierConfig, "calibration_folds")
    _config_option(model, "--prior", ClassifierConfig, "prior", choices=PRIORS)
    add_review_options(train)
    add_transformer_options(train)
    add_progress_options(train)
    add_summary_length_option(train)
    train.set_defaults(handler=run_train)


def add_evaluate_command(subparsers: Any, summary: str) -> None:
    """Register ``evaluate`` on the top-level parser's subparsers."""
    evaluate = subparsers.add_parser(
        "evaluate",
        help=summary,
        description="Load a saved bundle and report accuracy and F1 on a labelled dataset.",
        epilog="example: newsdesk evaluate --model models/bbc --data test.csv --label-col category --json",
    )
    evaluate.add_argument(
        "--model", required=True, type=Path, help="models/NAME (its current version) or a version folder"
    )
    evaluate.add_argument(
        "--version", default=None, help="a version of the model other than the current one (e.g. v0002)"
    )
    evaluate.add_argument("--data", required=True, type=Path, help="labelled dataset file or folder")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as one JSON object on stdout")
    evaluate.add_argument(
        "--no-baselines",
        action="store_true",
        help="score the summaries against Lead-3 and Lead-k only, without the TextRank and oracle baselines "
        "(the quickest check)",
    )
    evaluate.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes that summarise and score the articles (default: one per core); the numbers do not depend on it",
    )
    add_progress_options(evaluate)
    add_column_options(evaluate)
    evaluate.set_defaults(handler=run_evaluate)


def add_versions_command(subparsers: Any, summary: str) -> None:
    """Register ``versions`` on the top-level parser's subparsers."""
    versions = subparsers.add_parser(
        "versions",
        help=summary,
        description="List the versions under models/NAME with their creation time and held-out metrics; "
        "with --use, point 'current' at another version atomically.",
        epilog="example: newsdesk versions --model models/bbc --use v0001",
    )
    versions.add_argument("--model", required=True, type=Path, help="models/NAME")
    versions.add_argument("--use", metavar="VERSION", default=None, help="make VERSION (e.g. v0001) the current one")
    versions.set_defaults(handler=run_versions)


def add_progress_options(parser: argparse.ArgumentParser, *, no_progress_help: str | None = None) -> None:
    """``--progress`` / ``--no-progress``: bars on a terminal by default, one line per stage in a log."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--progress",
        dest="progress",
        action="store_const",
        const=True,
        default=None,
        help="draw progress bars even when stderr is not a terminal (default: bars only on a terminal; "
        "otherwise one line per stage with its count and seconds)",
    )
    group.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const=False,
        help=no_progress_help or "no progress bars, even on a terminal (one line per stage instead)",
    )


def apply_progress_option(args: argparse.Namespace) -> None:
    """Make ``--progress`` / ``--no-progress`` the process-wide choice (see :mod:`newsdesk.train.progress`)."""
    from newsdesk.train.progress import set_progress_bars

    set_progress_bars(getattr(args, "progress", None))


def add_review_options(parser: argparse.ArgumentParser) -> None:
    """The "needs review" trade-off (single-label models)."""
    group = parser.add_argument_group("needs review (single-label models)")
    _config_option(group, "--coverage", ReviewConfig, "coverage", metavar="SHARE")
    _config_option(group, "--scope-share", ReviewConfig, "scope_share", metavar="SHARE")
    group.add_argument("--no-review", action="store_true", help="always name a topic (learn no needs-review rule)")


def add_transformer_options(parser: argparse.ArgumentParser) -> None:
    """Backend, summariser, fine-tuning and generation options (the transformer ones need the extra)."""
    from newsdesk.train.classify.encoder import EncoderConfig
    from newsdesk.train.classify.finetune import FinetuneConfig
    from newsdesk.train.pipeline import BACKENDS, SUMMARIZERS, TrainConfig
    from newsdesk.train.summarize.abstractive import AbstractiveConfig

    extra = " (needs: pip install 'newsdesk[transformers]')"
    group = parser.add_argument_group("backends" + extra)
    _config_option(group, "--backend", TrainConfig, "backend", choices=BACKENDS)
    group.add_argument(
        "--encoder", default=EncoderConfig().encoder, metavar="PATH_OR_ID", help=_help(EncoderConfig, "encoder")
    )
    group.add_argument("--encoder-window", type=int, metavar="TOKENS", help=_help(EncoderConfig, "window"))
    _config_option(group, "--encoder-stride", EncoderConfig, "stride", metavar="TOKENS")
    group.add_argument("--encoder-C", dest="encoder_C", type=float, metavar="C", help=_help(EncoderConfig, "C"))
    for flag, text in (
        ("--no-encoder-short-views", "with --backend encoder, do not " + _help(EncoderConfig, "short_views")),
        (
            "--no-summary-features",
            "with --backend encoder or ensemble, do not add sentence-embedding features to the extractive summariser",
        ),
        ("--keep-ensemble", "save the ensemble even when it does not beat both of its members on the held-out split"),
    ):
        group.add_argument(flag, action="store_true", help=text)
    group.add_argument(
        "--base-model",
        default=None,
        metavar="PATH_OR_ID",
        help="model to fine-tune with --backend finetune, or the seq2seq model of --summarizer abstractive",
    )
    _config_option(group, "--summarizer", TrainConfig, "summarizer_kind", choices=SUMMARIZERS)
    group.add_argument(
        "--summarizer-model",
        default=None,
        metavar="PATH_OR_ID",
        help="seq2seq model of --summarizer abstractive when --base-model is the classifier's (--backend finetune)",
    )
    group.add_argument("--no-finetune", action="store_true", help="use the abstractive summariser's model as it is")
    tune = parser.add_argument_group("fine-tuning (--backend finetune, --summarizer abstractive)")
    classifier_defaults, summary_defaults = FinetuneConfig(), AbstractiveConfig()
    tune.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=_help(FinetuneConfig, "epochs") + f" (default: {classifier_defaults.epochs})",
    )
    tune.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"{_help(FinetuneConfig, 'batch_size')} (default: {classifier_defaults.batch_size} for the classifier, "
        f"{summary_defaults.batch_size} for the summariser)",
    )
    tune.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help=_help(FinetuneConfig, "learning_rate") + f" (default: {classifier_defaults.learning_rate})",
    )
    tune.add_argument(
        "--max-length",
        type=int,
        default=classifier_defaults.max_length,
        help=_help(FinetuneConfig, "max_length") + " of the fine-tuned classifier (default: %(default)s)",
    )
    tune.add_argument(
        "--patience",
        type=int,
        default=None,
        help=_help(FinetuneConfig, "patience") + f" (default: {classifier_defaults.patience})",
    )
    tune.add_argument(
        "--validation-size",
        type=float,
        default=None,
        help=_help(FinetuneConfig, "validation_size") + f" (default: {classifier_defaults.validation_size})",
    )
    generation = parser.add_argument_group("generation (--summarizer abstractive)")
    _config_option(generation, "--max-new-tokens", AbstractiveConfig, "max_new_tokens")
    _config_option(generation, "--num-beams", AbstractiveConfig, "num_beams")
    generation.add_argument(
        "--max-input-tokens", type=int, default=None, help=_help(AbstractiveConfig, "max_input_tokens")
    )


def transformer_configs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields of the backend, summariser, fine-tuning and generation options."""
    from newsdesk.train.classify.encoder import EncoderConfig
    from newsdesk.train.classify.ensemble import EnsembleConfig
    from newsdesk.train.classify.finetune import FinetuneConfig
    from newsdesk.train.summarize.abstractive import AbstractiveConfig

    shared = {
        name: value
        for name, value in (
            ("epochs", args.epochs),
            ("batch_size", args.batch_size),
            ("learning_rate", args.learning_rate),
            ("patience", args.patience),
            ("validation_size", args.validation_size),
        )
        if value is not None
    }
    finetuning_classifier = args.backend == "finetune"
    summary_model = args.summarizer_model or (None if finetuning_classifier else args.base_model)
    if args.summarizer == "abstractive" and finetuning_classifier and not args.summarizer_model:
        raise ValueError(
            "--backend finetune and --summarizer abstractive need two models: --base-model for the classifier "
            "and --summarizer-model for the seq2seq summariser"
        )
    return {
        "backend": args.backend,
        "encoder": EncoderConfig(
            encoder=args.encoder,
            window=args.encoder_window,
            stride=args.encoder_stride,
            C=EncoderConfig.C if args.encoder_C is None else args.encoder_C,
            short_views=False if args.no_encoder_short_views else None,
            summary_features=not args.no_summary_features,
        ),
        "ensemble": EnsembleConfig(keep="always" if args.keep_ensemble else "if-better"),
        "finetune": FinetuneConfig(
            base_model=args.base_model if finetuning_classifier else None, max_length=args.max_length, **shared
        ),
        "summarizer_kind": args.summarizer,
        "abstractive": AbstractiveConfig(
            base_model=summary_model if args.summarizer == "abstractive" else None,
            finetune=not args.no_finetune,
            max_new_tokens=args.max_new_tokens,
            num_beams=args.num_beams,
            max_input_tokens=args.max_input_tokens,
            **shared,
        ),
    }


def add_cleaning_options(parser: argparse.ArgumentParser, saved_in_bundle: bool = True) -> None:
    """``--format`` and ``--keep-boilerplate``: how article bodies are cleaned."""
    group = parser.add_argument_group("cleaning")
    where = (
        "saved in the bundle, so serving cleans the same way"
        if saved_in_bundle
        else "default: as the model was trained"
    )
    group.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help=f"article bodies are HTML pages (main text extracted), plain text, or auto-detected ({where}; default auto)",
    )
    group.add_argument(
        "--keep-boilerplate",
        action="store_true",
        default=None,
        help=f"do not drop page furniture lines (menus, timestamps, share links, headline lists); {where}",
    )


def remove_boilerplate_from_args(args: argparse.Namespace) -> bool | None:
    """``--keep-boilerplate`` as a choice: False when given, None (the defaults' or bundle's) otherwise."""
    return None if args.keep_boilerplate is None else not args.keep_boilerplate


def cleaning_from_args(args: argparse.Namespace, base: CleaningOptions | None = None) -> CleaningOptions:
    """Cleaning options from the command line, on top of ``base`` (the defaults, or a bundle's)."""
    return (base or CleaningOptions()).overridden(args.format, remove_boilerplate_from_args(args))


def add_summary_length_option(parser: argparse.ArgumentParser) -> None:
    """``--summary-length``: the preset the bundle's extractive summariser uses when a caller asks for none."""
    from newsdesk.train.summarize.extractive import SummarizerConfig
    from newsdesk.train.summarize.presets import PRESETS

    _config_option(parser, "--summary-length", SummarizerConfig, "default_length", choices=PRESETS)


def run_train(args: argparse.Namespace) -> int:
    """Handle ``newsdesk train``."""
    from newsdesk.train.pipeline import ClassifierConfig, TrainConfig, train_model
    from newsdesk.train.progress import note
    from newsdesk.train.summarize.extractive import SummarizerConfig

    apply_progress_option(args)
    config = TrainConfig(
        data=args.data,
        name=args.name,
        models_dir=args.models_dir,
        columns=columns_from_args(args),
        summaries_dir=args.summaries_dir,
        test_size=args.test_size,
        seed=args.seed,
        min_examples=args.min_examples,
        drop_rare_labels=args.drop_rare_labels,
        refit_on_all=args.refit_on_all,
        dedupe=args.dedupe,
        cleaning=cleaning_from_args(args),
        classifier=ClassifierConfig(
            **{name: getattr(args, name) for name in ("ngram_max", "min_df", "C", "calibration_folds", "prior")},
            stop_words=not args.keep_stop_words,
        ),
        summarizer=SummarizerConfig(default_length=args.summary_length),
        review=ReviewConfig(coverage=args.coverage, scope_share=args.scope_share, enabled=not args.no_review),
        **transformer_configs_from_args(args),
    )
    result = train_model(config, progress=note)
    print(result.path)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle ``newsdesk evaluate``."""
    from newsdesk.train.bundle import load_bundle
    from newsdesk.train.classify.evaluation import headline
    from newsdesk.train.pipeline import evaluate_bundle

    apply_progress_option(args)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    bundle = load_bundle(args.model, args.version)
    metrics = evaluate_bundle(bundle, args.data, columns_from_args(args), baselines=not args.no_baselines, jobs=jobs)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
        return 0
    print(f"model {bundle.name} {bundle.version} on {args.data} ({metrics['n']} articles)")
    for key, value in headline(metrics).items():
        print(f"  {key:<10} {value:.4f}")
    if metrics.get("unseen_labels"):
        print(f"  labels the model never saw (counted as errors): {', '.join(metrics['unseen_labels'])}")
    print("  per class:")
    for label, scores in metrics["per_class"].items():
        print(
            f"    {label:<20} P {scores['precision']:.3f}  R {scores['recall']:.3f}  F1 {scores['f1']:.3f}  n {scores['support']}"
        )
    if "summarizer" in metrics:
        summary = metrics["summarizer"]
        print(f"  summaries ({summary['articles']} articles with references), ROUGE F1:")
        print(f"    {'system':<14} {'R-1':>7} {'R-2':>7} {'R-Lsum':>7}")
        from newsdesk.train.summarize.comparison import SUMMARY_ROWS

        for system in (s for s in SUMMARY_ROWS if s in summary):  # abstractive: no TextRank baseline nor presets
            scores = summary[system]
            print(f"    {system:<14} {scores['rouge1']:7.4f} {scores['rouge2']:7.4f} {scores['rougeLsum']:7.4f}")
    return 0


def run_versions(args: argparse.Namespace) -> int:
    """Handle ``newsdesk versions``."""
    from newsdesk.train.manifest import read_manifest, verify_files
    from newsdesk.train.versions import BundleError, list_versions, read_current, resolve_version_dir, set_current

    names = list_versions(args.model)
    if not names:
        raise BundleError(f"no saved versions under {args.model}; train one with 'newsdesk train --name NAME'")
    if args.use is not None:
        version_dir = resolve_version_dir(args.model, args.use)
        verify_files(version_dir, read_manifest(version_dir))  # refuse to point at a damaged version
        set_current(args.model, args.use)
        print(f"{args.model}: current is now {args.use}")
        return 0
    current = read_current(args.model)
    for name in names:
        marker = "*" if name == current else " "
        try:
            manifest = read_manifest(args.model / name)
            scores = {**manifest.get("metrics", {}), **manifest.get("summary_metrics", {})}
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
            print(f"{marker} {name}  {manifest['created']}  {metrics}")
        except BundleError as exc:
            print(f"{marker} {name}  damaged: {exc}")
    return 0
