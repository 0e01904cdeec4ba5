"""The ``newsdesk`` console command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from newsdesk.train.durable import disk_full
from newsdesk.train.versions import BundleError

EXIT_USAGE = 2
"""Exit code for a usage or input error (argparse's own)."""


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, its one-line summary, and the function (``module:function``) that adds its options."""

    name: str
    summary: str
    register: str

    def add_to(self, subparsers: argparse._SubParsersAction) -> None:
        """Add this command with all its options (importing the module that defines them)."""
        module, function = self.register.split(":")
        getattr(importlib.import_module(module), function)(subparsers, self.summary)


COMMANDS = (
    Command("train", "train a topic classifier and save a model bundle", "newsdesk.train.cli:add_train_command"),
    Command("evaluate", "score a labelled dataset with a saved model", "newsdesk.train.cli:add_evaluate_command"),
    Command(
        "versions",
        "list a model's saved versions, or make another one current (rollback)",
        "newsdesk.train.cli:add_versions_command",
    ),
    Command(
        "serve", "serve a model over HTTP (predict, summarize, analyze)", "newsdesk.serve.api.server:add_serve_command"
    ),
    Command(
        "score",
        "add topics (and summaries) to every row of CSV/TSV/JSONL/Parquet files",
        "newsdesk.serve.batch.command:add_score_command",
    ),
)
"""Every subcommand. Only the one being run has its options (and its modules) loaded, so ``newsdesk --help``
starts in a fraction of a second and ``newsdesk serve`` never imports the training and batch libraries."""


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser: every subcommand listed, the one named in ``argv`` with all its options.

    With ``argv`` None every subcommand gets its options (slower; for documentation and tests).
    """
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="News topic classification and summarisation: train models, evaluate them, serve them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = None if argv is None else chosen_command(argv)
    for command in COMMANDS:
        if argv is None or command.name == chosen:
            command.add_to(subparsers)
        else:
            subparsers.add_parser(command.name, help=command.summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except (BundleError, ValueError, FileNotFoundError) as exc:  # DatasetError is a ValueError
        if args.verbose:
            raise
        print(f"newsdesk {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        # The writers name the file and what to do; this catches a full disk anywhere else.
        if args.verbose or not disk_full(exc):
            raise
        where = f" while writing {exc.filename}" if exc.filename else ""
        print(
            f"newsdesk {args.command}: error: no space left on device{where}; free space on that disk, "
            f"or write somewhere else",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"newsdesk {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
