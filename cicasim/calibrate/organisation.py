"""Any organisation from public data: a scenario for a list of states and a year.

The actors' capability, alignment, population, blocs and pairwise tensions come from the public
data sets by the same rules as the CICA scenarios (:mod:`cicasim.calibrate.pipeline`,
``docs/calibration.md``); the tension weights and named disputes are read from the same
assumptions file.  A state missing from a data set gets a stated fallback, noted beside the value
and reported as a warning, never a silent zero.

What no data set holds is the organisation's *flagship consensus text* (its summit or ministerial
declaration).  It is one generic proposal, built by these stated rules:

* **Dimension** ``commitment``: how far a member wants the organisation's joint text to go, 0 = no
  joint text, 100 = the chair's full draft.  A state's ideal point is
  ``100 - |alignment - reference|``, clipped to 0-100: the farther a state stands from the text's
  political centre in UNGA voting (Bailey, Strezhnev & Voeten 2017), the less of the text it
  wants.  The *reference* is the chair's alignment when the chair is given, otherwise the
  capability-weighted median of the members' alignment (the text a chair drafts for the room;
  Tallberg 2006, *Leadership and Negotiation in the European Union*).  Salience 1 for everyone: the
  declaration is what the meeting is for.
* **Tabled text** 100 (the chair's draft) and **status quo** 0 (no joint text).
* **Sponsor**: the chair when given, otherwise the member whose alignment is closest to the
  reference (the larger capability, then the id, breaks ties).
* **Rule** consensus; 10 rounds.

The behaviour parameters are those of the ``consensus-organisations`` parameter set, fitted to
real consensus decisions (``docs/validation-consensus.md``), when it is installed; otherwise the
engine's defaults.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from cicasim.calibrate import readers
from cicasim.calibrate.calibrated import Calibrated, CalibratedActor, Noted
from cicasim.calibrate.cica import CicaState
from cicasim.calibrate.measures import (
    _alignment,
    _blocs,
    _capability,
    _population,
    _round,
    _tensions,
)
from cicasim.calibrate.pipeline import (
    _SOURCES,
    _uncertainty,
    default_assumptions,
    load_assumptions,
)
from cicasim.errors import InputError

__all__ = ["FLAGSHIP", "calibrate_organisation", "resolve_states"]

#: the id of the generic proposal
FLAGSHIP = "flagship"
COMMITMENT = "commitment"
ALIGNMENT_SALIENCE = 0.5


@functools.lru_cache(maxsize=4)
def _codes(data: Path) -> dict[str, int]:
    """ISO3 -> COW ccode from the BSV ideal-point file (its latest row per state)."""
    ip = readers.read_ideal_points(data)
    ip = ip[ip["iso3c"].notna() & (ip["iso3c"].astype(str) != "")]
    ip = ip.sort_values("year").groupby("iso3c").tail(1)
    return {str(r.iso3c): int(r.ccode) for r in ip.itertuples(index=False)}


def resolve_states(data: str | Path, codes: list[str], *,
                   what: str = "--members") -> list[CicaState]:
    """The states of ``codes`` (ISO 3166 alpha-3) with their alpha-2 code (for the UNGA roll
    calls) and Correlates of War code (for CINC, disputes, rivalries, IGO memberships).  An
    unknown code is a one-line error; a state without a COW code (Palestine, Hong Kong, the
    Holy See, ...) gets ``ccode = None`` and the stated fallbacks of the pipeline."""
    import pycountry  # ISO 3166 tables; imported here: only calibration needs them

    table = _codes(Path(data))
    out = []
    for code in codes:
        c = pycountry.countries.get(alpha_3=code) or pycountry.historic_countries.get(alpha_3=code)
        if c is None:
            raise InputError(f"{what}: {code!r} is not an ISO 3166 alpha-3 country code")
        ccode = table.get(code)
        name = getattr(c, "common_name", None) or c.name
        out.append(CicaState(code, c.alpha_2, ccode, name))
    return out


def _parse_codes(codes: list[str], what: str) -> list[str]:
    out = []
    for c in codes:
        c = c.strip().upper()
        if c and c not in out:
            out.append(c)
    if what == "--members" and not out:
        raise InputError(f"{what}: no member codes given; expected ISO3 codes such as IND,PAK")
    return out


def calibrate_organisation(
    *,
    data: str | Path,
    year: int,
    members: list[str],
    observers: list[str] = (),  # type: ignore[assignment]
    name: str = "organisation",
    chair: str | None = None,
    capability: str = "cinc",
    assumptions: str | Path | None = None,
    behaviour: dict[str, Any] | None = None,
) -> Calibrated:
    """The scenario of an organisation of ``members`` (and ``observers``) in ``year``, with its
    flagship consensus text (module docstring); every value with the note naming its source."""
    data, members, observers = _checked_request(data, year, members, observers, chair)
    apath = Path(assumptions) if assumptions is not None else default_assumptions()
    ass = load_assumptions(apath)
    states = resolve_states(data, members) + resolve_states(data, observers, what="--observers")
    people = [(s, "member") for s in states[: len(members)]]
    people += [(s, "observer") for s in states[len(members):]]
    warnings: list[str] = []
    blocs = _blocs(data, year, people, ass)
    cap = _capability(data, year, people, capability, warnings)
    pop = _population(data, year, people, warnings)
    align = _alignment(data, year, people, blocs, warnings)
    tensions, rule = _tensions(data, year, people, blocs, ass)

    ref, ref_note, sponsor = _reference(members, cap, align, chair)
    unc = ass.get("uncertainty", {})
    position_sd = Noted(float(unc.get("position_sd", 15.0)), f"assumption, reason in {apath.name}")
    actors = [_actor(s, role, cap, pop, blocs, align, (ref, ref_note), position_sd)
              for s, role in people]
    order = sorted(observers, key=lambda i: (abs(align[i].value - ref), i))
    return Calibrated(
        year=year,
        members_as_of=None,
        capability_kind=capability,
        description=(f"{name}: {len(members)} members and {len(observers)} observers at the end "
                     f"of {year}; capabilities, alignment, tensions, blocs and population from "
                     "public data; the flagship text by the stated rules of "
                     "cicasim/calibrate/organisation.py."),
        uncertainty=_uncertainty(unc, apath),
        behaviour={k: Noted(v, "consensus-organisations parameter set "
                               "(docs/validation-consensus.md)")
                   for k, v in (behaviour or {}).items()},
        dimensions=_dimensions(year),
        actors=actors,
        tensions=tensions,
        tension_rule=rule,
        proposals=[_flagship(name, sponsor, chair)],
        enlargement=[
            Noted(i, f"observer {k + 1} of {len(order)} to join: closest to the reference "
                     "alignment first")
            for k, i in enumerate(order)
        ],
        sources=[s for s in _SOURCES if not s.startswith("CICA membership")],
        name=name,
        scenario_source="cicasim calibrate --members; members as given by the caller",
        rule_note="the flagship text needs consensus (docs/calibration.md)",
        warnings=warnings,
    )


def _checked_request(data: str | Path, year: int, members: list[str], observers: list[str],
                     chair: str | None) -> tuple[Path, list[str], list[str]]:
    """The data folder and the member and observer codes (upper case, without repeats; no
    member also an observer), once checked in this order: data folder, year, members,
    observers, chair; one-line :class:`InputError` otherwise."""
    data = Path(data)
    if not data.is_dir():
        raise InputError(f"{data}: data directory not found; expected the public data sets "
                         "laid out as in its README.md")
    if not 1946 <= year <= 2030:
        raise InputError(f"--year: {year} is outside the data's years; allowed: 1946-2030")
    members = _parse_codes(list(members), "--members")
    observers = [c for c in _parse_codes(list(observers), "--observers") if c not in members]
    if chair is not None and chair not in members:
        raise InputError(f"--chair: {chair!r} is not among the members; allowed: "
                         f"{', '.join(members)}")
    return data, members, observers


def _actor(s: CicaState, role: str, cap: dict[str, Noted], pop: dict[str, Noted],
           blocs: dict[str, set[str]], align: dict[str, Noted], reference: tuple[float, str],
           position_sd: Noted) -> CalibratedActor:
    """One actor: the data's values, and its position on the flagship text by the rule."""
    i = s.iso3
    return CalibratedActor(
        state=s, role=role, capability=cap[i], population=pop[i],
        blocs=Noted(sorted(blocs[i]), "COW IGO v3 full memberships (to 2014) and the "
                                      "sourced post-2014 changes"),
        position={"alignment": align[i], COMMITMENT: _commitment(align[i].value, *reference)},
        salience=_saliences(), position_sd=position_sd, capability_sd=None,
        source=f"{role} by the caller's list (cicasim calibrate --members/--observers)",
    )


def _commitment(alignment: float, ref: float, ref_note: str) -> Noted:
    """A state's ideal point on the ``commitment`` dimension: 100 - |alignment - reference|,
    clipped to 0-100 (module docstring)."""
    x = _round(min(100.0, max(0.0, 100.0 - abs(alignment - ref))), 1)
    return Noted(x, f"rule: 100 - |alignment - {ref:.1f}| ({ref_note})")


def _saliences() -> dict[str, Noted]:
    """An actor's saliences (the same for everyone): the flagship text is what the meeting is
    for, and no proposal touches the alignment."""
    return {
        "alignment": Noted(ALIGNMENT_SALIENCE, "assumption: as in the CICA scenarios; "
                                               "no proposal touches it"),
        COMMITMENT: Noted(1.0, "rule: the declaration is what the meeting is for"),
    }


def _dimensions(year: int) -> list[dict[str, str]]:
    """The two dimensions: the data's alignment and the commitment to the flagship text."""
    return [
        {"id": "alignment", "name": "Geopolitical alignment",
         "description": "UNGA ideal point rescaled to 0-100 over the states of that year",
         "source": f"BSV UNGA ideal points (idealpointfp), latest year <= {year}"},
        {"id": COMMITMENT, "name": "Commitment to the joint text",
         "description": "0 = no joint text, 100 = the chair's full draft",
         "source": "rule of cicasim/calibrate/organisation.py: 100 - |alignment - reference|"},
    ]


def _flagship(name: str, sponsor: str, chair: str | None) -> dict[str, Any]:
    """The one generic proposal: the chair's full draft of the flagship text against no joint
    text, by consensus."""
    return {
        "id": FLAGSHIP,
        "title": f"the flagship consensus text of {name}",
        "sponsor": sponsor,
        "sponsor_note": ("the chair (--chair)" if chair else
                         "rule: the member closest to the reference alignment"),
        "touches": [{"dimension": COMMITMENT, "position": 100.0, "status_quo": 0.0}],
        "rule": {"kind": "consensus"},
        "max_rounds": 10,
    }


def _reference(members: list[str], cap: dict[str, Noted], align: dict[str, Noted],
               chair: str | None) -> tuple[float, str, str]:
    """The text's reference alignment, how it was found, and the sponsor."""
    if chair is not None:
        return float(align[chair].value), f"the chair {chair}'s alignment", chair
    x = np.array([align[i].value for i in members], dtype=float)
    w = np.array([cap[i].value for i in members], dtype=float)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    ref = float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])
    sponsor = min(members, key=lambda i: (abs(align[i].value - ref), -cap[i].value, i))
    return ref, "capability-weighted median of the members' alignment", sponsor
