"""Scores of predictions against outcomes: mean absolute error, hit rates, and the continuous
ranked probability score (CRPS) of a predictive distribution given by samples.

The CRPS of a distribution F for an outcome y is E|X − y| − ½ E|X − X'| with X, X' independent
draws from F (Gneiting & Raftery 2007, "Strictly proper scoring rules, prediction, and
estimation", *JASA* 102:359-378, eq. 21); for the empirical distribution of m samples the
expectations are sample means (the "energy form"; Hersbach 2000).  For a point forecast it is
the absolute error, so a model's mean CRPS can be set beside the others' MAE.
"""

from __future__ import annotations

import numpy as np

__all__ = ["crps_samples", "hit_rate", "mae"]


def mae(pred: np.ndarray, outcome: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(pred, float) - np.asarray(outcome, float))))


def hit_rate(pred: np.ndarray, outcome: np.ndarray, within: float) -> float:
    """Share of predictions within ``within`` points of the outcome (|error| ≤ within)."""
    err = np.abs(np.asarray(pred, float) - np.asarray(outcome, float))
    return float(np.mean(err <= within + 1e-9))


def crps_samples(samples: np.ndarray, outcome: float) -> float:
    """CRPS of the empirical distribution of ``samples`` (1-D) for ``outcome``:
    mean |x_i − y| − ½ mean over all pairs |x_i − x_j| (O(m log m) via sorting)."""
    x = np.sort(np.asarray(samples, float).ravel())
    m = x.size
    first = float(np.mean(np.abs(x - outcome)))
    # Σ_i Σ_j |x_i − x_j| = 2 Σ_k (2k − m + 1) x_(k) for sorted x (k from 0)
    k = np.arange(m)
    pairs = 2.0 * float(np.sum((2 * k - m + 1) * x)) / (m * m)
    return first - 0.5 * pairs
