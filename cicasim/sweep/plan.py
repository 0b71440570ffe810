"""The plan: an experiment made concrete as numbered design points.

:func:`plan_experiment` loads an experiment (:mod:`cicasim.spec.experiment`) and its base
scenario, binds every factor to it (:meth:`cicasim.spec.factors.Factor.bind`) and lays the
design out: a full grid (the product of the factors' levels), or a space-filling design in the
unit cube (:data:`DESIGNS`) mapped onto the factors' levels and ranges.

The design points are lazy (:class:`DesignPoints`): the plan keeps only the design itself (the
grid's level axes, or the space-filling design's unit-cube matrix) and builds a point, with its
label and seed key, when it is asked for, so the plan's memory does not grow with its points.

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
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, overload

import numpy as np
from pydantic import BaseModel

from cicasim.engine.draws import key, seed_sequence
from cicasim.results import sha256
from cicasim.spec.experiment import MAX_POINTS, Experiment, experiment_source
from cicasim.spec.factors import Bound, FactorContext, ScenarioChange, referenced_scenario
from cicasim.spec.paramsets import SHIPPED, with_params
from cicasim.spec.scenario import Scenario, ScenarioError

__all__ = ["DESIGNS", "DesignPoint", "DesignPoints", "Plan", "plan_experiment", "seed_key"]


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
    points: Sequence[DesignPoint]
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
    return _hashed({k: _canon(v) for k, v in values.items()})


def _canon(v: Any) -> Any:
    """A factor value as it enters the seed key (:func:`seed_key`)."""
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, bool | int) and not isinstance(v, float):
        return int(v)
    if isinstance(v, str):  # a scenario factor's file, as the experiment names it
        return v
    return float(v).hex()


def _hashed(canon: Mapping[str, Any]) -> int:
    """The seed key of canonical factor values (:func:`_canon`) by factor name."""
    if not canon:
        return 0
    return key(json.dumps({k: canon[k] for k in sorted(canon)}, sort_keys=True))


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


# -- the design points, built on demand ------------------------------------------------------


class _Level(NamedTuple):
    """A factor's value with what a design point takes from it: its part of the label, the
    member count it fixes (None: not a membership factor) and its seed-key form."""

    value: Any
    text: str
    n_members: int | None
    canon: Any


class DesignPoints(Sequence[DesignPoint]):
    """The numbered design points of a plan, read-only and lazy.

    Only the design is kept: the level axes of a full grid (the first factor varying slowest,
    as :func:`itertools.product` lays them out) or the unit-cube matrix of a space-filling
    design (samples × factors, mapped by :meth:`~cicasim.spec.factors.Factor.from_unit`).  A
    :class:`DesignPoint`, its label and its seed key are built each time one is asked for
    (``points[i]``, ``points[a:b]``, iteration); nothing is cached per point, so the memory of
    a plan of 100,000 points is that of its design.  A slice is a list of design points.
    """

    __slots__ = ("_bound", "_crn", "_known", "_levels", "_members", "_n", "_unit")

    def __init__(
        self,
        bound: Sequence[Bound],
        *,
        members: int,
        crn: bool,
        axes: Sequence[Sequence[Any]] | None = None,
        unit: np.ndarray | None = None,
    ) -> None:
        if (axes is None) == (unit is None):
            raise ValueError("DesignPoints: give exactly one of axes (a grid) or unit")
        self._bound = tuple(bound)
        self._members = members
        self._crn = crn
        if axes is not None:
            if len(axes) != len(self._bound):
                raise ValueError(f"DesignPoints: {len(axes)} axes for {len(self._bound)} factors")
            # each level's label part and seed-key form once, not once per point
            self._levels: tuple[tuple[_Level, ...], ...] | None = tuple(
                tuple(self._level(b, v) for v in axis)
                for b, axis in zip(self._bound, axes, strict=True)
            )
            self._unit: np.ndarray | None = None
            self._known: tuple[dict[int, _Level], ...] = ()
            self._n = math.prod(len(a) for a in self._levels)
        else:
            u = np.array(unit)  # a copy: the caller's array may change, the points may not
            if u.ndim != 2 or (len(u) and u.shape[1] != len(self._bound)):
                raise ValueError(
                    f"DesignPoints: the unit design must be samples × {len(self._bound)} "
                    f"factors (got shape {u.shape})"
                )
            u.flags.writeable = False
            self._levels, self._unit, self._n = None, u, len(u)
            # the factors' listed levels (rules, enlargement steps, values), by identity: a
            # coordinate maps onto one of these objects (Factor.from_unit)
            self._known = tuple(
                {id(v): self._level(b, v) for v in (b.levels or ())} for b in self._bound
            )

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> DesignPoint: ...

    @overload
    def __getitem__(self, index: slice) -> list[DesignPoint]: ...

    def __getitem__(self, index: int | slice) -> DesignPoint | list[DesignPoint]:
        if isinstance(index, slice):
            return [self._point(p) for p in range(self._n)[index]]
        p = operator.index(index)
        if p < 0:
            p += self._n
        if not 0 <= p < self._n:
            raise IndexError(f"design point {index} out of range (the plan has {self._n})")
        return self._point(p)

    def __iter__(self) -> Iterator[DesignPoint]:
        if self._levels is not None:
            rows: Iterator[tuple[_Level, ...]] = itertools.product(*self._levels)
        else:
            rows = (self._unit_values(u) for u in self._unit)
        for p, levels in enumerate(rows):
            yield self._design_point(p, levels)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # compared by their points, as a list is

    def __repr__(self) -> str:
        if self._levels is not None:
            shape = " × ".join(str(len(a)) for a in self._levels) or "no factors"
            return f"<DesignPoints: {self._n:,} points, a grid of {shape}>"
        return f"<DesignPoints: {self._n:,} points in the unit cube of {len(self._bound)} factors>"

    def _level(self, b: Bound, value: Any) -> _Level:
        """``value`` of factor ``b`` with its label part and seed-key form."""
        text, n = b.factor.describe(value, b)
        return _Level(value, text, n, None if self._crn else _canon(b.factor.key_value(value)))

    def _unit_values(self, u: np.ndarray) -> tuple[_Level, ...]:
        """The levels at a row ``u`` of the unit design."""
        levels = []
        for b, known, x in zip(self._bound, self._known, u, strict=True):
            value = b.factor.from_unit(b, float(x))
            level = known.get(id(value))
            levels.append(level if level is not None and level.value is value
                          else self._level(b, value))
        return tuple(levels)

    def _point(self, p: int) -> DesignPoint:
        """Design point ``p`` (0 <= p < len)."""
        if self._levels is None:
            return self._design_point(p, self._unit_values(self._unit[p]))
        digits = []
        rest = p
        for axis in reversed(self._levels):  # the last factor varies fastest
            rest, i = divmod(rest, len(axis))
            digits.append(axis[i])
        return self._design_point(p, tuple(reversed(digits)))

    def _design_point(self, p: int, levels: tuple[_Level, ...]) -> DesignPoint:
        """Design point ``p`` at one level of each factor (in the factors' order): the label
        joins the levels' descriptions; a membership factor fixes the member count."""
        members = self._members
        for lv in levels:
            if lv.n_members is not None:
                members = lv.n_members
        return DesignPoint(
            point=p,
            values={b.factor.label: lv.value for b, lv in zip(self._bound, levels, strict=True)},
            label="; ".join(lv.text for lv in levels) if levels else "base",
            n_members=members,
            seed_key=0 if self._crn else _hashed(
                {b.factor.label: lv.canon for b, lv in zip(self._bound, levels, strict=True)}),
        )


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


def _unit_design(
    ctx: FactorContext, exp: Experiment, bound: list[Bound], unit_points: np.ndarray | None
) -> np.ndarray:
    """The unit-cube matrix (samples × factors) of a space-filling design (or ``unit_points``)."""
    if not bound:
        raise ctx.error(f"factors: a {exp.design.kind} design needs factors")
    if unit_points is None:
        unit_points = DESIGNS[exp.design.kind](len(bound), exp.design.samples, ctx.seed)
    if len(unit_points) > MAX_POINTS:
        raise ctx.error(
            f"the design has {len(unit_points):,} points; allowed: at most {MAX_POINTS:,}"
        )
    return np.asarray(unit_points)


def _grid_axes(ctx: FactorContext, bound: list[Bound]) -> list[list[Any]]:
    """The level axes of a full grid (every combination of the factors' levels)."""
    axes = [b.factor.grid_axis(b, f"factors[{i}]", ctx) for i, b in enumerate(bound)]
    sizes = [len(a) for a in axes]
    if math.prod(sizes) > MAX_POINTS:
        raise ctx.error(
            f"factors: the grid has {' x '.join(map(str, sizes))} = {math.prod(sizes):,} design "
            f"points; allowed: at most {MAX_POINTS:,} (use fewer levels, or a latin-hypercube "
            "or sobol design)"
        )
    return axes


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
    crn = info.common_random_numbers
    if crn is None:
        crn = bool(bound) and all(b.factor.membership for b in bound)
    members = len(scenario.members)
    if unit_points is not None or exp.design.kind != "grid":
        points = DesignPoints(bound, members=members, crn=crn,
                              unit=_unit_design(ctx, exp, bound, unit_points))
    else:
        points = DesignPoints(bound, members=members, crn=crn, axes=_grid_axes(ctx, bound))
    return Plan(
        experiment=exp, path=path, text=text, scenario=scenario, scenario_path=scen_path,
        scenario_text=scen_text, proposals=proposals,
        replications=replications or info.replications,
        points=points,
        common_random_numbers=crn, bound=bound,
    )
