"""The experiment file, typed: its ``[experiment]``, ``[design]``, ``[[factors]]`` and
``[sensitivity]`` tables (``docs/experiments.md``).

An experiment names a base scenario, the factors to vary (:mod:`cicasim.spec.factors`) and a
design: a full grid, a Latin hypercube (McKay, Beckman & Conover 1979) or a scrambled Sobol
sequence (Sobol' 1967; Owen 1998).  :func:`load_experiment` reads and validates a file; errors
are one line naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cicasim.errors import InputError, parse_toml, read_text
from cicasim.spec.factors import Factor
from cicasim.spec.scenario import ScenarioError, validation_message

__all__ = [
    "MAX_POINTS",
    "RESERVED",
    "Design",
    "Experiment",
    "ExperimentInfo",
    "Sensitivity",
    "experiment_source",
    "load_experiment",
    "parse_experiment",
]

#: Most design points an experiment may have (a grid's product of levels, a space-filling
#: design's samples, a Saltelli sample's N (D + 2)); checked before any point is built.
MAX_POINTS = 100_000

#: Column names of the result tables that a factor may not take.
RESERVED = frozenset({
    "point", "proposal", "replication", "label", "n_members", "p_consensus", "ci_low", "ci_high",
    "median_rounds", "mean_dilution", "passed", "replications", "actor", "frequency",
    "first_blocker", "reason", "rounds", "dilution", "drift", "mean_drift", "objectors",
    "abstainers", "delta", "delta_low", "delta_high", "seed_key",
})


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
        if sum(f.membership for f in self.factors) > 1:
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


def load_experiment(path: str | Path) -> tuple[Experiment, str]:
    """Read and validate an experiment file; returns the experiment and its text."""
    path = Path(path)
    try:
        text = read_text(path)
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
