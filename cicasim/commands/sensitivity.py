"""Sobol sensitivity indices of P(consensus) over an experiment's factors.

First-order (S1) and total (ST) indices per proposal and factor with bootstrap confidence
intervals (SALib: Saltelli sampling and sobol.analyze, seeded from the experiment's seed).  The
experiment's [sensitivity] table sets the base sample size N (a power of two; the design has
N × (factors + 2) points), second-order indices and the bootstrap.  With --out the runs are kept
(the sweep layout plus sobol.parquet) and can be resumed; --plots then also draws the Sobol
figure into its figures/.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from cicasim.commands._common import adopted_note, count, probability_name, replications_int
from cicasim.commands.sweep import add_executor_arguments, executor_from_args, progress_bar

HELP = "first-order and total Sobol indices of P(consensus) over an experiment's factors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment file (TOML) with factors and ranges")
    parser.add_argument("--out", "-o", type=Path, help="keep the runs and sobol.parquet here")
    add_executor_arguments(parser)
    parser.add_argument("--resume", action="store_true", help="complete an interrupted --out")
    parser.add_argument(
        "--replications", "-n", type=replications_int,
        help="replications per point and proposal (overrides the file)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--plots", action="store_true", help="with --out: also write the standard figures"
    )


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def run(args: argparse.Namespace) -> int:
    from cicasim.analysis.sensitivity import plan_sensitivity, run_sensitivity
    from cicasim.errors import InputError
    from cicasim.sweep import check_directory

    if args.plots and not args.out:
        raise InputError("--plots: needs --out DIR to write the figures into")
    plan = plan_sensitivity(args.experiment, replications=args.replications)
    if args.out:
        check_directory(args.out, plan, kind="sensitivity", resume=args.resume)
    s = plan.experiment.sensitivity
    # without --out the runs stay in memory
    with executor_from_args(args) as executor:
        with progress_bar(f"{plan.name} (Saltelli, {len(plan.points)} points)") as update:
            result = run_sensitivity(
                plan, out=args.out, executor=executor, resume=args.resume, progress=update
            )
    if args.plots:
        from cicasim.plotting import write_standard_figures

        write_standard_figures(args.out)
    records = json.loads(result.table.to_json(orient="records"))
    if args.json:
        json.dump({
            "experiment": plan.name, "points": len(plan.points), "samples": s.samples,
            "replications": plan.replications, "seed": plan.seed,
            "confidence": s.confidence, "indices": records,
            "out": str(args.out) if args.out else None,
        }, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    pname = probability_name(plan.rule_kinds())
    console.print(
        f"[bold]{plan.name}[/bold]  ({plan.path})\nSobol indices of {pname}: "
        f"{count(len(plan.points), 'point')} (N = {s.samples}) × "
        f"{count(plan.replications, 'replication')} · "
        f"seed {plan.seed} · ± = {s.confidence:.0%} bootstrap half-width"
    )
    t = Table()
    for col in ("proposal", "factor", "S1 (first order)", "±", "ST (total)", "±"):
        t.add_column(col, justify="left" if col in ("proposal", "factor") else "right")
    for r in records:
        t.add_row(r["proposal"], r["factor"], _fmt(r["S1"]), _fmt(r["S1_conf"]), _fmt(r["ST"]),
                  _fmt(r["ST_conf"]))
    console.print(t)
    if note := adopted_note(pname):
        console.print(f"[dim]{note}[/dim]")
    if args.out:
        console.print(f"results written to {args.out}")
    return 0
