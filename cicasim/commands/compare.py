"""Compare two scenarios, or a scenario and its enlargement: ΔP(consensus) per proposal.

Both sides run the same replications with the same seed, so the states they share draw the same
random numbers (common random numbers) and the difference gets a paired 95% interval (Newcombe
1998, method 10), much narrower than the two sides' own Wilson intervals would suggest.
B is a second scenario file, or --enlarge (A after all its [[enlargement]] steps) or --steps K
(A after its first K steps).  ΔP = P(B) − P(A).  With --out, --plots also draws the comparison
figure into the results directory's figures/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from cicasim.commands._common import (
    adopted_note,
    count,
    positive_int,
    probability_name,
    replications_int,
    resolve_seed,
    seed_int,
    threads_argument,
    workers_int,
)
from cicasim.commands.sweep import progress_bar
from cicasim.errors import InputError

HELP = "ΔP(consensus) between two scenarios or a scenario and its enlargement (paired)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="scenario file A (TOML)")
    parser.add_argument("b", nargs="?", help="scenario file B (or use --enlarge / --steps)")
    parser.add_argument(
        "--enlarge", action="store_true", help="B = A after all its enlargement steps"
    )
    parser.add_argument(
        "--steps", type=positive_int, metavar="K", help="B = A after its first K enlargement steps"
    )
    parser.add_argument(
        "--replications", "-n", type=replications_int, default=10_000,
        help="replications per proposal and side (default 10000, at most 10,000,000)",
    )
    parser.add_argument("--seed", type=seed_int, help="master seed (drawn and printed when absent)")
    parser.add_argument(
        "--proposal", action="append", metavar="ID", help="compare only this proposal (repeatable)"
    )
    parser.add_argument(
        "--workers", "-j", type=workers_int,
        help="local worker processes (default: all cores; 1 runs in this process)",
    )
    threads_argument(parser, "the replication blocks with --workers 1")
    parser.add_argument("--out", "-o", type=Path, help="write comparison.parquet and a manifest")
    parser.add_argument(
        "--force", action="store_true",
        help="with --out: replace the compare results already there (nothing else is replaced)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--plots", action="store_true", help="with --out: also write the standard figures"
    )


def run(args: argparse.Namespace) -> int:
    from cicasim.analysis.compare import compare_sides, sides
    from cicasim.engine.threads import set_threads
    from cicasim.results import atomic_directory
    from cicasim.sweep.executors import make_executor

    modes = sum([args.b is not None, args.enlarge, args.steps is not None])
    if modes != 1:
        raise InputError("compare: give exactly one of a scenario B, --enlarge or --steps K")
    if args.plots and not args.out:
        raise InputError("--plots: needs --out DIR to write the figures into")
    if args.force and not args.out:
        raise InputError("--force: needs --out DIR (it replaces the compare results there)")
    set_threads(args.threads)
    seed, drawn = resolve_seed(args.seed)
    enlarge = True if args.enlarge else (args.steps if args.steps is not None else False)
    both = sides(args.a, args.b, enlarge=enlarge, seed=seed)
    with contextlib.ExitStack() as stack:
        # the output directory is checked, created and locked before anything is computed
        tmp = (
            stack.enter_context(atomic_directory(args.out, kind="compare", force=args.force))
            if args.out
            else None
        )
        with make_executor(workers=args.workers) as executor:
            with progress_bar("compare") as update:
                result = compare_sides(
                    both, replications=args.replications, seed=seed,
                    proposals=args.proposal, executor=executor, progress=update,
                )
        if tmp is not None:
            result.write(tmp, plots=args.plots)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    rows = result.rows
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    note = " (drawn; pass --seed to repeat)" if drawn else ""
    compared = {r.proposal for r in rows}
    pname = probability_name([p.rule.kind for side in (both.a, both.b) for p in side.proposals
                              if p.id in compared])
    console.print(
        f"A: {result.a} ({count(rows[0].n_members_a, 'member')})\n"
        f"B: {result.b} ({count(rows[0].n_members_b, 'member')})"
        f"\nseed {seed}{note} · {count(args.replications, 'paired replication')} per proposal"
        f" · P = {pname}"
    )
    t = Table()
    for col in ("proposal", "P(A)", "95% CI", "P(B)", "95% CI", "ΔP = P(B) − P(A)",
                "paired 95% CI"):
        t.add_column(col, justify="left" if col == "proposal" else "right")
    for r in rows:
        t.add_row(
            r.proposal, f"{r.p_a:.4f}", f"{r.ci_a_low:.4f}-{r.ci_a_high:.4f}", f"{r.p_b:.4f}",
            f"{r.ci_b_low:.4f}-{r.ci_b_high:.4f}", f"{r.delta:+.4f}",
            f"{r.delta_low:+.4f} to {r.delta_high:+.4f}",
        )
    console.print(t)
    if note := adopted_note(pname):
        console.print(f"[dim]{note}[/dim]")
    if args.out:
        console.print(f"results written to {args.out}")
    return 0
