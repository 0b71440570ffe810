"""From a validated scenario to the arrays of one proposal's negotiation."""

from __future__ import annotations

import numpy as np

from cicasim.engine.kernel import Negotiation
from cicasim.spec.protocols import protocol_code
from cicasim.spec.scenario import Behaviour, Scenario

#: the behaviour parameters that are numbers (one value per actor in the kernel)
NUMERIC_BEHAVIOUR = tuple(k for k in Behaviour.model_fields if k != "amendment")

__all__ = ["NUMERIC_BEHAVIOUR", "behaviour_vector", "negotiation", "tension_matrix"]


def behaviour_vector(scenario: Scenario, name: str) -> np.ndarray:
    """Per-actor values of one behaviour parameter: the actor's override or the default."""
    default = getattr(scenario.behaviour, name)
    vals = []
    for a in scenario.actors:
        v = getattr(a.behaviour, name)
        vals.append(default if v is None else v)
    return np.asarray(vals, dtype=float)


def tension_matrix(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric tension matrix and its standard deviations, in actor order."""
    ids = {a.id: i for i, a in enumerate(scenario.actors)}
    n = len(ids)
    T = np.full((n, n), scenario.scenario.default_tension)
    sd = np.full((n, n), scenario.uncertainty.tension_sd)
    for t in scenario.tensions:
        i, j = ids[t.pair[0]], ids[t.pair[1]]
        T[i, j] = T[j, i] = t.value
        if t.sd is not None:
            sd[i, j] = sd[j, i] = t.sd
    np.fill_diagonal(T, 0.0)
    np.fill_diagonal(sd, 0.0)
    return T, sd


def negotiation(scenario: Scenario, proposal_id: str) -> Negotiation:
    """The fixed inputs of one proposal's negotiation (actors in scenario order)."""
    prop = scenario.proposal(proposal_id)
    actors = scenario.actors
    dims = tuple(t.dimension for t in prop.touches)
    idx = {a.id: i for i, a in enumerate(actors)}
    T, Tsd = tension_matrix(scenario)
    unc = scenario.uncertainty

    def per_actor(field: str, default: float) -> np.ndarray:
        return np.asarray(
            [
                default if getattr(a.uncertainty, field) is None else getattr(a.uncertainty, field)
                for a in actors
            ],
            dtype=float,
        )

    sponsor = idx[prop.sponsor]
    sponsor_b = actors[sponsor].behaviour
    alpha = sponsor_b.amendment_step or scenario.behaviour.amendment_step
    gamma = (
        scenario.behaviour.objector_weight
        if sponsor_b.objector_weight is None
        else (sponsor_b.objector_weight)
    )
    amendment = sponsor_b.amendment or scenario.behaviour.amendment
    vec = {name: behaviour_vector(scenario, name) for name in NUMERIC_BEHAVIOUR}
    return Negotiation(
        proposal=prop.id,
        actor_ids=tuple(a.id for a in actors),
        dimensions=dims,
        member=np.array([a.role == "member" for a in actors]),
        capability=np.array([a.capability for a in actors], dtype=float),
        position=np.array([[a.position[d] for d in dims] for a in actors], dtype=float),
        salience=np.array([[a.salience[d] for d in dims] for a in actors], dtype=float),
        tension=T,
        votes=np.array([1.0 if a.votes is None else a.votes for a in actors]),
        population=np.array([0.0 if a.population is None else a.population for a in actors]),
        position_sd=per_actor("position_sd", unc.position_sd),
        capability_sd=per_actor("capability_sd", unc.capability_sd),
        tension_sd=Tsd,
        loss_exponent=vec["loss_exponent"].astype(int),
        threshold=vec["threshold"],
        abstention_band=vec["abstention_band"],
        rival_penalty=vec["rival_penalty"],
        holdup_rate=vec["holdup_rate"],
        vote_noise=vec["vote_noise"],
        confidence_bound=vec["confidence_bound"],
        influence_rate=vec["influence_rate"],
        stubbornness=vec["stubbornness"],
        alpha=float(alpha),
        gamma=float(gamma),
        sponsor=sponsor,
        p0=np.array([t.position for t in prop.touches], dtype=float),
        q=np.array([t.status_quo for t in prop.touches], dtype=float),
        rule=prop.rule,
        max_rounds=prop.max_rounds,
        protocol=protocol_code(amendment),
    )
