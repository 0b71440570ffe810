"""Run an experiment file's design: every design point's ensemble, streamed to disk.

Results go to --out as Parquet tables (layout in docs/experiments.md): points.parquet first,
the replications as a dataset of parts (ranges of design points) under replications.parquet/
as they finish, then summary.parquet and blocking.parquet once.  An interrupted sweep completes
with --resume; the files are the same, bit for bit, whatever the executor, the number of
workers, or interruptions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from cicasim.commands._common import (
    adopted_note,
    count,
    probability_name,
    progress_bar,
    replications_int,
    threads_argument,
    workers_int,
)
from cicasim.errors import InputError

HELP = "run an experiment's design points (sweep) on local processes or a Dask cluster"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", "-j", type=workers_int,
        help="local worker processes (default: all cores; 1 runs in this process)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on an existing Dask distributed cluster: tcp://HOST:PORT, or tls://HOST:PORT "
        "with the --tls options (the client unpickles what the cluster returns: connect only "
        "to a cluster you trust; docs/reliability.md)",
    )
    parser.add_argument("--tls-ca-file", metavar="PEM",
                        help="with a tls:// scheduler: the CA certificate of the cluster")
    parser.add_argument("--tls-cert", metavar="PEM",
                        help="with a tls:// scheduler: this client's certificate")
    parser.add_argument("--tls-key", metavar="PEM",
                        help="with a tls:// scheduler: this client's private key (if not in "
                        "--tls-cert)")


def executor_from_args(args: argparse.Namespace):
    """The executor the options ask for (checked before anything runs)."""
    from cicasim.sweep.executors import make_executor, tls_security

    tls = (args.tls_ca_file, args.tls_cert, args.tls_key)
    security = tls_security(*tls) if any(t is not None for t in tls) else None
    return make_executor(workers=args.workers, scheduler=args.scheduler, security=security)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment file (TOML)")
    parser.add_argument("--out", "-o", type=Path, required=True, help="results directory")
    add_executor_arguments(parser)
    parser.add_argument(
        "--resume", action="store_true", help="complete an interrupted sweep in --out"
    )
    parser.add_argument(
        "--replications", "-n", type=replications_int,
        help="replications per point and proposal (overrides the file; for a quick look)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plots", action="store_true", help="also write the standard figures")
    threads_argument(parser, "the replication blocks with --workers 1")


def _require_plotting() -> None:
    if importlib.util.find_spec("cicasim.plotting") is None:
        raise InputError("--plots: plotting is unavailable (cicasim.plotting is not installed)")


def _write_plots(out: Path) -> None:
    from cicasim.plotting import write_standard_figures

    write_standard_figures(out)


def _print_summary(result, plan, records: list[dict], deltas: list[dict] | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    crn = "common random numbers" if plan.common_random_numbers else "independent streams"
    console.print(
        f"[bold]{plan.name}[/bold]  ({plan.path})\n"
        f"{count(result.points, 'design point')} × {count(len(plan.proposals), 'proposal')} × "
        f"{count(plan.replications, 'replication')} · seed {plan.seed} · {crn} · "
        f"{count(result.computed, 'point')} computed now"
    )
    dmap = {(d["point"], d["proposal"]): d for d in deltas or []}
    pname = probability_name(plan.rule_kinds())
    table = Table()
    for col, just in (("point", "right"), ("design point", "left"), ("proposal", "left"),
                      (pname, "right"), ("95% CI", "right"),
                      ("ΔP vs point 0", "right"), ("paired 95% CI", "right"),
                      ("median rounds", "right")):
        if col in ("ΔP vs point 0", "paired 95% CI") and not deltas:
            continue
        table.add_column(col, justify=just)
    shown = records[:60]
    for r in shown:
        label = plan.points[r["point"]].label  # built on demand: only the rows shown
        cells = [str(r["point"]), label, r["proposal"], f"{r['p_consensus']:.4f}",
                 f"{r['ci_low']:.4f}-{r['ci_high']:.4f}"]
        if deltas:
            d = dmap[(r["point"], r["proposal"])]
            cells += [f"{d['delta']:+.4f}", f"{d['delta_low']:+.4f} to {d['delta_high']:+.4f}"]
        cells.append(f"{r['median_rounds']:g}")
        table.add_row(*cells)
    console.print(table)
    if len(records) > len(shown):
        console.print(f"... {count(len(records) - len(shown), 'more row')} in summary.parquet")
    if note := adopted_note(pname):
        console.print(f"[dim]{note}[/dim]")
    console.print(f"results written to {result.directory}")


def run(args: argparse.Namespace) -> int:
    from cicasim.sweep import check_directory, plan_experiment, records, run_sweep

    if args.threads is not None and (args.workers != 1 or args.scheduler):
        raise InputError("--threads: applies with --workers 1 (ensembles in this process); "
                         "with more workers each runs its own units")
    from cicasim.engine.threads import set_threads

    set_threads(args.threads)
    plan = plan_experiment(args.experiment, replications=args.replications)
    if args.plots:
        _require_plotting()
    check_directory(args.out, plan, kind="sweep", resume=args.resume)
    with executor_from_args(args) as executor:
        with progress_bar(f"{plan.name}") as update:
            result = run_sweep(
                plan, out=args.out, executor=executor, resume=args.resume, progress=update
            )
    if args.plots:
        _write_plots(result.directory)
    summary = records(result.summary())
    deltas = records(result.table("deltas")) if result.has("deltas") else None
    if args.json:
        json.dump({
            "experiment": plan.name,
            "out": str(result.directory),
            "points": result.points,
            "computed": result.computed,
            "proposals": list(plan.proposals),
            "replications": plan.replications,
            "seed": plan.seed,
            "common_random_numbers": plan.common_random_numbers,
            "summary": summary,
            "deltas": deltas,
        }, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(result, plan, summary, deltas)
    return 0
