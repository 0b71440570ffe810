"""Consensus events: real meetings whose flagship text needed consensus, and whether it came.

An event file is tab-separated with exactly these columns, in this order (``data/consensus-
events.md`` gives the coding rules):

``org date decision members rule outcome dissociated note source``

* ``date`` YYYY-MM-DD; ``members`` and ``dissociated`` ``;``-separated ISO 3166 alpha-3 codes;
  ``rule`` ``consensus``; ``outcome`` ``adopted`` or ``failed``; ``source`` the addresses of the
  pages read, separated by `` | ``.

:func:`read_events` checks every row and raises a one-line
:class:`~cicasim.errors.InputError` naming the file, the line, the column and what is allowed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cicasim.errors import InputError, read_text

__all__ = ["COLUMNS", "Event", "read_events"]

COLUMNS = ("org", "date", "decision", "members", "rule", "outcome", "dissociated", "note",
           "source")
OUTCOMES = ("adopted", "failed")
_ORG = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,31}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Event:
    """One meeting: the organisation, the date, its flagship text, who could block, and what
    happened."""

    org: str
    date: date
    decision: str
    members: tuple[str, ...]
    outcome: str
    dissociated: tuple[str, ...]
    note: str
    source: str
    line: int

    @property
    def adopted(self) -> bool:
        return self.outcome == "adopted"

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def key(self) -> str:
        """A short unique label: organisation and date."""
        return f"{self.org} {self.date.isoformat()}"


def _valid_codes() -> frozenset[str]:
    import pycountry  # ISO 3166 tables; imported here: only event files need them

    return frozenset(c.alpha_3 for c in pycountry.countries) | frozenset(
        c.alpha_3 for c in pycountry.historic_countries
    )


def _codes(text: str, where: str, valid: frozenset[str], *, empty_ok: bool) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in text.split(";")) if text.strip() else ()
    if not codes and not empty_ok:
        raise InputError(f"{where}: no codes; expected ';'-separated ISO 3166 alpha-3 codes")
    for c in codes:
        if c not in valid:
            shown = c if len(c) <= 12 else c[:12] + "..."
            raise InputError(f"{where}: {shown!r} is not an ISO 3166 alpha-3 code "
                             "(upper case, e.g. IND)")
    if len(set(codes)) != len(codes):
        raise InputError(f"{where}: a code is listed twice")
    return codes


def read_events(path: str | Path) -> list[Event]:
    """Read and check an event file (module docstring); rows in file order."""
    path = Path(path)
    text = read_text(path, what="a consensus event file, tab-separated")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise InputError(f"{path}: empty; expected a header line {' '.join(COLUMNS)}")
    head = [h.strip() for h in rows[0]]
    if tuple(head) != COLUMNS:
        missing = [c for c in COLUMNS if c not in head]
        what = f"missing column {missing[0]}" if missing else "columns out of order"
        raise InputError(f"{path}:1: {what}; expected exactly: {' '.join(COLUMNS)} "
                         "(tab-separated)")
    valid = _valid_codes()
    out: list[Event] = []
    seen: set[tuple[str, str, str]] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise InputError(f"{path}:{n}: {len(row)} columns; expected {len(COLUMNS)} "
                             "(tab-separated)")
        r = dict(zip(COLUMNS, (cell.strip() for cell in row), strict=True))
        out.append(_event(r, f"{path}:{n}", n, valid))
        k = (out[-1].org, r["date"], r["decision"])
        if k in seen:
            raise InputError(f"{path}:{n}: duplicate row (org, date, decision)")
        seen.add(k)
    if not out:
        raise InputError(f"{path}: no events below the header")
    return out


def _event(r: dict[str, str], where: str, line: int, valid: frozenset[str]) -> Event:
    if not _ORG.match(r["org"]):
        raise InputError(f"{where}: column org: expected a short id of letters and digits "
                         "(e.g. SAARC)")
    if not _DATE.match(r["date"]):
        raise InputError(f"{where}: column date: expected YYYY-MM-DD")
    try:
        day = date.fromisoformat(r["date"])
    except ValueError:
        raise InputError(f"{where}: column date: not a real date; expected YYYY-MM-DD") from None
    if not r["decision"]:
        raise InputError(f"{where}: column decision: empty; name the flagship text")
    members = _codes(r["members"], f"{where}: column members", valid, empty_ok=False)
    if r["rule"] != "consensus":
        raise InputError(f"{where}: column rule: expected consensus")
    if r["outcome"] not in OUTCOMES:
        raise InputError(f"{where}: column outcome: expected adopted or failed")
    dissociated = _codes(r["dissociated"], f"{where}: column dissociated", valid, empty_ok=True)
    stray = [c for c in dissociated if c not in members]
    if stray:
        raise InputError(f"{where}: column dissociated: {stray[0]} is not among the members")
    if not r["source"]:
        raise InputError(f"{where}: column source: empty; give the address of each page read")
    return Event(org=r["org"], date=day, decision=r["decision"], members=members,
                 outcome=r["outcome"], dissociated=dissociated, note=r["note"],
                 source=r["source"], line=line)
