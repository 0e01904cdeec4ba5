"""The ``newsdesk`` console command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from newsdesk.serve.api.server import add_serve_command
from newsdesk.serve.batch.command import add_score_command
from newsdesk.train.cli import EXIT_USAGE, add_train_commands


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="News topic classification and summarisation: train models, evaluate them, serve them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train_commands(subparsers)
    add_serve_command(subparsers)
    add_score_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    from newsdesk.train.durable import disk_full
    from newsdesk.train.tables import DatasetError
    from newsdesk.train.versions import BundleError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except (DatasetError, BundleError, ValueError, FileNotFoundError) as exc:
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
