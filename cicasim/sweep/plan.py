"""The plan: an experiment made concrete as numbered design points.

:func:`plan_experiment` loads an experiment (:mod:`cicasim.spec.experiment`) and its base
scenario, binds every factor to it (:meth:`cicasim.spec.factors.Factor.bind`) and lays the
design out: a full grid (the product of the factors' levels), or a space-filling design in the
unit cube (:data:`DESIGNS`) mapped onto the factors' levels and ranges.

Each design point carries its **seed key** (:func:`seed_key`), a stable hash of its factor
values: the random numbers of a point come from ``SeedSequence(seed, spawn_key=(seed_key, block,
proposal, actor))`` (:mod:`cicasim.engine.draws`), so the same factor values give the same
numbers in any sweep.  With common random numbers every point's seed key is 0 (Law 2015,
*Simulation Modeling and Analysis*, sec. 11.2).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from cicasim.engine.draws import key, seed_sequence
from cicasim.results import sha256
from cicasim.spec.experiment import MAX_POINTS, Experiment, experiment_source
from cicasim.spec.factors import Bound, FactorContext, ScenarioChange, referenced_scenario
from cicasim.spec.paramsets import SHIPPED, with_params
from cicasim.spec.scenario import Scenario, ScenarioError

__all__ = ["DESIGNS", "DesignPoint", "Plan", "plan_experiment", "seed_key"]


@dataclass(frozen=True)
class DesignPoint:
    """One design point: its number, the factor values, a human label, its member count and
    the seed key of its random numbers."""

    point: int
    values: dict[str, Any]
    label: str
    n_members: int
    seed_key: int


@dataclass(repr=False)
class Plan:
    """An experiment made concrete: base scenario, proposals, the factors bound to the scenario
    and the numbered design points."""

    experiment: Experiment
    path: Path
    text: str
    scenario: Scenario
    scenario_path: Path
    scenario_text: str
    proposals: tuple[str, ...]
    replications: int
    points: list[DesignPoint]
    common_random_numbers: bool
    bound: list[Bound] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"<Plan {self.name!r}: {len(self.points)} design points × "
                f"{len(self.proposals)} proposals × {self.replications:,} replications, "
                f"seed {self.seed}>")

    @property
    def factors(self) -> list[Any]:
        """The experiment's factors, in order."""
        return [b.factor for b in self.bound]

    @property
    def seed(self) -> int:
        return self.experiment.experiment.seed

    @property
    def name(self) -> str:
        return self.experiment.experiment.name

    @property
    def factor_inputs(self) -> dict[str, str]:
        """The texts of the scenario files the factors read, by the path the experiment gives."""
        return {v: t for b in self.bound for v, t in b.inputs.items()}

    def scenario_at(self, point: int) -> Scenario:
        """The scenario of design point ``point``: each factor's change applied to the base."""
        return self.scenario_for(self.points[point].values)

    def scenario_for(self, values: Mapping[str, Any]) -> Scenario:
        """The scenario of a design point's factor ``values``."""
        change = ScenarioChange(self.scenario)
        for b in self.bound:
            b.factor.apply(values[b.factor.label], b, change)
        return change.result()

    def rule_kinds(self) -> list[str]:
        """The kinds of the decision rules the proposals run under, over every design point: a
        rule factor's values where there is one, else the rules of the scenarios' proposals."""
        rules = [k for b in self.bound for k in b.factor.rule_kinds()]
        if rules:
            return rules
        scenarios = [self.scenario, *(s for b in self.bound for s in b.scenarios.values())]
        return [p.rule.kind for s in scenarios for p in s.proposals if p.id in self.proposals]

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed sweep must share with the original one."""
        inputs = self.factor_inputs
        return {
            "experiment_sha256": sha256(self.text),
            "scenario_sha256": sha256(self.scenario_text),
            **({"scenario_factor_sha256": {v: sha256(t) for v, t in sorted(inputs.items())}}
               if inputs else {}),
            "replications": self.replications,
            "seed": self.seed,
            "points": len(self.points),
            "proposals": list(self.proposals),
        }


def seed_key(values: Mapping[str, Any]) -> int:
    """The seed key of a design point: a stable 63-bit hash of its factor values (0 for none).

    Numbers enter by their exact binary value (``float.hex``), rules by their fields, scenario
    files by the path the experiment gives, so equal settings give equal keys in any experiment.
    """
    if not values:
        return 0

    def canon(v: Any) -> Any:
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json")
        if isinstance(v, bool | int) and not isinstance(v, float):
            return int(v)
        if isinstance(v, str):  # a scenario factor's file, as the experiment names it
            return v
        return float(v).hex()

    return key(json.dumps({k: canon(values[k]) for k in sorted(values)}, sort_keys=True))


# -- designs in the unit cube ----------------------------------------------------------------


def _design_rng(seed: int, what: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, key(what))))


def _latin_hypercube(d: int, n: int, seed: int) -> np.ndarray:
    """Latin hypercube (McKay, Beckman & Conover 1979), scrambled within strata."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d, rng=_design_rng(seed, "design")).random(n)


def _sobol(d: int, n: int, seed: int) -> np.ndarray:
    """Scrambled Sobol' sequence (Sobol' 1967; Owen 1998); ``n`` a power of two."""
    from scipy.stats import qmc

    return qmc.Sobol(d, scramble=True, rng=_design_rng(seed, "design")).random_base2(
        int(round(math.log2(n)))
    )


#: Unit-cube designs: name -> (factors, samples, seed) -> (samples, factors) array in [0, 1).
DESIGNS: dict[str, Callable[[int, int, int], np.ndarray]] = {
    "latin-hypercube": _latin_hypercube,
    "sobol": _sobol,
}


# -- from the experiment to the plan ---------------------------------------------------------


def _params_name(path: Path, params: str) -> str | None:
    """A shipped set's name as it is; a file's path relative to the experiment."""
    if not params:
        return None
    if params in SHIPPED:
        return params
    return str((path.parent / params).resolve())


def _proposals(path: Path, info: Any, scenario: Scenario) -> tuple[str, ...]:
    """The proposals the experiment runs: those it lists (checked), else all the scenario's."""
    known = [p.id for p in scenario.proposals]
    proposals = tuple(info.proposals) if info.proposals else tuple(known)
    if not proposals:
        raise ScenarioError(f"{path}: experiment.proposals: the scenario defines no proposals")
    for i, pid in enumerate(proposals):
        if pid not in known:
            raise ScenarioError(
                f"{path}: experiment.proposals[{i}]: unknown proposal {pid!r}; "
                f"allowed: {', '.join(known)}"
            )
    if len(set(proposals)) != len(proposals):
        raise ScenarioError(f"{path}: experiment.proposals: a proposal is listed twice")
    return proposals


def _unit_rows(
    ctx: FactorContext, exp: Experiment, bound: list[Bound], unit_points: np.ndarray | None
) -> list[dict[str, Any]]:
    """The factor values of a space-filling design (or of ``unit_points``)."""
    if not bound:
        raise ctx.error(f"factors: a {exp.design.kind} design needs factors")
    if unit_points is None:
        unit_points = DESIGNS[exp.design.kind](len(bound), exp.design.samples, ctx.seed)
    if len(unit_points) > MAX_POINTS:
        raise ctx.error(
            f"the design has {len(unit_points):,} points; allowed: at most {MAX_POINTS:,}"
        )
    return [
        {b.factor.label: b.factor.from_unit(b, float(x)) for b, x in zip(bound, u, strict=True)}
        for u in unit_points
    ]


def _grid_rows(ctx: FactorContext, bound: list[Bound]) -> list[dict[str, Any]]:
    """The factor values of a full grid: every combination of the factors' levels."""
    axes = [b.factor.grid_axis(b, f"factors[{i}]", ctx) for i, b in enumerate(bound)]
    sizes = [len(a) for a in axes]
    if math.prod(sizes) > MAX_POINTS:
        raise ctx.error(
            f"factors: the grid has {' x '.join(map(str, sizes))} = {math.prod(sizes):,} design "
            f"points; allowed: at most {MAX_POINTS:,} (use fewer levels, or a latin-hypercube "
            "or sobol design)"
        )
    labels = [b.factor.label for b in bound]
    return [dict(zip(labels, combo, strict=True)) for combo in itertools.product(*axes)]


def _design_point(
    p: int, values: dict[str, Any], bound: list[Bound], members: int, crn: bool
) -> DesignPoint:
    parts = []
    for b in bound:
        text, n = b.factor.describe(values[b.factor.label], b)
        parts.append(text)
        members = n if n is not None else members
    key_values = {b.factor.label: b.factor.key_value(values[b.factor.label]) for b in bound}
    return DesignPoint(
        point=p, values=values, label="; ".join(parts) if parts else "base", n_members=members,
        seed_key=0 if crn else seed_key(key_values),
    )


def plan_experiment(
    path: str | Path | Mapping[str, Any] | Experiment,
    *,
    replications: int | None = None,
    unit_points: np.ndarray | None = None,
) -> Plan:
    """Load an experiment (a file, a mapping in the file's layout, or an :class:`Experiment`)
    and its base scenario; validate the factors against the scenario and number the design
    points.

    ``unit_points`` (samples × factors in [0, 1)) replaces the file's design; the sensitivity
    analysis passes its Saltelli sample here.
    """
    exp, text, path = experiment_source(path)
    info = exp.experiment
    scenario, scen_text, scen_path = referenced_scenario(
        path, "experiment.scenario", info.scenario
    )
    params = _params_name(path, info.params)
    scenario = with_params(scenario, params)
    proposals = _proposals(path, info, scenario)
    ctx = FactorContext(path=path, scenario=scenario, scenario_name=info.scenario,
                        proposals=proposals, params=params, seed=info.seed)
    bound = [f.bind(ctx, f"factors[{i}] ({f.label})") for i, f in enumerate(exp.factors)]
    if unit_points is not None or exp.design.kind != "grid":
        rows = _unit_rows(ctx, exp, bound, unit_points)
    else:
        rows = _grid_rows(ctx, bound)
    crn = info.common_random_numbers
    if crn is None:
        crn = bool(bound) and all(b.factor.membership for b in bound)
    members = len(scenario.members)
    return Plan(
        experiment=exp, path=path, text=text, scenario=scenario, scenario_path=scen_path,
        scenario_text=scen_text, proposals=proposals,
        replications=replications or info.replications,
        points=[_design_point(p, v, bound, members, crn) for p, v in enumerate(rows)],
        common_random_numbers=crn, bound=bound,
    )
