"""Pivotality: how much each member's presence changes P(consensus).

A member's pivotality is ΔP = P(consensus without it) − P(consensus with it), estimated on common
random numbers: the remaining actors keep their random streams when one is removed
(:mod:`cicasim.draws`), so the two ensembles are paired replication by replication and ΔP gets
Newcombe's (1998) paired interval.  Under consensus a positive ΔP marks a veto player whose
absence would let texts pass (the "pivotal player" of Tsebelis 2002 and of Shapley-Shubik power,
here measured in the bargaining model rather than in the bare rule).  The sponsor cannot be
removed and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from cicasim.compare import paired_difference
from cicasim.ensemble import ProposalRun, run_proposal
from cicasim.scenario import Scenario, parse_scenario

__all__ = ["Pivot", "pivotality", "without"]


@dataclass(frozen=True)
class Pivot:
    actor: str
    delta: float
    low: float
    high: float

    def to_dict(self) -> dict:
        return {"actor": self.actor, "delta": self.delta, "low": self.low, "high": self.high}


def without(scenario: Scenario, actor_id: str) -> Scenario:
    """The scenario with one actor (and its tensions) removed; enlargement steps are dropped."""
    data = scenario.model_dump()
    data["actors"] = [a for a in data["actors"] if a["id"] != actor_id]
    data["tensions"] = [t for t in data["tensions"] if actor_id not in t["pair"]]
    data["enlargement"] = []
    return parse_scenario(data, f"<{scenario.scenario.name} without {actor_id}>")


def pivotality(
    scenario: Scenario,
    proposal_id: str,
    *,
    replications: int,
    seed: int,
    base: ProposalRun | None = None,
) -> list[Pivot]:
    """ΔP(consensus) from removing each member in turn (sponsor excepted), largest first.

    ``base`` is the full scenario's run with the same seed and replications, when the caller
    has it already."""
    if base is None:
        base = run_proposal(scenario, proposal_id, replications=replications, seed=seed)
    sponsor = scenario.proposal(proposal_id).sponsor
    out = []
    for a in scenario.members:
        if a.id == sponsor:
            continue
        other = run_proposal(
            without(scenario, a.id), proposal_id, replications=replications, seed=seed
        )
        delta, lo, hi = paired_difference(base.outcome.passed, other.outcome.passed)
        out.append(Pivot(a.id, delta, lo, hi))
    return sorted(out, key=lambda p: (-p.delta, p.actor))
