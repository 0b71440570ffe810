"""Experiments and sweeps: many scenarios' ensembles, laid out as a design, run anywhere.

A sweep has three layers (the EMA workbench and SALib split):

1. **Design.**  An experiment file (TOML, :func:`load_experiment`) names a base scenario, the
   factors to vary and a design: a full grid, a Latin hypercube (McKay, Beckman & Conover 1979)
   or a scrambled Sobol sequence (Sobol' 1967; Owen 1998), both from :mod:`scipy.stats.qmc` and
   seeded.  :func:`plan_experiment` turns it into numbered design points.
2. **Execution.**  The work unit is one replication block of one proposal at one design point;
   units run through an executor of :mod:`cicasim.sweep.executors` (in-process, a local process pool
   or a Dask distributed cluster), all behind the same small interface.
3. **Results on disk.**  Each finished design point is written to ``parts/`` (Parquet, atomic
   rename), after a manifest written first; ``--resume`` skips the points already there; the
   merged tables are written last.  See ``docs/experiments.md`` for the layout.

Seeds are pure functions of keys (:mod:`cicasim.engine.draws`): the numbers of a design point come
from ``SeedSequence(seed, spawn_key=(k, block, proposal, actor))`` where ``k`` is the point's
seed key, a stable hash of its factor values (:func:`point_key`; 0 when there are no factors, so
such a sweep equals ``cicasim run``).  The tables therefore never depend on the executor, the
worker count, a resume, or which other points the sweep contains: the same factor values give the
same numbers in any sweep.  With ``common_random_numbers`` every point uses ``k = 0``: the points
then share their random numbers (Law 2015, *Simulation Modeling and Analysis*, sec. 11.2),
curves are smooth and differences between points are paired.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cicasim._callable import make_callable
from cicasim.display import Shown, count
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import key, seed_sequence
from cicasim.engine.ensemble import (
    EnsembleResult,
    ProposalRun,
    blocks_for,
    concat_outcomes,
    summarise,
)
from cicasim.engine.kernel import Negotiation, Outcome
from cicasim.errors import InputError, os_reason, parse_toml, read_text, shown
from cicasim.results import (
    MANIFEST,
    lock_directory,
    make_directory,
    path_status,
    read_manifest,
    sha256,
    write_json,
)
from cicasim.spec.enlargement import enlargement_path
from cicasim.spec.paramsets import SHIPPED, with_params
from cicasim.spec.rules import RuleSpec
from cicasim.spec.scenario import (
    Behaviour,
    EnlargementStep,
    Scenario,
    ScenarioError,
    Uncertainty,
    parse_scenario,
    read_scenario,
    validation_message,
)
from cicasim.sweep.executors import Executor, InProcessExecutor, Task, run_unit

__all__ = [
    "DESIGNS",
    "MAX_POINTS",
    "DesignPoint",
    "Experiment",
    "Plan",
    "SweepResult",
    "check_directory",
    "load_experiment",
    "parse_experiment",
    "plan_experiment",
    "point_key",
    "run_sweep",
]

Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
]

#: Most design points an experiment may have (a grid's product of levels, a space-filling
#: design's samples, a Saltelli sample's N (D + 2)); checked before any point is built.
MAX_POINTS = 100_000
#: Most enlargement steps a factor may list.
MAX_STEPS = 1_000

#: Column names of the result tables that a factor may not take.
RESERVED = frozenset({
    "point", "proposal", "replication", "label", "n_members", "p_consensus", "ci_low", "ci_high",
    "median_rounds", "mean_dilution", "passed", "replications", "actor", "frequency",
    "first_blocker", "reason", "rounds", "dilution", "drift", "mean_drift", "objectors",
    "abstainers", "delta",
    "delta_low", "delta_high",
})

BEHAVIOUR_PARAMETERS = tuple(k for k in Behaviour.model_fields if k != "amendment")
UNCERTAINTY_PARAMETERS = tuple(Uncertainty.model_fields)


# -- the experiment file ---------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExperimentInfo(_Strict):
    """The ``[experiment]`` table."""

    name: str = Field(min_length=1)
    description: str = ""
    scenario: str = Field(min_length=1, description="base scenario, relative to this file")
    seed: int = Field(ge=0, lt=2**63, description="master seed")
    replications: int = Field(10_000, ge=1, le=10_000_000, description="per point and proposal")
    proposals: list[str] = Field([], description="proposal ids; empty = all of the scenario's")
    common_random_numbers: bool | None = Field(
        None, description="same random numbers at every point (default: enlargement-only designs)"
    )
    params: str = Field(
        "", description="a parameter set whose [behaviour] replaces every scenario's "
        "(consensus-organisations, validation, or a TOML file relative to this file)"
    )
    source: str = ""


class _NumericFactor(_Strict):
    name: Identifier | None = None
    values: list[int | float] | None = Field(None, min_length=1)
    range: tuple[float, float] | None = None
    levels: int | None = Field(None, ge=2, le=10_000, description="grid points over the range")

    @model_validator(mode="after")
    def _values_or_range(self):
        if (self.values is None) == (self.range is None):
            raise ValueError("give exactly one of values = [...] or range = [low, high]")
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise ValueError(f"range must be two finite numbers, low < high (got {lo}, {hi})")
        if self.levels is not None and self.range is None:
            raise ValueError("levels applies to a range only")
        return self


class BehaviourFactor(_NumericFactor):
    """A scenario-wide behaviour parameter (actors' own overrides stay)."""

    kind: Literal["behaviour"]
    parameter: Literal[BEHAVIOUR_PARAMETERS]  # type: ignore[valid-type]

    @property
    def label(self) -> str:
        return self.name or self.parameter


class UncertaintyFactor(_NumericFactor):
    """A scenario-wide uncertainty level (actors' and tensions' own s.d. stay)."""

    kind: Literal["uncertainty"]
    parameter: Literal[UNCERTAINTY_PARAMETERS]  # type: ignore[valid-type]

    @property
    def label(self) -> str:
        return self.name or self.parameter


class EnlargementFactor(_Strict):
    """The number of enlargement steps applied, cumulatively, to the base scenario."""

    kind: Literal["enlargement"]
    name: Identifier | None = None
    steps: list[EnlargementStep] | None = Field(
        None, max_length=MAX_STEPS, description="replace the scenario's own [[enlargement]] list"
    )
    append: list[EnlargementStep] = Field(
        [], max_length=MAX_STEPS, description="steps after the scenario's own"
    )
    values: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, min_length=1, description="numbers of steps; default 0, 1, ..., all"
    )

    @property
    def label(self) -> str:
        return self.name or "enlargement"


class RuleFactor(_Strict):
    """The decision rule of every proposal run."""

    kind: Literal["rule"]
    name: Identifier | None = None
    values: list[RuleSpec] = Field(min_length=1)

    @property
    def label(self) -> str:
        return self.name or "rule"


class ScenarioFactor(_Strict):
    """Whole scenario files, one per level (e.g. the same organisation in different years);
    paths are relative to the experiment file.  Every file must define the experiment's
    proposals on the same dimensions."""

    kind: Literal["scenario"]
    name: Identifier | None = None
    values: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @property
    def label(self) -> str:
        return self.name or "scenario"


Factor = Annotated[
    BehaviourFactor | UncertaintyFactor | EnlargementFactor | RuleFactor | ScenarioFactor,
    Field(discriminator="kind"),
]


class Design(_Strict):
    """The ``[design]`` table."""

    kind: Literal["grid", "latin-hypercube", "sobol"] = "grid"
    samples: int | None = Field(
        None, ge=1, le=MAX_POINTS, description="points (not for grid)"
    )

    @model_validator(mode="after")
    def _samples(self):
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("samples applies to latin-hypercube and sobol designs, not grid")
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"a {self.kind} design needs samples = N")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(
                f"a sobol design needs a power of two samples (got {self.samples}); "
                "its balance properties hold only then (Owen 1998)"
            )
        return self


class Sensitivity(_Strict):
    """The ``[sensitivity]`` table (for ``cicasim sensitivity``)."""

    samples: int = Field(64, ge=2, le=65_536, description="base samples N, a power of two")
    second_order: bool = False
    resamples: int = Field(100, ge=10, le=100_000, description="bootstrap resamples")
    confidence: float = Field(0.95, gt=0, lt=1)

    @model_validator(mode="after")
    def _power_of_two(self):
        if self.samples & (self.samples - 1):
            raise ValueError(
                f"samples must be a power of two (got {self.samples}) for Saltelli sampling"
            )
        return self


class Experiment(_Strict):
    """A whole experiment file."""

    experiment: ExperimentInfo
    design: Design = Design()
    factors: list[Factor] = []
    sensitivity: Sensitivity = Sensitivity()

    @model_validator(mode="after")
    def _names(self):
        seen: set[str] = set()
        enlargements = 0
        for i, f in enumerate(self.factors):
            name = f.label
            if name in seen:
                raise ValueError(
                    f"factors[{i}].name: duplicate factor {name!r}; give each factor its own name"
                )
            if name in RESERVED:
                raise ValueError(
                    f"factors[{i}].name: {name!r} is a result column; choose another name"
                )
            seen.add(name)
            enlargements += isinstance(f, EnlargementFactor | ScenarioFactor)
        if enlargements > 1:
            raise ValueError(
                "factors: at most one enlargement or scenario factor (both change the membership)"
            )
        return self


_TAGS = frozenset({
    "behaviour", "uncertainty", "enlargement", "rule", "scenario", "consensus", "consensus-minus-k",
    "qualified-majority", "simple-majority", "observer-joins", "new-actor", "synthetic",
    "int", "float",
})


def parse_experiment(data: dict[str, Any], source: str = "<experiment>") -> Experiment:
    """Validate an already-parsed mapping; errors become one-line :class:`ScenarioError`."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as err:
        where = validation_message(err, data, keys_help="docs/experiments.md", tags=_TAGS)
        raise ScenarioError(f"{source}: {where}") from None


def _read_text(path: Path) -> str:
    try:
        return read_text(path)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None


def _absolute(path: Path) -> Path:
    """``path`` made absolute, symlinks resolved where they resolve (a loop is left for the
    reader to report in one line)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _referenced_scenario(path: Path, field: str, value: str) -> tuple[Scenario, str, Path]:
    """A scenario file named by an experiment's ``field`` (relative to the experiment): the
    scenario, its text and its path.  Any error names the experiment and the field."""
    target = _absolute(path.parent / value)
    try:
        os.stat(target)
    except FileNotFoundError:
        raise ScenarioError(
            f"{path}: {field}: file not found: {value} (relative to the experiment file: "
            f"{target}); give a path relative to {_absolute(path.parent)}, or an absolute one"
        ) from None
    except (OSError, ValueError):
        pass  # read_scenario says what is wrong, in one line
    try:
        scenario, text = read_scenario(target)
    except InputError as exc:
        raise ScenarioError(f"{path}: {field}: {exc}") from None
    return scenario, text, target


# -- the plan: numbered design points --------------------------------------------------------


@dataclass(frozen=True)
class DesignPoint:
    """One design point: its number, the factor values and a human label."""

    point: int
    values: dict[str, Any]
    label: str
    n_members: int
    seed_key: int


@dataclass(repr=False)
class Plan:
    """An experiment made concrete: base scenario, proposals and numbered design points."""

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
    factors: list[Any]
    _path_scenarios: list[Scenario] | None = None
    _path_labels: list[str] = field(default_factory=list)
    _factor_scenarios: dict[str, tuple[Scenario, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"<Plan {self.name!r}: {len(self.points)} design points × "
                f"{len(self.proposals)} proposals × {self.replications:,} replications, "
                f"seed {self.seed}>")

    @property
    def seed(self) -> int:
        return self.experiment.experiment.seed

    @property
    def name(self) -> str:
        return self.experiment.experiment.name

    def seed_point(self, point: int) -> int:
        """The design-point key of the random numbers (0 for all with common random numbers)."""
        return 0 if self.common_random_numbers else self.points[point].seed_key

    def scenario_at(self, point: int) -> Scenario:
        """The scenario of design point ``point``: enlargement first, then the other factors."""
        values = self.points[point].values
        s = self.scenario
        behaviour: dict[str, Any] = {}
        uncertainty: dict[str, Any] = {}
        rule = None
        for f in self.factors:
            v = values[f.label]
            if isinstance(f, EnlargementFactor):
                s = self._path_scenarios[v]
            elif isinstance(f, ScenarioFactor):
                s = self._factor_scenarios[v][0]
            elif isinstance(f, BehaviourFactor):
                behaviour[f.parameter] = int(v) if f.parameter == "loss_exponent" else float(v)
            elif isinstance(f, UncertaintyFactor):
                uncertainty[f.parameter] = float(v)
            elif isinstance(f, RuleFactor):
                rule = v
        update: dict[str, Any] = {}
        if behaviour:
            update["behaviour"] = s.behaviour.model_copy(update=behaviour)
        if uncertainty:
            update["uncertainty"] = s.uncertainty.model_copy(update=uncertainty)
        if rule is not None:
            update["proposals"] = [p.model_copy(update={"rule": rule}) for p in s.proposals]
        # the values were validated against the same fields when the plan was made
        return s.model_copy(update=update) if update else s

    def rule_kinds(self) -> list[str]:
        """The kinds of the decision rules the proposals run under, over every design point: a
        rule factor's values where there is one, else the rules of the scenarios' proposals."""
        rules = [v.kind for f in self.factors if isinstance(f, RuleFactor) for v in f.values]
        if rules:
            return rules
        scenarios = [self.scenario, *(s for s, _ in self._factor_scenarios.values())]
        return [p.rule.kind for s in scenarios for p in s.proposals if p.id in self.proposals]

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed sweep must share with the original one."""
        return {
            "experiment_sha256": sha256(self.text),
            "scenario_sha256": sha256(self.scenario_text),
            **({"scenario_factor_sha256": {v: sha256(t) for v, (_, t) in
                                           sorted(self._factor_scenarios.items())}}
               if self._factor_scenarios else {}),
            "replications": self.replications,
            "seed": self.seed,
            "points": len(self.points),
            "proposals": list(self.proposals),
        }


def point_key(values: dict[str, Any]) -> int:
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


def rule_label(rule: Any) -> str:
    """``qualified-majority(quota=12, min_members=3)``: a rule's kind and its set parameters."""
    params = rule.model_dump(exclude={"kind"}, exclude_none=True)
    inner = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return f"{rule.kind}({inner})" if inner else rule.kind


def _check_value(model: type[BaseModel], parameter: str, value: float, where: str) -> None:
    try:
        model.model_validate({parameter: value})
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        raise ValueError(f"{where}: {parameter} = {value!r}: {e['msg']}") from None


def _numeric(factors: list[Any], values: dict[str, Any]) -> dict[str, Any]:
    """Behaviour and uncertainty values as floats (1 and 1.0 are the same setting)."""
    return {
        f.label: float(values[f.label]) if isinstance(f, _NumericFactor) else values[f.label]
        for f in factors
    }


def _levels(f: Any, n_steps: int | None) -> list[Any] | None:
    """The discrete levels of a factor (None for a continuous range)."""
    if isinstance(f, EnlargementFactor):
        return list(f.values) if f.values is not None else list(range(n_steps + 1))
    if isinstance(f, RuleFactor | ScenarioFactor):
        return list(f.values)
    if f.values is not None:
        return list(f.values)
    return None


def _unit_to_value(f: Any, levels: list[Any] | None, u: float) -> Any:
    if levels is not None:
        return levels[min(int(u * len(levels)), len(levels) - 1)]
    lo, hi = f.range
    return float(lo + u * (hi - lo))


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


def load_experiment(path: str | Path) -> tuple[Experiment, str]:
    """Read and validate an experiment file; returns the experiment and its text."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = parse_toml(text, path)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    if "experiment" not in data and "scenario" in data and "actors" in data:
        raise ScenarioError(
            f"{path}: is a scenario file (it has [scenario] and [[actors]]), not an experiment; "
            "run it with `cicasim run`"
        )
    return parse_experiment(data, str(path)), text


def experiment_source(
    experiment: str | Path | Mapping[str, Any] | Experiment,
) -> tuple[Experiment, str, Path]:
    """The experiment, its text (for the fingerprint and the manifest) and the path that names it
    in messages and against which its relative paths resolve: a file's own path, or
    ``<experiment>`` in the working directory for a mapping (the file's layout) or an
    :class:`Experiment` object."""
    if isinstance(experiment, str | Path):
        exp, text = load_experiment(experiment)
        return exp, text, Path(experiment)
    import tomlkit

    source = Path("<experiment>")
    if isinstance(experiment, Experiment):
        exp = experiment
    elif isinstance(experiment, Mapping):
        exp = parse_experiment(dict(experiment), str(source))
    else:
        raise InputError(
            f"experiment: a {type(experiment).__name__} was given; allowed: a file path, a "
            "mapping laid out like an experiment file, or an Experiment"
        )
    return exp, tomlkit.dumps(exp.model_dump(mode="json", exclude_none=True)), source


def _params_name(path: Path, params: str) -> str | None:
    """A shipped set's name as it is; a file's path relative to the experiment."""
    if not params:
        return None
    if params in SHIPPED:
        return params
    return str((path.parent / params).resolve())


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
    scenario, scen_text, scen_path = _referenced_scenario(
        path, "experiment.scenario", info.scenario
    )
    params = _params_name(path, info.params)
    scenario = with_params(scenario, params)
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
    factors = list(exp.factors)
    path_scenarios: list[Scenario] | None = None
    path_labels: list[str] = []
    factor_scenarios: dict[str, tuple[Scenario, str]] = {}
    levels: list[list[Any] | None] = []
    for i, f in enumerate(factors):
        where = f"factors[{i}] ({f.label})"
        n_steps = None
        if isinstance(f, EnlargementFactor):
            steps = list(scenario.enlargement) if f.steps is None else list(f.steps)
            steps += list(f.append)
            if not steps:
                raise ScenarioError(
                    f"{path}: {where}.steps: no enlargement steps (the scenario has none; "
                    "give steps = [...] or append = [...])"
                )
            data = scenario.model_dump()
            data["enlargement"] = [s.model_dump() for s in steps]
            with_steps = parse_scenario(data, f"{path}: {where} applied to {info.scenario}")
            try:
                built = enlargement_path(with_steps, seed=info.seed)
            except ValueError as exc:
                raise ScenarioError(f"{path}: {where}: {exc}") from None
            path_labels = [lab for lab, _ in built]
            path_scenarios = [s for _, s in built]
            n_steps = len(steps)
            if f.values is not None:
                for j, v in enumerate(f.values):
                    if v > n_steps:
                        raise ScenarioError(
                            f"{path}: {where}.values[{j}]: {v} steps asked, "
                            f"but the path has {n_steps}; allowed: 0-{n_steps}"
                        )
        elif isinstance(f, ScenarioFactor):
            for j, v in enumerate(f.values):
                other, other_text, _ = _referenced_scenario(path, f"{where}.values[{j}]", v)
                other = with_params(other, params)
                dims = {d.id for d in scenario.dimensions}
                for pid in proposals:
                    if pid not in {p.id for p in other.proposals}:
                        raise ScenarioError(
                            f"{path}: {where}.values[{j}]: {v} defines no proposal {pid!r}; "
                            "every scenario must define the experiment's proposals"
                        )
                    missing = [t.dimension for t in other.proposal(pid).touches
                               if t.dimension not in dims]
                    if missing:
                        raise ScenarioError(
                            f"{path}: {where}.values[{j}]: {v}: proposal {pid!r} touches "
                            f"{', '.join(missing)}, not a dimension of the base scenario"
                        )
                factor_scenarios[v] = (other, other_text)
        elif isinstance(f, BehaviourFactor | UncertaintyFactor):
            model = Behaviour if isinstance(f, BehaviourFactor) else Uncertainty
            checks = list(f.values) if f.values is not None else list(f.range)
            field_name = "values" if f.values is not None else "range"
            if f.range is not None and f.parameter == "loss_exponent":
                raise ScenarioError(
                    f"{path}: {where}.range: loss_exponent takes the values 1 or 2; "
                    "use values = [1, 2]"
                )
            try:
                for v in checks:
                    _check_value(model, f.parameter, v, f"{where}.{field_name}")
            except ValueError as exc:
                raise ScenarioError(f"{path}: {exc}") from None
        levels.append(_levels(f, n_steps))

    # the design: numbered points
    rows: list[dict[str, Any]] = []
    if unit_points is not None or exp.design.kind != "grid":
        if not factors:
            raise ScenarioError(f"{path}: factors: a {exp.design.kind} design needs factors")
        if unit_points is None:
            unit_points = DESIGNS[exp.design.kind](len(factors), exp.design.samples, info.seed)
        if len(unit_points) > MAX_POINTS:
            raise ScenarioError(
                f"{path}: the design has {len(unit_points):,} points; allowed: at most "
                f"{MAX_POINTS:,}"
            )
        for u in unit_points:
            rows.append({
                f.label: _unit_to_value(f, lv, float(x))
                for f, lv, x in zip(factors, levels, u, strict=True)
            })
    else:
        for i, f in enumerate(factors):
            if isinstance(f, _NumericFactor) and f.range is not None and f.levels is None:
                raise ScenarioError(
                    f"{path}: factors[{i}].levels: a range in a grid design needs levels = N "
                    "(or use a latin-hypercube or sobol design)"
                )
        sizes = [len(lv) if lv is not None else f.levels for f, lv in zip(factors, levels,
                                                                         strict=True)]
        if math.prod(sizes) > MAX_POINTS:
            raise ScenarioError(
                f"{path}: factors: the grid has {' x '.join(map(str, sizes))} = "
                f"{math.prod(sizes):,} design points; allowed: at most {MAX_POINTS:,} (use fewer "
                "levels, or a latin-hypercube or sobol design)"
            )
        axes = [
            lv if lv is not None else [float(x) for x in np.linspace(*f.range, f.levels)]
            for f, lv in zip(factors, levels, strict=True)
        ]
        for combo in itertools.product(*axes):
            rows.append({f.label: v for f, v in zip(factors, combo, strict=True)})
    crn = info.common_random_numbers
    if crn is None:
        crn = bool(factors) and all(
            isinstance(f, EnlargementFactor | ScenarioFactor) for f in factors
        )
    points = []
    for p, values in enumerate(rows):
        parts = []
        n_members = len(scenario.members)
        for f in factors:
            v = values[f.label]
            if isinstance(f, EnlargementFactor):
                n_members = len(path_scenarios[v].members)
                parts.append(f"{path_labels[v]} ({count(n_members, 'member')})")
            elif isinstance(f, ScenarioFactor):
                n_members = len(factor_scenarios[v][0].members)
                parts.append(f"{Path(v).stem} ({count(n_members, 'member')})")
            elif isinstance(f, RuleFactor):
                parts.append(f"{f.label}={rule_label(v)}")
            else:
                parts.append(f"{f.label}={v:g}")
        label = "; ".join(parts) if parts else "base"
        points.append(DesignPoint(
            point=p, values=values, label=label, n_members=n_members,
            seed_key=0 if crn else point_key(_numeric(factors, values)),
        ))
    return Plan(
        experiment=exp, path=path, text=text, scenario=scenario, scenario_path=scen_path,
        scenario_text=scen_text, proposals=proposals,
        replications=replications or info.replications, points=points,
        common_random_numbers=crn, factors=factors, _path_scenarios=path_scenarios,
        _path_labels=path_labels, _factor_scenarios=factor_scenarios,
    )


# -- results on disk -------------------------------------------------------------------------

PARTS = "parts"
REPLICATIONS = "replications.parquet"
SUMMARY = "summary.parquet"
BLOCKING = "blocking.parquet"
POINTS = "points.parquet"
DELTAS = "deltas.parquet"


def _factor_type(f: Any) -> pa.DataType:
    if isinstance(f, EnlargementFactor):
        return pa.int64()
    if isinstance(f, RuleFactor | ScenarioFactor):
        return pa.string()
    return pa.float64()


def _factor_value(f: Any, v: Any) -> Any:
    if isinstance(f, RuleFactor):
        return rule_label(v)
    if isinstance(f, ScenarioFactor):
        return str(v)
    if isinstance(f, EnlargementFactor):
        return int(v)
    return float(v)


def _dimensions(plan: Plan) -> list[str]:
    touched = {t.dimension for pid in plan.proposals for t in plan.scenario.proposal(pid).touches}
    return [d.id for d in plan.scenario.dimensions if d.id in touched]


def schemas(plan: Plan) -> dict[str, pa.Schema]:
    """The Arrow schemas of the result tables (a contract: ``docs/experiments.md``)."""
    fcols = [pa.field(f.label, _factor_type(f)) for f in plan.factors]
    dims = _dimensions(plan)
    reps = pa.schema(
        [
            pa.field("point", pa.int64()),
            pa.field("proposal", pa.string()),
            pa.field("replication", pa.int64()),
            pa.field("passed", pa.bool_()),
            pa.field("reason", pa.string()),
            pa.field("rounds", pa.int64()),
            pa.field("dilution", pa.float64()),
            pa.field("drift", pa.float64()),
            pa.field("first_blocker", pa.string()),
            pa.field("objectors", pa.string()),
            pa.field("abstainers", pa.string()),
        ]
        + [pa.field(f"outcome_{d}", pa.float64()) for d in dims]
        + [pa.field(f"policy_{d}", pa.float64()) for d in dims]
    )
    summary = pa.schema(
        [pa.field("point", pa.int64()), pa.field("proposal", pa.string())]
        + fcols
        + [
            pa.field("n_members", pa.int64()),
            pa.field("p_consensus", pa.float64()),
            pa.field("ci_low", pa.float64()),
            pa.field("ci_high", pa.float64()),
            pa.field("median_rounds", pa.float64()),
            pa.field("mean_dilution", pa.float64()),
            pa.field("mean_drift", pa.float64()),
            pa.field("passed", pa.int64()),
            pa.field("replications", pa.int64()),
        ]
    )
    blocking = pa.schema([
        pa.field("point", pa.int64()),
        pa.field("proposal", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("frequency", pa.float64()),
        pa.field("first_blocker", pa.float64()),
    ])
    points = pa.schema(
        [pa.field("point", pa.int64())]
        + fcols
        + [
            pa.field("label", pa.string()),
            pa.field("n_members", pa.int64()),
            pa.field("seed_key", pa.int64()),
        ]
    )
    deltas = pa.schema([
        pa.field("point", pa.int64()),
        pa.field("proposal", pa.string()),
        pa.field("delta", pa.float64()),
        pa.field("delta_low", pa.float64()),
        pa.field("delta_high", pa.float64()),
    ])
    return {
        REPLICATIONS: reps, SUMMARY: summary, BLOCKING: blocking, POINTS: points, DELTAS: deltas,
    }


def arrow_table(table: pa.Table | pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``table`` as an Arrow table of ``schema``, without pandas metadata: what a Parquet file
    of it holds."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(
            table.reindex(columns=schema.names), schema=schema, preserve_index=False
        )
    return table.replace_schema_metadata(None)


def write_parquet(path: Path, table: pa.Table | pd.DataFrame, schema: pa.Schema) -> None:
    """Write a table atomically: a temporary sibling, then :func:`os.replace`."""
    table = arrow_table(table, schema)
    with _written(path) as tmp:
        pq.write_table(table, tmp)


@contextmanager
def _written(path: Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write, renamed onto ``path`` when the block succeeds
    and removed when it fails; a write error (a full disk) is a one-line :class:`InputError`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot be written ({os_reason(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _part(directory: Path, point: int, what: str) -> Path:
    return directory / PARTS / f"point-{point:06d}.{what}.parquet"


def done_points(directory: Path, n: int) -> set[int]:
    """Design points whose parts are all on disk (the replications part is written last)."""
    return {
        p for p in range(n)
        if _part(directory, p, "replications").exists()
        and _part(directory, p, "summary").exists()
        and _part(directory, p, "blocking").exists()
    }


def _point_tables(
    plan: Plan, point: int, scenario: Scenario, negs: dict[str, Negotiation],
    outcomes: dict[str, Outcome], sch: dict[str, pa.Schema],
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """A design point's three parts, built in Arrow directly: its replications, its summary rows
    and its blocking rows.  NaN is written as null, as pandas would write it (a mean dilution
    with nothing agreed; the dimensions a proposal does not touch)."""
    order = sorted(plan.proposals)
    runs = tuple(
        ProposalRun(negotiation=negs[pid], replications=plan.replications, outcome=outcomes[pid])
        for pid in order
    )
    result = EnsembleResult(
        scenario=scenario, seed=plan.seed, point=point, replications=plan.replications, runs=runs
    )
    cols = result.columns()
    n = len(cols["point"])
    reps = pa.table({
        f.name: pa.array(
            cols[f.name] if f.name in cols else np.full(n, np.nan), type=f.type, from_pandas=True
        )
        for f in sch[REPLICATIONS]
    })
    values = plan.points[point].values
    n_members = plan.points[point].n_members
    srows, brows = [], []
    for run in runs:
        s = summarise(run)
        row = {"point": point, "proposal": s.id}
        row.update({f.label: _factor_value(f, values[f.label]) for f in plan.factors})
        row.update(
            n_members=n_members, p_consensus=s.p_consensus, ci_low=s.ci_low, ci_high=s.ci_high,
            median_rounds=s.median_rounds,
            mean_dilution=s.mean_dilution,
            mean_drift=s.mean_drift,
            passed=s.passed, replications=s.replications,
        )
        srows.append(row)
        for actor in sorted(s.blocking):
            brows.append({
                "point": point, "proposal": s.id, "actor": actor,
                "frequency": s.blocking[actor], "first_blocker": s.first_blocker.get(actor, 0.0),
            })
    return (
        reps,
        pa.Table.from_pylist(srows, schema=sch[SUMMARY]),
        pa.Table.from_pylist(brows, schema=sch[BLOCKING]),
    )


def points_table(plan: Plan) -> pd.DataFrame:
    """One row per design point: its number, factor values, label and number of members."""
    rows = []
    for dp in plan.points:
        row = {"point": dp.point}
        row.update({f.label: _factor_value(f, dp.values[f.label]) for f in plan.factors})
        row.update(label=dp.label, n_members=dp.n_members, seed_key=dp.seed_key)
        rows.append(row)
    return pd.DataFrame(rows)


#: The tables of a sweep by file name, and their short names (``SweepResult.table(name)``).
TABLES = {"replications": REPLICATIONS, "summary": SUMMARY, "blocking": BLOCKING,
          "points": POINTS, "deltas": DELTAS}


@dataclass(frozen=True, repr=False)
class SweepResult(Shown):
    """A sweep's tables, on disk (``directory``) or in memory (``tables``), and what ran."""

    directory: Path | None
    points: int
    computed: int  # points computed by this call (the rest were on disk)
    n_replications: int  # per point and proposal
    proposals: tuple[str, ...]
    plan: Plan | None = None
    tables: dict[str, pd.DataFrame] | None = None  # in memory: short name -> table

    def has(self, name: str) -> bool:
        """Whether the sweep has the table ``name`` (``deltas`` only with common random
        numbers and more than one point)."""
        if self.tables is not None:
            return name in self.tables
        return (self.directory / TABLES[name]).is_file()

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables (:data:`TABLES`): ``summary``, ``replications``, ``blocking``,
        ``points`` or ``deltas``."""
        if name not in TABLES:
            raise InputError(f"table: {name!r} is unknown; allowed: {', '.join(TABLES)}")
        if not self.has(name):
            raise InputError(f"table: this sweep has no {name} table")
        if self.tables is not None:
            return self.tables[name].copy()
        return pd.read_parquet(self.directory / TABLES[name])

    def summary(self) -> pd.DataFrame:
        """One row per design point and proposal: the factor values, the number of members,
        P(consensus) with its Wilson interval, median rounds and mean dilution."""
        return self.table("summary")

    def replications(self) -> pd.DataFrame:
        """One row per design point × proposal × replication."""
        return self.table("replications")

    def headline(self) -> str:
        name = f"{self.plan.name}, " if self.plan is not None else ""
        where = f"in {self.directory}" if self.directory is not None else "in memory"
        return (f"{name}{self.points} design points × {len(self.proposals)} proposals × "
                f"{self.n_replications:,} replications, {where}")

    def results(self) -> Any:
        """The tables as a :class:`cicasim.results.Results` (what the figures and the report
        read)."""
        from cicasim.results import Results, open_results

        if self.tables is None:
            return open_results(self.directory)
        return Results(directory=None, manifest=self._manifest(),
                       _tables=dict(self.tables))

    def _manifest(self) -> dict[str, Any]:
        plan = self.plan
        return {"cicasim_results": "sweep", "seed": plan.seed, "experiment": plan.name,
                "inputs": {plan.scenario_path.name: {"text": plan.scenario_text}},
                "scenario_file": plan.scenario_path.name}

    def plot(self, name: str | None = None) -> Any:
        """The first standard figure of the sweep (``name``: e.g. ``enlargement``, ``delta``,
        ``dilution`` or ``heatmap``)."""
        return self.results().plot(name)


def check_directory(directory: str | Path, plan: Plan, *, kind: str = "sweep",
                    resume: bool = False) -> bool:
    """Whether ``directory`` can take this sweep's results; True when it holds a matching one
    to resume.  One-line errors otherwise; nothing is written."""
    directory = Path(directory)
    st = path_status(directory, "an output directory")
    if st is None:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{directory}: exists and is not a directory; give a new directory")
    try:
        entries = [p.name for p in directory.iterdir()]
    except OSError as exc:
        raise InputError(f"{directory}: cannot be read ({os_reason(exc)})") from None
    if entries:
        if MANIFEST not in entries:
            raise InputError(
                f"{directory}: exists and is not a cicasim results directory; give a new one"
            )
        old = read_manifest(directory)
        if old["cicasim_results"] != kind:
            raise InputError(
                f"{directory}: holds {shown(old['cicasim_results'])} results, not {kind} "
                "results; give a new directory"
            )
        if not resume:
            raise InputError(
                f"{directory}: already holds results; pass --resume to complete them "
                "or give a new directory"
            )
        if old.get("fingerprint") != plan.fingerprint():
            raise InputError(
                f"{directory}: holds a different {kind} (experiment, scenario, seed or "
                "replications differ); give a new directory to start afresh"
            )
        return True
    return False


def input_key(value: str) -> str:
    """The manifest's key of a file an experiment names: its path relative to the experiment,
    as written there (normalised), so two files of the same name stay apart."""
    return Path(os.path.normpath(value)).as_posix()


def _prepare_directory(directory: Path, plan: Plan, *, kind: str, resume: bool,
                       extra: dict[str, Any]) -> None:
    from cicasim.results import manifest

    if check_directory(directory, plan, kind=kind, resume=resume):
        (directory / PARTS).mkdir(exist_ok=True)
        for tmp in (directory / PARTS).glob(".*.tmp"):
            tmp.unlink()
        return
    scenario_key = input_key(plan.experiment.experiment.scenario)
    m = manifest(
        kind=kind, seed=plan.seed,
        inputs={plan.path.name: plan.text, scenario_key: plan.scenario_text,
                **{input_key(v): t for v, (_, t) in plan._factor_scenarios.items()}},
        experiment=plan.name, experiment_file=plan.path.name,
        scenario_file=scenario_key, design=plan.experiment.design.kind,
        replications=plan.replications, proposals=list(plan.proposals),
        points=len(plan.points), factors=[f.label for f in plan.factors],
        common_random_numbers=plan.common_random_numbers,
        fingerprint=plan.fingerprint(), **extra,
    )
    with _written(directory / MANIFEST) as tmp:
        write_json(tmp, m)
    (directory / PARTS).mkdir(exist_ok=True)


def run_sweep(
    plan: Plan,
    *,
    out: str | Path | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    kind: str = "sweep",
    manifest_extra: dict[str, Any] | None = None,
) -> SweepResult:
    """Run every design point (not yet on disk), then merge the tables.

    Without ``out`` the sweep runs in memory and nothing is written.  With ``out`` the manifest
    is written before any computing, each design point's parts when its last block is in, and
    the merged tables at the end, each by atomic rename; ``resume`` completes an interrupted
    sweep there.  ``progress(done, total)`` is called with counts of replication blocks.  The
    numbers are the same either way.
    """
    sch = schemas(plan)
    n = len(plan.points)
    if out is None:
        if resume:
            raise InputError("resume: needs out, the directory of the sweep to complete")
        parts = dict(_computed(plan, list(range(n)), sch, executor, progress, done=0))
        tables = {
            "replications": pa.concat_tables([parts[p][0] for p in range(n)]),
            "summary": pa.concat_tables([parts[p][1] for p in range(n)]),
            "blocking": pa.concat_tables([parts[p][2] for p in range(n)]),
            "points": arrow_table(points_table(plan), sch[POINTS]),
        }
        if plan.common_random_numbers and n > 1:
            def passed(p: int) -> dict[str, np.ndarray]:
                return _passed(parts[p][0].select(["proposal", "passed"]))

            tables["deltas"] = arrow_table(_deltas(passed, n), sch[DELTAS])
        return SweepResult(
            directory=None, points=n, computed=n, n_replications=plan.replications,
            proposals=plan.proposals, plan=plan,
            tables={k: t.to_pandas() for k, t in tables.items()},
        )
    directory = Path(out)
    check_directory(directory, plan, kind=kind, resume=resume)
    make_directory(directory)
    with lock_directory(directory):
        return _run_sweep(plan, directory, executor=executor, resume=resume, progress=progress,
                          kind=kind, manifest_extra=manifest_extra)


def _run_sweep(
    plan: Plan, directory: Path, *, executor: Executor | None, resume: bool,
    progress: Callable[[int, int], None] | None, kind: str, manifest_extra: dict[str, Any] | None,
) -> SweepResult:
    """:func:`run_sweep` with ``directory`` created and locked."""
    sch = schemas(plan)
    n = len(plan.points)
    _prepare_directory(directory, plan, kind=kind, resume=resume, extra=manifest_extra or {})
    write_parquet(directory / POINTS, points_table(plan), sch[POINTS])
    done = done_points(directory, n)
    todo = [dp.point for dp in plan.points if dp.point not in done]
    for p, (reps, summ, blk) in _computed(plan, todo, sch, executor, progress, done=len(done)):
        write_parquet(_part(directory, p, "summary"), summ, sch[SUMMARY])
        write_parquet(_part(directory, p, "blocking"), blk, sch[BLOCKING])
        write_parquet(_part(directory, p, "replications"), reps, sch[REPLICATIONS])
    _merge(directory, plan, sch)
    return SweepResult(
        directory=directory, points=n, computed=len(todo),
        n_replications=plan.replications, proposals=plan.proposals, plan=plan,
    )


def _computed(
    plan: Plan, todo: list[int], sch: dict[str, pa.Schema], executor: Executor | None,
    progress: Callable[[int, int], None] | None, *, done: int,
) -> Iterator[tuple[int, tuple[pa.Table, pa.Table, pa.Table]]]:
    """Run the design points ``todo`` through ``executor`` and yield each point's three tables
    (:func:`_point_tables`) as soon as its last block is in; ``done`` points are already
    finished (for the progress count)."""
    blocks = blocks_for(plan.replications)
    per_point = len(plan.proposals) * len(blocks)
    total = len(plan.points) * per_point
    finished = done * per_point
    if progress:
        progress(finished, total)
    executor = executor or InProcessExecutor()

    pending: dict[int, dict[str, Any]] = {}

    def tasks() -> Iterator[Task]:
        for p in todo:
            scenario = plan.scenario_at(p)
            negs = {pid: negotiation(scenario, pid) for pid in plan.proposals}
            pending[p] = {"scenario": scenario, "negs": negs, "got": {}}
            sp = plan.seed_point(p)
            for pid in plan.proposals:
                for b, rows in blocks:
                    yield (p, pid, b), run_unit, (negs[pid], plan.seed, sp, b, rows)

    for (p, pid, b), out_block in executor.run(tasks()):
        state = pending[p]
        state["got"][(pid, b)] = out_block
        finished += 1
        if progress:
            progress(finished, total)
        if len(state["got"]) == per_point:
            outcomes = {
                q: concat_outcomes([state["got"][(q, bb)] for bb, _ in blocks])
                for q in plan.proposals
            }
            yield p, _point_tables(plan, p, state["scenario"], state["negs"], outcomes, sch)
            del pending[p]


def _merge(directory: Path, plan: Plan, sch: dict[str, pa.Schema]) -> None:
    """Concatenate the parts in point order into the final tables, one part at a time (memory
    stays that of one design point; each part becomes its own row groups)."""
    n = len(plan.points)
    missing = sorted(set(range(n)) - done_points(directory, n))
    if missing:
        raise InputError(f"{directory}: design points {missing[:5]} are missing from {PARTS}/")
    for name, what in ((REPLICATIONS, "replications"), (SUMMARY, "summary"),
                       (BLOCKING, "blocking")):
        with _written(directory / name) as tmp:
            with pq.ParquetWriter(tmp, sch[name]) as writer:
                for p in range(n):
                    writer.write_table(pq.read_table(_part(directory, p, what), schema=sch[name]))
    if plan.common_random_numbers and n > 1:
        def passed(p: int) -> dict[str, np.ndarray]:
            return _passed(
                pq.read_table(_part(directory, p, "replications"), columns=["proposal", "passed"])
            )

        write_parquet(directory / DELTAS, _deltas(passed, n), sch[DELTAS])


def _passed(table: pa.Table) -> dict[str, np.ndarray]:
    """Per proposal, the pass indicators of a point's replications (``proposal``, ``passed``)."""
    df = table.to_pandas()
    return {pid: g["passed"].to_numpy() for pid, g in df.groupby("proposal", sort=True)}


def _deltas(passed: Callable[[int], dict[str, np.ndarray]], n: int) -> pd.DataFrame:
    """ΔP of every point against point 0, paired by replication (common random numbers);
    ``passed(p)`` gives point ``p``'s pass indicators per proposal."""
    from cicasim.analysis.compare import paired_difference

    base = passed(0)
    rows = []
    for p in range(n):
        for pid, b in passed(p).items():
            # point 0 against itself is no comparison: exactly 0
            d, lo, hi = (0.0, 0.0, 0.0) if p == 0 else paired_difference(base[pid], b)
            rows.append({"point": p, "proposal": pid, "delta": d, "delta_low": lo,
                         "delta_high": hi})
    return pd.DataFrame(rows)


def summary_records(directory: str | Path) -> list[dict[str, Any]]:
    """The summary table as JSON-ready records (NaN becomes None)."""
    return records(pd.read_parquet(Path(directory) / SUMMARY))


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready records (NaN becomes None), as the command line prints them."""
    return json.loads(table.to_json(orient="records"))


make_callable(__name__)  # calling this module calls cicasim.api.sweep
