"""Predicting an issue's outcome with the negotiation engine.

The prediction is the **median of the ensemble's policy** (the agreed text where the proposal
passed, the status quo where it failed).  The error measure is the mean absolute error, and the
median of a predictive distribution is the point forecast that minimises the expected absolute
error (Gneiting 2011, "Making and evaluating point forecasts", JASA 106:746-762); the mean would
minimise squared error.  The policy distribution is often bimodal (text or status quo), and the
median then follows the likelier mode instead of landing between the two where neither happens.

Two routes give identical numbers for the same parameters:

* :func:`predict_issue` calls :func:`cicasim.engine.ensemble.run_ensemble` (the reported
prediction);
* :class:`PreparedIssue` keeps an issue's negotiation and random numbers in memory so that many
  behaviour-parameter values can be tried on the same draws (common random numbers) when
  fitting, without rebuilding scenarios or re-drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BlockDraws
from cicasim.engine.ensemble import blocks_for, run_ensemble
from cicasim.engine.kernel import Negotiation, Outcome, RoundDraws, StartDraws, negotiate
from cicasim.spec.protocols import protocol_code
from cicasim.spec.scenario import Scenario
from cicasim.validate.convert import GOES_ALONG

__all__ = ["PreparedIssue", "policy_statistic", "predict_issue", "prepare_issue"]

#: Behaviour parameters that are per-actor vectors of the kernel's negotiation.
_VECTORS = (
    "threshold", "abstention_band", "rival_penalty", "holdup_rate", "vote_noise",
    "confidence_bound", "influence_rate", "stubbornness",
)


def policy_statistic(policy: np.ndarray) -> float:
    """The point prediction from the replications' policies (one dimension): their median."""
    return float(np.median(policy))


def predict_issue(scenario: Scenario, *, replications: int, seed: int) -> tuple[float, float]:
    """(prediction, P(passed)) of the scenario's single proposal, via ``run_ensemble``."""
    run = run_ensemble(scenario, replications=replications, seed=seed).runs[0]
    return policy_statistic(run.outcome.policy[:, 0]), float(run.outcome.passed.mean())


@dataclass(frozen=True)
class PreparedIssue:
    """An issue's negotiation with its random numbers drawn once, for repeated runs."""

    negotiation: Negotiation
    goes_along: np.ndarray  # bool (N,): members whose threshold is the go-along override
    blocks: tuple[tuple[StartDraws, tuple[RoundDraws, ...]], ...]

    def run(self, behaviour: dict[str, Any] | None = None) -> Outcome:
        """The outcome of every replication with ``behaviour`` replacing the scenario-wide
        values (per-actor go-along thresholds are kept)."""
        neg = self.with_behaviour(behaviour or {})
        parts = [negotiate(neg, start, iter(rounds)) for start, rounds in self.blocks]
        if len(parts) == 1:
            return parts[0]
        return Outcome(**{
            f: np.concatenate([getattr(p, f) for p in parts]) for f in Outcome.__dataclass_fields__
        })

    def predict(self, behaviour: dict[str, Any] | None = None) -> tuple[float, float]:
        out = self.run(behaviour)
        return policy_statistic(out.policy[:, 0]), float(out.passed.mean())

    def with_behaviour(self, behaviour: dict[str, Any]) -> Negotiation:
        neg = self.negotiation
        changes: dict[str, Any] = {}
        for name, value in behaviour.items():
            if name == "amendment_step":
                changes["alpha"] = float(value)
            elif name == "objector_weight":
                changes["gamma"] = float(value)
            elif name == "amendment":
                changes["protocol"] = protocol_code(value)
            elif name in _VECTORS:
                vec = np.full(neg.n, float(value))
                if name == "threshold":
                    vec[self.goes_along] = GOES_ALONG
                changes[name] = vec
            else:
                raise KeyError(f"behaviour parameter {name!r} cannot be varied when fitting")
        return replace(neg, **changes) if changes else neg


def prepare_issue(scenario: Scenario, *, replications: int, seed: int) -> PreparedIssue:
    """Draw the random numbers of ``replications`` replications of the scenario's proposal,
    exactly as :func:`cicasim.engine.ensemble.run_ensemble` draws them for the same seed."""
    pid = scenario.proposals[0].id
    neg = negotiation(scenario, pid)
    goes = np.array(
        [a.role == "member" and a.behaviour.threshold == GOES_ALONG for a in scenario.actors]
    )
    blocks = []
    for b, rows in blocks_for(replications):
        draws = BlockDraws(
            master=seed, point=0, block=b, proposal=pid, actors=neg.actor_ids,
            dimensions=len(neg.dimensions), rows=slice(0, rows), voters=neg.member,
        )
        start = draws.start()
        chunks: list[RoundDraws] = []
        for chunk in draws.rounds():
            chunks.append(chunk)
            if chunk.first + chunk.noise.shape[2] > neg.max_rounds:
                break
        blocks.append((start, tuple(chunks)))
    return PreparedIssue(negotiation=neg, goes_along=goes, blocks=tuple(blocks))
