"""Tell the round-by-round story of one negotiation, run through the Mesa model.

Replication ``--replication`` (default 0) of the ensemble with seed ``--seed``: the same numbers
``cicasim run --seed S`` produced for that replication.  Each round shows the text on the table,
who accepted, abstained or objected and by what utility margin, how far positions moved, and at
the end why the negotiation ended.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from cicasim.commands._common import replication_index, seed_int
from cicasim.errors import InputError
from cicasim.spec.scenario import load_scenario

HELP = "round-by-round story of one negotiation (Mesa model)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument("--proposal", required=True, metavar="ID", help="proposal id")
    parser.add_argument("--seed", type=seed_int, required=True, help="master seed")
    parser.add_argument(
        "--replication", type=replication_index, default=0,
        help="replication index (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="print the rounds as JSON")


def _fmt(v: tuple[float, ...]) -> str:
    return ", ".join(f"{x:.1f}" for x in v)


def run(args: argparse.Namespace) -> int:
    from cicasim.engine.model import run_trace

    scenario = load_scenario(args.scenario)
    ids = [p.id for p in scenario.proposals]
    if args.proposal not in ids:
        raise InputError(
            f"--proposal: unknown id {args.proposal!r} in {args.scenario}; "
            f"allowed: {', '.join(ids)}"
        )
    traced = run_trace(scenario, args.proposal, seed=args.seed, replication=args.replication)
    rounds = traced.story()
    end = traced.end()
    neg = traced.model.negotiation
    if args.json:
        json.dump(
            {
                "scenario": scenario.scenario.name,
                "proposal": args.proposal,
                "seed": args.seed,
                "replication": args.replication,
                "dimensions": list(neg.dimensions),
                "status_quo": neg.q.tolist(),
                "rounds": rounds,
                "end": end,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    prop = scenario.proposal(args.proposal)
    print(f"{scenario.scenario.name}: {prop.id} - {prop.title}")
    print(
        f"seed {args.seed}, replication {args.replication}; rule {prop.rule.kind}; "
        f"sponsor {prop.sponsor}; dimensions {', '.join(neg.dimensions)}"
    )
    print(f"status quo ({_fmt(tuple(neg.q))}), tabled text ({_fmt(tuple(neg.p0))})")
    for r in rounds:
        print(f"\nround {r['round']}: text ({_fmt(tuple(r['text']))})")
        for kind, label in (
            ("accept", "accepted"),
            ("abstain", "abstained"),
            ("object", "objected"),
        ):
            vs = r["votes"][kind]
            if vs:
                shown = ", ".join(f"{v['actor']} {v['margin']:+.3f}" for v in vs)
                print(f"  {label} ({len(vs)}): {shown}")
        movers = sorted(r["moved"].items(), key=lambda kv: -kv[1])[:3]
        if r["status"] == "running" and movers and movers[0][1] > 0:
            mean = float(np.mean(list(r["moved"].values())))
            shown = ", ".join(f"{a} {d:.2f}" for a, d in movers)
            print(f"  positions moved: mean {mean:.2f}; most {shown}")
    why = {
        "passed": "consensus reached: no member objected"
        if prop.rule.kind == "consensus"
        else f"the {prop.rule.kind} rule was met",
        "deadlock": f"no agreement within {prop.max_rounds} rounds (deadlock)",
        "withdrawn": "the sponsor withdrew: the compromise it would have to offer is worse "
        "for it than the status quo",
    }[end["reason"]]
    print(
        f"\nended after {end['rounds']} round(s): {why}; final text "
        f"({_fmt(tuple(end['final_text']))}), dilution {end['dilution']:.2f}"
    )
    return 0
