"""The `allywatch` command: one sub-command per module in `pipelines.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed arguments and returning an exit code. Keeping the
wiring here and the work in the modules lets each command be tested on its own.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

# Order is the order shown by `allywatch --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "replay",
    "extract",
    "eval",
    "subscribe",
    "tail",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allywatch",
        description="Streaming monitor for defense-cooperation events in world news.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"pipelines.commands.{name}").register(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    """Set up logging before anything imports Beam, whose import-time warnings would otherwise show."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # Beam and the Google clients are chatty at INFO; keep them quiet unless asked.
    if verbosity < 2:
        for noisy in ("apache_beam", "google", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_drop_optional_gcp_warnings)


def _drop_optional_gcp_warnings(record: logging.LogRecord) -> bool:
    """Beam warns at import that GCS/BigQuery clients are absent; allywatch uses neither."""
    message = record.getMessage()
    return not ("GCSFileSystem" in message or "apitools not found" in message)


def _verbosity(argv: Sequence[str]) -> int:
    """-v/-vv before the command, read ahead of full parsing so logging is ready for imports."""
    count = 0
    for arg in argv:
        if not arg.startswith("-") or arg.startswith("--"):
            if arg == "--verbose":
                count += 1
                continue
            break
        if set(arg[1:]) == {"v"}:
            count += len(arg) - 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    configure_logging(_verbosity(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
