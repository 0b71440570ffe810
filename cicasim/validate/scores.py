"""Scores of probability forecasts of a yes/no outcome, and the logistic baselines.

* **Brier score** (Brier 1950): the mean of (p - y)^2; 0 is perfect, 0.25 a coin flip.
* **Log loss**: -mean(y log p + (1 - y) log(1 - p)), with p kept in [ε, 1 - ε], ε = 0.001, so
  that one confident miss costs log(1000) ≈ 6.9 and not infinity (a stated cap: the ensembles
  estimate p from finitely many replications and can return exactly 0 or 1).
* **AUC**: the probability that a random positive case gets a higher forecast than a random
  negative one, ties counting one half (the Mann-Whitney statistic; Hanley & McNeil 1982).
* **Brier skill score** against a reference forecast: 1 - Brier / Brier_reference.
* **Reliability diagram** (Murphy & Winkler 1977): forecasts in bins, mean forecast against the
  observed frequency in each.
* **Logistic regression** on one covariate, by maximum likelihood (Newton-Raphson, which is
  what every statistics package does for a GLM), for the baselines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "EPS",
    "auc",
    "brier",
    "brier_skill",
    "fit_logistic",
    "log_loss",
    "logistic",
    "reliability",
]

EPS = 1e-3


def _arrays(p: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    if p.shape != y.shape or p.ndim != 1 or p.size == 0:
        raise ValueError("forecasts and outcomes must be two non-empty vectors of one length")
    return p, y


def brier(p: Sequence[float], y: Sequence[float]) -> float:
    """Mean squared difference between forecast probabilities and 0/1 outcomes."""
    p, y = _arrays(p, y)
    return float(np.mean((p - y) ** 2))


def log_loss(p: Sequence[float], y: Sequence[float], eps: float = EPS) -> float:
    """Mean negative log-likelihood of the outcomes, forecasts kept in [eps, 1 - eps]."""
    p, y = _arrays(p, y)
    q = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def auc(p: Sequence[float], y: Sequence[float]) -> float:
    """Area under the ROC curve: P(forecast of a positive > forecast of a negative), ties
    counted one half; NaN when the outcomes are all of one kind."""
    p, y = _arrays(p, y)
    pos, neg = p[y == 1], p[y == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def brier_skill(p: Sequence[float], ref: Sequence[float], y: Sequence[float]) -> float:
    """1 - Brier(p) / Brier(ref): above 0 when ``p`` beats the reference forecast."""
    b_ref = brier(ref, y)
    return float("nan") if b_ref == 0 else 1.0 - brier(p, y) / b_ref


def reliability(p: Sequence[float], y: Sequence[float], bins: int = 5) -> list[dict]:
    """Per bin of equal width on [0, 1]: the count, the mean forecast and the observed
    frequency (empty bins left out)."""
    p, y = _arrays(p, y)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        if m.any():
            out.append({"low": b / bins, "high": (b + 1) / bins, "n": int(m.sum()),
                        "forecast": float(p[m].mean()), "observed": float(y[m].mean())})
    return out


def logistic(a: float, b: float, x: Sequence[float] | float) -> np.ndarray:
    """1 / (1 + exp(-(a + b x)))."""
    z = a + b * np.asarray(x, dtype=float)
    return 1.0 / (1.0 + np.exp(-z))


def fit_logistic(x: Sequence[float], y: Sequence[float], *, ridge: float = 1e-8,
                 iterations: int = 100) -> tuple[float, float]:
    """Maximum-likelihood (a, b) of P(y = 1) = logistic(a + b x) by Newton-Raphson.  A tiny
    ridge keeps the fit finite when the data separate perfectly; a constant covariate gives
    b = 0 and the base rate's logit."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.std() == 0:
        r = min(max(y.mean(), EPS), 1 - EPS)
        return math.log(r / (1 - r)), 0.0
    X = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(iterations):
        mu = 1.0 / (1.0 + np.exp(-(X @ beta)))
        w = mu * (1.0 - mu)
        grad = X.T @ (y - mu) - ridge * beta
        hess = (X * w[:, None]).T @ X + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])
