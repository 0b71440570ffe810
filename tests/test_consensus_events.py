"""The consensus event file: its schema and sources, its reader's one-line errors, and the
leave-one-organisation-out split of the event validation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cicasim.cli import main
from cicasim.validate.consensus import grid_settings, leave_one_org_out
from cicasim.validate.events import COLUMNS, read_events

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "data" / "consensus-events.tsv"
MEMBERSHIPS = ROOT / "data" / "consensus-memberships.tsv"

GOOD = ("SAARC\t2014-11-26\tKathmandu Declaration\tAFG;BGD;BTN;IND;LKA;MDV;NPL;PAK\tconsensus\t"
        "adopted\t\t18th summit\thttps://example.org/a | https://example.org/b")


def _file(tmp_path: Path, *rows: str, header: str = "\t".join(COLUMNS)) -> Path:
    p = tmp_path / "events.tsv"
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_shipped_event_file_schema_and_sources():
    events = read_events(EVENTS)  # every check of the reader: codes, dates, outcome, sources
    with EVENTS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert tuple(rows[0]) == COLUMNS
    assert all(r[8].startswith("http") for r in rows[1:]), "every row names a page read"
    assert len(events) >= 150
    assert len({e.org for e in events}) >= 5
    assert sum(not e.adopted for e in events) >= 15
    keys = [(e.org, e.date, e.decision) for e in events]
    assert len(keys) == len(set(keys))


def test_shipped_membership_changes_are_sourced():
    with MEMBERSHIPS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows and set(rows[0]) == {"org", "iso3", "date", "change", "all_years", "source"}
    orgs = {e.org for e in read_events(EVENTS)}
    for r in rows:
        assert r["org"] in orgs and r["change"] in {"join", "leave", "suspend", "reinstate"}
        assert r["source"].startswith("http"), r
        assert r["all_years"] in {"0", "1"}


def test_reader_accepts_a_good_row(tmp_path):
    (e,) = read_events(_file(tmp_path, GOOD))
    assert e.org == "SAARC" and e.adopted and len(e.members) == 8 and e.year == 2014


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (GOOD.replace("2014-11-26", "26/11/2014"), "2: column date: expected YYYY-MM-DD"),
        (GOOD.replace("2014-11-26", "2014-02-30"), "2: column date: not a real date"),
        (GOOD.replace("AFG;", "XYZ;"), "2: column members: 'XYZ' is not an ISO 3166"),
        (GOOD.replace("\tadopted\t", "\tpassed\t"), "2: column outcome: expected adopted or"),
        (GOOD.replace("\tconsensus\t", "\tmajority\t"), "2: column rule: expected consensus"),
        (GOOD.replace("adopted\t\t", "adopted\tCHN\t"), "2: column dissociated: CHN is not"),
        (GOOD.rsplit("\t", 1)[0] + "\t", "2: column source: empty"),
        (GOOD.replace("\tadopted", ""), "2: 8 columns; expected 9"),
    ],
)
def test_bad_rows_get_one_line_errors_naming_row_and_column(tmp_path, capsys, row, message):
    path = _file(tmp_path, row)
    code = main(["validate", "consensus", str(path), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}:{message}" in err


def test_missing_column_and_duplicate_rows(tmp_path, capsys):
    head = "\t".join(c for c in COLUMNS if c != "dissociated")
    assert main(["validate", "consensus", str(_file(tmp_path, GOOD, header=head)),
                 "--data", str(tmp_path)]) == 2
    assert "1: missing column dissociated" in capsys.readouterr().err
    assert main(["validate", "consensus", str(_file(tmp_path, GOOD, GOOD)),
                 "--data", str(tmp_path)]) == 2
    assert "3: duplicate row" in capsys.readouterr().err


def test_leave_one_org_out_never_fits_an_organisation_on_its_own_events():
    rng = np.random.default_rng(5)
    orgs = ["A"] * 6 + ["B"] * 5 + ["C"] * 7
    y = (rng.random(len(orgs)) < 0.7).astype(float)
    settings = grid_settings({"amendment": ["compromise", "accommodate"],
                              "holdup_rate": [0.0, 0.1, 0.2]})
    table = rng.random((len(settings), len(orgs)))
    cov = {"base_rate": np.zeros(len(orgs)), "members": rng.integers(3, 30, len(orgs)) * 1.0,
           "tension": rng.random(len(orgs))}
    cv = leave_one_org_out(orgs, y, table, settings, cov)
    for org in "ABC":
        assert org not in cv.train_orgs[org]
    # changing an organisation's outcomes changes nothing of its own forecasts
    mine = np.array(orgs) == "B"
    y2 = y.copy()
    y2[mine] = 1 - y2[mine]
    cv2 = leave_one_org_out(orgs, y2, table, settings, cov)
    np.testing.assert_array_equal(cv.model[mine], cv2.model[mine])
    for b in cv.baselines:
        np.testing.assert_array_equal(cv.baselines[b][mine], cv2.baselines[b][mine])
    assert cv.chosen["B"] == cv2.chosen["B"]
    # ... while the others' fits see them
    assert not np.array_equal(cv.baselines["base_rate"][~mine], cv2.baselines["base_rate"][~mine])


def _ev(org, day, members, outcome):
    from datetime import date

    from cicasim.validate.events import Event

    return Event(org, date.fromisoformat(day), "d", tuple(members), outcome, (), "", "s", 0)


def test_enlargements_are_found_with_equal_windows():
    from cicasim.validate.consensus import enlargements

    events = [
        _ev("A", "2000-01-01", "XY", "adopted"), _ev("B", "2000-06-01", "PQ", "adopted"),
        _ev("A", "2001-01-01", "XY", "adopted"), _ev("A", "2002-01-01", "XYZ", "failed"),
        _ev("A", "2003-01-01", "XYZ", "failed"), _ev("A", "2004-01-01", "XYZ", "adopted"),
        _ev("A", "2005-01-01", "XYZ", "failed"),
    ]
    (en,) = enlargements(events)
    assert (en.org, en.index, en.joined) == ("A", 3, ("Z",))
    # two meetings before the enlargement, so two after
    assert en.before == (0, 2) and en.after == (3, 4)


def test_pooled_enlargement_by_hand():
    from cicasim.validate.consensus import pooled_enlargement

    rows = [
        {"meetings_each_side": 2, "model_delta": -0.10, "model_delta_ci": [-0.2, 0.0],
         "adopted_before": 2, "adopted_after": 1},
        {"meetings_each_side": 1, "model_delta": -0.40, "model_delta_ci": [-0.5, -0.3],
         "adopted_before": 1, "adopted_after": 0},
    ]
    pool = pooled_enlargement(rows)
    # weighted mean (2 × -0.10 + 1 × -0.40) / 3 = -0.20; observed 1/3 - 3/3 = -2/3
    assert pool["model_delta"] == pytest.approx(-0.2)
    assert pool["observed_delta"] == pytest.approx(-2 / 3)
    assert pool["meetings_each_side"] == 3
    lo, hi = pool["observed_delta_ci"]
    assert lo < -2 / 3 < hi
    assert pool["verdict"] == ("about right" if lo <= -0.2 <= hi else "smaller")


def test_shipped_parameter_set_was_fitted_on_the_shipped_events():
    import hashlib

    from cicasim.spec.paramsets import behaviour_of
    from cicasim.validate.consensus_params import load_consensus_params

    params = load_consensus_params()
    assert params["fit"]["events_sha256"] == hashlib.sha256(EVENTS.read_bytes()).hexdigest()
    assert set(params["baselines"]) == {"base_rate", "members", "tension"}
    assert behaviour_of("consensus-organisations") == params["behaviour"]
    assert params["behaviour"]["amendment"] in ("compromise", "accommodate")
