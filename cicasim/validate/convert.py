"""One DEU issue as a one-dimensional cicasim negotiation.

The rules of the conversion (docs/validation.md gives the reasons at more length):

* **Dimension**: one, ``issue``, the DEU 0-100 issue scale.
* **Member states**: every state in the Council on the proposal's date (:mod:`.council`), with
  its Council votes and population.  A coded state has its DEU position, salience / 100 and the
  capability of the file's capability row.  A member state with no stake, i.e. not coded on the
  issue or coded with salience 0, goes along with the text (a per-actor acceptance threshold of
  -1): the Council's culture of consensus, where states without an interest do not oppose
  (Heisenberg 2005; Häge 2013).  An uncoded state has no position on record, so it gets a
  negligible capability (it neither pulls other positions nor enters the compromise) and, for
  form, the status quo as its position.  A state coded on the issue that joined the Union after
  the proposal's date takes part as an *observer*: acceding states sat in the Council as active
  observers between signing their accession treaty and joining (2003-2004, 2005-2006), and
  joined before most of these acts were adopted; they influence positions but do not vote.
* **Commission** (``COM``): the sponsor and agenda setter.  It has no vote in the Council, so it
  is an *observer* that sponsors: the text starts at its position and it moves the text towards
  the members' compromise, but the rule never counts it.  When its position is blank, the text
  starts at the members' compromise (capability × salience weighted mean of the coded member
  states).  Two stated departures from a plain observer:

  - its salience is set to 0, so it never withdraws the text.  The kernel lets a sponsor withdraw
    a text it likes less than the status quo; the Commission withdraws *proposals*, which bundle
    several issues, not single issues, and every issue scored here has a recorded outcome.  The
    DEU salience of the Commission is therefore not used; an observer's salience enters nothing
    else in the kernel (the compromise weighs members only).
  - every other actor has a tension ``commission_tension`` (default 1) with it: the member
    states and the Parliament bargain over the Commission's text rather than defer to it.  The
    Commission then exerts no pull on positions (influence weight ∝ 1 - T), and a text that
    only the Commission backs (the text as tabled, in round 1) is discounted by the rival
    penalty β.  β, fitted, is the premium the legislators demand over the status quo before
    they would adopt the Commission's text unamended, which they rarely do; at β ≥ 1 no one
    with a stake accepts it (gains never exceed 1).
* **European Parliament** (``EP``): under codecision (COD) a co-legislator whose approval the act
  needs, so a *member and veto player*: under unanimity its objection blocks like a state's; under
  qualified majority the rule is extended so that no coalition without the Parliament wins (its
  vote weight equals the states' total and the quota rises by as much, the members' count by
  one).  The Lisbon blocking-minority floor is dropped then, since it would let the act pass
  against the Parliament and up to two states.  Under consultation (CNS) the Parliament's
  opinion binds no one: an *observer* that influences positions (when it is coded).
* **Status quo**: the reference point ``rp``; when it is blank, 0, the end of the scale where
  143 of the file's 179 coded reference points lie (a rule stated on the inputs, never fitted
  to outcomes).
* **Rule**: ``Unan`` -> ``consensus`` (abstention does not block, as in the Council, TEC art.
  205(3)); ``QMV`` and ``QMV(10)`` -> ``qualified-majority`` with the weights and criteria in
  force on the proposal's date.
* **Behaviour and uncertainty**: from the validation parameter set (:mod:`.params`).
"""

from __future__ import annotations

from typing import Any

from cicasim.spec.scenario import Scenario, parse_scenario
from cicasim.validate.council import Council
from cicasim.validate.deu import COMMISSION, PARLIAMENT, DeuIssue

__all__ = [
    "COMMISSION_ID",
    "DIMENSION",
    "PARLIAMENT_ID",
    "UNCODED_CAPABILITY",
    "issue_rule",
    "issue_scenario",
    "issue_scenario_dict",
    "members_compromise",
    "status_quo",
    "tabled_text",
]

DIMENSION = "issue"
COMMISSION_ID = "COM"
PARLIAMENT_ID = "EP"
#: Capability of a member state with no position on record: negligible, but > 0 as required.
UNCODED_CAPABILITY = 1e-6
#: Status quo when the reference point is blank.
BLANK_REFERENCE = 0.0
#: Ids of acceding states (weights-table codes) where they differ from the upper-cased DEU code.
ACCEDING = {"el": "GR", "bu": "BG", "cr": "HR"}
#: Acceptance threshold of a member with no stake (it goes along).
GOES_ALONG = -1.0


def status_quo(issue: DeuIssue) -> float:
    """The reference point, or 0 when it is blank (see the module docstring)."""
    return BLANK_REFERENCE if issue.reference is None else issue.reference


def tabled_text(issue: DeuIssue, capability: dict[str, float], council: Council) -> float:
    """The text as tabled: the Commission's position, or the coded members' compromise when
    the Commission is not coded."""
    if COMMISSION in issue.positions:
        return issue.positions[COMMISSION]
    return members_compromise(issue, capability, council)


def members_compromise(issue: DeuIssue, capability: dict[str, float], council: Council) -> float:
    """Capability × salience weighted mean of the coded member states (the status quo when
    none is coded; capability alone when all their saliences are 0)."""
    coded = [a for a in council.members if a in issue.positions]
    w = [capability[a] * issue.saliences[a] for a in coded]
    if not coded:
        return status_quo(issue)
    if sum(w) <= 0:
        w = [capability[a] for a in coded]
    return sum(wi * issue.positions[a] for wi, a in zip(w, coded, strict=True)) / sum(w)


def issue_rule(issue: DeuIssue, council: Council, *, parliament_veto: bool) -> dict[str, Any]:
    """The decision rule of the issue as a scenario ``rule`` table."""
    if issue.rule == "Unan":
        return {"kind": "consensus"}
    rule = dict(council.qmv10 if issue.rule == "QMV(10)" else council.qmv)
    if not parliament_veto:
        return rule
    total = sum(council.votes[m] for m in council.members)
    rule["quota"] = float(rule.get("quota", 1.0)) + total
    if "min_members" in rule:
        rule["min_members"] = int(rule["min_members"]) + 1
    rule.pop("blocking_min", None)
    return rule


def _member(
    code: str, issue: DeuIssue, council: Council, capability: dict[str, float], q: float
) -> dict[str, Any]:
    """A member state (``code`` in DEU spelling; its id is the weights table's code)."""
    coded = code in issue.positions
    salience = issue.saliences[code] / 100.0 if coded else 0.0
    actor: dict[str, Any] = {
        "id": council.codes[code],
        "name": council.names[code],
        "role": "member",
        "kind": "state",
        "capability": capability[code] if coded else UNCODED_CAPABILITY,
        "position": {DIMENSION: issue.positions[code] if coded else q},
        "salience": {DIMENSION: salience},
        "votes": council.votes[code],
        "population": council.population[code],
        "source": "DEU III" if coded else "not coded on the issue: no stake, goes along",
    }
    if salience <= 0:
        actor["behaviour"] = {"threshold": GOES_ALONG}
    return actor


def _acceding_observer(code: str, issue: DeuIssue, capability: dict[str, float]) -> dict[str, Any]:
    """A state coded on the issue that joined the Union after the proposal's date: an active
    observer that influences positions but does not vote."""
    return {
        "id": ACCEDING.get(code, code.upper()),
        "role": "observer",
        "kind": "state",
        "capability": capability[code],
        "position": {DIMENSION: issue.positions[code]},
        "salience": {DIMENSION: issue.saliences[code] / 100.0},
        "source": "DEU III; not yet a member on the proposal's date (active observer)",
    }


def _commission(issue: DeuIssue, capability: dict[str, float], p0: float) -> dict[str, Any]:
    """The Commission: an observer that sponsors the text as tabled ``p0``, with salience 0
    so that it never withdraws a single issue."""
    com_coded = COMMISSION in issue.positions
    return {
        "id": COMMISSION_ID,
        "name": "European Commission",
        "role": "observer",
        "kind": "organisation",
        "capability": capability[COMMISSION],
        "position": {DIMENSION: p0},
        "salience": {DIMENSION: 0.0},
        "source": (
            "DEU III position; salience 0 so that it never withdraws a single issue"
            if com_coded else "not coded: the text starts at the members' compromise"
        ),
    }


def _parliament(
    issue: DeuIssue, council: Council, capability: dict[str, float], q: float, *, cod: bool
) -> dict[str, Any] | None:
    """The Parliament: a member and veto player under codecision, an observer under
    consultation when coded, absent otherwise (``None``)."""
    ep_coded = PARLIAMENT in issue.positions
    if not (cod or ep_coded):
        return None
    ep_sal = issue.saliences[PARLIAMENT] / 100.0 if ep_coded else 0.0
    ep: dict[str, Any] = {
        "id": PARLIAMENT_ID,
        "name": "European Parliament",
        "role": "member" if cod else "observer",
        "kind": "organisation",
        "capability": capability[PARLIAMENT] if ep_coded else UNCODED_CAPABILITY,
        "position": {DIMENSION: issue.positions[PARLIAMENT] if ep_coded else q},
        "salience": {DIMENSION: ep_sal},
        "source": "DEU III" if ep_coded else "not coded on the issue: no stake, goes along",
    }
    if cod:
        ep["votes"] = float(sum(council.votes[m] for m in council.members))
        ep["population"] = 0.0
        if ep_sal <= 0:
            ep["behaviour"] = {"threshold": GOES_ALONG}
    return ep


def _actors(
    issue: DeuIssue, council: Council, capability: dict[str, float], q: float, p0: float,
    *, cod: bool,
) -> list[dict[str, Any]]:
    """Every actor of the issue's negotiation: the member states, the acceding observers,
    the Commission and (when it takes part) the Parliament, in that order."""
    actors = [_member(s, issue, council, capability, q) for s in council.members]
    actors += [_acceding_observer(s, issue, capability)
               for s in issue.states if s not in council.members]
    actors.append(_commission(issue, capability, p0))
    ep = _parliament(issue, council, capability, q, cod=cod)
    if ep is not None:
        actors.append(ep)
    return actors


def _commission_tensions(
    actors: list[dict[str, Any]], commission_tension: float
) -> list[dict[str, Any]]:
    """A tension ``commission_tension`` of every other actor with the Commission (none when
    it is 0)."""
    return [
        {"pair": [a["id"], COMMISSION_ID], "value": commission_tension,
         "source": "legislators bargain over the Commission's text (cicasim.validate)"}
        for a in actors if a["id"] != COMMISSION_ID and commission_tension > 0
    ]


def _proposal(
    issue: DeuIssue, council: Council, p0: float, q: float, *, cod: bool, max_rounds: int
) -> dict[str, Any]:
    """The issue as the scenario's one proposal, sponsored by the Commission."""
    return {
        "id": issue.issue,
        "title": issue.name,
        "sponsor": COMMISSION_ID,
        "touches": [{"dimension": DIMENSION, "position": p0, "status_quo": q}],
        "rule": issue_rule(issue, council, parliament_veto=cod),
        "max_rounds": max_rounds,
        "source": f"DEU III, proposal {issue.proposal}",
    }


def issue_scenario_dict(
    issue: DeuIssue,
    *,
    capability: dict[str, float],
    council: Council,
    behaviour: dict[str, Any] | None = None,
    uncertainty: dict[str, Any] | None = None,
    max_rounds: int = 10,
    commission_tension: float = 1.0,
) -> dict[str, Any]:
    """The scenario mapping of one issue (validate it with :func:`issue_scenario`)."""
    q = status_quo(issue)
    p0 = tabled_text(issue, capability, council)
    cod = issue.procedure == "COD"
    actors = _actors(issue, council, capability, q, p0, cod=cod)
    data: dict[str, Any] = {
        "scenario": {
            "name": f"deu-{issue.issue}",
            "description": (
                f"DEU III issue {issue.issue} of proposal {issue.proposal} ({issue.name}), "
                f"{issue.procedure}, Council rule {issue.rule}, {council.period}"
            ),
            "year": issue.date.year,
            "source": "DEU III (Arregui & Perarnaud 2022), converted by cicasim.validate",
        },
        "dimensions": [{"id": DIMENSION, "name": "DEU issue scale", "source": "DEU III"}],
        "actors": actors,
        "tensions": _commission_tensions(actors, commission_tension),
        "proposals": [_proposal(issue, council, p0, q, cod=cod, max_rounds=max_rounds)],
    }
    if behaviour:
        data["behaviour"] = dict(behaviour)
    if uncertainty:
        data["uncertainty"] = dict(uncertainty)
    return data


def issue_scenario(
    issue: DeuIssue,
    *,
    capability: dict[str, float],
    council: Council,
    behaviour: dict[str, Any] | None = None,
    uncertainty: dict[str, Any] | None = None,
    max_rounds: int = 10,
    commission_tension: float = 1.0,
    source: str = "<deu>",
) -> Scenario:
    """The validated scenario of one issue (one proposal, id = the issue id)."""
    data = issue_scenario_dict(
        issue, capability=capability, council=council, behaviour=behaviour,
        uncertainty=uncertainty, max_rounds=max_rounds, commission_tension=commission_tension,
    )
    return parse_scenario(data, f"{source}: issue {issue.issue} (row {issue.line})")
