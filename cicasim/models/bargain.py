"""The common input and output of the bargaining models.

Every model of :mod:`cicasim.models` reads a :class:`Bargain` (who takes part, their capability,
positions, saliences and the status quo: the inputs shared by the compromise model, the Nash
bargaining solution, Bueno de Mesquita's expected-utility model, Stokman's exchange model and
KTAB's Spatial Model of Politics) and returns a :class:`Prediction` (an outcome per dimension,
and a sample of outcomes where the model has a predictive distribution).

A bargain is built from a scenario's proposal (:func:`from_scenario`, through
:func:`cicasim.engine.arrays.negotiation`) or from a DEU issue (:func:`from_deu_issue`, every coded
actor
with the capability row, as the published benchmarks of that literature use them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cicasim.spec.scenario import Scenario
    from cicasim.validate.deu import DeuIssue

__all__ = [
    "Bargain", "Prediction", "from_arrays", "from_deu_issue", "from_deu_proposal", "from_scenario",
]


@dataclass(frozen=True)
class Bargain:
    """One negotiation's inputs: N actors on D dimensions.

    ``position`` is on the 0-100 scale of each dimension, ``salience`` on 0-1, ``capability``
    > 0.  ``member`` marks the actors whose vote counts (None: all).  ``scenario`` and
    ``proposal`` are kept when the bargain comes from a scenario, for the models that need the
    whole scenario (cicasim's own negotiation).
    """

    actor_ids: tuple[str, ...]
    capability: np.ndarray  # (N,)
    position: np.ndarray  # (N, D)
    salience: np.ndarray  # (N, D)
    status_quo: np.ndarray  # (D,)
    member: np.ndarray | None = None  # bool (N,)
    dimensions: tuple[str, ...] = ()
    scenario: Any = field(default=None, compare=False, repr=False)
    proposal: str | None = None

    def __post_init__(self) -> None:
        c = np.asarray(self.capability, float)
        x = np.atleast_2d(np.asarray(self.position, float))
        s = np.atleast_2d(np.asarray(self.salience, float))
        if x.shape[0] != c.shape[0] and x.shape[1] == c.shape[0]:
            x, s = x.T, s.T
        q = np.atleast_1d(np.asarray(self.status_quo, float))
        n, d = x.shape
        if c.shape != (n,) or s.shape != (n, d) or q.shape != (d,):
            raise ValueError(
                f"bargain shapes disagree: capability {c.shape}, position {x.shape}, "
                f"salience {s.shape}, status quo {q.shape} (need (N,), (N, D), (N, D), (D,))"
            )
        if len(self.actor_ids) != n:
            raise ValueError(f"{len(self.actor_ids)} actor ids for {n} actors")
        object.__setattr__(self, "capability", c)
        object.__setattr__(self, "position", x)
        object.__setattr__(self, "salience", s)
        object.__setattr__(self, "status_quo", q)
        if self.member is not None:
            object.__setattr__(self, "member", np.asarray(self.member, bool))
        if not self.dimensions:
            object.__setattr__(self, "dimensions", tuple(f"d{k}" for k in range(d)))

    @property
    def n(self) -> int:
        return int(self.position.shape[0])

    @property
    def d(self) -> int:
        return int(self.position.shape[1])

    def members(self) -> Bargain:
        """The bargain among the members alone (all actors when there is no member mask); the
        scenario is kept for the models that run the whole scenario."""
        if self.member is None or self.member.all():
            return self
        m = self.member
        return Bargain(
            actor_ids=tuple(a for a, k in zip(self.actor_ids, m, strict=True) if k),
            capability=self.capability[m], position=self.position[m], salience=self.salience[m],
            status_quo=self.status_quo, member=None, dimensions=self.dimensions,
            scenario=self.scenario, proposal=self.proposal,
        )

    def dimension(self, k: int) -> Bargain:
        """The one-dimensional bargain on dimension ``k`` (models that treat dimensions apart)."""
        return Bargain(
            actor_ids=self.actor_ids, capability=self.capability,
            position=self.position[:, k:k + 1], salience=self.salience[:, k:k + 1],
            status_quo=self.status_quo[k:k + 1], member=self.member,
            dimensions=(self.dimensions[k],), scenario=None, proposal=self.proposal,
        )


@dataclass(frozen=True)
class Prediction:
    """A model's prediction: the outcome per dimension, and, for models with a predictive
    distribution, ``samples`` of outcomes (S, D).  ``info`` holds model-specific diagnostics
    (rounds run, P(passed), ...)."""

    outcome: np.ndarray  # (D,)
    samples: np.ndarray | None = None  # (S, D)
    info: dict[str, Any] = field(default_factory=dict)


def from_arrays(
    *, capability: Any, position: Any, salience: Any, status_quo: Any,
    actor_ids: tuple[str, ...] | None = None, member: Any = None,
) -> Bargain:
    """A bargain from plain arrays (1-D positions and saliences mean one dimension)."""
    c = np.asarray(capability, float)
    x = np.asarray(position, float)
    s = np.asarray(salience, float)
    if x.ndim == 1:
        x, s = x[:, None], s[:, None]
    ids = actor_ids or tuple(f"a{i}" for i in range(len(c)))
    return Bargain(ids, c, x, s, np.atleast_1d(np.asarray(status_quo, float)), member)


def from_scenario(scenario: Scenario, proposal_id: str) -> Bargain:
    """The bargain of one proposal of a validated scenario (actors in scenario order; the status
    quo is the proposal's, the members are the actors whose role is ``member``)."""
    from cicasim.engine.arrays import negotiation

    neg = negotiation(scenario, proposal_id)
    return Bargain(
        actor_ids=neg.actor_ids, capability=neg.capability, position=neg.position,
        salience=neg.salience, status_quo=neg.q, member=neg.member,
        dimensions=neg.dimensions, scenario=scenario, proposal=proposal_id,
    )


def from_deu_issue(issue: DeuIssue, capability: dict[str, float]) -> Bargain:
    """The bargain of one DEU issue: every coded actor (Commission, Parliament, member states,
    in file order) with the file's capability row, salience / 100, and the status quo of the
    conversion (the reference point, 0 when blank; :func:`cicasim.validate.convert.status_quo`).
    """
    from cicasim.validate.convert import status_quo

    actors = list(issue.positions)
    return Bargain(
        actor_ids=tuple(actors),
        capability=np.array([capability[a] for a in actors], float),
        position=np.array([[issue.positions[a]] for a in actors], float),
        salience=np.array([[issue.saliences[a] / 100.0] for a in actors], float),
        status_quo=np.array([status_quo(issue)]),
        dimensions=("issue",),
        proposal=issue.issue,
    )


def from_deu_proposal(issues: list[DeuIssue], capability: dict[str, float]) -> Bargain:
    """The bargain of a DEU proposal: one dimension per issue (in the order given), every actor
    coded on at least one of them.  An actor not coded on an issue has salience 0 there (and,
    for form, the status quo as its position), so it takes no part in that issue."""
    from cicasim.validate.convert import status_quo
    from cicasim.validate.deu import ACTORS

    actors = [a for a in ACTORS if any(a in i.positions for i in issues)]
    q = np.array([status_quo(i) for i in issues])
    pos = np.array([[i.positions.get(a, q[k]) for k, i in enumerate(issues)] for a in actors])
    sal = np.array([[i.saliences.get(a, 0.0) / 100.0 for i in issues] for a in actors])
    return Bargain(
        actor_ids=tuple(actors), capability=np.array([capability[a] for a in actors], float),
        position=pos, salience=sal, status_quo=q, dimensions=tuple(i.issue for i in issues),
        proposal=issues[0].proposal,
    )
