"""Calibration pipeline on small synthetic data files made here (always run), and its errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadr
import pytest

from cicasim.calibrate import calibrate, render
from cicasim.calibrate.cica import SNAPSHOT_YEARS, STATES, roster
from cicasim.cli import main
from cicasim.errors import InputError
from cicasim.spec.scenario import parse_scenario

YEAR = 2006
ASSUMPTIONS = Path(__file__).resolve().parents[1] / "scenarios" / "assumptions" / (
    "cica-assumptions.toml"
)


def _write_rda(path: Path, df: pd.DataFrame, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadr.write_rdata(str(path), df, df_name=name)


def build_data(root: Path, year: int = YEAR) -> Path:
    """A miniature copy of the public data layout covering the roster of ``year``.

    Values are made up but deterministic: capability and ideal point follow the roster order;
    India and Pakistan vote apart, fight and are rivals, so their tension must come out high.
    """
    people = roster(year)
    states = [s for s, _ in people if s.ccode is not None]
    n = len(states)
    # capabilities, every year up to ``year``
    rows = [(s.ccode, y, 0.001 * (k + 1)) for k, s in enumerate(states) for y in (year - 1, year)]
    _write_rda(root / "peacesciencer" / "cow_nmc.rda",
               pd.DataFrame(rows, columns=["ccode", "year", "cinc"]).astype(float), "cow_nmc")
    # ideal points (plus two outside states that set the world range)
    ip = [(s.ccode, s.iso3, year, -1.0 + 2.0 * k / n) for k, s in enumerate(states)]
    ip += [(2001, "XXA", year, -2.0), (2002, "XXB", year, 3.0)]
    (root / "bsv_idealpoints").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(ip, columns=["ccode", "iso3c", "year", "idealpointfp"]).to_stata(
        root / "bsv_idealpoints" / "IdealpointsJuly2025.dta", write_index=False
    )
    # UNGA: 40 roll calls in the scenario year; everyone yes except Pakistan (no on even calls)
    votes = []
    for rc in range(40):
        for s in states:
            v = "no" if (s.iso3 == "PAK" and rc % 2 == 0) else "yes"
            votes.append((float(rc), s.iso2, v))
    vdf = pd.DataFrame(votes, columns=["rcid", "country_code", "vote"])
    vdf["vote"] = pd.Categorical(vdf["vote"], categories=["yes", "abstain", "no"])
    _write_rda(root / "unvotes" / "un_votes.rda", vdf, "un_votes")
    calls = pd.DataFrame({"rcid": np.arange(40, dtype=float),
                          "date": [f"{year}-03-{1 + rc % 28:02d}" for rc in range(40)]})
    _write_rda(root / "unvotes" / "un_roll_calls.rda", calls, "un_roll_calls")
    # disputes and rivalries: India-Pakistan
    mids = pd.DataFrame([(750.0, 770.0, float(year - 1), 4.0), (750.0, 770.0, float(year), 5.0)],
                        columns=["ccode1", "ccode2", "year", "hostlev"])
    _write_rda(root / "peacesciencer" / "cow_mid_ddydisps.rda", mids, "cow_mid_ddydisps")
    td = pd.DataFrame([(750.0, 770.0, 1947.0, 2010.0)],
                      columns=["ccode1", "ccode2", "styear", "endyear"])
    _write_rda(root / "peacesciencer" / "td_rivalries.rda", td, "td_rivalries")
    tss = pd.DataFrame([(750.0, 770.0, 1947.0, 2020.0)],
                       columns=["ccode1", "ccode2", "start", "end"])
    _write_rda(root / "peacesciencer" / "tss_rivalries.rda", tss, "tss_rivalries")
    # IGO memberships: Egypt and Jordan in the Arab League, the Central Asians in the SCO
    orgs = ["sco", "asean", "gcc", "saarc", "loas", "oic", "cis", "csto", "eaec", "eco"]
    igo = []
    for s in states:
        row = {"ccode": float(s.ccode), "year": float(min(year, 2014))}
        for o in orgs:
            row[o] = 0.0
        if s.iso3 in ("EGY", "JOR", "LBN"):
            row["loas"] = 1.0
        if s.iso3 in ("KAZ", "KGZ", "TJK", "UZB", "CHN", "RUS"):
            row["sco"] = 1.0
        igo.append(row)
    _write_rda(root / "cow_igo_igoR" / "state_year_format3.rda", pd.DataFrame(igo),
               "state_year_format3")
    (root / "derived").mkdir(parents=True, exist_ok=True)
    pd.DataFrame([("OTS", "Turkic Council", "KAZ", 705, "", "full", 2009, "", "example.org")],
                 columns=["org", "org_name", "iso3c", "ccode", "cow_state", "status",
                          "year_from", "year_to", "basis"]).to_csv(
        root / "derived" / "org_memberships_cica_relevant.csv", index=False)
    # World Bank GDP and population, every roster state including Palestine
    (root / "worldbank").mkdir(parents=True, exist_ok=True)
    wb = [(s.name, s.iso3, year, 1e9 * (k + 1)) for k, (s, _) in enumerate(people)]
    pd.DataFrame(wb, columns=["Country Name", "Country Code", "Year", "Value"]).to_csv(
        root / "worldbank" / "wb_gdp.csv", index=False)
    pop = [(s.name, s.iso3, year, 1e6 * (k + 2)) for k, (s, _) in enumerate(people)]
    pd.DataFrame(pop, columns=["Country Name", "Country Code", "Year", "Value"]).to_csv(
        root / "worldbank" / "wb_population.csv", index=False)
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def text(data) -> str:
    return render(calibrate(data=data, year=YEAR, assumptions=ASSUMPTIONS), command="test")


def _tension(doc: dict, a: str, b: str) -> float:
    for t in doc["tensions"]:
        if set(t["pair"]) == {a, b}:
            return t["value"]
    raise KeyError((a, b))


def test_roster_counts_follow_the_cica_facts():
    # CICA_FACTS.md: 16 members at the 2002 summit, 28 since Oct 2022, 9 observer states at the
    # 2022 summit, Saudi Arabia the 10th observer from Dec 2023
    counts = {y: (sum(r == "member" for _, r in roster(y)), sum(r == "observer" for _, r in
                                                               roster(y))) for y in SNAPSHOT_YEARS}
    assert counts[2002][0] == 16
    assert counts[2022] == (28, 9)
    assert counts[2024] == (28, 10)
    assert {s.iso3 for s, r in roster(2022) if r == "observer"} == {
        "BLR", "IDN", "JPN", "LAO", "MYS", "PHL", "TKM", "UKR", "USA"}
    assert len({s.iso3 for s in STATES}) == len(STATES)


def test_synthetic_calibration_is_a_valid_scenario_with_everyone(text):
    doc = tomllib.loads(text)
    s = parse_scenario(doc, "synthetic")
    want = {x.iso3: r for x, r in roster(YEAR)}
    assert {a.id: a.role for a in s.actors} == want
    n = len(want)
    assert len(s.tensions) == n * (n - 1) // 2
    for a in s.actors:
        assert a.capability > 0
        assert all(0 <= v <= 100 for v in a.position.values())
        assert all(0 <= v <= 1 for v in a.salience.values())
    assert all(0 <= t.value <= 1 for t in s.tensions)
    np.testing.assert_allclose(sum(a.capability for a in s.actors), 100.0, atol=0.01)
    assert [p.id for p in s.proposals] == ["financial-summit", "interconnectivity-council",
                                           "transformation"]
    observers = {a.id for a in s.observers}
    assert [e.actor for e in s.enlargement] and {e.actor for e in s.enlargement} == observers


def test_india_pakistan_tension_above_the_median(text):
    doc = tomllib.loads(text)
    values = [t["value"] for t in doc["tensions"]]
    assert _tension(doc, "IND", "PAK") > np.median(values)
    # by the formula: U = 0.5 (Pakistan votes no on half the calls), M from two dispute-years,
    # R = 1 (rivalry running), N = 1 (named dispute): T = 1 - (1-.25)(1-.5M)(1-.5)(1-.4)
    m = 1 - np.exp(-(4 / 5 * 0.5 ** (1 / 10) + 5 / 5))
    want = 1 - (1 - 0.5 * 0.5) * (1 - 0.5 * m) * 0.5 * 0.6
    np.testing.assert_allclose(_tension(doc, "IND", "PAK"), want, atol=1e-3)


def test_alignment_rescaled_over_the_world_range(text):
    doc = tomllib.loads(text)
    states = [s for s, _ in roster(YEAR) if s.ccode is not None]
    k = next(i for i, s in enumerate(states) if s.iso3 == "CHN")
    ideal = -1.0 + 2.0 * k / len(states)
    chn = next(a for a in doc["actors"] if a["id"] == "CHN")
    np.testing.assert_allclose(chn["position"]["alignment"], 100 * (ideal + 2) / 5, atol=0.05)


def test_palestine_is_imputed_and_flagged(text):
    lines = [ln for ln in text.splitlines() if "imputed" in ln]
    assert any(ln.startswith("capability") for ln in lines)
    assert any(ln.startswith("alignment") for ln in lines)
    doc = tomllib.loads(text)
    pse = next(a for a in doc["actors"] if a["id"] == "PSE")
    assert set(pse["blocs"]) >= {"ArabLeague", "OIC"}


def test_actor_position_sd_only_where_it_differs_from_the_scenario_wide_one(text):
    # a copy of the scenario-wide value in every actor would make an experiment's `position_sd`
    # uncertainty factor do nothing; Palestine's imputed alignment raises its own by 5
    doc = tomllib.loads(text)
    wide = doc["uncertainty"]["position_sd"]
    own = {a["id"]: a["uncertainty"] for a in doc["actors"] if "uncertainty" in a}
    assert set(own) == {"PSE"}
    np.testing.assert_allclose(own["PSE"]["position_sd"], wide + 5.0)
    np.testing.assert_allclose(own["PSE"]["capability_sd"], 0.5)
    scenario = parse_scenario(doc, "<test>")
    sds = {a.id: a.uncertainty.position_sd for a in scenario.actors}
    assert all(v is None for k, v in sds.items() if k != "PSE")


def test_every_number_carries_a_comment(text):
    import re

    numeric = [ln for ln in text.splitlines() if re.match(r"^[a-z_]+ = -?[0-9]", ln)]
    assert numeric
    assert all("#" in ln for ln in numeric), [ln for ln in numeric if "#" not in ln][:3]


def test_calibration_is_deterministic(data, text):
    again = render(calibrate(data=data, year=YEAR, assumptions=ASSUMPTIONS), command="test")
    assert again == text


def test_gdp_capability(data):
    cal = calibrate(data=data, year=YEAR, capability="gdp", assumptions=ASSUMPTIONS)
    caps = {a.state.iso3: a.capability.value for a in cal.actors}
    np.testing.assert_allclose(sum(caps.values()), 100.0, atol=0.01)
    assert "GDP" in cal.actors[0].capability.note


def test_cli_writes_the_file(data, tmp_path, capsys):
    out = tmp_path / "s.toml"
    rc = main(["calibrate", "--data", str(data), "--year", str(YEAR), "--out", str(out),
               "--assumptions", str(ASSUMPTIONS)])
    assert rc == 0
    assert "18 members, 4 observers" in capsys.readouterr().out
    parse_scenario(tomllib.loads(out.read_text()), str(out))


def _fails(argv, capsys) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("cicasim: error: ") and err.count("\n") == 1
    return err


@pytest.mark.parametrize("victim", ["peacesciencer/cow_nmc.rda", "unvotes/un_votes.rda",
                                    "worldbank/wb_population.csv",
                                    "bsv_idealpoints/IdealpointsJuly2025.dta"])
def test_missing_data_file_is_one_line_exit_2(data, tmp_path, capsys, victim):
    import shutil

    copy = shutil.copytree(data, tmp_path / "d")
    (copy / victim).unlink()
    out = tmp_path / "s.toml"
    err = _fails(["calibrate", "--data", str(copy), "--year", str(YEAR), "--out", str(out),
                  "--assumptions", str(ASSUMPTIONS)], capsys)
    assert victim.split("/")[-1] in err and "file not found; expected" in err
    assert not out.exists()


def test_corrupt_and_incomplete_files(data, tmp_path, capsys):
    import shutil

    copy = shutil.copytree(data, tmp_path / "d")
    (copy / "peacesciencer" / "cow_nmc.rda").write_bytes(b"not an R file")
    err = _fails(["calibrate", "--data", str(copy), "--year", str(YEAR), "--out", "-",
                  "--assumptions", str(ASSUMPTIONS)], capsys)
    assert "cow_nmc.rda: not a readable R data file" in err
    shutil.copy(data / "peacesciencer" / "cow_nmc.rda", copy / "peacesciencer" / "cow_nmc.rda")
    (copy / "worldbank" / "wb_gdp.csv").write_text("a,b\n1,2\n")
    err = _fails(["calibrate", "--data", str(copy), "--year", str(YEAR), "--out", "-",
                  "--assumptions", str(ASSUMPTIONS)], capsys)
    assert "wb_gdp.csv: missing column(s) Country Code, Year, Value" in err


def test_bad_options(data, tmp_path, capsys):
    err = _fails(["calibrate", "--data", str(tmp_path / "nowhere"), "--year", "2022", "--out",
                  "-"], capsys)
    assert "data directory not found" in err
    err = _fails(["calibrate", "--data", str(data), "--year", "1990", "--out", "-"], capsys)
    assert "--year: 1990" in err
    err = _fails(["calibrate", "--data", str(data), "--year", str(YEAR), "--out", "-",
                  "--assumptions", str(tmp_path / "none.toml")], capsys)
    assert "assumptions file not found" in err


def test_bad_assumptions(data, tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text(ASSUMPTIONS.read_text().replace("mid_weight = 0.5", "mid_weight = 1.5"))
    with pytest.raises(InputError, match=r"tension\.mid_weight: expected a number"):
        calibrate(data=data, year=YEAR, assumptions=bad)


def test_path_scenario_keeps_the_years_inputs(data):
    full = calibrate(data=data, year=YEAR, assumptions=ASSUMPTIONS)
    path = calibrate(data=data, year=YEAR, assumptions=ASSUMPTIONS, members_as_of=2002)
    roles = {a.state.iso3: a.role for a in path.actors}
    assert sum(r == "member" for r in roles.values()) == 16
    # THA (2004) and KOR (2006) join first, in their order of accession, then the observers
    assert [e.value for e in path.enlargement][:2] == ["THA", "KOR"]
    assert len(path.enlargement) == len(path.actors) - 16
    same = {a.state.iso3: (a.capability, a.position, a.salience) for a in full.actors}
    assert {a.state.iso3: (a.capability, a.position, a.salience) for a in path.actors} == same
    def pairs(cal):
        return {frozenset(t.pair): t.value for t in cal.tensions}

    assert pairs(path) == pairs(full)
    text = render(path, command="test")
    assert 'name = "cica-path-2002-2006"' in text
    with pytest.raises(InputError, match="--members-as-of: 2006 must be from 2002 to 2005"):
        calibrate(data=data, year=YEAR, assumptions=ASSUMPTIONS, members_as_of=YEAR)
