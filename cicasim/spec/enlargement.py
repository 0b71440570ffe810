"""Enlargement operators: new members as a first-class operation on scenarios.

Three operators (``docs/model.md``), each returning a new validated :class:`Scenario`:

* :func:`observer_joins` - an observer becomes a member (CICA's own path: Bangladesh, Qatar and
  Sri Lanka were observers first);
* :func:`new_actor` - a named state joins with given attributes and tensions;
* :func:`synthetic_members` - ``k`` synthetic members drawn from a named prior (the
  "what if CICA had 60 members" question of Gray, Lindstädt & Slapin 2017).

Priors for synthetic members (registry :data:`PRIORS`):

``resample-members``
    each new member copies a uniformly drawn current member's capability, saliences, population
    and votes; its positions are the template's plus normal jitter (clipped to 0-100);
``resample-observers``
    the same, with the template drawn from the observers.

In both, the new member's tension with every actor is drawn from the empirical distribution of
the scenario's pairwise tensions (every off-diagonal pair, unlisted pairs at the default), and it
belongs to no bloc.  Draws come from ``SeedSequence(seed, spawn_key=(key("enlargement"), step))``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cicasim.engine.arrays import tension_matrix
from cicasim.engine.draws import key, seed_sequence
from cicasim.spec.scenario import (
    Actor,
    EnlargementStep,
    NewActor,
    ObserverJoins,
    PartnerTension,
    Scenario,
    Synthetic,
    parse_scenario,
)

__all__ = [
    "PRIORS",
    "apply_step",
    "enlargement_path",
    "new_actor",
    "observer_joins",
    "step_label",
    "synthetic_members",
]


def _rebuild(scenario: Scenario, **changes: Any) -> Scenario:
    data = scenario.model_dump(mode="python", exclude_defaults=False)
    data.update(changes)
    return parse_scenario(data, f"<enlargement of {scenario.scenario.name}>")


def observer_joins(scenario: Scenario, actor_id: str) -> Scenario:
    """``actor_id`` (an observer) becomes a member."""
    actors = []
    for a in scenario.actors:
        d = a.model_dump()
        if a.id == actor_id:
            if a.role != "observer":
                raise ValueError(f"{actor_id!r} is not an observer")
            d["role"] = "member"
        actors.append(d)
    if actor_id not in {a.id for a in scenario.actors}:
        raise ValueError(f"{actor_id!r} is not in the scenario")
    return _rebuild(scenario, actors=actors)


def new_actor(scenario: Scenario, actor: Actor, tensions: list[PartnerTension]) -> Scenario:
    """A named new actor joins with its own attributes and tensions."""
    data = scenario.model_dump()
    data["actors"].append(actor.model_dump())
    for t in tensions:
        data["tensions"].append({"pair": (actor.id, t.other), "value": t.value, "source": t.source})
    return _rebuild(scenario, actors=data["actors"], tensions=data["tensions"])


def _empirical_tensions(scenario: Scenario) -> np.ndarray:
    T, _ = tension_matrix(scenario)
    iu = np.triu_indices(len(T), k=1)
    return T[iu] if iu[0].size else np.array([scenario.scenario.default_tension])


#: Priors for synthetic members: name -> function choosing the pool of templates.
PRIORS: dict[str, Callable[[Scenario], list[Actor]]] = {
    "resample-members": lambda s: s.members,
    "resample-observers": lambda s: s.observers,
}


def synthetic_members(
    scenario: Scenario,
    *,
    count: int,
    prior: str = "resample-members",
    position_jitter: float = 5.0,
    seed: int,
    step: int = 0,
) -> Scenario:
    """``count`` synthetic members drawn from ``prior`` (see the module docstring)."""
    rng = np.random.Generator(np.random.PCG64(seed_sequence(seed, key("enlargement"), step)))
    pool = PRIORS[prior](scenario)
    if not pool:
        raise ValueError(f"prior {prior!r}: no actors to resample")
    empirical = _empirical_tensions(scenario)
    taken = {a.id for a in scenario.actors}
    data = scenario.model_dump()
    number = 0
    for _ in range(count):
        template = pool[int(rng.integers(len(pool)))]
        number += 1
        while f"SYN{number:02d}" in taken:
            number += 1
        new_id = f"SYN{number:02d}"
        taken.add(new_id)
        pos = {
            d: float(np.clip(v + position_jitter * rng.standard_normal(), 0.0, 100.0))
            for d, v in template.position.items()
        }
        actor = template.model_dump()
        actor.update(
            id=new_id,
            name=f"Synthetic member {number} (like {template.id})",
            role="member",
            kind="state",
            position=pos,
            blocs=[],
            source=f"synthetic: prior {prior}, template {template.id}, jitter {position_jitter}",
        )
        for other in [a["id"] for a in data["actors"]]:
            data["tensions"].append(
                {
                    "pair": (new_id, other),
                    "value": float(empirical[int(rng.integers(len(empirical)))]),
                    "source": "synthetic: drawn from the empirical tension distribution",
                }
            )
        data["actors"].append(actor)
    return _rebuild(scenario, actors=data["actors"], tensions=data["tensions"])


def step_label(step: EnlargementStep) -> str:
    """A short human label for an enlargement step."""
    if step.label:
        return step.label
    if isinstance(step, ObserverJoins):
        return f"+{step.actor}"
    if isinstance(step, NewActor):
        return f"+{step.actor.id}"
    return f"+{step.count} synthetic ({step.prior})"


def apply_step(scenario: Scenario, step: EnlargementStep, *, seed: int, index: int) -> Scenario:
    """Apply one enlargement step; ``index`` keys the random draws of synthetic steps."""
    if isinstance(step, ObserverJoins):
        return observer_joins(scenario, step.actor)
    if isinstance(step, NewActor):
        return new_actor(scenario, step.actor, step.tensions)
    if isinstance(step, Synthetic):
        return synthetic_members(
            scenario,
            count=step.count,
            prior=step.prior,
            position_jitter=step.position_jitter,
            seed=seed,
            step=index,
        )
    raise TypeError(type(step).__name__)


def enlargement_path(scenario: Scenario, *, seed: int) -> list[tuple[str, Scenario]]:
    """The base scenario and the scenario after each of its enlargement steps, cumulatively.

    The scenarios returned carry no enlargement steps of their own.
    """
    steps = list(scenario.enlargement)
    current = _rebuild(scenario, enlargement=[])
    path = [("base", current)]
    for i, step in enumerate(steps):
        current = apply_step(current, step, seed=seed, index=i)
        path.append((step_label(step), current))
    return path
