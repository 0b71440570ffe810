"""Run the Monte Carlo ensemble of a scenario's proposals and print P(consensus) per proposal.

For each proposal: the probability of consensus with its 95% Wilson interval, the median number
of rounds, the mean dilution of the agreed text (0 = the text as tabled, 1 = watered down as far
as the status quo), and the three members that most often blocked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cicasim.commands._common import positive_int, resolve_seed, seed_int
from cicasim.ensemble import EnsembleResult, run_ensemble
from cicasim.errors import InputError
from cicasim.results import MANIFEST, TABLE, atomic_directory, manifest, write_json, write_table
from cicasim.scenario import load_scenario

HELP = "run the Monte Carlo ensemble of a scenario"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument(
        "--replications",
        "-n",
        type=positive_int,
        default=10_000,
        help="replications per proposal (default 10000)",
    )
    parser.add_argument("--seed", type=seed_int, help="master seed (drawn and printed when absent)")
    parser.add_argument(
        "--proposal", action="append", metavar="ID", help="run only this proposal (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, help="write the per-replication table and manifest here"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--plots", action="store_true", help="with --out: also write the standard figures"
    )
    parser.add_argument(
        "--pivotality",
        action="store_true",
        help="also estimate each member's pivotality: the paired change in P(consensus) when it "
        "is removed (one more ensemble per member)",
    )


def a_priori(result: EnsembleResult) -> dict[str, float | None]:
    """Coleman's power to act of each proposal's rule alone (coin-flip voters), or None when
    it cannot be computed (e.g. a population criterion without populations)."""
    from cicasim.power import power_for_proposal

    out: dict[str, float | None] = {}
    for r in result.runs:
        try:
            out[r.proposal] = power_for_proposal(result.scenario, r.proposal).passage_probability
        except InputError:
            out[r.proposal] = None
    return out


def summary_dict(result: EnsembleResult, scenario_name: str) -> dict:
    """The JSON summary: per proposal the simulated figures and the rule's a-priori figure."""
    prior = a_priori(result)
    proposals = []
    for s in result.summaries():
        d = s.to_dict()
        d["a_priori_passage"] = prior[s.id]
        proposals.append(d)
    return {
        "scenario": scenario_name,
        "seed": result.seed,
        "replications": result.replications,
        "proposals": proposals,
    }


def _print_table(summary: dict, path: str, drawn: bool) -> None:
    """The human-readable table of :func:`summary_dict`'s figures."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    note = " (drawn; pass --seed to repeat)" if drawn else ""
    console.print(
        f"[bold]{summary['scenario']}[/bold]  ({path})\n"
        f"seed {summary['seed']}{note} · {summary['replications']:,} replications per proposal"
    )
    table = Table(show_lines=False)
    for col, just in (
        ("proposal", "left"),
        ("P(consensus)", "right"),
        ("95% CI", "right"),
        ("rule alone", "right"),
        ("median rounds", "right"),
        ("mean dilution", "right"),
        ("top blockers (frequency)", "left"),
    ):
        table.add_column(col, justify=just, no_wrap=col == "proposal")
    for s in summary["proposals"]:
        blockers = ", ".join(f"{b['actor']} {b['frequency']:.2f}" for b in s["blockers"]) or "-"
        dil, prior = s["mean_dilution"], s["a_priori_passage"]
        table.add_row(
            s["id"],
            f"{s['p_consensus']:.3f}",
            f"{s['ci_low']:.3f}-{s['ci_high']:.3f}",
            "-" if prior is None else f"{prior:.3g}",
            f"{s['median_rounds']:g}",
            "-" if dil is None else f"{dil:.2f}",
            blockers,
        )
    console.print(table)
    for s in summary["proposals"]:
        if s["title"]:
            console.print(f"[dim]{s['id']}: {s['title']}[/dim]")
    for p in summary["proposals"]:
        if "pivotality" in p:
            top = [v for v in p["pivotality"] if v["low"] > 0][:5]
            shown = (
                ", ".join(
                    f"{v['actor']} {v['delta']:+.3f} ({v['low']:+.3f} to {v['high']:+.3f})"
                    for v in top
                )
                or "no member's removal significantly raises P(consensus)"
            )
            console.print(f"pivotal members for {p['id']} (ΔP if removed): {shown}")
    console.print(
        "[dim]rule alone: the passage probability of the decision rule with coin-flip voters "
        "(Coleman's power to act), before any bargaining.[/dim]"
    )


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    seed, drawn = resolve_seed(args.seed)
    if args.plots and not args.out:
        raise InputError("--plots: needs --out DIR to write the figures into")
    result = run_ensemble(
        scenario, proposals=args.proposal, replications=args.replications, seed=seed
    )
    summary = summary_dict(result, scenario.scenario.name)
    if args.pivotality:
        from cicasim.pivotality import pivotality

        for entry, base in zip(summary["proposals"], result.runs, strict=True):
            pivots = pivotality(
                scenario, entry["id"], replications=args.replications, seed=seed, base=base
            )
            entry["pivotality"] = [p.to_dict() for p in pivots]
    if args.out:
        text = Path(args.scenario).read_text(encoding="utf-8")
        with atomic_directory(args.out) as tmp:
            write_table(tmp / TABLE, result.table())
            write_json(tmp / "summary.json", summary)
            write_json(
                tmp / MANIFEST,
                manifest(
                    kind="run",
                    seed=seed,
                    inputs={Path(args.scenario).name: text},
                    scenario=str(args.scenario),
                    replications=result.replications,
                    proposals=[r.proposal for r in result.runs],
                ),
            )
            if args.plots:
                from cicasim.plotting import write_standard_figures

                write_standard_figures(tmp)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(summary, args.scenario, drawn)
        if args.out:
            print(f"results written to {args.out}")
    return 0
