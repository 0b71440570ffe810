"""Bueno de Mesquita's expected-utility model, as specified by Scholz, Calbert & Smith (2011).

Bueno de Mesquita, B. (1994), "Political forecasting: an expected utility method", in Bueno de
Mesquita & Stokman (eds.), *European Community Decision Making*, Yale UP, ch. 4; Scholz, J. B.,
Calbert, G. J. & Smith, G. A. (2011), "Unravelling Bueno De Mesquita's group decision model",
*J. Theoretical Politics* 23(4):510-531, who wrote down every step.  One dimension at a time;
positions are scaled by the range R of the initial positions.  Each round:

1. **Risk attitudes.**  With every risk exponent r = 1, actor i's *danger* is the sum over the
   others j of j's expected utility of challenging i.  Its risk acceptance is
   R_i = (2 D_i − D_max − D_min) / (D_max − D_min), its risk exponent r_i = (1 − R_i/3)/(1 + R_i/3).
2. **Probability of success** of i against j: the share of the actors' weighted utility
   differences that favour x_i over x_j,
   Σ_k max(0, c_k s_k (|x_k − x_j|^r_k − |x_k − x_i|^r_k) / R^r_k), divided by
   Σ_k Σ_a Σ_b |c_k s_k(...)| over all pairs of positions (Scholz's normalisation).
3. **Expected utility of a challenge** of j by i, seen by an actor with exponent r:
   s_j (P u_s + (1 − P) u_f) + (1 − s_j) u_s − Q u_sq, with u_s = 2 − 4(½ − ½|x_i − x_j|/R)^r,
   u_f = 2 − 4(½ + ½|x_i − x_j|/R)^r, u_sq = 2 − 4(½)^r and Q = 1.
4. **Offers.**  Each actor i, for every j at another position, compares (in its own eyes)
   E_ij = EU(i challenges j) and E_ji = EU(j challenges i): E_ji > E_ij > 0 is a confrontation
   i loses (i would move to x_j); E_ji > 0 > E_ij with E_ji > |E_ij| a compromise
   (i moves |E_ij/E_ji| of the way to x_j); E_ji > 0 > E_ij otherwise a capitulation (to x_j).
   i accepts the confrontation that moves it least; failing that the compromise whose
   |E|-weighted mean of the two positions is lowest (Scholz's code); failing that the
   capitulation that moves it least.  All actors move at once.
5. **Forecast**: the position that a capability × salience weighted vote prefers to every other
   held position (the weighted median of the current positions; the lowest one on a tie).

**Rounds and stopping rule** (stated here, not in the originals): at most ``rounds`` (10)
rounds; the model stops after the first round whose forecast equals the previous round's.

**Capitulation.**  Scholz et al.'s replication code, as published in the Python port that
reproduces their tables (github.com/jmckib/bdm-scholz-expected-utility-model), tests the third
case as ``E_ji < |E_ji|``, which never holds: capitulation never happens there.  The default
(``capitulation=False``) reproduces those tables; ``capitulation=True`` follows the paper's text.
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import Bargain, Prediction

__all__ = ["EumState", "eum_1d", "eum_model", "eum_round", "forecast"]

#: Scholz's Q: the probability weight of the status quo in the expected utility of a challenge.
Q_STATUS_QUO = 1.0


class EumState:
    """Positions, capabilities, saliences, risk exponents and the range R of one dimension."""

    def __init__(self, x: np.ndarray, c: np.ndarray, s: np.ndarray) -> None:
        self.x = np.asarray(x, float).copy()
        self.c = np.asarray(c, float)
        self.s = np.asarray(s, float)
        self.r = np.ones_like(self.x)
        self.range = float(self.x.max() - self.x.min())

    def probability(self) -> np.ndarray:
        """P[i, j]: probability that x_i beats x_j (0 on the diagonal and for equal positions)."""
        x, R = self.x, self.range
        d = np.abs(x[:, None] - x[None, :]) / R  # d[k, a] = |x_k - x_a| / R
        U = (self.c * self.s)[:, None] * d ** self.r[:, None]  # U[k, a]
        # compare_k(x_i, x_j) = U[k, j] - U[k, i]
        diff = U[:, None, :] - U[:, :, None]  # diff[k, i, j]
        denom = float(np.abs(diff).sum())
        num = np.maximum(diff, 0.0).sum(axis=0)
        P = num / denom if denom > 0 else np.zeros_like(num)
        P[x[:, None] == x[None, :]] = 0.0
        return P

    def eu_challenge(self, P: np.ndarray, rp: np.ndarray | float) -> np.ndarray:
        """EU[i, j] of i challenging j, as seen by an actor with risk exponent ``rp``
        (scalar, or (N,) broadcast along a leading perspective axis → (N, N, N))."""
        R = self.range
        dist = np.abs(self.x[:, None] - self.x[None, :]) / R
        rp = np.asarray(rp, float)
        if rp.ndim == 1:
            rp = rp[:, None, None]
        us = 2.0 - 4.0 * (0.5 - 0.5 * dist) ** rp
        uf = 2.0 - 4.0 * (0.5 + 0.5 * dist) ** rp
        usq = 2.0 - 4.0 * 0.5 ** rp
        sj = self.s[None, :]
        return sj * (P * us + (1.0 - P) * uf) + (1.0 - sj) * us - Q_STATUS_QUO * usq


def eum_round(st: EumState, *, capitulation: bool = False) -> EumState:
    """One round of Scholz et al.'s dynamics (steps 1-4 of the module docstring), in place."""
    n = st.x.size
    st.r = np.ones(n)
    eu1 = st.eu_challenge(st.probability(), 1.0)
    off = ~np.eye(n, dtype=bool)
    danger = np.where(off, eu1, 0.0).sum(axis=0)  # Σ_o EU(o challenges i)
    dmax, dmin = danger.max(), danger.min()
    acc = (2 * danger - dmax - dmin) / (dmax - dmin) if dmax > dmin else np.zeros(n)
    st.r = (1 - acc / 3.0) / (1 + acc / 3.0)
    EU = st.eu_challenge(st.probability(), st.r)  # EU[p, i, j], perspective p
    new = st.x.copy()
    for i in range(n):
        best_conf = best_comp = best_cap = None
        for j in range(n):
            if st.x[i] == st.x[j]:
                continue
            e_ij, e_ji = EU[i, i, j], EU[i, j, i]
            if e_ji > e_ij > 0:
                key = abs(st.x[i] - st.x[j])
                if best_conf is None or key < best_conf[0]:
                    best_conf = (key, st.x[j])
            elif e_ji > 0 > e_ij and e_ji > abs(e_ij):
                pos = st.x[i] + (st.x[j] - st.x[i]) * abs(e_ij / e_ji)
                key = (abs(e_ij) * st.x[i] + abs(e_ji) * st.x[j]) / (abs(e_ij) + abs(e_ji))
                if best_comp is None or key < best_comp[0]:
                    best_comp = (key, pos)
            elif capitulation and e_ji > 0 > e_ij:
                key = abs(st.x[i] - st.x[j])
                if best_cap is None or key < best_cap[0]:
                    best_cap = (key, st.x[j])
        for best in (best_conf, best_comp, best_cap):
            if best is not None:
                new[i] = best[1]
                break
    st.x = new
    return st


def forecast(x: np.ndarray, w: np.ndarray) -> float:
    """The held position with the least weighted distance to all actors (the weighted median
    of the current positions; the lowest on a tie)."""
    cand = np.unique(x)
    loss = np.abs(x[None, :] - cand[:, None]) @ w
    return float(cand[int(np.argmin(loss))])


def eum_1d(
    position: np.ndarray, capability: np.ndarray, salience: np.ndarray, *, rounds: int = 10,
    capitulation: bool = False, until_stable: bool = True,
) -> tuple[float, list[float], list[float]]:
    """(forecast, forecasts by round [round 0 first], compromise of positions by round)."""
    st = EumState(position, capability, salience)
    w = st.c * st.s
    meds = [forecast(st.x, w)]
    means = [float(w @ st.x / w.sum()) if w.sum() > 0 else float("nan")]
    if st.range <= 0 or w.sum() <= 0:
        return meds[0], meds, means
    for _ in range(rounds):
        eum_round(st, capitulation=capitulation)
        meds.append(forecast(st.x, w))
        means.append(float(w @ st.x / w.sum()))
        if until_stable and meds[-1] == meds[-2]:
            break
    return meds[-1], meds, means


def eum_model(bargain: Bargain, *, rounds: int = 10, capitulation: bool = False,
              salience_fallback: bool = False) -> Prediction:
    """Bueno de Mesquita's expected-utility model after Scholz, Calbert & Smith (2011), dimension
    by dimension; the forecast is the weighted median of the positions when the forecast stops
    changing (at most ``rounds`` rounds).  With ``salience_fallback``, a dimension on which no
    actor has salience is played with salience 1 for all (capability alone weighs)."""
    outs, used = [], []
    for k in range(bargain.d):
        s = bargain.salience[:, k]
        if salience_fallback and not np.any(bargain.capability * s > 0):
            s = np.ones_like(s)
        f, meds, _ = eum_1d(bargain.position[:, k], bargain.capability, s,
                            rounds=rounds, capitulation=capitulation)
        outs.append(f)
        used.append(len(meds) - 1)
    return Prediction(outcome=np.array(outs), info={"rounds": used})
