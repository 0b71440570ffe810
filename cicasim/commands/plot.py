"""Draw the standard figures of a results directory from `cicasim run`, `sweep`, `compare` or
`sensitivity` into RESULTS/figures/ (or --out DIR).

run: P(consensus) and dilution per proposal (summary), blocking frequency by member (blocking),
the tension matrix as a clustered heatmap and as a network (tension), and a round-by-round
negotiation trace per proposal (trace).  sweep: P(consensus) against the number of members with
CICA's real membership milestones (enlargement), ΔP against the first point (delta), dilution
against the number of members (dilution), P(consensus) over two factors (heatmap) or against
the one factor that varies (factor).  compare:
ΔP with paired intervals (comparison).  sensitivity: Sobol indices (sobol).  docs/figures.md
shows each figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cicasim.commands._common import bounded_int, progress_bar, replication_index

HELP = "draw the standard figures of a results directory"

#: Highest resolution of a PNG figure (a 10 x 8 inch figure at 1200 dpi is 115 megapixels).
MAX_DPI = 1200

#: Kept here so that building the parser does not import matplotlib.
FORMATS = ("png", "svg", "pdf")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="results directory (run, sweep, compare, ...)")
    parser.add_argument(
        "--kind", metavar="K",
        help="only this figure (run: summary, blocking, tension, tension-heatmap, "
        "tension-network, trace; sweep: enlargement, delta, dilution, heatmap, factor; compare: "
        "comparison; sensitivity: sobol); default: every figure that applies",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="png", help="file format (default png)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write here instead of RESULTS/figures/"
    )
    parser.add_argument(
        "--dpi", type=bounded_int(10, MAX_DPI), default=150,
        help=f"resolution of PNG files, dots per inch (default 150, at most {MAX_DPI})",
    )
    parser.add_argument(
        "--replication", type=replication_index, default=0,
        help="replication shown by the negotiation trace (default 0)",
    )


def run(args: argparse.Namespace) -> int:
    from cicasim.results import read_manifest, reading_results

    read_manifest(args.results)  # a one-line error for a missing or foreign directory, early
    from cicasim.plotting import write_standard_figures

    with reading_results(args.results), progress_bar("plot", unit="figures") as update:
        paths = write_standard_figures(
            args.results, formats=(args.format,), kind=args.kind, out=args.out,
            trace_replication=args.replication, dpi=args.dpi, progress=update,
        )
    for p in paths:
        print(p)
    return 0
