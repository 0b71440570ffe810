"""Decision rules: what a vote must look like for a proposal to pass.

One registry serves the negotiation engine (through :meth:`Rule.tally`) and the exact
voting-power analytics (:mod:`cicasim.analysis.power`).  Each rule is a small frozen pydantic model,
selected in scenario files by its ``kind``; illegal combinations (a quota on a consensus rule,
``k`` on a majority rule) cannot be written.

Votes are three-valued: accept, abstain, object.  Under the consensus rules abstention does not
block (the CICA and OSCE practice of "consensus = absence of objection"; Häge 2013).  Under
majority rules only acceptances count towards a threshold, so abstaining is voting no, as in the
Council of the EU's qualified-majority voting (Felsenthal & Machover 1998, ch. 2).

For voting-power analysis every rule is also a *simple game*: a coalition of "yes" members wins or
loses; :meth:`Rule.criteria` describes it as thresholds on integer sums, which is what the
generating-function algorithms of :mod:`cicasim.analysis.power` consume.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_COUNT",
    "MAX_QUOTA",
    "RULES",
    "Consensus",
    "ConsensusMinusK",
    "Criterion",
    "QualifiedMajority",
    "Rule",
    "RuleSpec",
    "SimpleMajority",
    "Tally",
    "VoteContext",
    "probability_name",
]


def probability_name(rule_kinds: Iterable[str]) -> str:
    """What the probability of passing is called under these rules: "P(consensus)" when every
    rule is consensus, else "P(adopted)" (under a majority rule a text passes without
    consensus).  Every table, report and figure names it by this one function."""
    return "P(consensus)" if all(k == "consensus" for k in rule_kinds) else "P(adopted)"


#: Largest member count a rule may name (k, min_members, blocking_min): far more members than
#: any body has, and well inside the integers the compiled kernel counts with.
MAX_COUNT = 1_000_000
#: Largest weighted-vote quota: finite, and exact in a float's integer range.
MAX_QUOTA = 1e15


@dataclass(frozen=True)
class VoteContext:
    """What a rule may look at besides the votes: the members and their weights.

    All arrays have one entry per actor of the negotiation (observers included; they are masked
    out by ``member``).
    """

    member: np.ndarray  # bool (N,)
    votes: np.ndarray  # float (N,) weighted votes, 1 when the scenario gives none
    population: np.ndarray  # float (N,) population, 0 when unknown


@dataclass(frozen=True)
class Tally:
    """A rule as the numbers the compiled kernel counts with
    (:func:`cicasim.engine.loops.run_rounds`).

    A vote passes when at most ``max_objections`` members object, every weighted sum of the
    accepting members reaches its quota (``weights`` (C, N), zero for observers; ``quotas``
    (C,)), unless fewer than ``floor`` members fail to accept, which passes it anyway (0: no
    floor).
    """

    max_objections: int
    weights: np.ndarray
    quotas: np.ndarray
    floor: int = 0

    @classmethod
    def of(
        cls, ctx: VoteContext, max_objections: int | None = None, sums=(), floor: int | None = None
    ) -> Tally:
        """From ``(weights, quota)`` pairs; weights are masked to the members here."""
        n = len(ctx.member)
        w = np.array([np.where(ctx.member, wt, 0.0) for wt, _ in sums], float).reshape(-1, n)
        return cls(
            max_objections=n if max_objections is None else max_objections,
            weights=w,
            quotas=np.array([q for _, q in sums], float),
            floor=floor or 0,
        )


@dataclass(frozen=True)
class Criterion:
    """One threshold of a simple game: ``sum(weight[i] for i in yes) >= quota``.

    ``weights`` is indexed like the members passed to :meth:`Rule.criteria`.
    """

    name: str
    weights: np.ndarray
    quota: float


class Rule(BaseModel):
    """Base class of the decision rules (a registry entry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    reference: ClassVar[str] = ""

    def tally(self, ctx: VoteContext) -> Tally:
        """What the engine counts to decide a vote (:class:`Tally`)."""
        raise NotImplementedError

    def criteria(self, votes: np.ndarray, population: np.ndarray) -> list[Criterion]:
        """The rule as a simple game over the members: all criteria must hold for a win."""
        raise NotImplementedError

    def blocking_floor(self) -> int | None:
        """A coalition also wins when fewer than this many members stay out of it (or None)."""
        return None

    def wins(self, yes: np.ndarray, votes: np.ndarray, population: np.ndarray) -> np.ndarray:
        """Whether each coalition ``yes`` (bool ``(C, n)`` over members) wins the simple game."""
        yes = np.atleast_2d(yes)
        ok = np.ones(yes.shape[0], dtype=bool)
        for crit in self.criteria(votes, population):
            ok &= yes.astype(float) @ crit.weights >= crit.quota - 1e-9
        floor = self.blocking_floor()
        if floor is not None:
            ok |= (~yes).sum(axis=1) < floor
        return ok


class Consensus(Rule):
    """Consensus: the proposal passes when no member objects; abstention does not block.

    This is CICA's rule (Rules of Procedure 2004) and the common meaning of consensus in
    international organisations (Häge 2013; Felsenthal & Machover 1998 call its yes/no form
    unanimity).
    """

    kind: Literal["consensus"] = "consensus"
    reference: ClassVar[str] = "CICA Rules of Procedure (2004); Häge 2013"

    def tally(self, ctx):
        return Tally.of(ctx, max_objections=0)

    def criteria(self, votes, population):
        n = len(votes)
        return [Criterion("members", np.ones(n), float(n))]


class ConsensusMinusK(Rule):
    """Consensus minus k: passes unless more than ``k`` members object (OSCE "consensus minus
    one"; CSCE Prague document 1992)."""

    kind: Literal["consensus-minus-k"] = "consensus-minus-k"
    k: int = Field(1, ge=0, le=MAX_COUNT, description="objections tolerated")
    reference: ClassVar[str] = "CSCE Prague Document (1992), consensus-minus-one"

    def tally(self, ctx):
        return Tally.of(ctx, max_objections=self.k)

    def criteria(self, votes, population):
        n = len(votes)
        return [Criterion("members", np.ones(n), float(max(n - self.k, 0)))]


class QualifiedMajority(Rule):
    """Qualified majority with up to three criteria, as in the Council of the EU.

    All the given criteria must hold among the *accepting* members: weighted votes at least
    ``quota`` (votes from each actor's ``votes``), at least ``min_members`` members and/or a share
    ``min_members_share`` of them, and a share ``min_population_share`` of the members'
    population.  With ``blocking_min`` the proposal also passes when fewer than that many members
    fail to accept (the Lisbon blocking-minority floor, TEU art. 16(4)).  Sources: Treaty of Rome
    art. 148; Treaty of Nice protocol on enlargement; Felsenthal & Machover 2001 on Nice.
    """

    kind: Literal["qualified-majority"] = "qualified-majority"
    quota: float | None = Field(
        None, gt=0, le=MAX_QUOTA, allow_inf_nan=False, description="weighted votes needed"
    )
    min_members: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="number of members needed"
    )
    min_members_share: float | None = Field(None, gt=0, le=1, description="share of members")
    min_population_share: float | None = Field(None, gt=0, le=1, description="population share")
    blocking_min: int | None = Field(
        None, ge=1, le=MAX_COUNT,
        description="passes when fewer than this many members fail to accept",
    )
    reference: ClassVar[str] = "Treaty of Rome art. 148; Treaty of Nice; TEU art. 16(4)"

    @model_validator(mode="after")
    def _some_criterion(self) -> QualifiedMajority:
        if all(
            v is None
            for v in (
                self.quota,
                self.min_members,
                self.min_members_share,
                self.min_population_share,
            )
        ):
            raise ValueError(
                "a qualified-majority rule needs at least one of quota, min_members, "
                "min_members_share, min_population_share"
            )
        return self

    def blocking_floor(self) -> int | None:
        return self.blocking_min

    def criteria(self, votes, population):
        n = len(votes)
        out = []
        if self.quota is not None:
            out.append(Criterion("votes", np.asarray(votes, float), float(self.quota)))
        need = 0
        if self.min_members is not None:
            need = max(need, self.min_members)
        if self.min_members_share is not None:
            need = max(need, int(np.ceil(self.min_members_share * n - 1e-9)))
        if need:
            out.append(Criterion("members", np.ones(n), float(need)))
        if self.min_population_share is not None:
            pop = np.asarray(population, float)
            out.append(Criterion("population", pop, self.min_population_share * pop.sum()))
        return out

    def tally(self, ctx):
        ones = np.ones(len(ctx.member))
        n = int(ctx.member.sum())
        sums = []
        if self.quota is not None:
            sums.append((ctx.votes, self.quota - 1e-9))
        if self.min_members is not None:
            sums.append((ones, float(self.min_members)))
        if self.min_members_share is not None:
            sums.append((ones, float(np.ceil(self.min_members_share * n - 1e-9))))
        if self.min_population_share is not None:
            total = (ctx.population * ctx.member).sum()
            sums.append((ctx.population, self.min_population_share * total - 1e-9))
        return Tally.of(ctx, sums=sums, floor=self.blocking_min)


class SimpleMajority(Rule):
    """Simple majority: more than half of all members accept (abstaining counts as not
    accepting; Felsenthal & Machover 1998, def. 2.1.1)."""

    kind: Literal["simple-majority"] = "simple-majority"
    reference: ClassVar[str] = "Felsenthal & Machover 1998"

    def tally(self, ctx):
        n = int(ctx.member.sum())
        return Tally.of(ctx, sums=[(np.ones(len(ctx.member)), float(n // 2 + 1))])

    def criteria(self, votes, population):
        n = len(votes)
        return [Criterion("members", np.ones(n), float(n // 2 + 1))]


#: The registry: ``kind`` in a scenario file -> rule class.
RULES: dict[str, type[Rule]] = {
    cls.model_fields["kind"].default: cls
    for cls in (Consensus, ConsensusMinusK, QualifiedMajority, SimpleMajority)
}

#: The type of a rule field in a scenario: a union discriminated by ``kind``.
RuleSpec = Annotated[
    Consensus | ConsensusMinusK | QualifiedMajority | SimpleMajority, Field(discriminator="kind")
]
