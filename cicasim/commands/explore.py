"""Start the interactive explorer in the browser (docs/explorer.md).

It serves, on 127.0.0.1 unless --host says otherwise, the Overview (P(consensus) of every
proposal as the behaviour sliders, parameter set, uncertainty scales and an actor's stance
move), Membership (observers who join, synthetic members, paired ΔP and the enlargement curve),
One negotiation (the Mesa model in Mesa's SolaraViz, stepped round by round), Who blocks
(blocking, and pivotality with its channels on request) and Downloads (the settings as a
scenario file that `cicasim run` reproduces, the summary, every figure).  The default scenario
is the bundled CICA 2022.  Needs the explore extra: pip install 'cicasim[explore]'.
"""

from __future__ import annotations

import argparse

from cicasim.commands._common import bounded_int
from cicasim.errors import InputError

HELP = "start the interactive explorer in the browser"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?",
                        help="scenario file (TOML); default: the bundled CICA 2022")
    parser.add_argument("--port", type=bounded_int(0, 65535), default=8765,
                        help="port to listen on (default 8765; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a browser, only print the address")


def run(args: argparse.Namespace) -> int:
    from cicasim.explore.settings import load

    load(args.scenario)  # a bad scenario ends here in one line, before any server starts
    try:
        from cicasim.explore.server import serve
    except ImportError as exc:
        raise InputError(f"explore: needs the explore extra ({exc.name} is missing); install "
                         "it with pip install 'cicasim[explore]'") from None
    serve(args.scenario, host=args.host, port=args.port, browser=not args.no_browser)
    return 0
