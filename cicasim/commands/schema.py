"""Print the JSON Schema of scenario files (for editors that check TOML as it is typed)."""

from __future__ import annotations

import argparse
import json

from cicasim.commands._common import bounded_int
from cicasim.spec.scenario import json_schema

HELP = "print the JSON Schema of scenario files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--indent", type=bounded_int(0, 16), default=2, help="indentation (default 2, 0-16)"
    )


def run(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=args.indent))
    return 0
