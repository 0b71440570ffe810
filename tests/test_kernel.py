"""The negotiation kernel: hand-worked cases and the known answers of CHECKS.md."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import coin_flip_scenario, make_scenario
from numpy.testing import assert_allclose

from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import run_proposal
from cicasim.engine.kernel import (
    DEADLOCK,
    PASSED,
    WITHDRAWN,
    StartDraws,
    dilution_and_drift,
    influence,
    initial_state,
)
from cicasim.engine.loops import normal_quantile

STATIC = {"vote_noise": 0.0, "rival_penalty": 0.0, "holdup_rate": 0.0, "stubbornness": 1.0}


def test_normal_quantile_matches_scipy():
    """The vote noise's inverse transform (AS 241) against scipy.special.ndtri, centre and tails."""
    from scipy.special import ndtri

    rng = np.random.default_rng(0)
    u = np.concatenate([
        rng.random(20_000),
        10.0 ** -rng.uniform(1, 300, 2_000),
        1 - 10.0 ** -rng.uniform(1, 15, 2_000),
        [2.0**-54, 0.075, 0.425, 0.5, 0.575, 0.925],
    ])
    z = np.array([normal_quantile(v) for v in u])
    assert_allclose(z, ndtri(u), rtol=1e-14, atol=1e-14)


def test_linear_loss_vote_by_hand():
    # linear loss, p0=80, q=20, salience 1: A01 at 55 gains -0.25 + 0.35 = 0.1 -> accepts;
    # A02 at 45 gains -0.35 + 0.25 = -0.1 -> objects.
    b = dict(STATIC, loss_exponent=1)
    s = make_scenario([80, 55, 45], saliences=[1, 1, 1], max_rounds=1, behaviour=b)
    o = _one(s)
    assert o.objectors[0].tolist() == [False, False, True]
    s = make_scenario([80, 55], saliences=[1, 1], max_rounds=1, behaviour=b)
    assert _one(s).status[0] == PASSED


def _one(scenario, reps=1, seed=0):
    return run_proposal(scenario, "p", replications=reps, seed=seed).outcome


def test_static_vote_by_hand():
    # gains over q=20 of p0=80, quadratic loss, salience 1:
    # A01 at 55: -(0.25)^2 + (0.35)^2 = 0.06 -> accept; A02 at 20: -0.36 -> object.
    s = make_scenario([80, 55, 20], saliences=[1, 1, 1], max_rounds=1, behaviour=STATIC)
    o = _one(s)
    assert o.status[0] == DEADLOCK and o.rounds[0] == 1
    assert o.objectors[0].tolist() == [False, False, True]
    assert o.first_blocker[0] == 2


def test_abstention_does_not_block_consensus():
    # A01 at 49.9: gain -(0.301)^2 + (0.299)^2 = -0.0012, inside the 0.01 band -> abstains.
    s = make_scenario([80, 49.9, 60], saliences=[1, 1, 1], max_rounds=1, behaviour=STATIC)
    o = _one(s)
    assert o.status[0] == PASSED
    assert o.abstainers[0].tolist() == [False, True, False]
    assert_allclose(o.dilution, [0.0])


def test_rival_penalty_by_hand():
    # With beta 0.5 and T(A01, sponsor) = 0.4, A01's 0.06 gain becomes 0.06 - 0.2 < -0.01.
    b = dict(STATIC, rival_penalty=0.5)
    s = make_scenario([80, 55], saliences=[1, 1], max_rounds=1, behaviour=b, tensions={(0, 1): 0.4})
    o = _one(s)
    assert o.objectors[0].tolist() == [False, True]
    b = dict(STATIC, rival_penalty=0.1)  # 0.06 - 0.04 = 0.02 >= 0: accepts
    s = make_scenario([80, 55], saliences=[1, 1], max_rounds=1, behaviour=b, tensions={(0, 1): 0.4})
    assert _one(s).status[0] == PASSED


def test_amendment_moves_towards_the_compromise():
    # z = mean(80, 55, 20) = 51.667; p2 = 80 + 0.5 (z - 80) = 65.833; A02 still objects.
    s = make_scenario([80, 55, 20], saliences=[1, 1, 1], max_rounds=2, behaviour=STATIC)
    o = _one(s)
    assert o.status[0] == DEADLOCK and o.rounds[0] == 2
    assert_allclose(o.outcome[0], [80 + 0.5 * (155 / 3 - 80)])
    assert_allclose(o.dilution[0], (80 - (80 + 0.5 * (155 / 3 - 80))) / 60)


def test_dilution_is_signed_along_the_text_to_status_quo_line():
    # tabled 40, status quo 20: 30 is half-way (0.5), 20 is the status quo (1), 71 is more
    # ambitious than tabled (-(71 - 40) / 20 = -1.55), 10 is past the status quo (1.5)
    text = np.array([[40.0], [30.0], [20.0], [71.0], [10.0]])
    dil, drift = dilution_and_drift(text, np.array([40.0]), np.array([20.0]))
    assert_allclose(dil, [0.0, 0.5, 1.0, -1.55, 1.5])
    assert_allclose(drift, 0.0)
    # the interconnectivity pattern: tabled 50, status quo 15, agreed 72.2 is -0.634, not +0.634
    dil, _ = dilution_and_drift(np.array([[72.2]]), np.array([50.0]), np.array([15.0]))
    assert dil[0] < 0
    assert_allclose(dil, [-(72.2 - 50) / 35])


def test_drift_is_the_distance_off_the_line_in_the_same_units():
    # p0 (0, 0), q (10, 0): the text (5, 5) is half-way along (0.5) and 5 off the line (0.5)
    p0, q = np.array([0.0, 0.0]), np.array([10.0, 0.0])
    dil, drift = dilution_and_drift(np.array([[5.0, 5.0], [0.0, -10.0], [0.0, 0.0]]), p0, q)
    assert_allclose(dil, [0.5, 0.0, 0.0])
    assert_allclose(drift, [0.5, 1.0, 0.0])
    # the two parts recompose the distance moved: ‖text - p0‖² = (dil² + drift²) ‖q - p0‖²
    rng = np.random.default_rng(3)
    text = rng.uniform(0, 100, (50, 3))
    p0, q = rng.uniform(0, 100, 3), rng.uniform(0, 100, 3)
    dil, drift = dilution_and_drift(text, p0, q)
    span2 = float((q - p0) @ (q - p0))
    assert_allclose(((text - p0) ** 2).sum(axis=1), (dil**2 + drift**2) * span2)
    # nothing to water down when the text is the status quo
    dil, drift = dilution_and_drift(text, p0, p0)
    assert not dil.any() and not drift.any()


def test_sponsor_withdraws_when_the_compromise_is_worse_than_the_status_quo():
    # Sponsor at 55 with capability 1, the other at 0 with capability 10: z = 5.
    # Texts 80 -> 42.5 -> 23.75 -> 14.375; U_s(14.375) = -0.165 < U_s(20) = -0.1225.
    s = make_scenario(
        [55, 0],
        capabilities=[1, 10],
        saliences=[1, 1],
        p0=80,
        q=20,
        max_rounds=10,
        behaviour=STATIC,
    )
    o = _one(s)
    assert o.status[0] == WITHDRAWN and o.rounds[0] == 3
    assert_allclose(o.outcome[0], [23.75])
    assert_allclose(o.policy[0], [20.0])


def _zero_start(neg):
    n, d = neg.position.shape
    return initial_state(
        neg, StartDraws(np.zeros((1, n, d)), np.zeros((1, n)), np.zeros((1, n, 8)))
    )


def _iterate(neg, steps=3000):
    st = _zero_start(neg)
    for _ in range(steps):
        st.x = influence(neg, st)
    return st.x[0, :, 0]


@pytest.mark.parametrize("with_tension", [False, True])
def test_friedkin_johnsen_fixed_point(with_tension):
    """CHECKS.md: x* = (I - ΛW)^-1 (I - Λ) x(0), Λ = diag(1 - λ), W absorbing μ."""
    x0 = np.array([10.0, 35.0, 70.0, 95.0])
    lam = [0.2, 0.5, 0.1, 0.7]
    cap = [1.0, 2.0, 3.0, 0.5]
    tens = {(0, 1): 0.3, (2, 3): 0.8, (0, 3): 0.5} if with_tension else None
    mu = 0.6
    s = make_scenario(
        list(x0),
        capabilities=cap,
        stubbornness=lam,
        tensions=tens,
        behaviour={"influence_rate": mu},
    )
    neg = negotiation(s, "p")
    T = neg.tension
    W = np.asarray(cap)[None, :] * (1 - T)
    W /= W.sum(axis=1, keepdims=True)
    Wmu = (1 - mu) * np.eye(4) + mu * W
    L = np.diag(1 - np.asarray(lam))
    expected = np.linalg.solve(np.eye(4) - L @ Wmu, (np.eye(4) - L) @ x0)
    assert_allclose(_iterate(neg), expected, rtol=1e-10)


def test_degroot_consensus_at_the_left_eigenvector():
    """CHECKS.md: DeGroot averaging converges to π·x(0), π the left eigenvector of W."""
    x0 = np.array([5.0, 40.0, 60.0, 90.0, 20.0])
    cap = [1.0, 3.0, 2.0, 0.5, 1.5]
    tens = {(0, 1): 0.9, (1, 2): 0.2, (3, 4): 0.6, (0, 4): 0.4}
    s = make_scenario(
        list(x0),
        capabilities=cap,
        stubbornness=[0.0] * 5,
        tensions=tens,
        behaviour={"influence_rate": 1.0},
    )
    neg = negotiation(s, "p")
    W = np.asarray(cap)[None, :] * (1 - neg.tension)
    W /= W.sum(axis=1, keepdims=True)
    vals, vecs = np.linalg.eig(W.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi /= pi.sum()
    assert_allclose(_iterate(neg, 500), np.full(5, pi @ x0), rtol=1e-9)


def _clusters(x, tol=1e-3):
    x = np.sort(x)
    return 1 + int((np.diff(x) > tol).sum())


@pytest.mark.parametrize(("eps", "low", "high"), [(50.0, 1, 1), (60.0, 1, 1), (10.0, 3, 7)])
def test_bounded_confidence_clusters(eps, low, high):
    """CHECKS.md: consensus for a confidence bound of half the range or more; about
    1/(2d) clusters below it (Hegselmann & Krause 2002; Fortunato 2004)."""
    x0 = list(np.linspace(0, 100, 101))
    n = len(x0)
    s = make_scenario(
        x0, stubbornness=[0.0] * n, behaviour={"influence_rate": 1.0, "confidence_bound": eps}
    )
    k = _clusters(_iterate(negotiation(s, "p"), 300))
    assert low <= k <= high


def _coin_flip(n: int, rule: dict, votes=None, reps=20_000, seed=11):
    s = coin_flip_scenario(n, rule, votes)
    return run_proposal(s, "p", replications=reps, seed=seed).outcome.passed.mean(), reps


@pytest.mark.parametrize(
    ("n", "rule", "votes", "exact"),
    [
        (6, {"kind": "consensus"}, None, 2.0**-6),
        (6, {"kind": "consensus-minus-k", "k": 1}, None, 7 / 64),
        (5, {"kind": "simple-majority"}, None, 0.5),
        # EEC-6 1958: weights 4,4,4,2,2,1, quota 12 of 17 -> 14 of 64 coalitions (CHECKS.md)
        (6, {"kind": "qualified-majority", "quota": 12}, [4, 4, 4, 2, 2, 1], 0.21875),
    ],
)
def test_coin_flip_voters_pass_with_the_exact_probability(n, rule, votes, exact):
    p, reps = _coin_flip(n, rule, votes)
    se = np.sqrt(exact * (1 - exact) / reps)
    assert abs(p - exact) < 4 * se


def test_observers_never_vote():
    s = make_scenario(
        [80, 60, 10, 0],
        roles=["member", "member", "observer", "observer"],
        max_rounds=1,
        behaviour=STATIC,
    )
    o = _one(s)
    assert o.status[0] == PASSED  # the observers at 0 and 10 would object
    assert not o.objectors[:, 2:].any() and not o.abstainers[:, 2:].any()
