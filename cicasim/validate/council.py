"""The Council of the EU at a given date: its members, their votes and populations, and the
qualified-majority rule then in force.

Weights and the Nice-protocol populations are read from a ``council_weights.csv`` table (one row
per member state: ``member, name, joined, weight_1995, weight_nice,
population_nice_millions``); populations missing there and those of the Lisbon period come from
a World Bank population table (``Country Name, Country Code, Year, Value``, people).  The rules
by period are treaty facts, written here with their sources:

=====================  =====================================================================
period (proposal date)  qualified majority
=====================  =====================================================================
1995 - Apr 2004         62 of 87 weighted votes (EU-15; TEC art. 205(2))
May 2004 - 2006         232 of 321 votes, 13 members, 62% of the population (Nice, EU-25)
2007 - Jun 2013         255 of 345 votes, 14 members, 62% of the population (Nice, EU-27)
Jul 2013 - Oct 2014     260 of 352 votes, 15 members, 62% of the population (Nice, EU-28)
from Nov 2014           55% of members (at least 15) with 65% of the population; a blocking
                        minority needs four members (TEU art. 16(4), Lisbon)
=====================  =====================================================================

Between the 2004 accession (1 May) and 1 November 2004 the Act of Accession set interim weights
that the weights table does not hold; a proposal tabled then is given the Nice EU-25 rule, under
which it was decided (no act of this period was adopted before November 2004).  The Nice
population criterion applied only on request; it is always applied here (it rarely binds).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cicasim.errors import InputError, read_text

__all__ = [
    "ACCESSION",
    "ISO3",
    "Council",
    "CouncilData",
    "CouncilState",
    "council_at",
    "deu_code",
    "read_council",
]

#: Accession dates by the year in the weights table's ``joined`` column.
ACCESSION = {
    1958: date(1958, 1, 1),
    1973: date(1973, 1, 1),
    1981: date(1981, 1, 1),
    1986: date(1986, 1, 1),
    1995: date(1995, 1, 1),
    2004: date(2004, 5, 1),
    2007: date(2007, 1, 1),
    2013: date(2013, 7, 1),
}
#: Withdrawals (Withdrawal Agreement, in force 1 February 2020).
LEFT = {"UK": date(2020, 2, 1)}
#: ISO 3166 alpha-3 codes of the weights table's member codes (World Bank tables use them).
ISO3 = {
    "DE": "DEU", "FR": "FRA", "IT": "ITA", "BE": "BEL", "NL": "NLD", "LU": "LUX", "UK": "GBR",
    "DK": "DNK", "IE": "IRL", "GR": "GRC", "ES": "ESP", "PT": "PRT", "AT": "AUT", "SE": "SWE",
    "FI": "FIN", "PL": "POL", "CZ": "CZE", "HU": "HUN", "SK": "SVK", "LT": "LTU", "LV": "LVA",
    "SI": "SVN", "EE": "EST", "CY": "CYP", "MT": "MLT", "RO": "ROU", "BG": "BGR", "HR": "HRV",
}
_DEU = {"GR": "el", "BG": "bu", "HR": "cr"}

EU15_START = date(1995, 1, 1)
NICE_START = date(2004, 5, 1)
LISBON_START = date(2014, 11, 1)


def deu_code(member: str) -> str:
    """The DEU column code of a weights-table member code (``GR`` -> ``el``)."""
    return _DEU.get(member, member.lower())


@dataclass(frozen=True)
class CouncilState:
    member: str  # code in the weights table (GR, UK, ...)
    deu: str  # code in the DEU columns (el, uk, ...)
    name: str
    joined: date
    weight_1995: float | None
    weight_nice: float | None
    population_nice: float | None  # millions


@dataclass(frozen=True)
class CouncilData:
    """The weights table and (optionally) World Bank populations, in millions by (ISO3, year)."""

    states: tuple[CouncilState, ...]
    source: str
    population: dict[tuple[str, int], float]
    population_source: str | None

    def population_of(self, state: CouncilState, year: int) -> float:
        """World Bank population (millions) in ``year`` or the latest year before it."""
        iso = ISO3.get(state.member)
        if self.population_source is None:
            raise InputError(
                f"{self.source}: no population for {state.member} in {year}; "
                "pass a World Bank population table (--population)"
            )
        years = [y for (c, y) in self.population if c == iso and y <= year]
        if not years:
            raise InputError(
                f"{self.population_source}: no population of {iso} ({state.name}) "
                f"in or before {year}"
            )
        return self.population[(iso, max(years))]


@dataclass(frozen=True)
class Council:
    """The Council at one date: members (DEU codes), votes, populations and its QMV rules."""

    period: str
    members: tuple[str, ...]
    votes: dict[str, float]
    population: dict[str, float]  # millions
    qmv: dict[str, Any]  # a qualified-majority rule spec (cicasim.spec.rules.QualifiedMajority)
    qmv10: dict[str, Any]  # the rule for acts not on a Commission proposal
    names: dict[str, str]  # DEU code -> name
    codes: dict[str, str]  # DEU code -> weights-table code (el -> GR)


def _float(row: dict[str, str], col: str, src: str, line: int, *, blank: bool) -> float | None:
    raw = (row.get(col) or "").strip()
    if raw == "" and blank:
        return None
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise InputError(
            f"{src}: row {line}, column {col!r}: expected a number > 0"
            + (" or blank" if blank else "")
            + f", got {raw!r}"
        )
    return v


def read_council(weights: str | Path, *, population: str | Path | None = None) -> CouncilData:
    """Read the Council weights table and, when given, a World Bank population table."""
    weights = Path(weights)
    src = str(weights)
    text = read_text(weights, what="the Council weights table")
    reader = csv.DictReader(text.splitlines())
    need = ["member", "name", "joined", "weight_1995", "weight_nice", "population_nice_millions"]
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{src}: row 1 (header): missing column(s) {', '.join(missing)}")
    states = []
    for line, row in enumerate(reader, start=2):
        member = (row["member"] or "").strip().upper()
        if member not in ISO3:
            raise InputError(
                f"{src}: row {line}, column 'member': expected an EU member code "
                f"({', '.join(ISO3)}), got {row['member']!r}"
            )
        try:
            joined = ACCESSION[int(row["joined"])]
        except (ValueError, KeyError):
            raise InputError(
                f"{src}: row {line}, column 'joined': expected an accession year "
                f"({', '.join(str(y) for y in ACCESSION)}), got {row['joined']!r}"
            ) from None
        states.append(
            CouncilState(
                member=member,
                deu=deu_code(member),
                name=(row["name"] or member).strip(),
                joined=joined,
                weight_1995=_float(row, "weight_1995", src, line, blank=True),
                weight_nice=_float(row, "weight_nice", src, line, blank=True),
                population_nice=_float(row, "population_nice_millions", src, line, blank=True),
            )
        )
    pop: dict[tuple[str, int], float] = {}
    psrc = None
    if population is not None:
        psrc = str(population)
        pop = _read_population(Path(population), set(ISO3.values()))
    return CouncilData(states=tuple(states), source=src, population=pop, population_source=psrc)


def _read_population(path: Path, wanted: set[str]) -> dict[tuple[str, int], float]:
    src = str(path)
    text = read_text(path, what="the World Bank population table")
    reader = csv.DictReader(text.splitlines())
    need = ["Country Code", "Year", "Value"]
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{src}: row 1 (header): missing column(s) {', '.join(missing)}")
    out: dict[tuple[str, int], float] = {}
    for line, row in enumerate(reader, start=2):
        code = (row["Country Code"] or "").strip()
        if code not in wanted:
            continue
        try:
            year, value = int(row["Year"]), float(row["Value"])
        except ValueError:
            raise InputError(
                f"{src}: row {line}: expected a whole Year and a numeric Value, "
                f"got {row['Year']!r}, {row['Value']!r}"
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{src}: row {line}, column 'Value': expected a population > 0")
        out[(code, year)] = value / 1e6
    return out


# (total votes, quota, members needed) of the Nice periods, by first day.
_NICE = (
    (date(2013, 7, 1), "EU-28 (Nice)", 352, 260, 15),
    (date(2007, 1, 1), "EU-27 (Nice)", 345, 255, 14),
    (NICE_START, "EU-25 (Nice)", 321, 232, 13),
)


def council_at(data: CouncilData, when: date) -> Council:
    """The Council on the date a proposal was tabled."""
    if when < EU15_START:
        raise InputError(
            f"{data.source}: no Council rule for {when.isoformat()}; covered: from 1995-01-01"
        )
    states = [
        s for s in data.states
        if s.joined <= when and not (s.member in LEFT and when >= LEFT[s.member])
    ]
    names = {s.deu: s.name for s in states}
    codes = {s.deu: s.member for s in states}
    members = tuple(s.deu for s in states)
    if when < NICE_START:
        votes = {s.deu: _need(s.weight_1995, s, "weight_1995", data) for s in states}
        _check_total(votes, 87, "EU-15", data)
        qmv = {"kind": "qualified-majority", "quota": 62.0}
        qmv10 = {"kind": "qualified-majority", "quota": 62.0, "min_members": 10}
        population = {s.deu: s.population_nice or 0.0 for s in states}
        return Council("EU-15 (1995)", members, votes, population, qmv, qmv10, names, codes)
    if when < LISBON_START:
        start, label, total, quota, need = next(p for p in _NICE if when >= p[0])
        votes = {s.deu: _need(s.weight_nice, s, "weight_nice", data) for s in states}
        _check_total(votes, total, label, data)
        population = {
            s.deu: s.population_nice if s.population_nice is not None
            else data.population_of(s, when.year)
            for s in states
        }
        qmv = {
            "kind": "qualified-majority",
            "quota": float(quota),
            "min_members": need,
            "min_population_share": 0.62,
        }
        # acts not on a Commission proposal: two thirds of the members (Nice protocol art. 3)
        qmv10 = {**qmv, "min_members": math.ceil(2 * len(states) / 3 - 1e-9)}
        return Council(label, members, votes, population, qmv, qmv10, names, codes)
    votes = {s.deu: 1.0 for s in states}
    population = {s.deu: data.population_of(s, when.year) for s in states}
    n = len(states)
    qmv = {
        "kind": "qualified-majority",
        "min_members": max(15, math.ceil(0.55 * n - 1e-9)),
        "min_population_share": 0.65,
        "blocking_min": 4,
    }
    # acts not on a Commission proposal: 72% of the members, 65% of the population (TFEU 238(2))
    qmv10 = {
        "kind": "qualified-majority",
        "min_members": math.ceil(0.72 * n - 1e-9),
        "min_population_share": 0.65,
    }
    return Council(f"EU-{n} (Lisbon)", members, votes, population, qmv, qmv10, names, codes)


def _need(value: float | None, s: CouncilState, col: str, data: CouncilData) -> float:
    if value is None:
        raise InputError(f"{data.source}: {col} of {s.member} ({s.name}) is blank but needed")
    return value


def _check_total(votes: dict[str, float], total: int, label: str, data: CouncilData) -> None:
    got = sum(votes.values())
    if abs(got - total) > 1e-9:
        raise InputError(
            f"{data.source}: the {label} weights sum to {got:g}, expected {total} "
            "(check the weight columns and the accession years)"
        )
