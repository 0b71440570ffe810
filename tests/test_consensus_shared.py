"""Any organisation from the public data, and the event validation end to end (needs
../shared/data; skipped with the reason when it is absent)."""

from __future__ import annotations

import json
import tomllib

import pytest

from cicasim.cli import main
from cicasim.spec.scenario import load_scenario
from tests.conftest import shared_data

SAARC = "AFG,BGD,BTN,IND,LKA,MDV,NPL,PAK"


@pytest.fixture(scope="module")
def data():
    return shared_data("peacesciencer").parent


def test_calibrate_any_organisation(data, tmp_path, capsys):
    out = tmp_path / "saarc.toml"
    code = main(["calibrate", "--data", str(data), "--year", "2014", "--members", SAARC,
                 "--observers", "CHN,PSE", "--name", "SAARC", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    s = load_scenario(out)
    assert [a.id for a in s.members] == SAARC.split(",")
    assert [a.id for a in s.observers] == ["CHN", "PSE"]
    (p,) = s.proposals
    assert p.id == "flagship" and p.rule.kind == "consensus"
    assert p.sponsor in SAARC.split(",")
    assert [(t.dimension, t.position, t.status_quo) for t in p.touches] == [
        ("commitment", 100.0, 0.0)]
    # commitment = 100 - |alignment - reference|: the sponsor sits closest to the reference
    ref_gap = {a.id: 100 - a.position["commitment"] for a in s.members}
    assert ref_gap[p.sponsor] == min(ref_gap.values())
    # Palestine has no COW code and no UNGA votes: stated fallbacks, warned, never zero
    assert "PSE" in err and "warning" in err
    text = out.read_text()
    assert "fallback" in text or "imputed" in text
    pse = s.actor("PSE")
    assert pse.capability > 0


def test_calibrate_chair_and_member_errors(data, tmp_path, capsys):
    out = tmp_path / "x.toml"
    assert main(["calibrate", "--data", str(data), "--year", "2014", "--members", "IND,PAK",
                 "--chair", "NPL", "--out", str(out)]) == 2
    assert "--chair: 'NPL' is not among the members" in capsys.readouterr().err
    assert main(["calibrate", "--data", str(data), "--year", "2014", "--members", "IND,XXX",
                 "--out", str(out)]) == 2
    assert "'XXX' is not an ISO 3166 alpha-3" in capsys.readouterr().err
    assert not out.exists()
    assert main(["calibrate", "--data", str(data), "--year", "2014", "--members", "IND,PAK",
                 "--chair", "PAK", "--out", str(out)]) == 0
    s = load_scenario(out)
    assert s.proposals[0].sponsor == "PAK"
    assert s.actor("PAK").position["commitment"] == 100.0


ROWS = [
        "SAARC\t2014-11-26\tKathmandu Declaration\tAFG;BGD;BTN;IND;LKA;MDV;NPL;PAK\tconsensus\t"
        "adopted\t\t\thttps://example.org/1",
        "SAARC\t2016-11-09\t19th summit\tAFG;BGD;BTN;IND;LKA;MDV;NPL;PAK\tconsensus\tfailed\t\t\t"
        "https://example.org/2",
        "SCO\t2014-09-12\tDushanbe Declaration\tCHN;KAZ;KGZ;RUS;TJK;UZB\tconsensus\tadopted\t\t\t"
        "https://example.org/3",
        "SCO\t2018-06-10\tQingdao Declaration\tCHN;IND;KAZ;KGZ;PAK;RUS;TJK;UZB\tconsensus\t"
        "adopted\tIND\t\thttps://example.org/4",
]


def _events(tmp_path):
    path = tmp_path / "ev.tsv"
    path.write_text("org\tdate\tdecision\tmembers\trule\toutcome\tdissociated\tnote\tsource\n"
                    + "\n".join(ROWS) + "\n")
    return path


def test_validate_consensus_end_to_end(data, tmp_path, capsys):
    path = _events(tmp_path)
    out = tmp_path / "res"
    params = tmp_path / "params.toml"
    code = main(["validate", "consensus", str(path), "--data", str(data), "-n", "16", "--refit",
                 "--json", "--out", str(out), "--write-params", str(params)])
    s = json.loads(capsys.readouterr().out)
    assert code == 0
    assert s["mode"] == "cross-validated"
    assert (s["n_events"], s["n_failed"], s["n_organisations"]) == (4, 1, 2)
    for k in ("brier", "log_loss", "auc", "bss"):
        assert k in s
    for b in ("base_rate", "members", "tension"):
        assert set(s["baselines"][b]) >= {"brier", "log_loss"}
    assert s["bss"] == pytest.approx(1 - s["brier"] / s["baselines"]["base_rate"]["brier"])
    assert {o["org"] for o in s["by_organisation"]} == {"SAARC", "SCO"}
    assert set(s["protocols"]) == {"compromise", "accommodate"}
    # the SCO's 2018 meeting is an enlargement (+IND, PAK) with one meeting on each side
    (en,) = s["enlargement"]
    assert en["org"] == "SCO" and en["joined"] == ["IND", "PAK"]
    assert en["meetings_each_side"] == 1
    assert (out / "reliability.png").stat().st_size > 0
    assert (out / "events.csv").exists()
    fitted = tomllib.loads(params.read_text())
    assert fitted["behaviour"]["amendment"] in ("compromise", "accommodate")
    assert set(fitted["baselines"]) == {"base_rate", "members", "tension"}


def test_scenario_mapping_equals_the_rendered_file(data):
    import tomllib

    from cicasim.calibrate.organisation import calibrate_organisation
    from cicasim.calibrate.writer import render, scenario_mapping
    from cicasim.spec.scenario import parse_scenario

    cal = calibrate_organisation(data=data, year=2018, members=SAARC.split(","),
                                 observers=["CHN"], name="SAARC", chair="NPL")
    assert parse_scenario(scenario_mapping(cal)) == parse_scenario(
        tomllib.loads(render(cal, command="test")))


def test_another_file_is_scored_with_the_shipped_parameters(data, tmp_path, capsys):
    import csv

    import numpy as np

    from cicasim.validate.consensus_params import load_consensus_params
    from cicasim.validate.scores import logistic

    shipped = load_consensus_params()
    out = tmp_path / "res"
    assert main(["validate", "consensus", str(_events(tmp_path)), "--data", str(data), "-n", "16",
                 "--json", "--out", str(out)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["mode"] == "frozen"
    assert s["chosen"] == {"all": shipped["behaviour"]}
    assert s["protocols"] == {}
    with (out / "events.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    # nothing fitted to the file: the baselines use the shipped coefficients
    a, b = shipped["baselines"]["base_rate"]
    np.testing.assert_allclose([float(r["p_base_rate"]) for r in rows], logistic(a, b, 0.0))
    a, b = shipped["baselines"]["members"]
    np.testing.assert_allclose([float(r["p_members"]) for r in rows],
                               logistic(a, b, [float(r["members"]) for r in rows]))
