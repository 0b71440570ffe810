"""Pivotality: how much each member's presence changes P(consensus), and through which channel.

A member's pivotality is ΔP = P(pass without it) − P(pass with it), estimated on common random
numbers: the remaining actors keep their random streams when one is removed
(:mod:`cicasim.engine.draws`), so the two ensembles are paired replication by replication and ΔP
gets Newcombe's (1998) paired interval.  That interval depends only on the 2×2 table of (passed
with it, passed without it) over the replications, so the two ensembles run block by block side
by side and only the tables are kept (:func:`paired_tables`).  Under consensus a positive ΔP
marks a veto player whose absence would let texts pass (the "pivotal player" of Tsebelis 2002
and of Shapley-Shubik power, here measured in the bargaining model rather than in the bare
rule).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from cicasim.analysis.compare import paired_counts, paired_interval
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK
from cicasim.engine.ensemble import ProposalRun, blocks_for, run_block
from cicasim.engine.kernel import PASSED, Negotiation, Outcome
from cicasim.engine.threads import ordered_map, resolve_threads
from cicasim.spec.scenario import Scenario, parse_scenario

__all__ = ["CHANNELS", "Pivot", "channel_negotiation", "paired_tables", "pivotality", "without"]

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


def paired_tables(
    neg: Negotiation,
    alternatives: Sequence[Negotiation],
    *,
    replications: int,
    seed: int,
    base: ProposalRun | None = None,
    threads: int | None = None,
    each_block: Callable[[Outcome], None] | None = None,
    tick: Callable[[], None] | None = None,
) -> np.ndarray:
    """Each alternative's 2×2 table against ``neg`` over ``replications`` paired replications
    (:func:`cicasim.analysis.compare.paired_counts`: ``(both, only neg, only the alternative,
    neither)`` pass), one row per alternative.

    The blocks run in lockstep: block ``b`` of ``neg`` (or of ``base``, its run kept in memory)
    and block ``b`` of every alternative, with the same seed, so a replication is paired with
    itself on common random numbers, as whole runs are; each block's tables are added to the
    totals and its outcomes dropped, so nothing per replication is kept.  ``each_block(outcomes)``
    sees every block of ``neg`` in order when ``base`` is None (to summarise the run or write
    its table as it comes); ``tick()`` is called once per ensemble per block."""
    blocks = blocks_for(replications)

    def one(block: tuple[int, int]) -> tuple[Outcome | None, np.ndarray]:
        b, rows = block
        out = None
        if base is None:
            out = run_block(neg, seed=seed, point=0, block=b, rows=rows)
            ref = out.status == PASSED
        else:
            ref = base.outcome.status[b * BLOCK:b * BLOCK + rows] == PASSED
        tables = np.zeros((len(alternatives), 4), dtype=np.int64)
        for i, alt in enumerate(alternatives):
            other = run_block(alt, seed=seed, point=0, block=b, rows=rows)
            tables[i] = paired_counts(ref, other.status == PASSED)
        return out, tables

    total = np.zeros((len(alternatives), 4), dtype=np.int64)
    n = min(resolve_threads(threads), len(blocks))
    for out, tables in ordered_map(one, blocks, threads=n):
        total += tables
        if each_block is not None and out is not None:
            each_block(out)
        if tick is not None:
            for _ in range(1 + len(alternatives)):
                tick()
    return total


def pivotality(
    scenario: Scenario,
    proposal_id: str,
    *,
    replications: int,
    seed: int,
    base: ProposalRun | None = None,
    channels: int | None = 5,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
    each_block: Callable[[Outcome], None] | None = None,
) -> list[Pivot]:
    """ΔP(pass) from removing each member in turn (the proposal's sponsor is not removable
    and is left out), largest first.

    ``channels``: how many members get the decomposition by channel, taken among those whose
    removal changes P significantly (the interval excludes 0), largest |ΔP| first (None: every
    member, significant or not; 0: none).  ``base`` is the full scenario's run with the same
    seed and replications, when the caller has it already; without it, the run is computed
    block by block beside the removals (:func:`paired_tables`), and again beside the channels,
    so memory does not grow with ``replications``, and ``each_block(outcomes)`` sees its blocks
    in order (once).  The numbers are the same either way, bit for bit: they depend only on
    the 2×2 tables.  The blocks run on ``threads`` threads (None: every core).
    ``progress(done, total)`` is called after each block of each ensemble (the run counts as
    one ensemble beside the removals, and, recomputed, one beside the channels).
    """
    sponsor = scenario.proposal(proposal_id).sponsor
    others = [a.id for a in scenario.members if a.id != sponsor]
    if channels is not None and channels < 0:
        raise ValueError(f"channels must be None or at least 0 (got {channels})")
    n_channels = len(others) if channels is None else min(channels, len(others))
    blocks = len(blocks_for(replications))
    again = 1 if base is None and n_channels else 0  # the run recomputed beside the channels
    total = blocks * (1 + len(others) + again + len(CHANNELS) * n_channels)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    neg = negotiation(scenario, proposal_id)
    removed = [negotiation(without(scenario, a, proposal=proposal_id), proposal_id)
               for a in others]
    tables = paired_tables(neg, removed, replications=replications, seed=seed, base=base,
                           threads=threads, each_block=each_block, tick=tick)
    out = [Pivot(a, *paired_interval(*t)) for a, t in zip(others, tables.tolist(), strict=True)]
    chosen = out if channels is None else (p for p in out if p.low > 0 or p.high < 0)
    decompose = sorted(chosen, key=lambda p: (-abs(p.delta), p.actor))[:n_channels]
    again = 1 if base is None and decompose else 0
    total = done + blocks * (again + len(CHANNELS) * len(decompose))
    alternatives = [channel_negotiation(neg, p.actor, c) for p in decompose for c in CHANNELS]
    decomposed = {}
    if alternatives:
        tables = paired_tables(neg, alternatives, replications=replications, seed=seed,
                               base=base, threads=threads, tick=tick).tolist()
        for i, p in enumerate(decompose):
            ch = {c: paired_interval(*tables[i * len(CHANNELS) + k])
                  for k, c in enumerate(CHANNELS)}
            decomposed[p.actor] = replace(p, channels=ch)
    out = [decomposed.get(p.actor, p) for p in out]
    return sorted(out, key=lambda p: (-p.delta, p.actor))
