"""The engine's link to exact voting power: coin-flip voters pass as often as the rule's
a-priori passage probability says (Coleman 1971), within Monte Carlo error."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, coin_flip_scenario

from cicasim.analysis.power import power_for_proposal
from cicasim.cli import main
from cicasim.engine.ensemble import run_proposal

RULES = [
    {"kind": "consensus"},
    {"kind": "consensus-minus-k", "k": 2},
    {"kind": "simple-majority"},
    {"kind": "qualified-majority", "quota": 14},
    {"kind": "qualified-majority", "quota": 10, "min_members": 4},
    {"kind": "qualified-majority", "min_members_share": 0.55, "blocking_min": 3},
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: "-".join(str(v) for v in r.values()))
def test_coin_flip_ensemble_agrees_with_exact_passage(rule):
    rng = np.random.default_rng(3)
    n = 8
    votes = [int(v) for v in rng.integers(1, 6, size=n)]
    s = coin_flip_scenario(n, rule, votes)
    exact = power_for_proposal(s, "p").passage_probability
    reps = 20_000
    p = run_proposal(s, "p", replications=reps, seed=5).outcome.passed.mean()
    se = np.sqrt(max(exact * (1 - exact), 1e-4) / reps)
    assert abs(p - exact) < 4 * se, (p, exact)


def test_run_reports_the_a_priori_passage(capsys):
    import json

    assert main(["run", str(DATA / "tiny.toml"), "-n", "50", "--seed", "1", "--json"]) == 0
    (p,) = json.loads(capsys.readouterr().out)["proposals"]
    assert p["a_priori_passage"] == pytest.approx(2.0**-3)  # unanimity of three members


def test_pivotality_finds_the_veto_player():
    """In tiny.toml CCC (far from the text, stubborn) blocks almost always: removing it raises
    P(consensus) the most, with a paired interval above zero."""
    from cicasim.analysis.pivotality import pivotality
    from cicasim.spec.scenario import load_scenario

    pivots = pivotality(load_scenario(DATA / "tiny.toml"), "deal", replications=1000, seed=2)
    assert [p.actor for p in pivots][0] == "CCC"
    top = pivots[0]
    assert 0 < top.low <= top.delta <= top.high <= 1
    assert "AAA" not in [p.actor for p in pivots]  # the sponsor is skipped


def test_run_pivotality_json(capsys):
    import json

    assert (
        main(["run", str(DATA / "tiny.toml"), "-n", "300", "--seed", "1", "--json", "--pivotality"])
        == 0
    )
    (p,) = json.loads(capsys.readouterr().out)["proposals"]
    assert {v["actor"] for v in p["pivotality"]} == {"BBB", "CCC"}
