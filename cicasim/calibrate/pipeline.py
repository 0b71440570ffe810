"""From the public data sets to a CICA scenario: every figure with the note that names its source.

:func:`calibrate` returns a plain structure (:class:`Calibrated`) whose values each carry a one-line
note; :mod:`cicasim.calibrate.writer` turns it into TOML with the notes as comments.  The rules
(documented in ``docs/calibration.md``):

* **capability**: the actor's share (in %) of the scenario's total COW CINC (Singer et al. 1972) of
  the year, or of World Bank GDP (current US$) with ``capability="gdp"``; latest year <= the
  scenario year.
* **alignment**: the BSV UNGA ideal point (Bailey, Strezhnev & Voeten 2017) rescaled to 0-100 over
  all states with an estimate in that year: 100 (x - min) / (max - min).
* **tension**: a noisy-OR of UNGA voting disagreement, militarised disputes, strategic rivalries
  and the named disputes of the assumptions file, with the weights stated there.
* **blocs**: full memberships in COW IGO v3 (Pevehouse et al. 2020) to 2014, then carried forward
  with the sourced post-2014 changes.
* **gaps** (Palestine above all): imputed by stated rules and flagged "imputed" in the note.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cicasim.calibrate.calibrated import Calibrated, CalibratedActor, CalibratedTension, Noted
from cicasim.calibrate.cica import CicaState, accession_order, chair, roster
from cicasim.calibrate.measures import (
    IGO_LAST_YEAR,
    _alignment,
    _blocs,
    _capability,
    _population,
    _round,
    _tensions,
)
from cicasim.errors import InputError, parse_toml, read_text

__all__ = ["Calibrated", "Noted", "calibrate", "load_assumptions", "default_assumptions"]


_CAPABILITY_KINDS = ("cinc", "gdp")


# -- assumptions file -------------------------------------------------------------------------

def default_assumptions() -> Path:
    """The CICA assumptions file shipped with the package (``cicasim/calibrate/``, package data;
    ``scenarios/assumptions/`` links to it)."""
    from importlib import resources

    return Path(str(resources.files("cicasim.calibrate").joinpath("cica-assumptions.toml")))


def load_assumptions(path: str | Path) -> dict[str, Any]:
    """Read the assumptions file; one-line :class:`InputError` when it is missing or malformed."""
    path = Path(path)
    try:
        os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: assumptions file not found; pass --assumptions FILE") from None
    except (OSError, ValueError):
        pass  # read_text says what is wrong, in one line
    data = parse_toml(read_text(path, what="an assumptions file, TOML"), path)
    for key in ("tension", "dimensions", "proposals"):
        if key not in data:
            raise InputError(f"{path}: missing [{key}]; see docs/calibration.md for the format")
    dims = [d.get("id") for d in data["dimensions"]]
    if "alignment" not in dims:
        raise InputError(f"{path}: dimensions: the 'alignment' dimension must be listed")
    for key in ("unga_weight", "mid_weight", "rivalry_weight", "named_weight", "half_life",
                "unga_years", "min_common_votes"):
        v = data["tension"].get(key)
        if not isinstance(v, int | float) or v < 0 or (key.endswith("weight") and v > 1):
            raise InputError(
                f"{path}: tension.{key}: expected a number >= 0 (weights at most 1), got {v!r}"
            )
    return data


# -- the pipeline -----------------------------------------------------------------------------

People = list[tuple[CicaState, str]]

_STAGES = ("IGO memberships", "capabilities", "population", "UNGA alignment", "tensions")


def calibrate(
    *,
    data: str | Path,
    year: int,
    capability: str = "cinc",
    assumptions: str | Path | None = None,
    members_as_of: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Calibrated:
    """Calibrate the CICA scenario of ``year`` from the data sets under ``data``.

    ``progress(done, total, stage)`` is called as each stage (reading a data set) completes.

    ``members_as_of`` (an earlier year) makes a *path* scenario: ``year``'s actors and data, but
    only the members of ``members_as_of`` vote; the later joiners are observers whose
    ``[[enlargement]]`` steps come first, in their real order of accession.
    """
    data, apath, ass = _checked_request(data, year, capability, assumptions, members_as_of)
    people = roster(year, members_as_of=members_as_of)
    members = [s.iso3 for s, r in people if r == "member"]
    m = _measure(data, year, people, capability, ass, progress)
    dim_specs = ass["dimensions"]
    positions, saliences = _positions_and_saliences(dim_specs, people, m)
    unc = ass.get("uncertainty", {})
    late = [] if members_as_of is None else accession_order(year, members_as_of)
    late_ids = {s.iso3 for s in late}
    actors = _actors(year, people, m, positions, saliences, unc, late_ids)
    proposals = _proposals(ass["proposals"], members, year, apath)
    return Calibrated(
        year=year,
        members_as_of=members_as_of,
        capability_kind=capability,
        description=str(ass.get("scenario", {}).get("description", "")).format(year=year),
        uncertainty=_uncertainty(unc, apath),
        behaviour={
            k: Noted(v, f"assumption, reason in {apath.name}")
            for k, v in ass.get("behaviour", {}).items()
        },
        dimensions=[
            {k: str(spec[k]) for k in ("id", "name", "description") if k in spec}
            | {"source": _dim_source(spec["id"], year)}
            for spec in dim_specs
        ],
        actors=actors,
        tensions=m.tensions,
        tension_rule=m.tension_rule,
        proposals=proposals,
        enlargement=_enlargement(people, late, late_ids, m),
        sources=_SOURCES,
    )


def _uncertainty(unc: dict[str, Any], apath: Path) -> dict[str, Noted]:
    """The scenario-wide s.d.s that the assumptions file's ``[uncertainty]`` sets."""
    return {
        k: Noted(float(unc[k]), f"assumption, reason in {apath.name}")
        for k in ("position_sd", "tension_sd", "capability_sd") if k in unc
    }


def _checked_request(data: str | Path, year: int, capability: str,
                     assumptions: str | Path | None,
                     members_as_of: int | None) -> tuple[Path, Path, dict[str, Any]]:
    """The data folder, the assumptions file's path and its contents, once the arguments are
    checked (in this order: data folder, capability, year, assumptions file, ``members_as_of``);
    one-line :class:`InputError` otherwise."""
    data = Path(data)
    if not data.is_dir():
        raise InputError(f"{data}: data directory not found; expected the public data sets "
                         "laid out as in its README.md")
    if capability not in _CAPABILITY_KINDS:
        raise InputError(f"--capability: {capability!r} is not allowed; allowed: cinc, gdp")
    if not 1999 <= year <= 2024:
        raise InputError(f"--year: {year} is outside CICA's data years; allowed: 1999-2024")
    apath = Path(assumptions) if assumptions is not None else default_assumptions()
    ass = load_assumptions(apath)
    if members_as_of is not None and not 2002 <= members_as_of < year:
        raise InputError(f"--members-as-of: {members_as_of} must be from 2002 to {year - 1} "
                         "(before --year)")
    return data, apath, ass


class _Measures(NamedTuple):
    """What the data sets say about the scenario's actors (:mod:`cicasim.calibrate.measures`)."""

    blocs: dict[str, set[str]]
    capability: dict[str, Noted]
    population: dict[str, Noted]
    alignment: dict[str, Noted]
    real_role: dict[str, str]  # each actor's role in the scenario year itself
    median_alignment: float  # over the year's full membership
    tensions: list[CalibratedTension]
    tension_rule: list[str]


def _measure(data: Path, year: int, people: People, capability: str, ass: dict[str, Any],
             progress: Callable[[int, int, str], None] | None) -> _Measures:
    """Read the data sets stage by stage, reporting each finished stage to ``progress``."""
    done = 0

    def stage() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(_STAGES), _STAGES[done - 1])

    blocs = _blocs(data, year, people, ass)
    stage()
    cap = _capability(data, year, people, capability)
    stage()
    pop = _population(data, year, people)
    stage()
    align = _alignment(data, year, people, blocs)
    stage()
    # the median over the year's full membership, so a path scenario places everyone exactly
    # where the scenario of its year does
    real_role = {s.iso3: r for s, r in roster(year)}
    full = [i for i, r in real_role.items() if r == "member"]
    med_align = float(np.median([align[i].value for i in full]))
    tensions, rule = _tensions(data, year, people, blocs, ass)
    stage()
    return _Measures(blocs, cap, pop, align, real_role, med_align, tensions, rule)


def _positions_and_saliences(
    dim_specs: list[dict[str, Any]], people: People, m: _Measures
) -> tuple[dict[str, dict[str, Noted]], dict[str, dict[str, Noted]]]:
    """Every actor's position and salience on every dimension: the data's alignment, and the
    assumptions file's rules (:func:`_rule_position`) on the proposal dimensions."""
    positions: dict[str, dict[str, Noted]] = {s.iso3: {} for s, _ in people}
    saliences: dict[str, dict[str, Noted]] = {s.iso3: {} for s, _ in people}
    for spec in dim_specs:
        d = spec["id"]
        for s, _role in people:
            i = s.iso3
            if d == "alignment":
                positions[i][d] = m.alignment[i]
                saliences[i][d] = Noted(float(spec.get("salience", 0.5)),
                                        spec.get("salience_why", "assumption"))
            else:
                # rules see the actor's real role in ``year`` (a path scenario's later members
                # are observers only until their accession step)
                positions[i][d], saliences[i][d] = _rule_position(
                    spec, i, m.real_role[i], m.blocs[i], m.alignment[i].value,
                    m.median_alignment
                )
    return positions, saliences


def _actors(year: int, people: People, m: _Measures, positions: dict[str, dict[str, Noted]],
            saliences: dict[str, dict[str, Noted]], unc: dict[str, Any],
            late_ids: set[str]) -> list[CalibratedActor]:
    """The scenario's actors, each value with its note; an imputed state (no COW code) gets a
    wider position s.d. and a capability s.d. of its own."""
    actors = []
    for s, role in people:
        i = s.iso3
        imputed = s.ccode is None
        actors.append(
            CalibratedActor(
                state=s,
                role=role,
                capability=m.capability[i],
                population=m.population[i],
                blocs=Noted(sorted(m.blocs[i]), _bloc_note(year)),
                position=positions[i],
                salience=saliences[i],
                position_sd=Noted(
                    float(unc.get("position_sd", 15.0)) + (5.0 if imputed else 0.0),
                    "assumption: proposal positions are rule-based guesses"
                    + (" ; +5 because the alignment is imputed" if imputed else ""),
                ),
                capability_sd=(
                    Noted(0.5, "assumption: capability imputed, so +/- 50 % on log scale")
                    if imputed else None
                ),
                source=(
                    s.member_source if role == "member"
                    else f"{s.member_source}; an observer here until its accession step"
                    if i in late_ids else s.observer_source
                ),
            )
        )
    return actors


def _proposals(specs: list[dict[str, Any]], members: list[str], year: int,
               apath: Path) -> list[dict[str, Any]]:
    """The assumptions file's proposals with a note on their sponsor, who must be a member."""
    proposals = []
    for p in specs:
        p = dict(p)
        if p["sponsor"] not in members:
            raise InputError(f"{apath}: proposals ({p.get('id')}).sponsor: {p['sponsor']!r} is not "
                             f"a member in {year}; allowed: {', '.join(members)}")
        p["sponsor_note"] = (f"proposer (assumptions file); CICA chair in {year}: {chair(year)} "
                             "(CICA_FACTS.md, Chairmanship)")
        proposals.append(p)
    return proposals


def _enlargement(people: People, late: list[CicaState], late_ids: set[str],
                 m: _Measures) -> list[Noted]:
    """The enlargement path: a path scenario's real accessions in order, then the observers,
    the one closest to the members' median alignment first."""
    observers = [s.iso3 for s, r in people if r == "observer"]
    enlargement = [
        Noted(s.iso3, f"accession {k + 1} of {len(late)}: member from {s.member_from} "
                      f"({s.member_source})")
        for k, s in enumerate(late)
    ]
    align, med_align = m.alignment, m.median_alignment
    rest = [i for i in observers if i not in late_ids]
    order = sorted(rest, key=lambda i: (abs(align[i].value - med_align), i))
    enlargement += [
        Noted(i, f"observer {k + 1} of {len(order)} to join: |alignment - members' median "
                 f"{med_align:.1f}| = {abs(align[i].value - med_align):.1f} (closest first)")
        for k, i in enumerate(order)
    ]
    return enlargement


_SOURCES = [
    "CICA membership and observers: cicasim/calibrate/cica.py (pages cited per actor)",
    "COW National Material Capabilities v7 (CINC), via peacesciencer: Singer, Bremer & Stuckey "
    "1972",
    "UNGA ideal points, July 2025 release: Bailey, Strezhnev & Voeten 2017, JCR 61(2)",
    "UNGA roll calls to Jan 2020 (Voeten, unvotes package): hdl:1902.1/12379",
    "COW MID v5 dispute-dyad-years (Palmer et al. 2022); rivalries: Thompson & Dreyer 2012; "
    "Thompson, Sakuwa & Suhas",
    "COW IGO v3 (Pevehouse et al. 2020) and sourced post-2014 membership changes",
    "World Bank WDI: SP.POP.TOTL, NY.GDP.MKTP.CD",
]


def _dim_source(d: str, year: int) -> str:
    if d == "alignment":
        return (f"BSV UNGA ideal points (idealpointfp), latest year <= {year}, rescaled 0-100 over "
                "all states of that year")
    return "assumption: positions by the stated rules of the assumptions file (docs/calibration.md)"


def _bloc_note(year: int) -> str:
    if year <= IGO_LAST_YEAR:
        return (f"COW IGO v3 full memberships {year}; organisations COW IGO lacks (OTS, EAEU, "
                "RCEP) from the sourced membership table")
    return (f"COW IGO v3 full memberships 2014 carried forward (EurAsEC dropped: merged into the "
            f"EAEU 2015) + sourced post-2014 changes to {year}")


def _rule_position(spec: dict, actor: str, role: str, blocs: set[str], alignment: float,
                   median: float) -> tuple[Noted, Noted]:
    pos = float(spec.get("base_position", 50.0))
    sal = float(spec.get("base_salience", 0.3))
    parts = [f"base {pos:g}"]
    sparts = [f"base {sal:g}"]
    for rule in spec.get("rules", []):
        m = rule["match"]
        hit = (
            ("bloc" in m and m["bloc"] in blocs)
            or ("actors" in m and actor in m["actors"])
            or ("role" in m and m["role"] == role)
        )
        if not hit:
            continue
        label = m.get("bloc") or m.get("role") or actor
        if rule.get("position"):
            pos += float(rule["position"])
            parts.append(f"{label} {float(rule['position']):+g}")
        if rule.get("salience"):
            sal += float(rule["salience"])
            sparts.append(f"{label} {float(rule['salience']):+g}")
    slope = float(spec.get("alignment_slope", 0.0))
    if slope:
        shift = slope * (alignment - median)
        pos += shift
        parts.append(f"alignment {shift:+.1f}")
    pos_v = _round(min(100.0, max(0.0, pos)), 1)
    sal_v = _round(min(1.0, max(0.0, sal)), 2)
    return (Noted(pos_v, "assumption: " + ", ".join(parts)),
            Noted(sal_v, "assumption: " + ", ".join(sparts)))


