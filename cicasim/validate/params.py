"""Parameter sets for validation runs, and the shipped ``validation`` set.

A parameter set is a TOML file with

* ``[behaviour]``: scenario-wide behaviour parameters (the keys of a scenario's ``[behaviour]``
  table, validated by :class:`cicasim.spec.scenario.Behaviour`); users can copy the table into a
  scenario file to reuse the fitted values;
* ``[uncertainty]``: optional, as in a scenario;
* ``[negotiation]``: ``max_rounds`` and ``commission_tension`` of the DEU conversion
  (:mod:`cicasim.validate.convert`);
* ``[fit]``: the grid of the fitted parameters, the number of folds, replications and seed of
  the cross-validation, and the errors it gave (a record; recomputed by every run).

The shipped set, named ``validation``, is ``params.toml`` beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cicasim.errors import InputError, parse_toml, read_text
from cicasim.spec.scenario import Behaviour, Uncertainty

__all__ = ["FitSpec", "ParamSet", "load_params", "parse_params", "shipped_text"]

NAME = "validation"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NegotiationSpec(_Strict):
    max_rounds: int = Field(10, ge=1, le=1000)
    commission_tension: float = Field(1.0, ge=0, le=1)


class FitSpec(_Strict):
    """How the behaviour parameters were fitted, and what the fit gave."""

    grid: dict[str, list[float]] = Field(default_factory=dict)
    folds: int = Field(5, ge=2, le=50)
    replications: int = Field(64, ge=1, le=100_000)
    seed: int = Field(0, ge=0)
    statistic: str = "median of policy"
    result: dict[str, Any] = Field(default_factory=dict)


class _File(_Strict):
    name: str = NAME
    description: str = ""
    behaviour: dict[str, Any] = Field(default_factory=dict)
    uncertainty: dict[str, Any] = Field(default_factory=dict)
    negotiation: NegotiationSpec = NegotiationSpec()
    fit: FitSpec = FitSpec()


@dataclass(frozen=True)
class ParamSet:
    """A validated parameter set."""

    name: str
    source: str
    behaviour: dict[str, Any]
    uncertainty: dict[str, Any]
    max_rounds: int
    commission_tension: float
    fit: FitSpec
    text: str = field(repr=False, default="")


def shipped_text() -> str:
    """The text of the shipped ``validation`` parameter set."""
    return resources.files("cicasim.validate").joinpath("params.toml").read_text(encoding="utf-8")


def parse_params(text: str, source: str) -> ParamSet:
    """Validate a parameter set's text; one-line :class:`InputError` on any problem."""
    data = parse_toml(text, source)
    try:
        f = _File.model_validate(data)
        Behaviour.model_validate(f.behaviour)
        Uncertainty.model_validate(f.uncertainty)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in e["loc"])
        head = "behaviour" if loc in Behaviour.model_fields else (
            "uncertainty" if loc in Uncertainty.model_fields else ""
        )
        where = f"{head}.{loc}" if head and not loc.startswith(head) else loc
        if e["type"] == "extra_forbidden":
            raise InputError(f"{source}: {where}: unknown key") from None
        raise InputError(f"{source}: {where}: {e['msg']}") from None
    for k in f.fit.grid:
        if k not in Behaviour.model_fields:
            raise InputError(
                f"{source}: fit.grid.{k}: not a behaviour parameter; "
                f"allowed: {', '.join(Behaviour.model_fields)}"
            )
    return ParamSet(
        name=f.name,
        source=source,
        behaviour=dict(f.behaviour),
        uncertainty=dict(f.uncertainty),
        max_rounds=f.negotiation.max_rounds,
        commission_tension=f.negotiation.commission_tension,
        fit=f.fit,
        text=text,
    )


def load_params(path: str | Path | None = None) -> ParamSet:
    """A parameter set from a file, or the shipped ``validation`` set when ``path`` is None
    (or the word ``validation``)."""
    if path is None or str(path) == NAME:
        return parse_params(shipped_text(), f"{NAME} (cicasim/validate/params.toml)")
    path = Path(path)
    text = read_text(path, what="a parameter set, TOML")
    return parse_params(text, str(path))
