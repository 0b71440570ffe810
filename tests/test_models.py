"""The bargaining models of cicasim.models on hand-worked cases and known answers."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cicasim.models import REGISTRY, from_arrays, parse_models, predict
from cicasim.models.compromise import compromise_model, median_model
from cicasim.models.eum import EumState, eum_1d, eum_round
from cicasim.models.nbs import nbs_1d

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SCHOLZ = DATA / "scholz_ec"
DEU = DATA / "deu3" / "deu3_dev.tsv"


@pytest.fixture(scope="module")
def deu():
    if not DEU.exists():
        pytest.skip("shared data not available")
    from cicasim.validate.deu import read_deu

    return read_deu(DEU)


def scholz_example():
    path = SCHOLZ / "ExampleActors.csv"
    if not path.exists():
        pytest.skip("shared data not available")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    x = np.array([float(r["Position"]) for r in rows])
    c = np.array([float(r["Capability"]) for r in rows])
    s = np.array([float(r["Salience"]) for r in rows])
    return x, c, s


# --- compromise model and weighted median ------------------------------------------------------


def test_compromise_and_median_on_scholz_example():
    """Known answers (shared/design/CHECKS.md): 7.38996 and 7."""
    x, c, s = scholz_example()
    b = from_arrays(capability=c, position=x, salience=s, status_quo=[0.0])
    assert_allclose(compromise_model(b).outcome, [7.38996], atol=5e-6)
    assert_allclose(median_model(b).outcome, [7.0])


def test_compromise_and_median_by_hand_two_dimensions():
    # weights c*s: dimension 0: 1*1, 2*1, 1*1 -> mean (0 + 2*50 + 100)/4 = 50; median 50
    # dimension 1: 1*0.5, 2*0, 1*1 -> mean (0.5*10 + 1*40)/1.5 = 30; median 40 (cum 0.5, 1.5)
    b = from_arrays(capability=[1, 2, 1], position=[[0, 10], [50, 90], [100, 40]],
                    salience=[[1, 0.5], [1, 0], [1, 1]], status_quo=[0, 0])
    assert_allclose(compromise_model(b).outcome, [50.0, 30.0])
    assert_allclose(median_model(b).outcome, [50.0, 40.0])


def test_salience_fallback_is_explicit():
    b = from_arrays(capability=[1, 3], position=[0, 100], salience=[0, 0], status_quo=[0])
    assert math.isnan(compromise_model(b).outcome[0])
    assert math.isnan(median_model(b).outcome[0])
    assert_allclose(compromise_model(b, salience_fallback=True).outcome, [75.0])
    assert_allclose(median_model(b, salience_fallback=True).outcome, [100.0])


# --- Nash bargaining solution -------------------------------------------------------------------


def test_nbs_two_actors_by_hand():
    # q = 0, x = 10, 30, weights w1, w2: the gains are x(20 - x) and x(60 - x), and the first
    # order condition w1 (x - 10)(60 - x) + w2 (x - 30)(20 - x) = 0.
    # w = (1, 1): x^2 - 60x + 600 = 0 -> x = 30 - sqrt(300)
    assert_allclose(nbs_1d(np.array([10.0, 30.0]), np.array([1.0, 1.0]), 0.0),
                    30 - math.sqrt(300), atol=1e-8)
    # w = (2, 1): 3x^2 - 190x + 1800 = 0 -> x = (190 - sqrt(14500)) / 6
    assert_allclose(nbs_1d(np.array([10.0, 30.0]), np.array([2.0, 1.0]), 0.0),
                    (190 - math.sqrt(14500)) / 6, atol=1e-8)


def test_nbs_disagreement_point_when_no_one_gains_for_all():
    # an actor at the status quo: nothing is better for it, the status quo is the solution
    assert nbs_1d(np.array([0.0, 50.0, 80.0]), np.array([1.0, 1.0, 1.0]), 0.0) == 0.0
    # actors on both sides of the status quo
    assert nbs_1d(np.array([20.0, 80.0]), np.array([1.0, 1.0]), 50.0) == 50.0
    # but an actor without weight does not count
    assert_allclose(nbs_1d(np.array([0.0, 40.0]), np.array([0.0, 1.0]), 0.0), 40.0, atol=1e-8)


def test_nbs_tends_to_the_compromise_when_the_status_quo_is_far():
    x, c, s = scholz_example()
    b = from_arrays(capability=c, position=x, salience=s, status_quo=[-1e5])
    assert_allclose(predict("nbs", b).outcome, compromise_model(b).outcome, atol=1e-3)


# --- expected-utility model (Scholz, Calbert & Smith 2011) ----------------------------------------


def test_eum_two_actors_by_hand():
    """x = (0, 1), c = (1, 1), s = (1, 0.5).  With r = 1, P(0 beats 1) = 1/3, P(1 beats 0) = 1/6;
    the dangers are -4/3 (actor 0) and 2/3 (actor 1), so the risk exponents are 2 and 1/2.
    Seen by actor 1 (u_sq = 2 - 2 sqrt 2): E_10 = 2 sqrt 2 - 10/3 < 0 < E_01 = 2 sqrt 2 - 4/3,
    |E_10| < E_01: actor 1 compromises |E_10 / E_01| of the way to 0.  Actor 0 sees
    E_10 = -7/3 < 0 and makes no move."""
    st = EumState(np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, 0.5]))
    assert_allclose(st.probability(), [[0, 1 / 3], [1 / 6, 0]], atol=1e-12)
    eum_round(st)
    assert_allclose(st.r, [2.0, 0.5], atol=1e-12)
    r2 = 2 * math.sqrt(2)
    assert_allclose(st.x, [0.0, 1 - (10 / 3 - r2) / (r2 - 4 / 3)], atol=1e-12)


# Median and mean position after each round (round 0 first) of the Python port of Scholz et
# al.'s code, github.com/jmckib/bdm-scholz-expected-utility-model at commit 55f63e9
# (bdm_scholz_model.py, "Perfect replication of bdm-scholz results up to 10 rounds"), run with
# `python bdm_scholz_model.py ExampleActors.csv 10` (print statements made Python 3 calls).
PEER_EC_MEDIAN = [7.0, 8.415932315426764, 9.610859134120188, 9.961979590401311,
                  9.961979590401311, 9.961979590401311, 7.47204636191629, 8.824593855262423,
                  9.671129769802048, 9.671129769802048, 7.0]
PEER_EC_MEAN = [7.389955686853767, 7.461314378277189, 7.552500865855845, 7.590144997451547,
                7.358130531334201, 7.3491739896752115, 7.414877545372958, 7.510457183677219,
                7.5724470975503, 7.324989065683666, 7.242130958473938]


@pytest.mark.parametrize("capitulation", [False, True])
def test_eum_reproduces_scholz_ec_example_ten_rounds(capitulation):
    x, c, s = scholz_example()
    _, meds, means = eum_1d(x, c, s, rounds=10, until_stable=False, capitulation=capitulation)
    assert_allclose(meds, PEER_EC_MEDIAN, rtol=0, atol=1e-9)
    assert_allclose(means, PEER_EC_MEAN, rtol=0, atol=1e-9)


# The same peer run (4 rounds) on DEU III issues written as its CSV input (every coded actor,
# capability row, salience / 100): median then mean position after each round.
PEER_DEU = {
    "d00067i1": [100.0, 81.02418814354473, 50.0, 37.617260662830596, 50.0, 37.617260662830596,
                 50.0, 37.617260662830596, 50.0, 37.617260662830596],
    "d97359i3": [0.0, 44.85690716416016, 100.0, 66.13911413633262, 81.66109742864461,
                 55.5387237521613, 81.66109742864461, 66.10052138846261, 81.66109742864461,
                 61.789299704319134],
    "d99127i2": [0.0, 22.947655618431696, 0.0, 26.4609222435788, 0.0, 10.859944647576144, 0.0,
                 12.195424939813767, 0.0, 12.49116629313389],
}


def test_eum_agrees_with_peer_on_deu_issues(deu):
    by_id = {i.issue: i for i in deu.issues}
    for issue_id, expected in PEER_DEU.items():
        i = by_id[issue_id]
        actors = list(i.positions)
        x = np.array([i.positions[a] for a in actors])
        c = np.array([deu.capability[a] for a in actors])
        s = np.array([i.saliences[a] / 100 for a in actors])
        _, meds, means = eum_1d(x, c, s, rounds=4, until_stable=False)
        got = [v for pair in zip(meds, means, strict=True) for v in pair]
        assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_eum_stopping_rule():
    x, c, s = scholz_example()
    f, meds, _ = eum_1d(x, c, s, rounds=10)
    # the forecast is unchanged from round 3 to round 4: the model stops there
    assert len(meds) == 5
    assert_allclose(f, PEER_EC_MEDIAN[3], atol=1e-9)


# --- registry -----------------------------------------------------------------------------------


def test_registry_docstrings_and_parse():
    for spec in REGISTRY.values():
        assert spec.reference
        assert spec.run.__doc__ or spec.id.startswith("smp")
    assert parse_models("compromise, nbs") == ["compromise", "nbs"]
    assert parse_models("all") == list(REGISTRY)
    with pytest.raises(ValueError, match="unknown model 'foo'"):
        parse_models("compromise,foo")


# --- exchange model (Stokman & van Oosten 1994) -------------------------------------------------


def test_exchange_two_actors_two_issues_by_hand():
    """A at (0, 0) with saliences (0.8, 0.2), B at (100, 100) with (0.2, 0.8), capabilities 1.
    The compromise is (20, 80).  A demands p and supplies q, B the reverse.  B moving all the way
    to A on p shifts the outcome on p by 100 × 0.2 / 1 = 20; equal gain gives the same shift on q,
    which takes A's full move of 20 / 0.2 = 100.  Both gain 0.8 × 20 − 0.2 × 20 = 12, and the
    outcome is (0, 100)."""
    b = from_arrays(capability=[1, 1], position=[[0, 0], [100, 100]],
                    salience=[[0.8, 0.2], [0.2, 0.8]], status_quo=[50, 50])
    assert_allclose(compromise_model(b).outcome, [20.0, 80.0])
    pred = predict("exchange", b)
    assert_allclose(pred.outcome, [0.0, 100.0], atol=1e-12)
    assert pred.info["exchanges"] == 1


def test_exchange_one_issue_is_the_compromise():
    x, c, s = scholz_example()
    b = from_arrays(capability=c, position=x, salience=s, status_quo=[0.0])
    assert_allclose(predict("exchange", b).outcome, compromise_model(b).outcome, rtol=0, atol=0)


# decide-exchange-model's own example, data/input/sample_data.txt (github.com/foarsitter/
# decide-exchange-model; positions as its reader normalises them to 0-100).  Expected: one round
# of its equal-gain model (PyPI decide-exchange-model 2022.1.28, EqualGainModel with
# ALLOW_RANDOM = False, ModelLoop.loop() once): 39 exchanges realised, the first three below,
# and the issues' outcomes (Nash bargaining solution of the voting positions) after the round.
SAMPLE_ACTORS = ["Willems", "PvdA", "GL", "VVDs", "SP", "CDA", "D66", "CU", "KvK", "Wcentr"]
SAMPLE_X = [[100.0, 38.46153846153846, 100.0, 100.0, 25.0, 75.0],
            [50.0, 38.46153846153846, 75.0, 100.0, 25.0, 25.0],
            [100.0, 69.23076923076923, 100.0, 100.0, 50.0, 100.0],
            [0.0, 0.0, 0.0, 0.0, 50.0, 0.0],
            [75.0, 23.076923076923077, 75.0, 50.0, 0.0, 0.0],
            [25.0, 7.6923076923076925, 25.0, 50.0, 25.0, 50.0],
            [25.0, 38.46153846153846, 50.0, 75.0, 25.0, 50.0],
            [75.0, 38.46153846153846, 75.0, 100.0, 50.0, 75.0],
            [25.0, 7.6923076923076925, 0.0, 0.0, 50.0, 25.0],
            [0.0, 0.0, 0.0, 0.0, 100.0, 100.0]]
SAMPLE_S = [[0.95, 0.7, 0.9, 0.8, 0.6, 0.95], [0.8, 0.7, 0.7, 0.6, 0.5, 0.8],
            [0.95, 0.9, 0.95, 0.8, 0.4, 0.9], [0.9, 0.5, 0.9, 0.9, 0.8, 0.7],
            [0.7, 0.5, 0.6, 0.4, 0.3, 0.7], [0.8, 0.6, 0.7, 0.4, 0.5, 0.6],
            [0.5, 0.3, 0.5, 0.6, 0.5, 0.7], [0.7, 0.5, 0.6, 0.6, 0.5, 0.8],
            [0.8, 0.6, 0.7, 0.9, 0.5, 0.8], [0.95, 0.8, 1.0, 0.95, 0.9, 0.9]]
SAMPLE_C = [1.0, 1.0, 0.6, 0.5, 0.4, 0.5, 0.2, 0.2, 0.6, 0.9]
PEER_SAMPLE_NBS = [67.17785605246, 48.600508905852415, 50.68279696390085, 16.234703272321337,
                   75.14619883040936, 46.7727335247666]
PEER_SAMPLE_FIRST = [("Willems", 4, 100.0, "Wcentr", 0, 61.05117364047237, 1.9736842105263157),
                     ("Wcentr", 5, 25.0, "PvdA", 3, 0.14879954396083428, 1.792636308765341),
                     ("GL", 3, 22.67221362229102, "KvK", 2, 100.0, 1.5343653250773994)]


def test_exchange_agrees_with_decide_on_its_sample_data():
    from cicasim.models.exchange import exchange_round

    X, S = np.array(SAMPLE_X), np.array(SAMPLE_S)
    W = np.array(SAMPLE_C)[:, None] * S
    voting, realised = exchange_round(X, S, W)
    assert len(realised) == 39
    for got, want in zip(realised, PEER_SAMPLE_FIRST, strict=False):
        assert (SAMPLE_ACTORS[got[0]], got[1], SAMPLE_ACTORS[got[3]], got[4]) == (
            want[0], want[1], want[3], want[4])
        assert_allclose([got[2], got[5], got[6]], [want[2], want[5], want[6]], atol=1e-9)
    b = from_arrays(capability=SAMPLE_C, position=X, salience=S, status_quo=np.zeros(6))
    assert_allclose(predict("exchange", b).outcome, PEER_SAMPLE_NBS, rtol=0, atol=1e-9)


# --- KTAB's Spatial Model of Politics -----------------------------------------------------------


def test_smp_pce_and_risk_by_hand():
    """Two actors at 0 and 1 (capabilities 3 and 1): the coalition for x_0 is 3, for x_1 is 1,
    so P(x_0 beats x_1) = 3/4 and the conditional PCE gives (3/4, 1/4); the "Mid" risk range
    maps them to R = (3p - p_max - 2 p_min) / (2 (p_max - p_min)) = (1, -1/2)."""
    from cicasim.models.smp import SmpRun, bs_util, cond_pce

    assert_allclose(cond_pce(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([3.0, 1.0])),
                    [0.75, 0.25], atol=1e-8)
    run = SmpRun(np.array([[0.0], [1.0]]), np.array([[0.5], [0.5]]), np.array([3.0, 1.0]))
    _, nra = run.utilities()
    assert_allclose(nra, [1.0, -0.5], atol=1e-7)
    # u(d, R) = (1 - d)(1 + d R)
    assert_allclose(bs_util(np.array([0.1, 0.9]), np.array([1.0, -0.5])), [0.99, 0.055])


def test_smp_two_actors_by_hand():
    """Same two actors (saliences 1/2).  Actor 0 challenges 1 with P = 3/4 and gain
    (1 - ½)·2 + ½(¾·2) - 1 = 3/4; actor 1 challenges 0 with P = 1/4 and gain 1/4.  Both S2P2
    bargains put both actors at (¼·(1/16)·1 + ...)/... = 0.1 (rounded to 1e-4).  Each actor's
    election prefers the bargain (capability-weighted utilities 3 × (0.99 - 0.5) against
    1 × (0.5 - 0.055)), both move to 0.1, nothing moves in turn 2, and the model stops: 10."""
    b = from_arrays(capability=[3, 1], position=[0, 100], salience=[0.5, 0.5], status_quo=[0])
    pred = predict("smp", b)
    assert_allclose(pred.outcome, [10.0], atol=1e-9)
    assert pred.info["turns"] == 2


def test_smp_stochastic_is_seeded():
    x, c, s = scholz_example()
    b = from_arrays(capability=c, position=10 * x, salience=s, status_quo=[0.0])
    a1 = predict("smp-stochastic", b, seed=7, runs=4)
    a2 = predict("smp-stochastic", b, seed=7, runs=4)
    a3 = predict("smp-stochastic", b, seed=8, runs=4)
    assert a1.samples.shape == (4, 1)
    np.testing.assert_array_equal(a1.samples, a2.samples)
    assert not np.array_equal(a1.samples, a3.samples)
    assert_allclose(a1.outcome, np.median(a1.samples, axis=0))
    # the deterministic mode is reproducible without a seed
    np.testing.assert_array_equal(predict("smp", b).outcome, predict("smp", b).outcome)


def test_every_point_model_runs_on_a_deu_issue(deu):
    from cicasim.models import from_deu_issue

    issue = deu.with_outcome()[0]
    b = from_deu_issue(issue, deu.capability)
    for m in ("compromise", "median", "nbs", "eum", "exchange", "smp"):
        out = predict(m, b).outcome
        assert out.shape == (1,) and 0.0 <= out[0] <= 100.0, m


def test_deu_proposal_bargain_and_members(deu):
    from cicasim.models import from_deu_issue, from_deu_proposal

    by_prop: dict[str, list] = {}
    for i in deu.with_outcome():
        by_prop.setdefault(i.proposal, []).append(i)
    issues = next(v for v in by_prop.values() if len(v) >= 3)
    b = from_deu_proposal(issues, deu.capability)
    assert b.d == len(issues) and b.dimensions == tuple(i.issue for i in issues)
    for k, i in enumerate(issues):
        one = from_deu_issue(i, deu.capability)
        # actors not coded on an issue have no salience there: the compromise is the issue's
        assert_allclose(compromise_model(b).outcome[k], compromise_model(one).outcome[0])
        for a, row in zip(b.actor_ids, b.salience[:, k], strict=True):
            if a not in i.positions:
                assert row == 0.0
    assert b.members() is b  # no member mask: everyone
    m = from_arrays(capability=[1, 2, 3], position=[0, 50, 100], salience=[1, 1, 1],
                    status_quo=[0], member=[True, False, True]).members()
    assert m.actor_ids == ("a0", "a2") and m.n == 2


# --- simplified expected-utility model (blksv/predictioneers_game) --------------------------------


def test_eum_simple_contest_by_hand():
    """Actors at 0 and 1 (normalised), c = (1, 1), s = (1, 0.5).  In a contest of 0 against 1,
    actor 0 supports 0 with 1 x 1 x 1/(1 + 0) = 1, actor 1 supports 1 with 0.5 x 1 x 1/(1 + 0)
    = 0.5: P(0 wins) = 1/(1 + 0.25) = 0.8.  Actor 0 would fall to 1/3, actor 1 to 1/3.  Actor 1's
    clash, 0.2 x (0.5 x 1 x 1 x (1 - 2/3)) + 0.8 x (-0.25 x 2/3) = -0.1, is worse than
    compromising half way (to 2/3: -0.25 x 1/3 = -1/12), so actor 1 compromises when 0 challenges;
    0 gains 1 x 0.5 x 1 x 1/3 = 1/6 from that, and as much, 0.5 x 0.5 x 1 x (1 - 1/3) = 1/6, from
    waiting for 1 to drift to the mean (1/3) with probability 1/2: equal, so 0 does not
    challenge, and actor 1 drifts by a uniform share of the way when u1 < 1/2."""
    from cicasim.models.eum_simple import _contest

    c, s = np.array([1.0, 1.0]), np.array([1.0, 0.5])
    x = np.array([0.0, 1.0])
    _contest(x, c, s, 0, 1, 0.9, 0.5)  # no challenge, no drift (0.9 >= 1/2)
    assert_allclose(x, [0.0, 1.0])
    _contest(x, c, s, 0, 1, 0.1, 0.5)  # no challenge, drift half way to the mean 1/3
    assert_allclose(x, [0.0, 2 / 3])


# Final weighted mean position of 2,000 runs of blksv/predictioneers_game (commit 21b9737,
# main.nim and model.nim compiled with Nim 1.6.10, `nim c -d:release main.nim` after dropping
# the `import std/syncio` line that Nim 1.6 lacks; `./main -r:2000 --results:FILE INPUT`, the
# program's fixed default seed).  Input: the EC example (position, capability, salience).
PEER_SIMPLE_EC = {"mean": 7.448363770651112, "sd": 0.5315570669137812}


def test_eum_simple_agrees_in_distribution_with_the_peer():
    from cicasim.models.eum_simple import eum_simple_1d

    x, c, s = scholz_example()
    rng = np.random.Generator(np.random.PCG64(20240601))
    runs = np.array([eum_simple_1d(x, c, s, rng=rng)[0] for _ in range(400)])
    se = np.hypot(PEER_SIMPLE_EC["sd"] / np.sqrt(2000), runs.std() / np.sqrt(runs.size))
    assert abs(runs.mean() - PEER_SIMPLE_EC["mean"]) < 4 * se  # means agree (4 standard errors)
    assert abs(runs.std() / PEER_SIMPLE_EC["sd"] - 1) < 0.15  # spreads agree within 15%
    b = from_arrays(capability=c, position=x, salience=s, status_quo=[0.0])
    p1 = predict("eum-simple", b, seed=3, runs=5)
    np.testing.assert_array_equal(p1.samples, predict("eum-simple", b, seed=3, runs=5).samples)


# KTAB's SMP (github.com/lsyaseen/KTAB, commit 3b5b063), the `smpc` program built from
# KTAB/kutils, KTAB/kmodel and examples/smp with g++ -O2 (Qt 5.15, easylogging++ 9.97,
# tinyxml2 9, sqlite 3 from Debian 12) and run with its default parameters:
# `smpc --csv FILE --logmin --connstr "Driver=QSQLITE;Database=DB;"`; positions read from the
# VectorPosition table of DB.  Inputs: the EC example (positions x 10, saliences x 100) and
# KTAB's own examples/smp/doc/dummyData_3Dim.csv (7 actors, 3 dimensions).
KTAB_EC_TURNS = 23
KTAB_EC_FINAL = [75.45, 82.06, 81.68, 40.0, 81.41, 80.84, 96.42, 81.9, 81.68, 81.41]
KTAB_EC_FINAL_PROB = [0.0128, 0.0768, 0.2756, 0.0002, 0.2362, 0.2143, 0.0011, 0.1831]  # logged
KTAB_D3 = [  # capability, then (position, salience) per dimension
    (102.543, 75.79, 49.53, 6.37, 5.91, 70.45, 28.15),
    (53.393, 82.72, 30.33, 73.50, 21.22, 64.00, 24.79),
    (129.643, 82.45, 48.47, 90.89, 13.55, 0.07, 34.62),
    (75.920, 62.52, 20.76, 50.82, 39.24, 62.33, 22.21),
    (63.224, 82.34, 40.96, 45.77, 25.43, 73.31, 22.59),
    (120.048, 84.48, 22.92, 33.70, 39.35, 88.11, 15.42),
    (54.178, 70.96, 31.75, 33.46, 27.93, 90.36, 26.03),
]
KTAB_D3_TURNS = 10
KTAB_D3_FINAL = [[78.56, 31.76, 74.05], [78.56, 31.76, 74.05], [82.45, 90.89, 0.07],
                 [67.12, 50.12, 63.73], [78.60, 31.65, 74.11], [79.88, 34.37, 75.16],
                 [78.60, 31.65, 74.11]]


def test_smp_agrees_with_ktab():
    from cicasim.models.smp import smp_run

    x, c, s = scholz_example()
    run = smp_run((10 * x / 100)[:, None], s[:, None], c)
    assert len(run.history) - 1 == KTAB_EC_TURNS
    assert_allclose(100 * run.pos[:, 0], KTAB_EC_FINAL, atol=1e-9)
    _, _, prob = run.expected_outcome()
    assert_allclose(prob, KTAB_EC_FINAL_PROB, atol=5e-5)
    d3 = np.array(KTAB_D3)
    run = smp_run(d3[:, [1, 3, 5]] / 100, d3[:, [2, 4, 6]] / 100, d3[:, 0])
    assert len(run.history) - 1 == KTAB_D3_TURNS
    assert_allclose(100 * run.pos, KTAB_D3_FINAL, atol=1e-9)
