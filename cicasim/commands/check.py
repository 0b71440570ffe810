"""Validate a scenario file and summarise it: members, observers, tensions, proposals."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from cicasim.commands._common import count
from cicasim.spec.scenario import load_scenario

HELP = "validate and summarise a scenario file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def summary(scenario) -> dict:
    """A plain-data summary of a validated scenario.  Tensions are summarised among members
    (the pairs that vote), and apart for the pairs that involve an observer."""
    from cicasim.engine.arrays import tension_matrix

    T, _ = tension_matrix(scenario)
    actors = scenario.actors
    members = [a.id for a in scenario.members]
    member = np.array([a.role == "member" for a in actors])
    idx = np.flatnonzero(member)
    sub = T[np.ix_(idx, idx)]
    iu = np.triu_indices(len(idx), k=1)
    vals = sub[iu] if iu[0].size else np.zeros(1)
    pairs = [(i, j) for i in range(len(T)) for j in range(i + 1, len(T))]

    def highest(keep) -> list[dict]:
        top = sorted(((float(T[i, j]), actors[i].id, actors[j].id) for i, j in pairs
                      if keep(i, j)), key=lambda v: (-v[0], v[1], v[2]))[:5]
        return [{"pair": [a, b], "value": v} for v, a, b in top]

    role = {a.id: a.role for a in actors}
    listed = [t.pair for t in scenario.tensions]
    listed_members = sum(1 for a, b in listed if role[a] == role[b] == "member")
    return {
        "name": scenario.scenario.name,
        "members": members,
        "observers": [a.id for a in scenario.observers],
        "dimensions": [d.id for d in scenario.dimensions],
        "tension": {
            "pairs_listed": len(listed),
            "member_pairs": int(iu[0].size),
            "member_pairs_listed": listed_members,
            "observer_pairs_listed": len(listed) - listed_members,
            "default": scenario.scenario.default_tension,
            "members_mean": float(vals.mean()),
            "members_median": float(np.median(vals)),
            "members_max": float(vals.max()),
            "highest": highest(lambda i, j: member[i] and member[j]),
            "highest_with_observers": highest(lambda i, j: not (member[i] and member[j])),
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


def _pairs(highest: list[dict]) -> str:
    return ", ".join(f"{'-'.join(h['pair'])} {h['value']:.2f}" for h in highest) or "-"


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    s = summary(scenario)
    if args.json:
        json.dump(s, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{args.scenario}: valid - {s['name']}")
    print(f"  {count(len(s['members']), 'member')}: {', '.join(s['members'])}")
    print(f"  {count(len(s['observers']), 'observer')}: {', '.join(s['observers']) or '-'}")
    print(f"  dimensions: {', '.join(s['dimensions'])}")
    t = s["tension"]
    listed = (
        "all listed" if t["member_pairs_listed"] == t["member_pairs"]
        else f"{t['member_pairs_listed']:,} listed, the others at the default {t['default']:.2f}"
    )
    if t["member_pairs"]:
        print(
            f"  tensions among members: mean {t['members_mean']:.2f}, median "
            f"{t['members_median']:.2f}, max {t['members_max']:.2f} over the "
            f"{count(t['member_pairs'], 'member pair')} ({listed})"
        )
        print(f"  highest among members: {_pairs(t['highest'])}")
    else:
        print("  tensions among members: none (one member, no pair)")
    if s["observers"]:
        print(
            f"  tensions with observers: {count(t['observer_pairs_listed'], 'pair')} listed; "
            f"highest: {_pairs(t['highest_with_observers'])}"
        )
    for p in s["proposals"]:
        print(
            f"  proposal {p['id']}: {p['title']} (sponsor {p['sponsor']}, {p['rule']}, "
            f"up to {count(p['max_rounds'], 'round')}, on {', '.join(p['dimensions'])})"
        )
    if s["enlargement_steps"]:
        print(f"  enlargement: {count(s['enlargement_steps'], 'step')}")
    return 0
