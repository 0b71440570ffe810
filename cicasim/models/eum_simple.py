"""A simplified expected-utility model: pairwise contests with alliances (blksv).

Bueno de Mesquita, B. (2011), "A new model for predicting policy choices: preliminary tests",
*Conflict Management and Peace Science* 28(1):65-87, simplified as in the public program
github.com/blksv/predictioneers_game (``model.nim``; its author reports it on par with Bueno de
Mesquita's 2011 model on DEU III).  One dimension at a time; positions, capabilities and
saliences are divided by their maxima.

A contest of a against b: every actor k sides with the position it is strictly closer to,
supporting a with s_k c_k |x_k − x_b| / (1 + |x_k − x_a|) or b with s_k c_k |x_k − x_a| / (1 +
|x_k − x_b|); a wins with probability A² / (A² + B²).  The loser would move toward the winner in
proportion to the other side's support.  b's gain or loss from a move of a is weighed
s_b s_a c_a × the change of distance (and likewise for a).  b compromises (moves half way to its
losing position) when that costs it less than the expected contest; a challenges when its expected
gain from the contest or compromise exceeds what it expects if b drifts on its own (with
probability 1 − s_b, a uniform share of the way to the compromise model's weighted mean).  A
challenged b that resists wins or loses by a draw; an unchallenged b drifts with probability
1 − s_b.  A round plays every ordered pair of actors with salience > 0 in a random order; the
run stops when the weighted mean position has not changed for 3 rounds (then 5 after any change)
or after 100 rounds.  The outcome of a run is the weighted mean position; ``runs`` runs from one
seed give the predictive distribution, and the prediction is their median.

Random numbers come from a seeded numpy Generator (pre-drawn: a permutation of the pairs and two
uniforms per pair and round), so runs agree with the original in distribution, not draw for draw.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cicasim.models.bargain import Bargain, Prediction

__all__ = ["eum_simple_1d", "eum_simple_model"]

MAX_ROUNDS = 100


@njit(cache=True)
def _mean(x: np.ndarray, c: np.ndarray, s: np.ndarray) -> float:
    num = 0.0
    den = 0.0
    for i in range(x.size):
        num += s[i] * c[i] * x[i]
        den += s[i] * c[i]
    return num / den


@njit(cache=True)
def _du(x: np.ndarray, c: np.ndarray, s: np.ndarray, a: int, b: int, xb_new: float) -> float:
    return s[a] * s[b] * c[b] * (abs(x[b] - x[a]) - abs(xb_new - x[a]))


@njit(cache=True)
def _contest(x: np.ndarray, c: np.ndarray, s: np.ndarray, a: int, b: int, u1: float,
             u2: float) -> None:
    if abs(x[a] - x[b]) < 0.001:
        return
    fa = 0.0
    fb = 0.0
    for i in range(x.size):
        da = abs(x[i] - x[a])
        db = abs(x[i] - x[b])
        if abs(x[i] - x[a]) < abs(x[i] - x[b]):
            fa += s[i] * c[i] * db / (1 + da)
        else:
            fb += s[i] * c[i] * da / (1 + db)
    xa_fail = x[a] + (x[b] - x[a]) * fb / (fa + fb)
    xb_fail = x[b] + (x[a] - x[b]) * fa / (fa + fb)
    p = fa * fa / (fa * fa + fb * fb)
    ea_clash = p * _du(x, c, s, a, b, xb_fail) + (1 - p) * _du(x, c, s, a, a, xa_fail)
    eb_clash = (1 - p) * _du(x, c, s, b, a, xa_fail) + p * _du(x, c, s, b, b, xb_fail)
    xb_comp = (x[b] + xb_fail) / 2
    eb_comp = _du(x, c, s, b, b, xb_comp)
    ea_comp = _du(x, c, s, a, b, xb_comp)
    p_move = 1 - s[b]
    xb_opt = _mean(x, c, s)
    ea_sq = p_move * _du(x, c, s, a, b, xb_opt)
    ea_chall = ea_comp if eb_clash < eb_comp else ea_clash
    if ea_chall > ea_sq:
        if eb_clash < eb_comp:
            x[b] = xb_comp
        elif u1 < p:
            x[b] = xb_fail
        else:
            x[a] = xa_fail
    elif u1 < p_move:
        x[b] += (xb_opt - x[b]) * u2


@njit(cache=True)
def _run(x: np.ndarray, c: np.ndarray, s: np.ndarray, perms: np.ndarray,
         uni: np.ndarray) -> int:
    n = x.size
    k = 3
    for t in range(perms.shape[0]):
        m = _mean(x, c, s)
        for q in range(perms.shape[1]):
            pair = perms[t, q]
            a, b = pair // n, pair % n
            if a == b or s[a] == 0 or s[b] == 0:
                continue
            _contest(x, c, s, a, b, uni[t, q, 0], uni[t, q, 1])
        if m == _mean(x, c, s):
            k -= 1
            if k == 0:
                return t + 1
        else:
            k = 5
    return perms.shape[0]


def eum_simple_1d(position: np.ndarray, capability: np.ndarray, salience: np.ndarray, *,
                  rng: np.random.Generator) -> tuple[float, int]:
    """One run on one dimension: (the weighted mean position at the end, rounds played)."""
    x = np.asarray(position, float)
    scale = float(x.max())
    c = np.asarray(capability, float)
    s = np.asarray(salience, float)
    if scale <= 0 or c.max() <= 0 or s.max() <= 0:
        w = c * s
        return (float(w @ x / w.sum()) if w.sum() > 0 else float("nan")), 0
    x, c, s = x / scale, c / c.max(), s / s.max()
    n = x.size
    perms = np.stack([rng.permutation(n * n) for _ in range(MAX_ROUNDS)])
    uni = rng.random((MAX_ROUNDS, n * n, 2))
    xx = x.copy()
    rounds = _run(xx, c, s, perms, uni)
    return _mean(xx, c, s) * scale, rounds


def eum_simple_model(bargain: Bargain, *, seed: int = 0, runs: int = 16,
                     salience_fallback: bool = False) -> Prediction:
    """The simplified expected-utility model of blksv/predictioneers_game (after Bueno de
    Mesquita 2011): the median over ``runs`` seeded runs of the final weighted mean position,
    the runs as the predictive distribution."""
    seqs = np.random.SeedSequence(seed).spawn(runs)
    out = np.empty((runs, bargain.d))
    for r, ss in enumerate(seqs):
        rng = np.random.Generator(np.random.PCG64(ss))
        for k in range(bargain.d):
            s = bargain.salience[:, k]
            if salience_fallback and not np.any(bargain.capability * s > 0):
                s = np.ones_like(s)
            out[r, k], _ = eum_simple_1d(bargain.position[:, k], bargain.capability, s, rng=rng)
    return Prediction(outcome=np.median(out, axis=0), samples=out)
