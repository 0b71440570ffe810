"""Monte Carlo ensembles: many replications of each proposal's negotiation, and their summaries.

Replications run in blocks of :data:`cicasim.engine.draws.BLOCK` through the compiled kernel, on
``threads`` threads at once (:mod:`cicasim.engine.threads`; default: every core).  A block's numbers
depend only on ``(seed, point, block, proposal, actor)`` (:mod:`cicasim.engine.draws`), and blocks
are combined in block order, so any thread count and any split of blocks over workers gives the
same result, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.kernel import PASSED, REASONS, Negotiation, Outcome, negotiate
from cicasim.engine.threads import ordered_map, resolve_threads
from cicasim.errors import InputError
from cicasim.intervals import wilson
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EnsembleResult",
    "ProposalRun",
    "ProposalSummary",
    "blocks_for",
    "concat_outcomes",
    "iter_blocks",
    "run_block",
    "run_negotiation",
    "run_ensemble",
    "run_proposal",
    "summarise",
    "wilson",
]


def blocks_for(replications: int) -> list[tuple[int, int]]:
    """``(block, rows)`` pairs covering ``replications`` replications."""
    out = []
    for b in range(-(-replications // BLOCK)):
        out.append((b, min(BLOCK, replications - b * BLOCK)))
    return out


def concat_outcomes(parts: Sequence[Outcome]) -> Outcome:
    """The outcomes of consecutive blocks as one (replications in block order)."""
    if len(parts) == 1:
        return parts[0]
    return Outcome(
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in Outcome.__dataclass_fields__}
    )


def run_block(neg: Negotiation, *, seed: int, point: int, block: int, rows: int) -> Outcome:
    """Run replications ``block * BLOCK`` to ``block * BLOCK + rows - 1`` of one negotiation."""
    draws = BlockDraws.of(neg, seed=seed, point=point, block=block, rows=slice(0, rows))
    return negotiate(neg, draws.start(), draws.rounds())


def iter_blocks(
    neg: Negotiation,
    *,
    replications: int,
    seed: int,
    point: int = 0,
    threads: int | None = None,
) -> Iterator[Outcome]:
    """The outcomes of the blocks covering ``replications`` replications, in block order,
    computed on ``threads`` threads (None: :func:`cicasim.engine.threads.default_threads`) with a
    few blocks at most waiting to be consumed, so a caller that summarises or writes each block
    as it comes holds memory for a handful of blocks whatever the replication count."""
    n = resolve_threads(threads)
    blocks = blocks_for(replications)

    def one(block: tuple[int, int]) -> Outcome:
        return run_block(neg, seed=seed, point=point, block=block[0], rows=block[1])

    return ordered_map(one, blocks, threads=min(n, len(blocks)))


def run_negotiation(
    neg: Negotiation,
    *,
    replications: int,
    seed: int,
    point: int = 0,
    threads: int | None = None,
    on_block: Callable[[], None] | None = None,
) -> Outcome:
    """All ``replications`` replications of one negotiation as one outcome (replications in
    order), blocks on ``threads`` threads; ``on_block()`` is called after each block."""
    parts = []
    for out in iter_blocks(neg, replications=replications, seed=seed, point=point,
                           threads=threads):
        parts.append(out)
        if on_block:
            on_block()
    return concat_outcomes(parts)


@dataclass(frozen=True)
class ProposalRun:
    """All replications of one proposal."""

    negotiation: Negotiation
    replications: int
    outcome: Outcome

    def __repr__(self) -> str:
        return f"<ProposalRun {self.proposal!r}: {self.replications:,} replications>"

    @property
    def proposal(self) -> str:
        return self.negotiation.proposal


def run_proposal(
    scenario: Scenario,
    proposal_id: str,
    *,
    replications: int,
    seed: int,
    point: int = 0,
    threads: int | None = None,
) -> ProposalRun:
    """Monte Carlo over ``replications`` replications of one proposal, blocks on ``threads``
    threads (None: every core, or what :func:`cicasim.engine.threads.set_threads` set; pass 1
    in a worker process of a pool that already uses the cores).  The numbers do not depend on
    ``threads``."""
    neg = negotiation(scenario, proposal_id)
    outcome = run_negotiation(neg, replications=replications, seed=seed, point=point,
                              threads=threads)
    return ProposalRun(negotiation=neg, replications=replications, outcome=outcome)


@dataclass(frozen=True)
class Blocker:
    actor: str
    frequency: float


@dataclass(frozen=True)
class ProposalSummary:
    """The headline figures of one proposal's ensemble."""

    id: str
    title: str
    replications: int
    passed: int
    p_consensus: float
    ci_low: float
    ci_high: float
    median_rounds: float
    mean_dilution: float | None
    mean_drift: float | None
    reasons: dict[str, int]
    blocking: dict[str, float]  # every member: share of replications it objected and it failed
    first_blocker: dict[str, float]  # share of replications each actor blocked first
    mean_outcome: dict[str, float]  # mean agreed text per touched dimension (passed only)

    def blockers(self, top: int = 3) -> list[Blocker]:
        """The ``top`` most frequent blockers (ties broken by actor id)."""
        ranked = sorted(self.blocking.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Blocker(a, f) for a, f in ranked[:top] if f > 0]

    def to_dict(self, top: int = 3) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "p_consensus": self.p_consensus,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "passed": self.passed,
            "replications": self.replications,
            "median_rounds": self.median_rounds,
            "mean_dilution": self.mean_dilution,
            "mean_drift": self.mean_drift,
            "reasons": self.reasons,
            "blockers": [{"actor": b.actor, "frequency": b.frequency} for b in self.blockers(top)],
            "mean_outcome": self.mean_outcome,
        }


def summarise(run: ProposalRun, title: str = "") -> ProposalSummary:
    """P(consensus) with its Wilson interval, median rounds over all replications, mean
    dilution of the agreed texts (signed: negative when they ended more ambitious than tabled)
    and their mean drift off the tabled-text-to-status-quo line, and each member's blocking
    frequency."""
    o, neg, n = run.outcome, run.negotiation, run.replications
    passed = o.status == PASSED
    k = int(passed.sum())
    lo, hi = wilson(k, n)
    failed = ~passed
    block = (o.objectors & failed[:, None]).mean(axis=0)
    first = np.bincount(o.first_blocker[o.first_blocker >= 0], minlength=neg.n) / n
    ids = neg.actor_ids
    return ProposalSummary(
        id=neg.proposal,
        title=title,
        replications=n,
        passed=k,
        p_consensus=k / n,
        ci_low=lo,
        ci_high=hi,
        median_rounds=float(np.median(o.rounds)),
        mean_dilution=float(o.dilution[passed].mean()) if k else None,
        mean_drift=float(o.drift[passed].mean()) if k else None,
        reasons={REASONS[c]: int((o.status == c).sum()) for c in sorted(REASONS) if c},
        blocking={ids[i]: float(block[i]) for i in range(neg.n) if neg.member[i]},
        first_blocker={ids[i]: float(first[i]) for i in range(neg.n) if first[i] > 0},
        mean_outcome={
            d: float(o.outcome[passed, j].mean()) if k else float("nan")
            for j, d in enumerate(neg.dimensions)
        },
    )


@dataclass(frozen=True)
class EnsembleResult:
    """The ensembles of several proposals of one scenario, with their seed."""

    scenario: Scenario
    seed: int
    point: int
    replications: int
    runs: tuple[ProposalRun, ...]

    def __repr__(self) -> str:
        ids = ", ".join(r.proposal for r in self.runs)
        return (f"<EnsembleResult {self.scenario.scenario.name!r}: seed {self.seed}, "
                f"{self.replications:,} replications of {ids}>")

    def summaries(self) -> list[ProposalSummary]:
        titles = {p.id: p.title for p in self.scenario.proposals}
        return [summarise(r, titles[r.proposal]) for r in self.runs]

    def columns(self) -> dict[str, np.ndarray]:
        """The per-replication table as columns (one row per proposal × replication): what
        :meth:`table` shows and what sweeps write to Parquet directly."""
        reasons = np.array([REASONS[k] for k in sorted(REASONS)], dtype=object)
        parts = []
        for r in self.runs:
            o, neg = r.outcome, r.negotiation
            ids = np.asarray(neg.actor_ids, dtype=object)
            cols = {
                "point": np.full(r.replications, self.point, dtype=np.int64),
                "proposal": np.full(r.replications, neg.proposal, dtype=object),
                "replication": np.arange(r.replications, dtype=np.int64),
                "passed": o.status == PASSED,
                "reason": reasons[o.status],
                "rounds": o.rounds.astype(np.int64),
                "dilution": o.dilution,
                "drift": o.drift,
                "first_blocker": np.append(ids, None)[o.first_blocker],  # -1: none
                "objectors": _joined_names(o.objectors, ids),
                "abstainers": _joined_names(o.abstainers, ids),
            }
            for j, d in enumerate(neg.dimensions):
                cols[f"outcome_{d}"] = o.outcome[:, j]
                cols[f"policy_{d}"] = o.policy[:, j]
            parts.append(cols)
        names = list(dict.fromkeys(k for cols in parts for k in cols))
        # proposals touching other dimensions leave those columns empty (NaN)
        return {
            k: np.concatenate([
                cols.get(k, np.full(len(cols["point"]), np.nan)) for cols in parts
            ])
            for k in names
        }

    def table(self) -> pd.DataFrame:
        """Tidy table: one row per proposal × replication."""
        import pandas as pd

        return pd.DataFrame(self.columns())


def _joined_names(mask: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per row of the boolean ``mask`` (R, N), the ids it marks joined by ";" ("" for none),
    built a column at a time (numpy adds the strings of an object array in one pass)."""
    acc = np.full(mask.shape[0], "", dtype=object)
    for j in np.flatnonzero(mask.any(axis=0)):
        acc[mask[:, j]] += ids[j] + ";"
    return np.array([s[:-1] for s in acc], dtype=object)


def run_ensemble(
    scenario: Scenario,
    *,
    proposals: Sequence[str] | None = None,
    replications: int = 10_000,
    seed: int,
    point: int = 0,
    threads: int | None = None,
) -> EnsembleResult:
    """Monte Carlo ensembles of the given proposals (default: all) of a scenario, blocks on
    ``threads`` threads (:func:`run_proposal`)."""
    if replications < 1:
        raise InputError(f"replications: must be at least 1 (got {replications})")
    known = [p.id for p in scenario.proposals]
    chosen = list(proposals) if proposals else known
    if not chosen:
        raise InputError("proposals: the scenario defines no proposals to run")
    for pid in chosen:
        if pid not in known:
            raise InputError(f"proposal: unknown id {pid!r}; allowed: {', '.join(known)}")
    runs = tuple(
        run_proposal(scenario, pid, replications=replications, seed=seed, point=point,
                     threads=threads)
        for pid in chosen
    )
    return EnsembleResult(
        scenario=scenario, seed=seed, point=point, replications=replications, runs=runs
    )
