"""Calibration on the real public data sets (skipped when ../shared/data is absent), and the
bundled CICA scenarios it produced."""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from cicasim.calibrate import calibrate, render
from cicasim.calibrate.cica import SNAPSHOT_YEARS, roster
from cicasim.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
SCENARIOS = ROOT / "scenarios"

needs_data = pytest.mark.skipif(
    not (DATA / "peacesciencer" / "cow_nmc.rda").is_file(),
    reason="public data sets not found at ../shared/data (see docs/calibration.md to get them)",
)


def _median_and(doc: dict, *pairs: tuple[str, str]) -> tuple[float, list[float]]:
    values = [t["value"] for t in doc["tensions"]]
    lookup = {frozenset(t["pair"]): t["value"] for t in doc["tensions"]}
    return float(np.median(values)), [lookup[frozenset(p)] for p in pairs]


@pytest.mark.parametrize("year", SNAPSHOT_YEARS)
def test_bundled_scenarios_hold_the_years_roster(year):
    s = load_scenario(SCENARIOS / f"cica-{year}.toml")
    assert {a.id: a.role for a in s.actors} == {x.iso3: r for x, r in roster(year)}
    assert s.scenario.year == year
    for a in s.actors:
        assert a.capability > 0
        assert all(0 <= v <= 100 for v in a.position.values())
        assert all(0 <= v <= 1 for v in a.salience.values())
    assert all(0 <= t.value <= 1 for t in s.tensions)
    n = len(s.actors)
    assert len(s.tensions) == n * (n - 1) // 2
    assert {p.id for p in s.proposals} == {"financial-summit", "interconnectivity-council",
                                           "transformation"}
    assert all(p.rule.kind == "consensus" for p in s.proposals)


@pytest.mark.parametrize("year", SNAPSHOT_YEARS)
def test_bundled_scenarios_comment_every_number(year):
    text = (SCENARIOS / f"cica-{year}.toml").read_text()
    numeric = [ln for ln in text.splitlines() if re.match(r"^[a-z_]+ = -?[0-9]", ln)]
    assert numeric and all("#" in ln for ln in numeric)


def test_cica_2022_rivals_above_the_median():
    doc = tomllib.loads((SCENARIOS / "cica-2022.toml").read_text())
    med, (ind_pak, isr_irn) = _median_and(doc, ("IND", "PAK"), ("ISR", "IRN"))
    assert ind_pak > med and isr_irn > med


@pytest.fixture(scope="module")
def fresh_2022() -> str:
    cal = calibrate(data=DATA, year=2022)
    return render(cal, command="cicasim calibrate --data DATA --year 2022")


@needs_data
def test_bundled_2022_is_what_the_pipeline_writes(fresh_2022):
    # deterministic and up to date: a fresh calibration gives the committed bytes
    assert fresh_2022 == (SCENARIOS / "cica-2022.toml").read_text()


@needs_data
def test_real_2022_members_match_the_cross_check_table(fresh_2022):
    doc = tomllib.loads(fresh_2022)
    with open(DATA / "derived" / "cica_states.csv", newline="") as f:
        table = list(csv.DictReader(f))
    members = {r["iso3c"] for r in table if r["cica_status_2024"] == "member"}
    observers = {r["iso3c"] for r in table if r["cica_status_2024"] == "observer"} - {"SAU"}
    got = {a["id"]: a["role"] for a in doc["actors"]}
    assert {k for k, v in got.items() if v == "member"} == members
    assert {k for k, v in got.items() if v == "observer"} == observers
    joined = {r["iso3c"]: int(r["joined_as_member"]) for r in table if r["joined_as_member"]}
    for year in SNAPSHOT_YEARS:
        want = {k for k, y in joined.items() if max(y, 2002) <= year}
        assert {s.iso3 for s, r in roster(year) if r == "member"} == want, year
    facts = (DATA / "cica_facts" / "CICA_FACTS.md").read_text()
    for a in doc["actors"]:
        assert a["name"] in facts, a["name"]


@needs_data
def test_real_2022_values_and_rivals(fresh_2022):
    doc = tomllib.loads(fresh_2022)
    med, (ind_pak, isr_irn) = _median_and(doc, ("IND", "PAK"), ("ISR", "IRN"))
    assert ind_pak > med and isr_irn > med
    caps = {a["id"]: a["capability"] for a in doc["actors"]}
    np.testing.assert_allclose(sum(caps.values()), 100.0, atol=0.01)
    # China holds the largest CINC share of CICA 2022 (COW NMC v7), the United States second
    assert sorted(caps, key=caps.get)[-2:] == ["USA", "CHN"]


def test_history_path_scenario_and_experiment():
    full = load_scenario(SCENARIOS / "cica-2022.toml")
    path = load_scenario(SCENARIOS / "cica-path-2002-2022.toml")
    assert {a.id for a in path.members} == {s.iso3 for s, r in roster(2002) if r == "member"}
    inputs = {a.id: (a.capability, a.position, a.salience) for a in full.actors}
    assert {a.id: (a.capability, a.position, a.salience) for a in path.actors} == inputs
    # the real accessions 2004-2022, in order, then the 2022 observer states
    steps = [e.actor for e in path.enlargement]
    assert steps[:12] == ["THA", "KOR", "ARE", "JOR", "IRQ", "VNM", "BHR", "KHM", "BGD", "QAT",
                          "LKA", "KWT"]
    assert {a.id for a in full.members} == {a.id for a in path.members} | set(steps[:12])
    from cicasim.sweep import load_experiment

    exp, _ = load_experiment(ROOT / "experiments" / "cica-path.toml")
    assert exp.factors[0].values == list(range(13))
