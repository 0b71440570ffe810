"""Validate a scenario file and summarise it: members, observers, tensions, proposals."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from cicasim.scenario import load_scenario
from cicasim.setup import tension_matrix

HELP = "validate and summarise a scenario file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def summary(scenario) -> dict:
    """A plain-data summary of a validated scenario."""
    T, _ = tension_matrix(scenario)
    members = [a.id for a in scenario.members]
    idx = [i for i, a in enumerate(scenario.actors) if a.role == "member"]
    sub = T[np.ix_(idx, idx)]
    iu = np.triu_indices(len(idx), k=1)
    vals = sub[iu] if iu[0].size else np.zeros(1)
    top = sorted(
        (
            (float(T[i, j]), scenario.actors[i].id, scenario.actors[j].id)
            for i in range(len(T))
            for j in range(i + 1, len(T))
        ),
        reverse=True,
    )[:5]
    return {
        "name": scenario.scenario.name,
        "members": members,
        "observers": [a.id for a in scenario.observers],
        "dimensions": [d.id for d in scenario.dimensions],
        "tension": {
            "pairs_listed": len(scenario.tensions),
            "default": scenario.scenario.default_tension,
            "members_mean": float(vals.mean()),
            "members_median": float(np.median(vals)),
            "members_max": float(vals.max()),
            "highest": [{"pair": [a, b], "value": v} for v, a, b in top],
        },
        "proposals": [
            {
                "id": p.id,
                "title": p.title,
                "sponsor": p.sponsor,
                "rule": p.rule.kind,
                "max_rounds": p.max_rounds,
                "dimensions": [t.dimension for t in p.touches],
            }
            for p in scenario.proposals
        ],
        "enlargement_steps": len(scenario.enlargement),
    }


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    s = summary(scenario)
    if args.json:
        json.dump(s, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{args.scenario}: valid - {s['name']}")
    print(f"  {len(s['members'])} members: {', '.join(s['members'])}")
    print(f"  {len(s['observers'])} observers: {', '.join(s['observers']) or '-'}")
    print(f"  dimensions: {', '.join(s['dimensions'])}")
    t = s["tension"]
    print(
        f"  tensions among members: mean {t['members_mean']:.2f}, median "
        f"{t['members_median']:.2f}, max {t['members_max']:.2f} "
        f"({t['pairs_listed']} pairs listed, default {t['default']:.2f})"
    )
    print(
        "  highest: " + ", ".join(f"{'-'.join(h['pair'])} {h['value']:.2f}" for h in t["highest"])
    )
    for p in s["proposals"]:
        print(
            f"  proposal {p['id']}: {p['title']} (sponsor {p['sponsor']}, {p['rule']}, "
            f"up to {p['max_rounds']} rounds, on {', '.join(p['dimensions'])})"
        )
    if s["enlargement_steps"]:
        print(f"  enlargement steps: {s['enlargement_steps']}")
    return 0
