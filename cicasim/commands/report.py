"""Write one self-contained HTML report of a results directory: the scenario, the headline
numbers with their intervals, every standard figure (embedded, so the file opens offline), a
short method section and the provenance (seed, versions, input hashes, git commit).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cicasim.commands._common import progress_bar

HELP = "self-contained HTML report of a results directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="results directory (run, sweep, compare, ...)")
    parser.add_argument(
        "--out", "-o", type=Path, metavar="FILE.html",
        help="report file (default RESULTS/report.html)",
    )


def run(args: argparse.Namespace) -> int:
    from cicasim.errors import InputError
    from cicasim.results import read_manifest, reading_results

    read_manifest(args.results)  # a one-line error for a missing or foreign directory, early
    if args.out is not None and args.out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out: {args.out} must end in .html")
    if args.out is not None:
        from cicasim.results import check_output_file

        # before drawing: an unusable path fails at once (a missing folder is created)
        check_output_file(args.out, folder_must_exist=False)
    from cicasim.plotting.report import write_report

    with reading_results(args.results), progress_bar("report", unit="figures") as update:
        path = write_report(args.results, out=args.out, progress=update)
    print(f"report written to {path}")
    return 0
