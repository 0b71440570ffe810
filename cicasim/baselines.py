"""Static baselines the dynamic model is compared with.

* Achen's (2006) compromise model: the capability × salience weighted mean of positions, the
  best-performing predictor of EU legislative outcomes in Thomson et al. (2006).
* The capability × salience weighted median (the median-voter benchmark of the same literature).
"""

from __future__ import annotations

import numpy as np

__all__ = ["compromise", "weighted_median"]


def compromise(*, position: np.ndarray, salience: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """Σ_i c_i s_i x_i / Σ_i c_i s_i over actors (axis -2 of ``position``/``salience`` when they
    are 2-D: actors × dimensions).  Returns NaN where every weight is zero."""
    x = np.asarray(position, float)
    s = np.asarray(salience, float)
    c = np.asarray(capability, float)
    w = c[:, None] * s if x.ndim == 2 else c * s
    tot = w.sum(axis=0)
    return np.divide((w * x).sum(axis=0), tot, out=np.full(np.shape(tot), np.nan), where=tot > 0)


def weighted_median(*, values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted median: the smallest value at which the cumulative weight reaches half the
    total (the lower median when a value splits the weight exactly)."""
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1] - 1e-12 * cum[-1])])
