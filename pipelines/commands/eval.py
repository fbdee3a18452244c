"""`allywatch eval extraction|clustering`: score the project against labelled data."""

from __future__ import annotations

import argparse
import importlib

EVALUATIONS = {
    "extraction": "Score `extract` against labelled items (detection, type, partners, concerns).",
    "clustering": "Score a replay's alerts against labelled events (B-cubed, alerts per event).",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="score extraction or clustering on labelled data", description=__doc__
    )
    kinds = parser.add_subparsers(dest="evaluation", metavar="WHAT", required=True)
    for name, help_text in EVALUATIONS.items():
        module = importlib.import_module(f"pipelines.evaluation.{name}")
        sub = kinds.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(func=module.run)
