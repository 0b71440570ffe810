"""What calibration produces: a calibrated scenario, its actors and tensions, each value with
the note that says where it came from (written out by :mod:`cicasim.calibrate.writer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cicasim.calibrate.cica import CicaState


@dataclass(frozen=True)
class Noted:
    """A value and the one-line note (source or assumption) written beside it."""

    value: Any
    note: str


@dataclass
class CalibratedActor:
    state: CicaState
    role: str
    capability: Noted
    population: Noted
    blocs: Noted
    position: dict[str, Noted]
    salience: dict[str, Noted]
    position_sd: Noted
    capability_sd: Noted | None
    source: str


@dataclass
class CalibratedTension:
    pair: tuple[str, str]
    value: float
    source: str


@dataclass
class Calibrated:
    """Everything a CICA scenario file holds, with notes."""

    year: int
    members_as_of: int | None
    capability_kind: str
    description: str
    uncertainty: dict[str, Noted]
    behaviour: dict[str, Noted]
    dimensions: list[dict[str, str]]
    actors: list[CalibratedActor]
    tensions: list[CalibratedTension]
    tension_rule: list[str]
    proposals: list[dict[str, Any]]
    enlargement: list[Noted]
    sources: list[str] = field(default_factory=list)
    name: str = ""  # the scenario's name; "" = cica-YEAR (or cica-path-...)
    scenario_source: str = "cicasim calibrate; CICA facts cited per actor"
    rule_note: str = "CICA Rules of Procedure 2004: decisions by consensus"
    warnings: list[str] = field(default_factory=list)  # stated fallbacks for missing data
