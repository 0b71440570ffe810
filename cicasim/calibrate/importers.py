"""Import from peer tools: KTAB's Spatial Model of Politics CSV and one issue of the DEU data.

Both produce the mapping of a cicasim scenario plus a note per value, written as commented TOML by
:func:`render_mapping` (validated against the scenario schema before anything is written).

* **KTAB** (KAPSARC Toolkit for Behavioral Analysis, SMP input): row 1 holds the scenario name,
  its description, the number of actors and of dimensions; row 2 is a header (actor, description,
  capability, then a position and a salience column per dimension); then one row per actor.
  Positions are 0-100; saliences 0-100 and at most 100 in sum per actor (KTAB's rule); they are
  divided by 100 here (docs/model.md scales).  Every actor becomes a voting member; KTAB has no
  status quo, so a proposal is written only when ``status_quo`` is given (the text at the
  capability x salience weighted mean, Achen's compromise, sponsored by the most capable actor).
* **DEU** (Thomson et al. 2006; Arregui & Perarnaud 2022): one issue, converted by the rules of
  :mod:`cicasim.validate.convert` (member states with their Council votes, the Commission as
  sponsor, the Parliament as co-legislator under codecision), so an imported issue is the very
  negotiation the validation runs.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import tomlkit

from cicasim.errors import InputError, parse_toml, read_text
from cicasim.spec.scenario import parse_scenario

__all__ = ["deu_mapping", "ktab_mapping", "render_mapping"]

Notes = dict[tuple[str, ...], str]
_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


def _identifier(text: str, fallback: str) -> str:
    """A scenario identifier from free text (letters, digits, _ . -; starts alphanumeric)."""
    s = _ID.sub("-", text.strip()).strip("-_.")[:64]
    return s if s and s[0].isalnum() else fallback


def _number(raw: str, where: str, what: str) -> float:
    try:
        v = float(raw)
    except ValueError:
        raise InputError(f"{where}: expected {what}, got {raw!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{where}: expected {what}, got {raw!r}")
    return v


# -- KTAB ---------------------------------------------------------------------------------------

def ktab_mapping(path: str | Path, *, status_quo: float | None = None) -> tuple[dict, Notes]:
    """Read a KTAB SMP CSV file; returns the scenario mapping and the notes of its values."""
    path = Path(path)
    src = str(path)
    text = read_text(path, what="a KTAB SMP CSV file")
    rows = _ktab_rows(text)
    n_dim, header, body = _ktab_layout(rows, src)
    name, description = rows[0][0], rows[0][1]
    dims = _ktab_dimensions(header, n_dim)
    actors: list[dict[str, Any]] = []
    notes: Notes = {}
    seen: set[str] = set()
    for r, row in enumerate(body, start=3):
        actors.append(_ktab_actor(row, r, f"{src}: row {r}", 3 + 2 * n_dim, dims, seen, notes,
                                  path.name))
    data: dict[str, Any] = {
        "scenario": {"name": name or path.stem, "description": description,
                     "source": f"KTAB SMP file {path.name}"},
        "dimensions": dims,
        "actors": actors,
    }
    if status_quo is not None:
        data["proposals"] = [_ktab_compromise(actors, dims, status_quo)]
    return data, notes


def _ktab_rows(text: str) -> list[list[str]]:
    """The file's non-empty rows, each cell stripped (KTAB's trailing comma dropped)."""
    rows = [[c.strip() for c in r] for r in csv.reader(text.splitlines(), skipinitialspace=True)]
    rows = [r[:-1] if r and r[-1] == "" else r for r in rows]  # KTAB rows end with a comma
    return [r for r in rows if any(c for c in r)]


def _ktab_layout(rows: list[list[str]], src: str) -> tuple[int, list[str], list[list[str]]]:
    """The number of dimensions, the header row and the actor rows, once row 1's counts are
    checked against the header's width and the number of actor rows."""
    expected = ("a KTAB SMP CSV: row 1 name, description, number of actors, number of "
                "dimensions; row 2 header; then one row per actor")
    if len(rows) < 3 or len(rows[0]) < 4:
        raise InputError(f"{src}: row 1: expected {expected}")
    n_act = _number(rows[0][2], f"{src}: row 1, column 3", "the number of actors")
    n_dim = _number(rows[0][3], f"{src}: row 1, column 4", "the number of dimensions")
    if n_act != int(n_act) or n_act < 1 or n_dim != int(n_dim) or n_dim < 1:
        raise InputError(f"{src}: row 1: the numbers of actors and dimensions must be whole "
                         f"numbers >= 1, got {rows[0][2]!r} and {rows[0][3]!r}")
    n_act, n_dim = int(n_act), int(n_dim)
    header = rows[1]
    width = 3 + 2 * n_dim
    if len(header) < width:
        raise InputError(f"{src}: row 2 (header): expected {width} columns (actor, description, "
                         f"capability and a position, salience pair for each of {n_dim} "
                         f"dimensions), got {len(header)}")
    body = rows[2:]
    if len(body) != n_act:
        raise InputError(f"{src}: row 1 announces {n_act} actors but the file has {len(body)} "
                         "actor rows")
    return n_dim, header, body


def _ktab_dimensions(header: list[str], n_dim: int) -> list[dict[str, str]]:
    """The dimensions, named after their position columns (a repeated id becomes ``dimK``)."""
    dims: list[dict[str, str]] = []
    for k in range(n_dim):
        label = re.sub(r"(?i)\s*(position|pstn|pos)\s*", " ", header[3 + 2 * k]).strip()
        did = _identifier(label.lower().replace(" ", "_"), f"dim{k + 1}")
        if did in [d["id"] for d in dims]:
            did = f"dim{k + 1}"
        dims.append({"id": did, "name": label or f"dimension {k + 1}",
                     "source": f"KTAB column {header[3 + 2 * k]!r}"})
    return dims


def _ktab_actor(row: list[str], r: int, where: str, width: int, dims: list[dict[str, str]],
                seen: set[str], notes: Notes, file_name: str) -> dict[str, Any]:
    """The actor of row ``r``; its id is added to ``seen`` and its notes to ``notes``."""
    if len(row) < width:
        raise InputError(f"{where}: expected {width} columns, got {len(row)}")
    aid = _identifier(row[0], f"A{r - 2}")
    if aid in seen:
        raise InputError(f"{where}, column 1: duplicate actor {row[0]!r}; names must be unique")
    seen.add(aid)
    cap = _number(row[2], f"{where}, column 3", "a capability > 0")
    if cap <= 0:
        raise InputError(f"{where}, column 3: expected a capability > 0, got {row[2]!r}")
    pos, sal = {}, {}
    for k, d in enumerate(dims):
        c = 3 + 2 * k
        x = _number(row[c], f"{where}, column {c + 1}", "a position 0-100")
        s = _number(row[c + 1], f"{where}, column {c + 2}", "a salience 0-100")
        if not 0 <= x <= 100:
            raise InputError(f"{where}, column {c + 1}: position {row[c]!r} is outside 0-100")
        if not 0 <= s <= 100:
            raise InputError(f"{where}, column {c + 2}: salience {row[c + 1]!r} is outside "
                             "0-100")
        pos[d["id"]], sal[d["id"]] = x, round(s / 100.0, 6)
        notes[("actors", aid, "position", d["id"])] = f"KTAB row {r}, column {c + 1}"
        notes[("actors", aid, "salience", d["id"])] = f"KTAB row {r}, column {c + 2} / 100"
    total = sum(sal.values())
    if total > 1 + 1e-9:
        raise InputError(f"{where}: saliences sum to {100 * total:g}; KTAB allows at most 100 "
                         "per actor")
    notes[("actors", aid, "capability")] = f"KTAB row {r}, column 3"
    return {"id": aid, "name": row[1] or row[0], "role": "member", "capability": cap,
            "position": pos, "salience": sal, "source": f"KTAB {file_name}, row {r}"}


def _ktab_compromise(actors: list[dict[str, Any]], dims: list[dict[str, str]],
                     status_quo: float) -> dict[str, Any]:
    """The proposal at the capability x salience weighted mean (Achen 2006) against
    ``status_quo``, sponsored by the most capable actor."""
    if not 0 <= status_quo <= 100:
        raise InputError(f"--status-quo: {status_quo:g} is outside 0-100")
    sponsor = max(actors, key=lambda a: (a["capability"], a["id"]))["id"]
    touches = []
    for d in dims:
        w = [a["capability"] * a["salience"][d["id"]] for a in actors]
        x = [a["position"][d["id"]] for a in actors]
        z = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / sum(w) if sum(w) > 0 else 50.0
        touches.append({"dimension": d["id"], "position": round(z, 4),
                        "status_quo": float(status_quo)})
    return {
        "id": "compromise", "title": "The capability x salience weighted mean (Achen 2006)",
        "sponsor": sponsor, "touches": touches, "rule": {"kind": "consensus"},
        "max_rounds": 10,
        "source": "cicasim import ktab: text at the compromise point, sponsor the most "
                  "capable actor, status quo from --status-quo",
    }


# -- DEU ----------------------------------------------------------------------------------------

def deu_mapping(
    path: str | Path,
    *,
    issue: str,
    council: str | Path | None = None,
    population: str | Path | None = None,
) -> tuple[dict, Notes]:
    """One DEU issue as a scenario mapping (rules of :mod:`cicasim.validate.convert`).

    ``council`` is the Council weights table and ``population`` the World Bank population table
    (needed for the Lisbon rule); by default they are looked up beside the DEU folder, as laid
    out in the public data folder (``eu_council/council_weights.csv``, ``worldbank/``).  The
    behaviour and conversion settings are those of the shipped ``validation`` parameter set
    (fitted on DEU III, docs/validation.md), so the issue negotiates as in ``cicasim validate``.
    """
    from cicasim.validate.convert import COMMISSION_ID, issue_scenario_dict
    from cicasim.validate.council import council_at, read_council
    from cicasim.validate.deu import read_deu
    from cicasim.validate.params import load_params

    path = Path(path)
    data = read_deu(path)
    found = [i for i in data.issues if i.issue == issue]
    if not found:
        some = ", ".join(i.issue for i in data.issues[:3])
        raise InputError(f"{path}: --issue {issue!r} is not in the file; allowed: the isnr "
                         f"column's ids (e.g. {some})")
    iss = found[0]
    base = path.resolve().parent.parent
    council = Path(council) if council else base / "eu_council" / "council_weights.csv"
    if population is None and (base / "worldbank" / "wb_population.csv").is_file():
        population = base / "worldbank" / "wb_population.csv"
    if not Path(council).is_file():
        raise InputError(f"{council}: file not found; pass --council FILE (the Council weights "
                         "table, columns member, name, joined, weight_1995, weight_nice, "
                         "population_nice_millions)")
    cdata = read_council(council, population=population)
    c = council_at(cdata, iss.date)
    params = load_params()
    mapping = issue_scenario_dict(
        iss, capability=data.capability, council=c, behaviour=params.behaviour,
        uncertainty=params.uncertainty, max_rounds=params.max_rounds,
        commission_tension=params.commission_tension,
    )
    notes: Notes = {}
    if "behaviour" in mapping:
        notes[("behaviour",)] = (f"the `{params.name}` parameter set, fitted on DEU III "
                                 "(cicasim/validate/params.toml, docs/validation.md)")
    for a in mapping["actors"]:
        code = _deu_code(a["id"])
        coded = code in iss.positions
        notes[("actors", a["id"], "capability")] = (
            f"DEU capability row, p{code}" if coded else "not coded on the issue: negligible")
        if a["id"] == COMMISSION_ID and not coded:
            notes[("actors", a["id"], "position", "issue")] = (
                "Commission not coded: the members' compromise")
        else:
            notes[("actors", a["id"], "position", "issue")] = (
                f"DEU p{code}" if coded else "not coded: the status quo, for form")
        if a["id"] == COMMISSION_ID:
            notes[("actors", a["id"], "salience", "issue")] = (
                "0: the Commission never withdraws a single issue (docs/validation.md)")
        else:
            notes[("actors", a["id"], "salience", "issue")] = (
                f"DEU s{code} / 100" if coded else "not coded: no stake")
        if "votes" in a:
            notes[("actors", a["id"], "votes")] = f"Council weights, {c.period}"
        if "population" in a:
            notes[("actors", a["id"], "population")] = f"Council population criterion, {c.period}"
    mapping["scenario"]["source"] = f"DEU III file {path.name}, issue {iss.issue} (row {iss.line})"
    return mapping, notes


def _deu_code(actor_id: str) -> str:
    special = {"COM": "com", "EP": "ep", "GR": "el", "BG": "bu", "HR": "cr"}
    return special.get(actor_id, actor_id.lower())


# -- writing ------------------------------------------------------------------------------------

def _item(value: Any, note: str | None) -> Any:
    it = tomlkit.item(value)
    if note:
        it.comment(note)
    return it


def render_mapping(data: dict[str, Any], notes: Notes, *, header: list[str], source: str) -> str:
    """Commented TOML of a scenario mapping; validated before it is returned."""
    parse_scenario(data, source)
    doc = tomlkit.document()
    for line in header:
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    for key in ("scenario", "behaviour", "uncertainty"):
        if key in data:
            t = tomlkit.table()
            if (key,) in notes:
                t.add(tomlkit.comment(notes[(key,)]))
            for k, v in data[key].items():
                t.add(k, _item(v, notes.get((key, k))))
            doc.add(key, t)
    aot = tomlkit.aot()
    for d in data["dimensions"]:
        aot.append(_table(d))
    doc.add("dimensions", aot)
    actors = tomlkit.aot()
    for a in data["actors"]:
        t = tomlkit.table()
        for k, v in a.items():
            if isinstance(v, dict):
                continue
            t.add(k, _item(v, notes.get(("actors", a["id"], k))))
        for k, v in a.items():
            if not isinstance(v, dict):
                continue
            sub = tomlkit.table()
            for dk, dv in v.items():
                sub.add(dk, _item(dv, notes.get(("actors", a["id"], k, dk))))
            t.add(k, sub)
        actors.append(t)
    doc.add("actors", actors)
    for key in ("tensions", "proposals", "enlargement"):
        if data.get(key):
            arr = tomlkit.aot()
            for entry in data[key]:
                arr.append(_table(entry))
            doc.add(key, arr)
    text = tomlkit.dumps(doc)
    parse_scenario(parse_toml(text, source), source)
    return text


def _table(mapping: dict[str, Any]) -> Any:
    t = tomlkit.table()
    for k, v in mapping.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            arr = tomlkit.array()
            for e in v:
                it = tomlkit.inline_table()
                it.update(e)
                arr.append(it)
            t.add(k, arr)
        elif isinstance(v, dict):
            it = tomlkit.inline_table()
            it.update(v)
            t.add(k, it)
        else:
            t.add(k, v)
    return t
