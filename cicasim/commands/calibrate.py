"""Calibrate a scenario from the public data sets: CICA's, or any organisation's.

Reads the raw files under --data (UNGA roll calls and ideal points, Correlates of War capabilities,
disputes and rivalries, COW IGO memberships, World Bank) for the membership of --year and writes a
scenario whose every value carries its source in a comment. Without --members it is CICA's
membership of that year, with the proposals of the assumptions file; with --members (ISO 3166
alpha-3 codes, or --members-file) it is that organisation, with one generic proposal, its
flagship consensus text, built by stated rules. Rules and formulas: docs/calibration.md.
"""

from __future__ import annotations

import argparse
import sys

from cicasim.commands._common import count, progress_bar
from cicasim.errors import InputError, read_text

HELP = "calibrate a scenario (CICA, or any list of states) of a given year from public data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="folder holding the public data sets (see docs/calibration.md)")
    parser.add_argument("--year", required=True, type=int,
                        help="membership, observers and data of this year (CICA: 1999-2024)")
    parser.add_argument("--members", metavar="ISO3,ISO3,...", default=None,
                        help="any organisation: its members' ISO 3166 alpha-3 codes")
    parser.add_argument("--members-file", metavar="FILE", default=None,
                        help="the members' codes from a file (comma-, space- or line-separated; "
                             "'#' starts a comment)")
    parser.add_argument("--observers", metavar="ISO3,...", default="",
                        help="with --members: observer states (in the room, never vote)")
    parser.add_argument("--name", default="organisation",
                        help="with --members: the organisation's name (the scenario's name)")
    parser.add_argument("--chair", metavar="ISO3", default=None,
                        help="with --members: the chair, who tables the flagship text")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="scenario file to write ('-' for standard output)")
    parser.add_argument("--capability", choices=("cinc", "gdp"), default="cinc",
                        help="capability measure: COW CINC share (default) or GDP share")
    parser.add_argument("--members-as-of", type=int, default=None, metavar="YEAR",
                        help="only the members of this earlier year vote; the later members are "
                             "observers that join in their real order (a path scenario)")
    parser.add_argument("--assumptions", metavar="FILE", default=None,
                        help="assumptions file (default: the shipped CICA one, "
                             "cicasim/calibrate/cica-assumptions.toml)")


def _member_codes(args: argparse.Namespace) -> list[str] | None:
    if args.members is not None and args.members_file is not None:
        raise InputError("--members and --members-file: give one of them, not both")
    if args.members_file is not None:
        text = read_text(args.members_file, what="member codes")
        lines = [line.split("#", 1)[0] for line in text.splitlines()]
        return " ".join(lines).replace(",", " ").split()
    if args.members is not None:
        return args.members.split(",")
    for opt in ("chair",):
        if getattr(args, opt) is not None:
            raise InputError(f"--{opt}: only with --members or --members-file")
    if args.observers:
        raise InputError("--observers: only with --members or --members-file")
    return None


def run(args: argparse.Namespace) -> int:
    if args.out != "-":
        from cicasim.results import check_output_file

        check_output_file(args.out)  # before the calibration: an unusable path fails at once
    from cicasim.calibrate import calibrate, default_assumptions, render, write_atomic

    assumptions = args.assumptions or default_assumptions()
    members = _member_codes(args)
    if members is not None:
        if args.members_as_of is not None:
            raise InputError("--members-as-of: only for CICA's own history, not with --members")
        from cicasim.calibrate.organisation import calibrate_organisation
        from cicasim.validate.consensus_params import shipped_behaviour

        cal = calibrate_organisation(
            data=args.data, year=args.year, members=members,
            observers=args.observers.split(",") if args.observers else [],
            name=args.name, chair=args.chair, capability=args.capability,
            assumptions=assumptions, behaviour=shipped_behaviour(),
        )
        for w in cal.warnings:
            sys.stderr.write(f"cicasim: warning: {w}\n")
    else:
        with progress_bar(f"calibrate {args.year}", unit="data sets") as update:
            cal = calibrate(data=args.data, year=args.year, capability=args.capability,
                            assumptions=assumptions, members_as_of=args.members_as_of,
                            progress=lambda done, total, what: update(done, total, what))
    command = f"cicasim calibrate --data DATA --year {args.year}"
    if members is not None:
        command += f" --members {','.join(a.state.iso3 for a in cal.actors if a.role == 'member')}"
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
        print(f"wrote {args.out}: {count(members, 'member')}, "
              f"{count(len(cal.actors) - members, 'observer')}, "
              f"{count(len(cal.tensions), 'tension')}, {count(len(cal.proposals), 'proposal')}")
    return 0
