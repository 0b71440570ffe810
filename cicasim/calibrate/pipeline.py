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

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cicasim.calibrate import readers
from cicasim.calibrate.cica import CicaState, accession_order, chair, roster
from cicasim.errors import InputError, parse_toml, read_text

__all__ = ["Calibrated", "Noted", "calibrate", "load_assumptions", "default_assumptions"]

#: COW IGO v3 abbreviations -> bloc ids used in the scenarios
IGO_BLOCS = {
    "sco": "SCO", "asean": "ASEAN", "gcc": "GCC", "saarc": "SAARC", "loas": "ArabLeague",
    "oic": "OIC", "cis": "CIS", "csto": "CSTO", "eaec": "EurAsEC", "eco": "ECO",
}
#: post-2014 table organisation names -> bloc ids (statuses counted as membership)
POST2014_BLOCS = {"SCO": "SCO", "EAEU": "EAEU", "OTS": "OTS", "RCEP": "RCEP"}
POST2014_STATUSES = {"full", "signatory"}
IGO_LAST_YEAR = 2014
#: the bloc whose members stand in for Palestine where it has no data (it votes with the Arab
#: Group and sits in the Arab League)
PALESTINE_PROXY_BLOC = "ArabLeague"

_CAPABILITY_KINDS = ("cinc", "gdp")


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


# -- helpers ----------------------------------------------------------------------------------

def _latest(df: pd.DataFrame, key: str, value: str, year: int) -> pd.DataFrame:
    """Per ``key``, the row of the latest year <= ``year`` with a value."""
    d = df[(df["year"] <= year) & df[value].notna()]
    d = d.sort_values([key, "year"])
    return d.groupby(key, sort=True).tail(1).set_index(key)


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _round(x: float, digits: int) -> float:
    r = round(float(x), digits)
    return 0.0 if r == 0 else r


# -- the pipeline -----------------------------------------------------------------------------

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
    people = roster(year, members_as_of=members_as_of)
    ids = [s.iso3 for s, _ in people]
    members = [s.iso3 for s, r in people if r == "member"]

    stages = ("IGO memberships", "capabilities", "population", "UNGA alignment", "tensions")
    step = iter(range(1, len(stages) + 1))

    def stage(i: int) -> None:
        n = next(step)
        if progress is not None:
            progress(n, len(stages), stages[i])

    blocs = _blocs(data, year, people, ass)
    stage(0)
    cap = _capability(data, year, people, capability)
    stage(1)
    pop = _population(data, year, people)
    stage(2)
    align = _alignment(data, year, people, blocs)
    stage(3)
    # the median over the year's full membership, so a path scenario places everyone exactly
    # where the scenario of its year does
    real_role = {s.iso3: r for s, r in roster(year)}
    full = [i for i, r in real_role.items() if r == "member"]
    med_align = float(np.median([align[i].value for i in full]))
    tensions, rule = _tensions(data, year, people, blocs, ass)
    stage(4)

    dim_specs = ass["dimensions"]
    positions: dict[str, dict[str, Noted]] = {i: {} for i in ids}
    saliences: dict[str, dict[str, Noted]] = {i: {} for i in ids}
    for spec in dim_specs:
        d = spec["id"]
        for s, _role in people:
            i = s.iso3
            if d == "alignment":
                positions[i][d] = align[i]
                saliences[i][d] = Noted(float(spec.get("salience", 0.5)),
                                        spec.get("salience_why", "assumption"))
            else:
                # rules see the actor's real role in ``year`` (a path scenario's later members
                # are observers only until their accession step)
                positions[i][d], saliences[i][d] = _rule_position(
                    spec, i, real_role[i], blocs[i], align[i].value, med_align
                )

    unc = ass.get("uncertainty", {})
    late = [] if members_as_of is None else accession_order(year, members_as_of)
    late_ids = {s.iso3 for s in late}
    actors = []
    for s, role in people:
        i = s.iso3
        imputed = s.ccode is None
        actors.append(
            CalibratedActor(
                state=s,
                role=role,
                capability=cap[i],
                population=pop[i],
                blocs=Noted(sorted(blocs[i]), _bloc_note(year)),
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

    proposals = []
    for p in ass["proposals"]:
        p = dict(p)
        if p["sponsor"] not in members:
            raise InputError(f"{apath}: proposals ({p.get('id')}).sponsor: {p['sponsor']!r} is not "
                             f"a member in {year}; allowed: {', '.join(members)}")
        p["sponsor_note"] = (f"proposer (assumptions file); CICA chair in {year}: {chair(year)} "
                             "(CICA_FACTS.md, Chairmanship)")
        proposals.append(p)

    observers = [s.iso3 for s, r in people if r == "observer"]
    enlargement = [
        Noted(s.iso3, f"accession {k + 1} of {len(late)}: member from {s.member_from} "
                      f"({s.member_source})")
        for k, s in enumerate(late)
    ]
    rest = [i for i in observers if i not in late_ids]
    order = sorted(rest, key=lambda i: (abs(align[i].value - med_align), i))
    enlargement += [
        Noted(i, f"observer {k + 1} of {len(order)} to join: |alignment - members' median "
                 f"{med_align:.1f}| = {abs(align[i].value - med_align):.1f} (closest first)")
        for k, i in enumerate(order)
    ]

    return Calibrated(
        year=year,
        members_as_of=members_as_of,
        capability_kind=capability,
        description=str(ass.get("scenario", {}).get("description", "")).format(year=year),
        uncertainty={
            k: Noted(float(unc[k]), f"assumption, reason in {apath.name}")
            for k in ("position_sd", "tension_sd", "capability_sd") if k in unc
        },
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
        tensions=tensions,
        tension_rule=rule,
        proposals=proposals,
        enlargement=enlargement,
        sources=_SOURCES,
    )


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


def _capability(data: Path, year: int, people, kind: str,
                warnings: list[str] | None = None) -> dict[str, Noted]:
    """CINC (or GDP) shares in % of the scenario total; Palestine imputed from GDP.  With
    ``warnings`` (a list to append to), a state with neither gets the smallest capability of
    the scenario's other states, with a warning, instead of an error."""
    nmc = _latest(readers.read_nmc(data), "ccode", "cinc", year)
    gdp_tab = readers.read_worldbank(data, "gdp")
    gdp = _latest(gdp_tab, "iso3", "value", year)
    raw: dict[str, float] = {}
    note: dict[str, str] = {}
    missing = []
    for s, _ in people:
        if kind == "gdp":
            if s.iso3 in gdp.index:
                row = gdp.loc[s.iso3]
                raw[s.iso3] = float(row["value"])
                note[s.iso3] = f"World Bank GDP current US$ {int(row['year'])} = {row['value']:.4g}"
            else:
                missing.append(s)
        elif s.ccode is not None and s.ccode in nmc.index:
            row = nmc.loc[s.ccode]
            raw[s.iso3] = float(row["cinc"])
            note[s.iso3] = f"COW NMC v7 CINC {int(row['year'])} = {row['cinc']:.5g}"
        else:
            missing.append(s)
    if missing and kind == "cinc":
        ratios = [raw[s.iso3] / float(gdp.loc[s.iso3, "value"])
                  for s, _ in people if s.iso3 in raw and s.iso3 in gdp.index]
        if not ratios:
            raise InputError(f"{readers.path_of(data, 'gdp')}: no GDP for the year {year}; "
                             "expected World Bank GDP for the scenario's states")
        ratio = float(np.median(ratios))
        for s in missing:
            if s.iso3 not in gdp.index:
                if warnings is not None:
                    continue
                raise InputError(f"{readers.path_of(data, 'nmc')}: no CINC and no GDP for "
                                 f"{s.iso3} up to {year}; expected a value in either")
            g = gdp.loc[s.iso3]
            raw[s.iso3] = float(g["value"]) * ratio
            note[s.iso3] = (f"imputed: no COW code; World Bank GDP {int(g['year'])} x the median "
                            f"CINC/GDP ratio of the scenario's states = {raw[s.iso3]:.3g}")
    elif missing and warnings is None:
        raise InputError(f"{readers.path_of(data, 'gdp')}: no GDP for "
                         f"{', '.join(s.iso3 for s in missing)} up to {year}")
    if warnings is not None:
        _fill_smallest(raw, note, [s.iso3 for s, _ in people], year, warnings)
    total = sum(raw.values())
    label = "CINC" if kind == "cinc" else "GDP"
    return {
        i: Noted(_round(100 * v / total, 4), f"{note[i]}; {label} share of the scenario, %")
        for i, v in raw.items()
    }


def _fill_smallest(raw: dict[str, float], note: dict[str, str], ids: list[str], year: int,
                   warnings: list[str]) -> None:
    """Give every state of ``ids`` without a capability the smallest one of the others: a state
    missing from both CINC and GDP is a microstate or a non-state member (stated fallback)."""
    gaps = [i for i in ids if i not in raw]
    if not gaps:
        return
    low = min(raw.values()) if raw else 1.0
    for i in gaps:
        raw[i] = low
        note[i] = (f"fallback: no CINC and no GDP up to {year}; the smallest capability of the "
                   "scenario's other states")
        warnings.append(f"{i}: no CINC and no GDP up to {year}; capability set to the smallest "
                        "of the other states")


def _population(data: Path, year: int, people,
                warnings: list[str] | None = None) -> dict[str, Noted]:
    pop = _latest(readers.read_worldbank(data, "pop"), "iso3", "value", year)
    out = {}
    for s, _ in people:
        if s.iso3 not in pop.index and warnings is not None:
            known = [float(pop.loc[t.iso3, "value"]) for t, _ in people if t.iso3 in pop.index]
            v = float(np.median(known)) / 1e6 if known else 0.0
            out[s.iso3] = Noted(_round(v, 3), f"fallback: no World Bank population up to {year}; "
                                              "the median of the scenario's other states")
            warnings.append(f"{s.iso3}: no World Bank population up to {year}; set to the "
                            "median of the other states")
            continue
        if s.iso3 not in pop.index:
            raise InputError(f"{readers.path_of(data, 'pop')}: no population for {s.iso3} up to "
                             f"{year}; expected SP.POP.TOTL rows with Country Code {s.iso3}")
        row = pop.loc[s.iso3]
        out[s.iso3] = Noted(_round(row["value"] / 1e6, 3),
                            f"World Bank SP.POP.TOTL {int(row['year'])}, millions")
    return out


def _alignment(data: Path, year: int, people, blocs,
               warnings: list[str] | None = None) -> dict[str, Noted]:
    ip = readers.read_ideal_points(data)
    out: dict[str, Noted] = {}
    cache: dict[int, tuple[float, float]] = {}
    gaps = []
    for s, _ in people:
        rows = ip[(ip["ccode"] == s.ccode) & (ip["year"] <= year)] if s.ccode else ip.iloc[:0]
        if rows.empty:
            gaps.append(s)
            continue
        row = rows.sort_values("year").iloc[-1]
        y = int(row["year"])
        if y not in cache:
            world = ip.loc[ip["year"] == y, "idealpointfp"]
            cache[y] = (float(world.min()), float(world.max()))
        lo, hi = cache[y]
        v = 100 * (float(row["idealpointfp"]) - lo) / (hi - lo)
        out[s.iso3] = Noted(_round(v, 1), f"BSV idealpointfp {y} = {row['idealpointfp']:.3f}, "
                                          f"rescaled over [{lo:.2f}, {hi:.2f}]")
    for s in gaps:
        proxy = [out[t.iso3].value for t, _ in people
                 if t.iso3 in out and PALESTINE_PROXY_BLOC in blocs[t.iso3]]
        if not proxy and warnings is not None and out:
            v = float(np.median([n.value for n in out.values()]))
            out[s.iso3] = Noted(_round(v, 1), f"fallback: no UNGA ideal point up to {year}; the "
                                              "median alignment of the scenario's other states")
            warnings.append(f"{s.iso3}: no UNGA ideal point up to {year}; alignment set to the "
                            "median of the other states")
            continue
        if not proxy:
            raise InputError(f"{readers.path_of(data, 'ideal')}: no ideal point for {s.iso3} up to "
                             f"{year} and no {PALESTINE_PROXY_BLOC} member to impute from")
        out[s.iso3] = Noted(_round(float(np.median(proxy)), 1),
                            f"imputed: no UNGA votes; median of the {len(proxy)} "
                            f"{PALESTINE_PROXY_BLOC} members' alignment")
    return out


def _blocs(data: Path, year: int, people, ass) -> dict[str, set[str]]:
    orgs = sorted(IGO_BLOCS)
    igo = readers.read_igo_state_year(data, orgs)
    y = min(year, IGO_LAST_YEAR)
    igo_y = igo[igo["year"] == y].set_index("ccode")
    post = readers.read_post2014_memberships(data)
    out: dict[str, set[str]] = {}
    for s, _ in people:
        b: set[str] = set()
        if s.ccode is not None and s.ccode in igo_y.index:
            row = igo_y.loc[s.ccode]
            b = {IGO_BLOCS[o] for o in orgs if row[o] == 1}
            if year > IGO_LAST_YEAR:
                b.discard("EurAsEC")
        rows = post[(post["iso3c"] == s.iso3) & (post["year_from"] <= year)]
        for _, r in rows.iterrows():
            to = pd.to_numeric(r["year_to"], errors="coerce")
            if (r["org"] in POST2014_BLOCS and r["status"] in POST2014_STATUSES
                    and (pd.isna(to) or year <= to)):
                b.add(POST2014_BLOCS[r["org"]])
        for extra in ass.get("extra_blocs", []):
            if extra["actor"] == s.iso3 and int(extra.get("from", 0)) <= year:
                b.update(extra["blocs"])
        out[s.iso3] = b
    return out


def _unga_disagreement(data: Path, year: int, people, min_votes: int, years: int):
    last = min(year, 2019)
    first = last - years + 1
    votes = readers.read_unga_votes(data, first=first, last=last)
    iso2 = {s.iso2: s.iso3 for s, _ in people}
    votes = votes[votes["iso2"].isin(iso2)]
    mat = votes.pivot_table(index="rcid", columns="iso2", values="value", aggfunc="first")
    ids = [s.iso3 for s, _ in people]
    n = len(ids)
    u = np.full((n, n), np.nan)
    cnt = np.zeros((n, n), dtype=int)
    cols = {iso2[c]: mat[c].to_numpy() for c in mat.columns}
    for a in range(n):
        for b in range(a + 1, n):
            if ids[a] in cols and ids[b] in cols:
                x, y = cols[ids[a]], cols[ids[b]]
                ok = ~np.isnan(x) & ~np.isnan(y)
                k = int(ok.sum())
                cnt[a, b] = cnt[b, a] = k
                if k >= min_votes:
                    u[a, b] = u[b, a] = float(np.mean(np.abs(x[ok] - y[ok])))
    return u, cnt, (first, last)


def _mid_scores(data: Path, year: int, people, half_life: float) -> np.ndarray:
    mids = readers.read_mids(data)
    mids = mids[mids["year"] <= year]
    idx = {s.ccode: k for k, (s, _) in enumerate(people) if s.ccode is not None}
    n = len(people)
    score = np.zeros((n, n))
    sel = mids[mids["ccode1"].isin(idx) & mids["ccode2"].isin(idx)]
    for c1, c2, y, h in sel[["ccode1", "ccode2", "year", "hostlev"]].itertuples(index=False):
        a, b = idx[c1], idx[c2]
        if a == b:
            continue
        w = (float(h) / 5.0) * 0.5 ** ((year - int(y)) / half_life)
        score[a, b] += w
        score[b, a] += w
    # ddydisps lists each non-directed dyad once; the sum above is symmetric by construction
    return 1.0 - np.exp(-score)


def _rivalry_scores(data: Path, year: int, people, half_life: float) -> np.ndarray:
    riv = readers.read_rivalries(data)
    idx = {s.ccode: k for k, (s, _) in enumerate(people) if s.ccode is not None}
    n = len(people)
    r = np.zeros((n, n))
    for c1, c2, start, end, cens in riv[["ccode1", "ccode2", "start", "end", "censored"]] \
            .itertuples(index=False):
        if c1 not in idx or c2 not in idx or start > year:
            continue
        v = 1.0 if (cens or year <= end) else 0.5 ** ((year - end) / half_life)
        a, b = idx[c1], idx[c2]
        r[a, b] = r[b, a] = max(r[a, b], v)
    return r


def _tensions(
    data: Path, year: int, people, blocs, ass
) -> tuple[list[CalibratedTension], list[str]]:
    t = ass["tension"]
    hl = float(t["half_life"])
    u, cnt, (first, last) = _unga_disagreement(
        data, year, people, int(t["min_common_votes"]), int(t["unga_years"])
    )
    m = _mid_scores(data, year, people, hl)
    r = _rivalry_scores(data, year, people, hl)
    ids = [s.iso3 for s, _ in people]
    n = len(ids)
    pos = {i: k for k, i in enumerate(ids)}
    named = np.zeros((n, n))
    named_why: dict[tuple[int, int], str] = {}
    for nd in ass.get("named_disputes", []):
        if int(nd.get("from", 0)) > year:
            continue
        for a_id, b_id in nd["pairs"]:
            if a_id in pos and b_id in pos:
                a, b = pos[a_id], pos[b_id]
                named[a, b] = named[b, a] = float(nd["value"])
                named_why[(min(a, b), max(a, b))] = nd.get("why", "assumption")
    # gaps: a state without enough common votes takes the mean of the proxy bloc's values
    imputed = set()
    for a in range(n):
        for b in range(a + 1, n):
            if not np.isnan(u[a, b]):
                continue
            gap, other = (a, b) if cnt[a].max() < cnt[b].max() else (b, a)
            proxies = [k for k in range(n) if k not in (gap, other)
                       and PALESTINE_PROXY_BLOC in blocs[ids[k]] and not np.isnan(u[k, other])]
            vals = [u[k, other] for k in proxies]
            if not vals:
                vals = [float(np.nanmedian(u))]
            u[a, b] = u[b, a] = float(np.mean(vals))
            imputed.add((a, b))
    wu, wm, wr, wn = (float(t[k]) for k in ("unga_weight", "mid_weight", "rivalry_weight",
                                               "named_weight"))
    out = []
    for a in range(n):
        for b in range(a + 1, n):
            val = 1 - (1 - wu * u[a, b]) * (1 - wm * m[a, b]) * (1 - wr * r[a, b]) * (
                1 - wn * named[a, b])
            if (a, b) in imputed:
                un = f"UNGA {first}-{last} U={u[a, b]:.3f} imputed ({PALESTINE_PROXY_BLOC} mean)"
            else:
                un = f"UNGA {first}-{last} U={u[a, b]:.3f} ({cnt[a, b]} votes)"
            parts = [un, f"MID M={m[a, b]:.3f}", f"rivalry R={r[a, b]:.3f}"]
            if named[a, b]:
                parts.append(f"named N={named[a, b]:g} ({named_why[(a, b)]})")
            out.append(CalibratedTension((ids[a], ids[b]), _round(min(1.0, max(0.0, val)), 3),
                                         "; ".join(parts)))
    rule = [
        f"T = 1 - (1 - {wu:g} U)(1 - {wm:g} M)(1 - {wr:g} R)(1 - {wn:g} N)  (docs/calibration.md)",
        f"U: UNGA disagreement 1 - Lijphart agreement over roll calls {first}-{last} "
        f"(yes 1, abstain 0.5, no 0; pairs with < {int(t['min_common_votes'])} common votes "
        f"imputed as the mean of the {PALESTINE_PROXY_BLOC} members' values)",
        f"M: 1 - exp(-sum of hostlev/5 over COW MID v5 dispute-dyad-years <= {year}, half-life "
        f"{hl:g} y)",
        f"R: strategic rivalry (Thompson-Dreyer; Thompson-Sakuwa-Suhas) 1 while running, half-life "
        f"{hl:g} y after it ends",
        "N: disputes named in the assumptions file (value 0-1, assumption)",
    ]
    if not math.isfinite(sum(x.value for x in out)):
        raise InputError("tension calibration produced a non-finite value; check the data files")
    return out, rule
