"""Import a scenario from a peer tool's input file.

`cicasim import ktab FILE.csv` reads a KTAB Spatial Model of Politics CSV (positions 0-100,
saliences 0-100 summing to at most 100 per actor); `cicasim import deu FILE --issue ID` converts
one issue of a DEU data file (positions and saliences 0-100, capabilities from its capability
row) with the Council rule in force on the proposal's date. The scenario is written as commented
TOML (standard output unless --out is given). Formats: docs/calibration.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cicasim.commands._common import count

NAME = "import"
HELP = "import a scenario from KTAB (SMP CSV) or one DEU issue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="source", required=True, metavar="{ktab,deu}")
    k = sub.add_parser("ktab", help="KTAB Spatial Model of Politics CSV",
                       description="Import a KTAB SMP CSV file.")
    k.add_argument("file", metavar="FILE.csv")
    k.add_argument("--status-quo", type=float, default=None, metavar="Q",
                   help="add a proposal at the compromise point with this status quo (0-100)")
    k.add_argument("--out", default="-", metavar="FILE", help="scenario file (default: stdout)")
    d = sub.add_parser("deu", help="one issue of a DEU data file",
                       description="Import one issue of a DEU (Decision-making in the EU) file.")
    d.add_argument("file", metavar="FILE")
    d.add_argument("--issue", required=True, metavar="ID", help="the issue id (column isnr)")
    d.add_argument("--council", default=None, metavar="FILE",
                   help="Council weights table (default: ../eu_council/council_weights.csv "
                        "beside the DEU folder)")
    d.add_argument("--population", default=None, metavar="FILE",
                   help="World Bank population table for the Lisbon rule (default: "
                        "../worldbank/wb_population.csv when present)")
    d.add_argument("--out", default="-", metavar="FILE", help="scenario file (default: stdout)")


def run(args: argparse.Namespace) -> int:
    if args.out != "-":
        from cicasim.results import check_output_file

        check_output_file(args.out)  # before reading: an unusable path fails at once
    from cicasim.calibrate.importers import deu_mapping, ktab_mapping, render_mapping
    from cicasim.calibrate.writer import write_atomic

    name = Path(args.file).name
    if args.source == "ktab":
        data, notes = ktab_mapping(args.file, status_quo=args.status_quo)
        header = [f"Imported by `cicasim import ktab {name}` from a KTAB Spatial Model of "
                  "Politics file.", "Saliences are KTAB's 0-100 values divided by 100; every "
                  "actor is a voting member."]
    else:
        data, notes = deu_mapping(args.file, issue=args.issue, council=args.council,
                                  population=args.population)
        header = [f"Imported by `cicasim import deu {name} --issue {args.issue}` (rules: "
                  "docs/calibration.md and docs/validation.md).",
                  "Positions 0-100 and saliences / 100 from the DEU file; Council votes and "
                  "rule of the proposal's date."]
    text = render_mapping(data, notes, header=header, source=f"{args.file}")
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_atomic(args.out, text)
        print(f"wrote {args.out}: {count(len(data['actors']), 'actor')}, "
              f"{count(len(data.get('proposals', [])), 'proposal')}")
    return 0
