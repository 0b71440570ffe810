"""Monte Carlo ensembles: many replications of each proposal's negotiation, and their summaries.

Replications run in blocks of :data:`cicasim.engine.draws.BLOCK` through the compiled kernel, on
``threads`` threads at once (:mod:`cicasim.engine.threads`; default: every core).  A block's numbers
depend only on ``(seed, point, block, proposal, actor)`` (:mod:`cicasim.engine.draws`), and blocks
are combined in block order, so any thread count and any split of blocks over workers gives the
same result, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.kernel import PASSED, REASONS, Negotiation, Outcome, negotiate
from cicasim.engine.table import ROW_COLUMNS, block_columns, table_columns
from cicasim.engine.threads import ordered_map, resolve_threads
from cicasim.errors import InputError
from cicasim.intervals import wilson
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EnsembleResult",
    "EnsembleSummary",
    "ProposalRun",
    "ProposalSummary",
    "RunningSummary",
    "ROW_COLUMNS",
    "block_columns",
    "blocks_for",
    "chosen_proposals",
    "concat_outcomes",
    "iter_blocks",
    "run_block",
    "run_negotiation",
    "run_ensemble",
    "run_proposal",
    "summarise",
    "summarise_ensemble",
    "table_columns",
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
    on_block: Callable[[], None] | None = None,
) -> ProposalRun:
    """Monte Carlo over ``replications`` replications of one proposal, blocks on ``threads``
    threads (None: every core, or what :func:`cicasim.engine.threads.set_threads` set; pass 1
    in a worker process of a pool that already uses the cores).  The numbers do not depend on
    ``threads``.  ``on_block()`` is called after each block (an exception it raises stops the
    run, as the explorer stops a run a newer setting has superseded)."""
    neg = negotiation(scenario, proposal_id)
    outcome = run_negotiation(neg, replications=replications, seed=seed, point=point,
                              threads=threads, on_block=on_block)
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


class RunningSummary:
    """A proposal's :class:`ProposalSummary`, accumulated one block of outcomes at a time, so an
    ensemble is summarised in memory that does not grow with its replications.

    Everything counted is exact: passes and endings, each member's objections to failed texts,
    first blockers, and the rounds as a histogram (they are small whole numbers), from which
    the median is read as :func:`numpy.median` would compute it.  The means over the agreed
    texts (dilution, drift, text per dimension) are numpy's sums within each block, added over
    the blocks with :func:`math.fsum` (exactly rounded, so the block order cannot matter) and
    divided by the number agreed.  Up to one block this is numpy's ``mean`` exactly; over many
    blocks the two differ by rounding only (a few units in the last place,
    ``docs/performance.md``).
    """

    def __init__(self, neg: Negotiation) -> None:
        self.negotiation = neg
        self.replications = 0
        self.status = np.zeros(len(REASONS), dtype=np.int64)
        self.objected = np.zeros(neg.n, dtype=np.int64)
        self.first = np.zeros(neg.n, dtype=np.int64)
        self.rounds = np.zeros(neg.max_rounds + 1, dtype=np.int64)
        self._sums: list[np.ndarray] = []  # per block: dilution, drift, text per dimension

    def add(self, o: Outcome) -> None:
        """Count one block's outcomes (blocks in order)."""
        passed = o.status == PASSED
        self.replications += len(o.status)
        self.status += np.bincount(o.status, minlength=len(REASONS))
        self.objected += np.count_nonzero(o.objectors & ~passed[:, None], axis=0)
        self.first += np.bincount(o.first_blocker[o.first_blocker >= 0],
                                  minlength=self.negotiation.n)
        self.rounds += np.bincount(o.rounds, minlength=len(self.rounds))
        if passed.any():
            self._sums.append(np.array(
                [o.dilution[passed].sum(), o.drift[passed].sum()]
                + [o.outcome[passed, j].sum() for j in range(o.outcome.shape[1])]
            ))

    def _mean(self, i: int, k: int) -> float:
        return math.fsum(float(s[i]) for s in self._sums) / k

    def median_rounds(self) -> float:
        """The median of the rounds, from their histogram: the middle value, or the mean of
        the two middle values, as :func:`numpy.median` takes them."""
        n = self.replications
        cum = np.cumsum(self.rounds)
        lo = int(np.searchsorted(cum, (n - 1) // 2, side="right"))
        hi = int(np.searchsorted(cum, n // 2, side="right"))
        return float(lo) if lo == hi else (lo + hi) / 2

    def summary(self, title: str = "") -> ProposalSummary:
        """The figures of :func:`summarise` for the blocks added so far."""
        neg, n = self.negotiation, self.replications
        k = int(self.status[PASSED])
        lo, hi = wilson(k, n)
        block = self.objected / n
        first = self.first / n
        ids = neg.actor_ids
        return ProposalSummary(
            id=neg.proposal,
            title=title,
            replications=n,
            passed=k,
            p_consensus=k / n,
            ci_low=lo,
            ci_high=hi,
            median_rounds=self.median_rounds(),
            mean_dilution=self._mean(0, k) if k else None,
            mean_drift=self._mean(1, k) if k else None,
            reasons={REASONS[c]: int(self.status[c]) for c in sorted(REASONS) if c},
            blocking={ids[i]: float(block[i]) for i in range(neg.n) if neg.member[i]},
            first_blocker={ids[i]: float(first[i]) for i in range(neg.n) if first[i] > 0},
            mean_outcome={
                d: self._mean(2 + j, k) if k else float("nan")
                for j, d in enumerate(neg.dimensions)
            },
        )


def summarise(run: ProposalRun, title: str = "") -> ProposalSummary:
    """P(consensus) with its Wilson interval, median rounds over all replications, mean
    dilution of the agreed texts (signed: negative when they ended more ambitious than tabled)
    and their mean drift off the tabled-text-to-status-quo line, and each member's blocking
    frequency: :class:`RunningSummary` over the run's blocks, so a run summarised on the fly
    and one kept whole give the same numbers, bit for bit."""
    acc = RunningSummary(run.negotiation)
    o = run.outcome
    for lo in range(0, run.replications, BLOCK):
        rows = slice(lo, lo + BLOCK)
        acc.add(Outcome(**{f: getattr(o, f)[rows] for f in Outcome.__dataclass_fields__}))
    return acc.summary(title)


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

    @property
    def proposals(self) -> list[str]:
        return [r.proposal for r in self.runs]

    def summaries(self) -> list[ProposalSummary]:
        titles = {p.id: p.title for p in self.scenario.proposals}
        return [summarise(r, titles[r.proposal]) for r in self.runs]

    def columns(self) -> dict[str, np.ndarray]:
        """The per-replication table as columns (one row per proposal × replication): what
        :meth:`table` shows and what sweeps write to Parquet directly."""
        parts = [block_columns(r.negotiation, r.outcome, point=self.point) for r in self.runs]
        names = table_columns([r.negotiation for r in self.runs])
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


def chosen_proposals(scenario: Scenario, proposals: Sequence[str] | None,
                     replications: int) -> list[str]:
    """The proposal ids to run (default: all), checked; a one-line error otherwise."""
    if replications < 1:
        raise InputError(f"replications: must be at least 1 (got {replications})")
    known = [p.id for p in scenario.proposals]
    chosen = list(proposals) if proposals else known
    if not chosen:
        raise InputError("proposals: the scenario defines no proposals to run")
    for pid in chosen:
        if pid not in known:
            raise InputError(f"proposal: unknown id {pid!r}; allowed: {', '.join(known)}")
    return chosen


def run_ensemble(
    scenario: Scenario,
    *,
    proposals: Sequence[str] | None = None,
    replications: int = 10_000,
    seed: int,
    point: int = 0,
    threads: int | None = None,
    on_block: Callable[[], None] | None = None,
) -> EnsembleResult:
    """Monte Carlo ensembles of the given proposals (default: all) of a scenario, blocks on
    ``threads`` threads, ``on_block()`` called after each block (:func:`run_proposal`)."""
    chosen = chosen_proposals(scenario, proposals, replications)
    runs = tuple(
        run_proposal(scenario, pid, replications=replications, seed=seed, point=point,
                     threads=threads, on_block=on_block)
        for pid in chosen
    )
    return EnsembleResult(
        scenario=scenario, seed=seed, point=point, replications=replications, runs=runs
    )


@dataclass(frozen=True)
class EnsembleSummary:
    """The summaries of several proposals' ensembles of one scenario, with their seed, and
    nothing per replication (:func:`summarise_ensemble`)."""

    scenario: Scenario
    seed: int
    point: int
    replications: int
    proposal_summaries: tuple[ProposalSummary, ...]

    def __repr__(self) -> str:
        return (f"<EnsembleSummary {self.scenario.scenario.name!r}: seed {self.seed}, "
                f"{self.replications:,} replications of {', '.join(self.proposals)}>")

    @property
    def proposals(self) -> list[str]:
        return [s.id for s in self.proposal_summaries]

    def summaries(self) -> list[ProposalSummary]:
        return list(self.proposal_summaries)


def summarise_ensemble(
    scenario: Scenario,
    *,
    proposals: Sequence[str] | None = None,
    replications: int = 10_000,
    seed: int,
    point: int = 0,
    threads: int | None = None,
    each_block: Callable[[Negotiation, int, Outcome], None] | None = None,
) -> EnsembleSummary:
    """The summaries of :func:`run_ensemble`, the same numbers bit for bit, accumulated block
    by block (:class:`RunningSummary`) with nothing per replication kept, so memory does not
    grow with ``replications``.  ``each_block(negotiation, first replication, outcomes)`` sees
    every block, in order (to write the per-replication table as it is computed)."""
    chosen = chosen_proposals(scenario, proposals, replications)
    titles = {p.id: p.title for p in scenario.proposals}
    done = []
    for pid in chosen:
        neg = negotiation(scenario, pid)
        acc = RunningSummary(neg)
        first = 0
        for out in iter_blocks(neg, replications=replications, seed=seed, point=point,
                               threads=threads):
            acc.add(out)
            if each_block:
                each_block(neg, first, out)
            first += len(out.status)
        done.append(acc.summary(titles[pid]))
    return EnsembleSummary(scenario=scenario, seed=seed, point=point,
                           replications=replications, proposal_summaries=tuple(done))
