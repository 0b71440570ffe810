"""Run the Monte Carlo ensemble of a scenario's proposals and print P(consensus) per proposal.

For each proposal: the probability of consensus with its 95% Wilson interval, the median number
of rounds, the mean dilution of the agreed text (the signed share of the way from the tabled text
to the status quo: 0 = as tabled, 1 = at the status quo, negative = more ambitious than tabled),
and the three members that most often blocked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cicasim.commands._common import (
    actor_label,
    adopted_note,
    count,
    probability_name,
    progress_bar,
    replications_int,
    resolve_seed,
    seed_int,
    threads_argument,
)
from cicasim.errors import InputError, shown
from cicasim.spec.scenario import read_scenario

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

HELP = "run the Monte Carlo ensemble of a scenario"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument(
        "--replications",
        "-n",
        type=replications_int,
        default=10_000,
        help="replications per proposal (default 10000, at most 10,000,000)",
    )
    parser.add_argument("--seed", type=seed_int, help="master seed (drawn and printed when absent)")
    parser.add_argument(
        "--proposal", action="append", metavar="ID", help="run only this proposal (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, help="write the per-replication table and manifest here"
    )
    parser.add_argument(
        "--force", action="store_true",
        help="with --out: replace the run results already there (nothing else is ever replaced)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    threads_argument(parser)
    parser.add_argument(
        "--params", metavar="SET", default=None,
        help="replace the scenario's [behaviour] by a parameter set: consensus-organisations, "
        "validation, or a TOML file with a [behaviour] table",
    )
    parser.add_argument(
        "--plots", action="store_true", help="with --out: also write the standard figures"
    )
    parser.add_argument(
        "--pivotality",
        action="store_true",
        help="also estimate each member's pivotality: the paired change in P(consensus) when it "
        "is removed (one more ensemble per member), and for the most pivotal (--pivotality-top), "
        "the change when it is removed from the vote, from influence or from the compromise "
        "alone",
    )
    parser.add_argument(
        "--pivotality-top", type=_top, default=5, metavar="K",
        help="with --pivotality: break down and show the K members whose removal changes P the "
        "most (default 5; 'all' or 0: every member, three more ensembles each)",
    )


def _top(text: str) -> int | None:
    """argparse type of --pivotality-top: a whole number, or "all" (None: every member)."""
    if text.strip().lower() == "all":
        return None
    try:
        k = int(text)
    except ValueError:
        k = -1
    if k < 0:
        raise argparse.ArgumentTypeError(
            f"expected 'all' or a whole number >= 0 (0 = all), got {shown(text)}")
    return None if k == 0 else k


def _delta(d: float, lo: float, hi: float) -> str:
    return f"{d:+.3f} ({lo:+.3f} to {hi:+.3f})"


def _print_table(summary: dict, path: str, drawn: bool, names: dict[str, str]) -> None:
    """The human-readable table of :meth:`cicasim.analysis.runs.RunResult.to_dict`'s figures;
    ``names``
    maps actor ids to names (shown where they fit, ids otherwise)."""
    from rich.console import Console

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    note = " (drawn at random; pass --seed to repeat it)" if drawn else ""
    console.print(
        f"[bold]{summary['scenario']}[/bold]  ({path})\n"
        f"seed {summary['seed']}{note} · "
        f"{count(summary['replications'], 'replication')} per proposal"
    )
    pname = probability_name([p.get("rule", "consensus") for p in summary["proposals"]])
    table, drift = _proposals_table(summary["proposals"], pname, names)
    console.print(table)
    _print_titles(console, summary["proposals"], pname)
    for p in summary["proposals"]:
        if "pivotality" in p:
            _print_pivotality(console, p, pname, names)
    _print_notes(console, summary, pname, drawn=drawn, drift=drift)


def _proposals_table(
    proposals: list[dict], pname: str, names: dict[str, str]
) -> tuple[Table, bool]:
    """One row per proposal: the probability ``pname`` with its interval, the rule alone, the
    median rounds, the mean dilution and the top blockers; and whether any row shows a drift."""
    from rich.table import Table

    table = Table(show_lines=False)
    for col, just in (
        ("proposal", "left"),
        (pname, "right"),
        ("95% CI", "right"),
        ("rule alone", "right"),
        ("median rounds", "right"),
        ("mean dilution", "right"),
        ("top blockers (frequency)", "left"),
    ):
        table.add_column(col, justify=just, no_wrap=col == "proposal")
    drift = False
    for s in proposals:
        blockers = ", ".join(
            f"{actor_label(names, b['actor'])} {b['frequency']:.2f}" for b in s["blockers"]
        ) or "-"
        dil, prior = s["mean_dilution"], s["a_priori_passage"]
        shown = "-" if dil is None else f"{round(dil, 2) + 0.0:.2f}"  # no "-0.00"
        if s.get("mean_drift"):
            shown += f" (drift {s['mean_drift']:.2f})"
            drift = True
        table.add_row(
            s["id"],
            f"{s['p_consensus']:.3f}",
            f"{s['ci_low']:.3f}-{s['ci_high']:.3f}",
            "-" if prior is None else f"{prior:.3g}",
            f"{s['median_rounds']:g}",
            shown,
            blockers,
        )
    return table, drift


def _print_titles(console: Console, proposals: list[dict], pname: str) -> None:
    """Each proposal's title under the table, with its rule when the rules differ from
    consensus."""
    from rich.markup import escape

    for s in proposals:
        if s["title"]:
            rule = "" if pname == "P(consensus)" else f" [{s.get('rule', 'consensus')}]"
            console.print(f"[dim]{escape(s['id'])}: {escape(s['title'] + rule)}[/dim]")


def _print_pivotality(console: Console, p: dict, pname: str, names: dict[str, str]) -> None:
    """The pivotal members of proposal ``p``: ΔP when each is removed and by channel, for the
    members broken down by channel (--pivotality-top), then the sponsor, who is not
    removable."""
    from rich.markup import escape
    from rich.table import Table

    from cicasim.analysis.pivotality import CHANNELS

    sponsor = f"{names.get(p['sponsor'], p['sponsor'])} ({p['sponsor']})"
    pivots = p["pivotality"]
    # the members broken down by channel (--pivotality-top): all, or the significant ones
    top = [v for v in pivots if v.get("channels")]
    if not top:
        console.print(f"pivotal members for {escape(p['id'])}: no member's removal "
                      f"significantly changes {pname}; {escape(sponsor)}, the sponsor: "
                      "not removable")
        return
    piv = Table(title=f"pivotal members for {escape(p['id'])}: Δ{pname} if removed "
                "(paired 95% CI)", title_justify="left")
    piv.add_column("member")
    for col in ("removed", *(f"{c} only" for c in CHANNELS)):
        piv.add_column(col, justify="right")
    for v in top:
        ch = v["channels"]
        cells = [_delta(v["delta"], v["low"], v["high"])] + [
            _delta(ch[c]["delta"], ch[c]["low"], ch[c]["high"]) for c in CHANNELS
        ]
        piv.add_row(escape(f"{names.get(v['actor'], v['actor'])} ({v['actor']})"), *cells)
    piv.add_row(escape(sponsor), "not removable (sponsor)", *("n/a" for _ in CHANNELS))
    console.print(piv)
    if len(top) < len(pivots):
        console.print(f"[dim]{len(top)} of {count(len(pivots), 'removable member')} "
                      "shown: those whose removal changes P the most, significantly "
                      "(--pivotality-top K; all shows every member).[/dim]")


def _print_notes(
    console: Console, summary: dict, pname: str, *, drawn: bool, drift: bool
) -> None:
    """The notes under the tables: what the pivotality's channels mean (when shown), what the
    columns mean, what "adopted" means (when a rule is not consensus) and how to repeat a run
    whose seed was drawn."""
    from cicasim.analysis.pivotality import CHANNEL_MEANING, CHANNELS

    if any("pivotality" in p for p in summary["proposals"]):
        console.print("[dim]removed: the member taken out of the scenario. Each channel takes "
                      "it out of one part of the model only (docs/model.md): "
                      + "; ".join(f"{c}: {CHANNEL_MEANING[c]}" for c in CHANNELS)
                      + ". The channels interact, so they need not add up.[/dim]")
    console.print(
        "[dim]rule alone: the passage probability of the decision rule with coin-flip voters "
        "(Coleman's power to act), before any bargaining. mean dilution: over the agreed "
        "texts, the signed share of the way from the tabled text to the status quo "
        "(0 = as tabled, 1 = at the status quo, negative = more ambitious than tabled)"
        + ("; drift: how far off that line, same scale" if drift else "")
        + ".[/dim]"
    )
    if note := adopted_note(pname):
        console.print(f"[dim]{note}[/dim]")
    if drawn:
        console.print(f"[dim]to repeat this run: --seed {summary['seed']}[/dim]")


def run(args: argparse.Namespace) -> int:
    # imported here, so that building the command line compiles nothing and loads no pandas
    from cicasim.analysis.runs import run_scenario
    from cicasim.engine.threads import set_threads
    from cicasim.results import TABLE, atomic_directory

    set_threads(args.threads)  # also for the pivotality's ensembles
    scenario, text = read_scenario(args.scenario)
    if args.params:
        from cicasim.spec.paramsets import with_params

        scenario = with_params(scenario, args.params)
    seed, drawn = resolve_seed(args.seed)
    if args.plots and not args.out:
        raise InputError("--plots: needs --out DIR to write the figures into")
    if args.force and not args.out:
        raise InputError("--force: needs --out DIR (it replaces the run results there)")
    with contextlib.ExitStack() as stack:
        # the output directory is checked, created and locked before anything is computed
        tmp = (
            stack.enter_context(atomic_directory(args.out, kind="run", force=args.force))
            if args.out
            else None
        )
        bar = progress_bar("pivotality" if args.pivotality else "run", unit="blocks")
        with bar as update:
            result = run_scenario(
                scenario, proposals=args.proposal, replications=args.replications, seed=seed,
                pivotality=args.pivotality, pivotality_channels=args.pivotality_top,
                progress=update,
                source=(str(args.scenario), text), threads=args.threads,
                keep=False, table=None if tmp is None else tmp / TABLE,  # memory bounded
            )
        summary = result.to_dict()
        if tmp is not None:
            result.write(tmp, plots=args.plots)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        names = {a.id: a.name or a.id for a in result.scenario.actors}
        _print_table(summary, args.scenario, drawn, names)
        if args.out:
            print(f"results written to {args.out}")
    return 0
