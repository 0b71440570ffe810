"""The static benchmarks: Achen's compromise model and the weighted median.

* **Compromise model** (Achen 2006, "Institutional realism and bargaining models", in Thomson,
  Stokman, Achen & König (eds.), *The European Union Decides*, ch. 4): the capability × salience
  weighted mean of positions, dimension by dimension.  It was the most accurate of the models
  compared on EU legislative outcomes (Thomson et al. 2006).
* **Weighted median** (Black 1948; Thomson et al. 2006, ch. 2): the smallest position at which
  the cumulative capability × salience weight reaches half the total (the lower median when a
  position splits the weight exactly).

When every actor's salience on a dimension is 0 the weights are undefined.  By default the
prediction is then NaN; with ``salience_fallback=True`` (the rule of the DEU benchmarks, which
reproduces their published figures) the weights fall back to capability alone.
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import Bargain, Prediction

__all__ = ["compromise", "compromise_model", "median_model", "weighted_median", "weights"]


def weights(bargain: Bargain, *, salience_fallback: bool = False) -> np.ndarray:
    """Capability × salience (N, D); a dimension whose weights are all 0 gets capability alone
    when ``salience_fallback`` is set."""
    w = bargain.capability[:, None] * bargain.salience
    if salience_fallback:
        empty = w.sum(axis=0) <= 0
        if empty.any():
            w = w.copy()
            w[:, empty] = bargain.capability[:, None]
    return w


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
    total (the lower median when a value splits the weight exactly); NaN when no weight is > 0."""
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


def compromise_model(bargain: Bargain, *, salience_fallback: bool = False) -> Prediction:
    """Achen's (2006) compromise model: the capability × salience weighted mean position."""
    w = weights(bargain, salience_fallback=salience_fallback)
    tot = w.sum(axis=0)
    out = np.divide((w * bargain.position).sum(axis=0), tot,
                    out=np.full(bargain.d, np.nan), where=tot > 0)
    return Prediction(outcome=out)


def median_model(bargain: Bargain, *, salience_fallback: bool = False) -> Prediction:
    """The capability × salience weighted median position, per dimension (Black 1948; the
    median-voter benchmark of Thomson et al. 2006)."""
    w = weights(bargain, salience_fallback=salience_fallback)
    out = np.array([
        weighted_median(values=bargain.position[:, k], weights=w[:, k]) for k in range(bargain.d)
    ])
    return Prediction(outcome=out)
