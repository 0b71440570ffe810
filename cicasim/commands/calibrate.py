"""Calibrate a CICA scenario from the public data sets.

Reads the raw files under --data (UNGA roll calls and ideal points, Correlates of War capabilities,
disputes and rivalries, COW IGO memberships, World Bank) for the membership of --year and writes a
scenario whose every value carries its source in a comment. What the data cannot give (the
proposal dimensions, the proposals, the tension weights) comes from the assumptions file. Rules
and formulas: docs/calibration.md.
"""

from __future__ import annotations

import argparse
import sys

from cicasim.calibrate import calibrate, default_assumptions, render, write_atomic

HELP = "calibrate a CICA scenario of a given year from the public data sets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="folder holding the public data sets (see docs/calibration.md)")
    parser.add_argument("--year", required=True, type=int,
                        help="membership, observers and data of this year (1999-2024)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="scenario file to write ('-' for standard output)")
    parser.add_argument("--capability", choices=("cinc", "gdp"), default="cinc",
                        help="capability measure: COW CINC share (default) or GDP share")
    parser.add_argument("--members-as-of", type=int, default=None, metavar="YEAR",
                        help="only the members of this earlier year vote; the later members are "
                             "observers that join in their real order (a path scenario)")
    parser.add_argument("--assumptions", metavar="FILE", default=None,
                        help="assumptions file (default: scenarios/assumptions/"
                             "cica-assumptions.toml)")


def run(args: argparse.Namespace) -> int:
    assumptions = args.assumptions or default_assumptions()
    cal = calibrate(data=args.data, year=args.year, capability=args.capability,
                    assumptions=assumptions, members_as_of=args.members_as_of)
    command = f"cicasim calibrate --data DATA --year {args.year}"
    if args.members_as_of is not None:
        command += f" --members-as-of {args.members_as_of}"
    if args.capability != "cinc":
        command += f" --capability {args.capability}"
    text = render(cal, command=command)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_atomic(args.out, text)
        members = sum(1 for a in cal.actors if a.role == "member")
        print(f"wrote {args.out}: {members} members, {len(cal.actors) - members} observers, "
              f"{len(cal.tensions)} tensions, {len(cal.proposals)} proposals")
    return 0
