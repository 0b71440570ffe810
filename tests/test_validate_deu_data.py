"""Validation on the public DEU III development file (skipped when the shared data are absent)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.validate.baselines import baselines
from cicasim.validate.convert import issue_scenario
from cicasim.validate.council import council_at, read_council
from cicasim.validate.deu import read_deu

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DEU = DATA / "deu3" / "deu3_dev.tsv"
WEIGHTS = DATA / "eu_council" / "council_weights.csv"
POPULATION = DATA / "worldbank" / "wb_population.csv"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (DEU.exists() and WEIGHTS.exists() and POPULATION.exists()),
        reason="public data not found at ../shared/data (deu3, eu_council, worldbank)",
    ),
]


@pytest.fixture(scope="module")
def deu():
    return read_deu(DEU)


@pytest.fixture(scope="module")
def council():
    return read_council(WEIGHTS, population=POPULATION)


def test_file_shape(deu):
    assert len(deu.issues) == 247
    assert len({i.proposal for i in deu.issues}) == 96
    scored = deu.with_outcome()
    assert len(scored) == 238 and len({i.proposal for i in scored}) == 93
    assert deu.capability["de"] == 4.1 and deu.capability["mt"] == 0.02
    # every date agrees with the year in its proposal id once the mangled ones are read back
    for i in deu.issues:
        digits = i.proposal[1:3]
        assert i.date.year % 100 == int(digits), (i.issue, i.date)


def test_benchmarks_reproduce_the_published_figures(deu):
    """CHECKS.md / deu3 SOURCES.md: on the 238 issues with an outcome, every coded actor,
    capability row: compromise model 22.81, weighted median 26.42 (tolerance 0.01)."""
    scored = deu.with_outcome()
    out = np.array([i.outcome for i in scored])
    b = baselines(deu, scored)
    assert_allclose(np.abs(b["compromise"] - out).mean(), 22.81, atol=0.01)
    assert_allclose(np.abs(b["median"] - out).mean(), 26.42, atol=0.01)


@pytest.mark.parametrize(
    ("when", "period", "n", "votes"),
    [
        (date(1999, 6, 1), "EU-15 (1995)", 15, 87),
        (date(2004, 7, 14), "EU-25 (Nice)", 25, 321),
        (date(2007, 3, 6), "EU-27 (Nice)", 27, 345),
        (date(2013, 12, 18), "EU-28 (Nice)", 28, 352),
        (date(2016, 3, 8), "EU-28 (Lisbon)", 28, 28),
    ],
)
def test_council_by_period(council, when, period, n, votes):
    c = council_at(council, when)
    assert (c.period, len(c.members), sum(c.votes.values())) == (period, n, votes)
    assert all(c.population[m] > 0 for m in c.members)


def test_every_issue_converts(deu, council):
    kinds = set()
    for i in deu.issues:
        c = council_at(council, i.date)
        sc = issue_scenario(i, capability=deu.capability, council=c, source=str(DEU))
        assert len(sc.members) == len(c.members) + (i.procedure == "COD")
        kinds.add(sc.proposals[0].rule.kind)
    assert kinds == {"consensus", "qualified-majority"}


def test_cli_on_a_slice_of_the_file(tmp_path, capsys):
    lines = DEU.read_text(encoding="utf-8").splitlines()
    part = tmp_path / "deu3" / "slice.tsv"
    part.parent.mkdir()
    part.write_text("\n".join(lines[:24]) + "\n", encoding="utf-8")
    rc = main(["validate", "deu", str(part), "--council", str(WEIGHTS), "--population",
               str(POPULATION), "--json", "--replications", "16", "--no-cv", "--seed", "1"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["n_issues"] == 22 and "mae_cv" not in s
    assert s["mae_ci_low"] <= s["mae"] <= s["mae_ci_high"]
