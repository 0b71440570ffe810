"""Pivotality: how much each member's presence changes P(consensus), and through which channel.

A member's pivotality is ΔP = P(pass without it) − P(pass with it), estimated on common random
numbers: the remaining actors keep their random streams when one is removed
(:mod:`cicasim.engine.draws`), so the two ensembles are paired replication by replication and ΔP
gets
Newcombe's (1998) paired interval.  Under consensus a positive ΔP marks a veto player whose
absence would let texts pass (the "pivotal player" of Tsebelis 2002 and of Shapley-Shubik power,
here measured in the bargaining model rather than in the bare rule).

The counterfactual for member i on proposal p needs proposal p alone: the scenario without i
keeps p and drops the other proposals, so a member that sponsors another proposal is removed
like any other (its own proposal is simply not part of p's counterfactual).  p's own sponsor is
not removable: without it there is no text to decide.  It is skipped, and :func:`pivotality`'s
callers report it as such (``cicasim run --pivotality``: "not removable (sponsor)").

A member acts on the outcome through three channels of the model (``docs/model.md``), and
removing it from one channel at a time, everything else kept, says which of them carries its
pivotality:

* ``vote``: it no longer votes (it neither accepts nor objects, does not count in the rule, and
  cannot hold up), but still weighs in the compromise and still influences others;
* ``influence``: nobody takes it as a source in the influence step (it still votes and weighs
  in the compromise, and still listens to the others);
* ``compromise``: its position no longer counts in the compromise the text is amended towards
  (it still votes and influences).

A member that never blocks can still be pivotal: by pulling the compromise, and so every amended
text, away from what the others would accept, or by pulling the others' positions.  The channels
interact, so their ΔPs need not add up to the full removal's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from cicasim.analysis.compare import paired_difference
from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import (
    ProposalRun,
    blocks_for,
    concat_outcomes,
    run_block,
    run_proposal,
)
from cicasim.engine.kernel import PASSED, Negotiation
from cicasim.spec.scenario import Scenario, parse_scenario

__all__ = ["CHANNELS", "Pivot", "channel_negotiation", "pivotality", "without"]

#: The channels through which a member acts, in the order they are reported.
CHANNELS: tuple[str, ...] = ("vote", "influence", "compromise")

#: One line per channel, for the command line and the docs.
CHANNEL_MEANING: dict[str, str] = {
    "vote": "it does not vote (still weighs in the compromise and influences others)",
    "influence": "nobody listens to it (still votes and weighs in the compromise)",
    "compromise": "its position leaves the compromise (still votes and influences)",
}


@dataclass(frozen=True)
class Pivot:
    """ΔP from removing ``actor`` entirely, with its paired 95% interval; ``channels`` holds
    ``(delta, low, high)`` per channel when they were estimated."""

    actor: str
    delta: float
    low: float
    high: float
    channels: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "actor": self.actor, "delta": self.delta, "low": self.low, "high": self.high,
            "channels": {
                k: {"delta": d, "low": lo, "high": hi} for k, (d, lo, hi) in self.channels.items()
            } or None,
        }


def without(scenario: Scenario, actor_id: str, *, proposal: str | None = None) -> Scenario:
    """The scenario with one actor (and its tensions) removed; enlargement steps are dropped.

    With ``proposal`` only that proposal is kept (the counterfactual of one proposal needs no
    other, and another proposal may be the removed actor's own).  Raises ValueError when the
    actor sponsors a proposal kept: a proposal without its sponsor has no text.
    """
    data = scenario.model_dump()
    if proposal is not None:
        data["proposals"] = [p for p in data["proposals"] if p["id"] == proposal]
    sponsored = [p["id"] for p in data["proposals"] if p["sponsor"] == actor_id]
    if sponsored:
        raise ValueError(f"{actor_id} sponsors {', '.join(sponsored)}: a sponsor is not "
                         "removable from its own proposal")
    data["actors"] = [a for a in data["actors"] if a["id"] != actor_id]
    data["tensions"] = [t for t in data["tensions"] if actor_id not in t["pair"]]
    data["enlargement"] = []
    return parse_scenario(data, f"<{scenario.scenario.name} without {actor_id}>")


def channel_negotiation(neg: Negotiation, actor_id: str, channel: str) -> Negotiation:
    """``neg`` with actor ``actor_id`` taken out of one channel (:data:`CHANNELS`)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)} (got {channel!r})")
    i = neg.actor_ids.index(actor_id)
    if channel == "vote":
        member = neg.member.copy()
        member[i] = False
        # the rule is re-counted without it; it keeps its weight in the compromise
        return replace(neg, member=member, weighed=neg.weighed.copy())
    mask = (neg.source if channel == "influence" else neg.weighed).copy()
    mask[i] = False
    return replace(neg, **{"source" if channel == "influence" else "weighed": mask})


def _passed(neg: Negotiation, *, replications: int, seed: int) -> np.ndarray:
    parts = [
        run_block(neg, seed=seed, point=0, block=b, rows=rows)
        for b, rows in blocks_for(replications)
    ]
    return concat_outcomes(parts).status == PASSED


def pivotality(
    scenario: Scenario,
    proposal_id: str,
    *,
    replications: int,
    seed: int,
    base: ProposalRun | None = None,
    channels: int | None = 5,
    progress: Callable[[int, int], None] | None = None,
) -> list[Pivot]:
    """ΔP(pass) from removing each member in turn (the proposal's sponsor is not removable
    and is left out), largest first.

    ``channels``: how many members get the decomposition by channel, taken among those whose
    removal changes P significantly (the interval excludes 0), largest |ΔP| first (None: every
    member, significant or not; 0: none).  ``base`` is the full scenario's run with the same
    seed and replications, when the caller has it already.  ``progress(done, total)`` is
    called after each ensemble.
    """
    sponsor = scenario.proposal(proposal_id).sponsor
    others = [a.id for a in scenario.members if a.id != sponsor]
    if channels is not None and channels < 0:
        raise ValueError(f"channels must be None or at least 0 (got {channels})")
    n_channels = len(others) if channels is None else min(channels, len(others))
    total = 1 + len(others) + len(CHANNELS) * n_channels
    done = 0

    def tick(k: int = 1) -> None:
        nonlocal done, total
        done += k
        if progress:
            progress(done, total)

    if base is None:
        base = run_proposal(scenario, proposal_id, replications=replications, seed=seed)
    tick()
    ref = base.outcome.status == PASSED
    out = []
    for a in others:
        other = run_proposal(
            without(scenario, a, proposal=proposal_id), proposal_id, replications=replications,
            seed=seed,
        )
        delta, lo, hi = paired_difference(ref, other.outcome.status == PASSED)
        out.append(Pivot(a, delta, lo, hi))
        tick()
    chosen = out if channels is None else (p for p in out if p.low > 0 or p.high < 0)
    decompose = sorted(chosen, key=lambda p: (-abs(p.delta), p.actor))[:n_channels]
    total = done + len(CHANNELS) * len(decompose)
    neg = negotiation(scenario, proposal_id)
    decomposed = {}
    for p in decompose:
        ch = {}
        for c in CHANNELS:
            alt = _passed(channel_negotiation(neg, p.actor, c), replications=replications,
                          seed=seed)
            ch[c] = paired_difference(ref, alt)
            tick()
        decomposed[p.actor] = replace(p, channels=ch)
    out = [decomposed.get(p.actor, p) for p in out]
    return sorted(out, key=lambda p: (-p.delta, p.actor))
