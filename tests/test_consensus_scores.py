"""Scores of probability forecasts and the logistic baselines, on hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cicasim.validate.scores import (
    auc,
    brier,
    brier_skill,
    fit_logistic,
    log_loss,
    logistic,
    reliability,
)


def test_brier_by_hand():
    # ((0.8 - 1)^2 + (0.3 - 0)^2) / 2 = (0.04 + 0.09) / 2
    assert brier([0.8, 0.3], [1, 0]) == pytest.approx(0.065, abs=1e-15)
    assert brier([0.5] * 4, [1, 0, 1, 0]) == pytest.approx(0.25, abs=1e-15)


def test_log_loss_by_hand_and_its_cap():
    # -(ln 0.8 + ln 0.7) / 2
    assert log_loss([0.8, 0.3], [1, 0]) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2,
                                                         rel=1e-12)
    # a certain miss costs log(1000), not infinity (forecasts kept in [0.001, 0.999])
    assert log_loss([0.0], [1]) == pytest.approx(math.log(1000), rel=1e-12)


def test_auc_by_hand_with_and_without_ties():
    # positives 0.9, 0.4; negatives 0.6, 0.2: pairs won 0.9>0.6, 0.9>0.2, 0.4>0.2 -> 3 of 4
    assert auc([0.9, 0.4, 0.6, 0.2], [1, 1, 0, 0]) == pytest.approx(0.75)
    # a tie counts one half: positive 0.5 vs negatives 0.5, 0.1 -> (0.5 + 1) / 2
    assert auc([0.5, 0.5, 0.1], [1, 0, 0]) == pytest.approx(0.75)
    assert math.isnan(auc([0.3, 0.4], [1, 1]))


def test_brier_skill_score():
    y = [1, 1, 1, 0]
    base = [0.75] * 4  # Brier 3 * 0.0625 + 0.5625 = 0.1875 per 4
    assert brier(base, y) == pytest.approx(0.1875)
    assert brier_skill([1, 1, 1, 0], base, y) == pytest.approx(1.0)
    assert brier_skill(base, base, y) == pytest.approx(0.0)


def test_logistic_fit_of_a_binary_covariate_is_the_two_group_logits():
    # x = 0: 3 of 4 adopted; x = 1: 1 of 4 -> a = logit(0.75) = ln 3, a + b = logit(0.25)
    x = [0, 0, 0, 0, 1, 1, 1, 1]
    y = [0, 1, 1, 1, 0, 0, 0, 1]
    a, b = fit_logistic(x, y)
    assert a == pytest.approx(math.log(3), abs=1e-6)
    assert b == pytest.approx(-2 * math.log(3), abs=1e-6)
    np.testing.assert_allclose(logistic(a, b, [0, 1]), [0.75, 0.25], atol=1e-6)


def test_logistic_fit_of_a_constant_covariate_is_the_base_rate():
    a, b = fit_logistic([5, 5, 5, 5], [1, 1, 1, 0])
    assert b == 0.0
    assert logistic(a, b, 5) == pytest.approx(0.75)


def test_reliability_bins():
    rows = reliability([0.05, 0.15, 0.95, 0.9], [0, 0, 1, 0], bins=2)
    assert [r["n"] for r in rows] == [2, 2]
    assert rows[0]["forecast"] == pytest.approx(0.1)
    assert rows[1]["observed"] == pytest.approx(0.5)
