"""The asymmetric Nash bargaining solution with the status quo as the disagreement point.

Nash (1950, "The bargaining problem", *Econometrica* 18:155-162); the asymmetric form with
bargaining weights (Kalai 1977; Roth 1979), applied to EU legislation by Achen (2006,
"Institutional realism and bargaining models", in *The European Union Decides*, ch. 4) with
capability × salience as weights.  On each dimension the outcome maximises

    Σ_i w_i log(u_i(x) − u_i(q)),   w_i = c_i s_i,   u_i(x) = −(x − x_i)²

over the outcomes that every actor with a weight > 0 prefers to the status quo q (quadratic loss
as in Achen 2006).  When no outcome is better than q for all of them (an actor sits at q, or
actors lie on both sides of it), the disagreement point is the solution: q.  Dimensions are
bargained separately (salience-weighted additive utilities make them separable).  As q moves
far from every actor, the solution tends to the compromise model's weighted mean (Achen 2006).

The objective is strictly concave on the feasible interval, so its maximum is the root of the
derivative Σ_i w_i (x_i − x) / g_i(x), g_i the gain over q, found by bisection to 1e-10.
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import Bargain, Prediction
from cicasim.models.compromise import weights

__all__ = ["nbs_1d", "nbs_model"]


def nbs_1d(position: np.ndarray, weight: np.ndarray, q: float, *, tol: float = 1e-10) -> float:
    """The asymmetric Nash bargaining solution on one dimension (see the module docstring)."""
    keep = np.asarray(weight, float) > 0
    x = np.asarray(position, float)[keep]
    w = np.asarray(weight, float)[keep]
    if x.size == 0:
        return float("nan")
    r = np.abs(q - x)
    lo, hi = float(np.max(x - r)), float(np.min(x + r))
    if not hi - lo > tol:
        return float(q)

    def slope(y: float) -> float:
        g = r**2 - (y - x) ** 2
        return float(np.sum(w * (x - y) / g))

    a, b = lo, hi
    for _ in range(200):
        m = 0.5 * (a + b)
        if b - a <= tol:
            break
        if slope(m) > 0:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


def nbs_model(bargain: Bargain, *, salience_fallback: bool = False) -> Prediction:
    """Asymmetric Nash bargaining solution, status quo as disagreement point, weights
    capability × salience (Nash 1950; Achen 2006)."""
    w = weights(bargain, salience_fallback=salience_fallback)
    out = np.array([
        nbs_1d(bargain.position[:, k], w[:, k], float(bargain.status_quo[k]))
        for k in range(bargain.d)
    ])
    return Prediction(outcome=out)
