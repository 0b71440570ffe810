"""The factors of an experiment: what a sweep varies, each kind a class with its own behaviour.

A factor kind knows, in one place, everything the sweep needs of it (the EMA workbench's
parameter classes; Kwakkel 2017):

* its **check** against the base scenario (:meth:`Factor.bind`), which gives a :class:`Bound`
  factor: its discrete levels (None for a continuous range) and what applying them needs;
* its **levels** in each design: a grid axis (:meth:`Factor.grid_axis`) and a value for a unit
  coordinate of a space-filling design (:meth:`Factor.from_unit`);
* how a level **applies** to a scenario (:meth:`Factor.apply`);
* its **column**: the Arrow type (:attr:`Factor.column_type`) and the value written
  (:meth:`Factor.column`), the text in a design point's label (:meth:`Factor.describe`) and the
  value entering the seed key (:meth:`Factor.key_value`).

The kinds are registered by name in :data:`FACTORS`; :data:`Factor` is their tagged union, as the
experiment file reads it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cicasim.display import count
from cicasim.errors import InputError
from cicasim.spec.enlargement import enlargement_path
from cicasim.spec.paramsets import with_params
from cicasim.spec.rules import RuleSpec
from cicasim.spec.scenario import (
    Behaviour,
    EnlargementStep,
    Scenario,
    ScenarioError,
    Uncertainty,
    parse_scenario,
    read_scenario,
)

__all__ = [
    "FACTORS",
    "MAX_STEPS",
    "BehaviourFactor",
    "Bound",
    "ColumnName",
    "EnlargementFactor",
    "Factor",
    "FactorContext",
    "RuleFactor",
    "ScenarioFactor",
    "ScenarioChange",
    "UncertaintyFactor",
    "referenced_scenario",
    "rule_label",
]

#: A factor's name: it becomes a column of the result tables.
ColumnName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
]

#: Most enlargement steps a factor may list.
MAX_STEPS = 1_000

BEHAVIOUR_PARAMETERS = tuple(k for k in Behaviour.model_fields if k != "amendment")
UNCERTAINTY_PARAMETERS = tuple(Uncertainty.model_fields)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- what binding and applying need ----------------------------------------------------------


@dataclass(frozen=True)
class FactorContext:
    """What a factor is checked against: the experiment file (``path``, for messages and
    relative paths), its base scenario as the experiment names it, the proposals run, the
    parameter set applied to every scenario and the master seed."""

    path: Path
    scenario: Scenario
    scenario_name: str
    proposals: tuple[str, ...]
    params: str | None
    seed: int

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: {message}")


@dataclass(frozen=True)
class Bound:
    """A factor checked against the base scenario.

    ``levels`` are its discrete levels (None for a continuous range); ``scenarios`` the whole
    scenario each level stands for (membership factors); ``labels`` a level's name in a design
    point's label; ``joined`` the ids of the actors who join at an enlargement step; ``kinds``
    the kind of that step; ``inputs`` the texts of the files the factor reads (for the
    manifest and the fingerprint)."""

    factor: Any
    levels: list[Any] | None
    scenarios: Mapping[Any, Scenario] = field(default_factory=dict)
    labels: Mapping[Any, str] = field(default_factory=dict)
    joined: Mapping[Any, tuple[str, ...]] = field(default_factory=dict)
    kinds: Mapping[Any, str] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ScenarioChange:
    """The changes the factors of one design point make to the base scenario: a replacement
    scenario (membership factors), behaviour and uncertainty settings, a decision rule."""

    scenario: Scenario
    behaviour: dict[str, Any] = field(default_factory=dict)
    uncertainty: dict[str, Any] = field(default_factory=dict)
    rule: Any = None

    def result(self) -> Scenario:
        """The changed scenario (the values were validated when the factors were bound)."""
        s = self.scenario
        update: dict[str, Any] = {}
        if self.behaviour:
            update["behaviour"] = s.behaviour.model_copy(update=self.behaviour)
        if self.uncertainty:
            update["uncertainty"] = s.uncertainty.model_copy(update=self.uncertainty)
        if self.rule is not None:
            update["proposals"] = [p.model_copy(update={"rule": self.rule}) for p in s.proposals]
        return s.model_copy(update=update) if update else s


# -- the kinds -------------------------------------------------------------------------------


class _Factor(_Strict):
    """What every factor kind has: a kind, an optional name, and its behaviour."""

    kind: str
    name: ColumnName | None = None

    #: Whether a level replaces the membership (at most one such factor per experiment).
    membership: ClassVar[bool] = False
    #: The Arrow type of the factor's column (``pyarrow.type_for_alias``).
    column_type: ClassVar[str] = "double"

    @property
    def label(self) -> str:
        """The factor's column name: its name, else its parameter or kind."""
        return self.name or self.kind

    def bind(self, ctx: FactorContext, where: str) -> Bound:
        """Check the factor against the base scenario; one-line :class:`ScenarioError`."""
        return Bound(self, list(self.values))  # type: ignore[attr-defined]

    def grid_axis(self, bound: Bound, where: str, ctx: FactorContext) -> list[Any]:
        """The factor's levels in a full grid."""
        return list(bound.levels)

    def from_unit(self, bound: Bound, u: float) -> Any:
        """The level at coordinate ``u`` in [0, 1) of a space-filling design: the level of the
        equal-width stratum ``u`` falls in."""
        levels = bound.levels
        return levels[min(int(u * len(levels)), len(levels) - 1)]

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        """Record what ``value`` changes in the scenario of a design point."""
        raise NotImplementedError

    def describe(self, value: Any, bound: Bound) -> tuple[str, int | None]:
        """A design point's label part for ``value``, and the member count it fixes (None:
        the membership is not this factor's)."""
        return f"{self.label}={value:g}", None

    def column(self, value: Any) -> Any:
        """The value written in the factor's column."""
        return float(value)

    def key_value(self, value: Any) -> Any:
        """The value entering the seed key (:func:`cicasim.sweep.plan.seed_key`)."""
        return value

    def rule_kinds(self) -> list[str]:
        """The decision rules the factor sets, by kind (none: the scenarios' own rules)."""
        return []


class _NumericFactor(_Factor):
    """A number: listed values, or a range (levels over it in a grid)."""

    values: list[int | float] | None = Field(None, min_length=1)
    range: tuple[float, float] | None = None
    levels: int | None = Field(None, ge=2, le=10_000, description="grid points over the range")

    #: The parameters' model, against which each value is checked.
    model: ClassVar[type[BaseModel]]

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

    @property
    def label(self) -> str:
        return self.name or self.parameter  # type: ignore[attr-defined]

    def bind(self, ctx: FactorContext, where: str) -> Bound:
        parameter: str = self.parameter  # type: ignore[attr-defined]
        checks = list(self.values) if self.values is not None else list(self.range)
        field_name = "values" if self.values is not None else "range"
        if self.range is not None and parameter == "loss_exponent":
            raise ctx.error(
                f"{where}.range: loss_exponent takes the values 1 or 2; use values = [1, 2]"
            )
        for v in checks:
            try:
                self.model.model_validate({parameter: v})
            except ValidationError as err:
                e = err.errors(include_url=False)[0]
                raise ctx.error(
                    f"{where}.{field_name}: {parameter} = {v!r}: {e['msg']}"
                ) from None
        return Bound(self, list(self.values) if self.values is not None else None)

    def grid_axis(self, bound: Bound, where: str, ctx: FactorContext) -> list[Any]:
        if bound.levels is not None:
            return list(bound.levels)
        if self.levels is None:
            raise ctx.error(
                f"{where}.levels: a range in a grid design needs levels = N "
                "(or use a latin-hypercube or sobol design)"
            )
        return [float(x) for x in np.linspace(*self.range, self.levels)]

    def from_unit(self, bound: Bound, u: float) -> Any:
        if bound.levels is not None:
            return super().from_unit(bound, u)
        lo, hi = self.range
        return float(lo + u * (hi - lo))

    def key_value(self, value: Any) -> Any:
        return float(value)  # 1 and 1.0 are the same setting


class BehaviourFactor(_NumericFactor):
    """A scenario-wide behaviour parameter (actors' own overrides stay)."""

    kind: Literal["behaviour"]
    parameter: Literal[BEHAVIOUR_PARAMETERS]  # type: ignore[valid-type]

    model: ClassVar[type[BaseModel]] = Behaviour

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        change.behaviour[self.parameter] = (
            int(value) if self.parameter == "loss_exponent" else float(value)
        )


class UncertaintyFactor(_NumericFactor):
    """A scenario-wide uncertainty level (actors' and tensions' own s.d. stay)."""

    kind: Literal["uncertainty"]
    parameter: Literal[UNCERTAINTY_PARAMETERS]  # type: ignore[valid-type]

    model: ClassVar[type[BaseModel]] = Uncertainty

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        change.uncertainty[self.parameter] = float(value)


class EnlargementFactor(_Factor):
    """The number of enlargement steps applied, cumulatively, to the base scenario."""

    kind: Literal["enlargement"]
    steps: list[EnlargementStep] | None = Field(
        None, max_length=MAX_STEPS, description="replace the scenario's own [[enlargement]] list"
    )
    append: list[EnlargementStep] = Field(
        [], max_length=MAX_STEPS, description="steps after the scenario's own"
    )
    values: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, min_length=1, description="numbers of steps; default 0, 1, ..., all"
    )

    membership: ClassVar[bool] = True
    column_type: ClassVar[str] = "int64"

    def bind(self, ctx: FactorContext, where: str) -> Bound:
        base = ctx.scenario
        steps = list(base.enlargement) if self.steps is None else list(self.steps)
        steps += list(self.append)
        if not steps:
            raise ctx.error(
                f"{where}.steps: no enlargement steps (the scenario has none; "
                "give steps = [...] or append = [...])"
            )
        data = base.model_dump()
        data["enlargement"] = [s.model_dump() for s in steps]
        with_steps = parse_scenario(data, f"{ctx.path}: {where} applied to {ctx.scenario_name}")
        try:
            built = enlargement_path(with_steps, seed=ctx.seed)
        except ValueError as exc:
            raise ctx.error(f"{where}: {exc}") from None
        n_steps = len(steps)
        for j, v in enumerate(self.values or []):
            if v > n_steps:
                raise ctx.error(
                    f"{where}.values[{j}]: {v} steps asked, but the path has {n_steps}; "
                    f"allowed: 0-{n_steps}"
                )
        joined: dict[int, tuple[str, ...]] = {0: ()}
        for i in range(1, len(built)):
            before = {a.id for a in built[i - 1][1].members}
            joined[i] = tuple(a.id for a in built[i][1].members if a.id not in before)
        return Bound(
            self,
            list(self.values) if self.values is not None else list(range(n_steps + 1)),
            scenarios={i: s for i, (_, s) in enumerate(built)},
            labels={i: lab for i, (lab, _) in enumerate(built)},
            joined=joined,
            kinds={0: "base", **{i + 1: s.kind for i, s in enumerate(steps)}},
        )

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        change.scenario = bound.scenarios[value]

    def describe(self, value: Any, bound: Bound) -> tuple[str, int | None]:
        n = len(bound.scenarios[value].members)
        return f"{bound.labels[value]} ({count(n, 'member')})", n

    def column(self, value: Any) -> Any:
        return int(value)


class RuleFactor(_Factor):
    """The decision rule of every proposal run."""

    kind: Literal["rule"]
    values: list[RuleSpec] = Field(min_length=1)

    column_type: ClassVar[str] = "string"

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        change.rule = value

    def rule_kinds(self) -> list[str]:
        return [v.kind for v in self.values]

    def describe(self, value: Any, bound: Bound) -> tuple[str, int | None]:
        return f"{self.label}={rule_label(value)}", None

    def column(self, value: Any) -> Any:
        return rule_label(value)


class ScenarioFactor(_Factor):
    """Whole scenario files, one per level (e.g. the same organisation in different years);
    paths are relative to the experiment file.  Every file must define the experiment's
    proposals on the same dimensions."""

    kind: Literal["scenario"]
    values: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    membership: ClassVar[bool] = True
    column_type: ClassVar[str] = "string"

    def bind(self, ctx: FactorContext, where: str) -> Bound:
        scenarios: dict[str, Scenario] = {}
        inputs: dict[str, str] = {}
        dims = {d.id for d in ctx.scenario.dimensions}
        for j, v in enumerate(self.values):
            here = f"{where}.values[{j}]"
            other, text, _ = referenced_scenario(ctx.path, here, v)
            other = with_params(other, ctx.params)
            for pid in ctx.proposals:
                if pid not in {p.id for p in other.proposals}:
                    raise ctx.error(
                        f"{here}: {v} defines no proposal {pid!r}; every scenario must define "
                        "the experiment's proposals"
                    )
                missing = [t.dimension for t in other.proposal(pid).touches
                           if t.dimension not in dims]
                if missing:
                    raise ctx.error(
                        f"{here}: {v}: proposal {pid!r} touches {', '.join(missing)}, not a "
                        "dimension of the base scenario"
                    )
            scenarios[v] = other
            inputs[v] = text
        return Bound(self, list(self.values), scenarios=scenarios, inputs=inputs)

    def apply(self, value: Any, bound: Bound, change: ScenarioChange) -> None:
        change.scenario = bound.scenarios[value]

    def describe(self, value: Any, bound: Bound) -> tuple[str, int | None]:
        n = len(bound.scenarios[value].members)
        return f"{Path(value).stem} ({count(n, 'member')})", n

    def column(self, value: Any) -> Any:
        return str(value)


#: The factor kinds by name (the ``kind`` of a ``[[factors]]`` table).
FACTORS: dict[str, type[_Factor]] = {
    "behaviour": BehaviourFactor,
    "uncertainty": UncertaintyFactor,
    "enlargement": EnlargementFactor,
    "rule": RuleFactor,
    "scenario": ScenarioFactor,
}

#: A ``[[factors]]`` table: one of the registered kinds, chosen by its ``kind``.
Factor = Annotated[
    BehaviourFactor | UncertaintyFactor | EnlargementFactor | RuleFactor | ScenarioFactor,
    Field(discriminator="kind"),
]


# -- helpers the kinds share -----------------------------------------------------------------


def rule_label(rule: Any) -> str:
    """``qualified-majority(quota=12, min_members=3)``: a rule's kind and its set parameters."""
    params = rule.model_dump(exclude={"kind"}, exclude_none=True)
    inner = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return f"{rule.kind}({inner})" if inner else rule.kind


def _absolute(path: Path) -> Path:
    """``path`` made absolute, symlinks resolved where they resolve (a loop is left for the
    reader to report in one line)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def referenced_scenario(path: Path, field: str, value: str) -> tuple[Scenario, str, Path]:
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
