"""Reader for the DEU III data on EU legislative negotiations (Arregui & Perarnaud 2022).

The file is tab-separated: a header, then a *capability row* (one capability per actor in the
``p<actor>`` columns, every other cell blank), then one row per controversial issue.  An issue
holds the positions ``p<actor>`` and saliences ``s<actor>`` (both 0-100) of the Commission
(``com``), the European Parliament (``ep``) and the member states (two-letter DEU codes; Greece
is ``el``, Bulgaria ``bu``, Croatia ``cr``), the reference point ``rp`` (the outcome had no
law been adopted) and the decision outcome ``out``.  A blank position means the actor was not a
member or was not coded on that issue; its salience is then ignored.  A blank salience beside a
coded position (27 cells of the public development file) is read as 0: the actor is on record
but puts no weight on the issue.  This is the reading under which the published benchmark
figures of the file (compromise model 22.81, weighted median 26.42) are reproduced.

Dates in ``intro`` come in three shapes: ``dd-mm-yy``, ``dd-mm-yyyy`` and, for some rows of the
public copy, ``yyyy-mm-dd``, which is a ``dd-mm-yy`` date that a spreadsheet read as
``yy-mm-dd`` (``2014-07-04`` is 14 July 2004).  Such a date is read both ways and the reading
whose year agrees with the year in the proposal id (``d04163`` -> 2004) is kept.

Every problem raises :class:`~cicasim.errors.InputError` with one line naming the file, the row
(1-based line number), the column and what was expected.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cicasim.errors import InputError, read_text

__all__ = [
    "COMMISSION",
    "PARLIAMENT",
    "PROCEDURES",
    "RULES",
    "STATES",
    "DeuData",
    "DeuIssue",
    "parse_intro",
    "read_deu",
]

COMMISSION = "com"
PARLIAMENT = "ep"
#: The member-state columns of the DEU III file, in file order.
STATES = (
    "at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu", "ie", "it",
    "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk",
)
ACTORS = (COMMISSION, PARLIAMENT, *STATES)
#: Legislative procedures: codecision (ordinary legislative procedure) and consultation.
PROCEDURES = ("COD", "CNS")
#: Council voting rules: qualified majority, unanimity, and qualified majority cast by at least
#: ten members (TEC art. 205(2), acts not on a Commission proposal).
RULES = ("QMV", "Unan", "QMV(10)")
META = ("prnr", "isnr", "prname", "proc", "counvte", "intro")


@dataclass(frozen=True)
class DeuIssue:
    """One controversial issue of one legislative proposal."""

    proposal: str  # proposal id (prnr), the unit of cross-validation
    issue: str  # issue id (isnr)
    name: str  # short name of the proposal (prname)
    procedure: str  # COD or CNS
    rule: str  # QMV, Unan or QMV(10)
    date: date  # the Commission's proposal (intro)
    positions: dict[str, float]  # coded actors only, 0-100
    saliences: dict[str, float]  # same keys, 0-100
    reference: float | None  # rp, the status quo; None when blank
    outcome: float | None  # out; None when blank
    line: int = 0  # line number in the file (1-based)
    blank_salience: tuple[str, ...] = ()  # coded actors whose salience cell was blank (read as 0)
    extra: dict[str, str] = field(default_factory=dict)  # other columns, verbatim

    @property
    def states(self) -> list[str]:
        """The member states coded on this issue, in file order."""
        return [a for a in STATES if a in self.positions]


@dataclass(frozen=True)
class DeuData:
    """A DEU file: the capability row and the issues, in file order."""

    path: str
    capability: dict[str, float]
    issues: tuple[DeuIssue, ...]

    def with_outcome(self) -> list[DeuIssue]:
        """The issues whose outcome is coded (the ones a prediction can be scored on)."""
        return [i for i in self.issues if i.outcome is not None]


def _two_digit_year(yy: int) -> int:
    return 1900 + yy if yy >= 50 else 2000 + yy


def _proposal_year(prnr: str) -> int | None:
    m = re.match(r"^[A-Za-z](\d{2})", prnr)
    return _two_digit_year(int(m.group(1))) if m else None


def parse_intro(text: str, *, proposal: str = "") -> date:
    """The date of a proposal from the ``intro`` column (see the module docstring).

    Raises :class:`ValueError` when the text is not a date in one of the known shapes.
    """
    text = text.strip()
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})-(\d{2}|\d{4})", text)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        return date(_two_digit_year(int(y)) if len(y) == 2 else int(y), mo, d)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not m:
        raise ValueError("not a date")
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    candidates = []
    for cand in ((y, mo, d), (_two_digit_year(d), mo, y % 100)):
        try:
            candidates.append(date(*cand))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("not a date")
    want = _proposal_year(proposal)
    for c in candidates:
        if c.year == want:
            return c
    return candidates[0]


class _Row:
    """Cell access with one-line errors naming file, line and column."""

    def __init__(self, path: str, line: int, cells: dict[str, str]) -> None:
        self.path, self.line, self.cells = path, line, cells

    def fail(self, column: str, expected: str) -> InputError:
        got = self.cells.get(column, "")
        return InputError(
            f"{self.path}: row {self.line}, column {column!r}: expected {expected}, got {got!r}"
        )

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def number(self, column: str, *, low: float, high: float, blank: bool) -> float | None:
        raw = self.text(column)
        if raw == "":
            if blank:
                return None
            raise self.fail(column, f"a number {low:g}-{high:g}")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise self.fail(column, f"a number {low:g}-{high:g}" + (" or blank" if blank else ""))
        return value


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    text = read_text(path, what="a DEU III table, tab-separated")
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError(f"{path}: empty file; expected a tab-separated DEU III table")
    return [c.strip() for c in rows[0]], rows[1:]


def read_deu(path: str | Path) -> DeuData:
    """Read a DEU III issue file (tab-separated; layout in the module docstring)."""
    path = Path(path)
    header, body = _read_rows(path)
    src = str(path)
    required = [*META, *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS), "rp", "out"]
    missing = [c for c in required if c not in header]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise InputError(
            f"{src}: row 1 (header): missing column(s) {shown}; expected the DEU III layout "
            "(tab-separated, columns prnr, isnr, proc, counvte, intro, p<actor>, s<actor>, rp, "
            "out)"
        )
    dup = sorted({c for c in header if c and header.count(c) > 1})
    if dup:
        raise InputError(f"{src}: row 1 (header): duplicate column {dup[0]!r}")
    rows = [(i + 2, r) for i, r in enumerate(body) if any(c.strip() for c in r)]
    for line, r in rows:
        if len(r) > len(header):
            raise InputError(
                f"{src}: row {line}: {len(r)} cells but the header has {len(header)} columns"
            )
    if not rows:
        raise InputError(f"{src}: row 2: expected the capability row, found no data")
    line, first = rows[0]
    cap_row = _Row(src, line, dict(zip(header, first, strict=False)))
    if cap_row.text("isnr") or cap_row.text("prnr"):
        raise cap_row.fail(
            "isnr", "the capability row (blank ids, a capability per actor in p<actor>)"
        )
    capability: dict[str, float] = {}
    for a in ACTORS:
        value = cap_row.number(f"p{a}", low=0, high=math.inf, blank=False)
        if value is None or value <= 0:
            raise cap_row.fail(f"p{a}", "a capability > 0")
        capability[a] = value
    issues: list[DeuIssue] = []
    seen: dict[str, int] = {}
    for line, r in rows[1:]:
        row = _Row(src, line, dict(zip(header, r, strict=False)))
        issues.append(_issue(row, header))
        key = issues[-1].issue
        if key in seen:
            raise row.fail("isnr", f"a unique issue id (also on row {seen[key]})")
        seen[key] = line
    if not issues:
        raise InputError(f"{src}: no issue rows after the capability row")
    return DeuData(path=src, capability=capability, issues=tuple(issues))


def _issue(row: _Row, header: list[str]) -> DeuIssue:
    prnr, isnr = row.text("prnr"), row.text("isnr")
    if not prnr:
        raise row.fail("prnr", "a proposal id")
    if not isnr:
        raise row.fail("isnr", "an issue id")
    proc = row.text("proc")
    if proc not in PROCEDURES:
        raise row.fail("proc", f"a procedure, one of {', '.join(PROCEDURES)}")
    rule = row.text("counvte")
    if rule not in RULES:
        raise row.fail("counvte", f"a Council rule, one of {', '.join(RULES)}")
    try:
        when = parse_intro(row.text("intro"), proposal=prnr)
    except ValueError:
        raise row.fail("intro", "a date dd-mm-yy, dd-mm-yyyy or yyyy-mm-dd") from None
    positions: dict[str, float] = {}
    saliences: dict[str, float] = {}
    blank: list[str] = []
    for a in ACTORS:
        x = row.number(f"p{a}", low=0, high=100, blank=True)
        if x is None:
            continue
        s = row.number(f"s{a}", low=0, high=100, blank=True)
        if s is None:
            blank.append(a)
        positions[a], saliences[a] = x, (0.0 if s is None else s)
    if not positions:
        raise row.fail("p" + COMMISSION, "at least one coded position on the issue")
    known = set(META) | {f"p{a}" for a in ACTORS} | {f"s{a}" for a in ACTORS} | {"rp", "out"}
    return DeuIssue(
        proposal=prnr,
        issue=isnr,
        name=row.text("prname"),
        procedure=proc,
        rule=rule,
        date=when,
        positions=positions,
        saliences=saliences,
        reference=row.number("rp", low=0, high=100, blank=True),
        outcome=row.number("out", low=0, high=100, blank=True),
        line=row.line,
        blank_salience=tuple(blank),
        extra={c: row.text(c) for c in header if c and c not in known},
    )
