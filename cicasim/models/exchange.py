"""Stokman's vote-exchange model: equal-gain exchanges across the issues of one proposal.

Stokman, F. N. & van Oosten, R. (1994), "The exchange of voting positions: an object-oriented
model of policy networks", in Bueno de Mesquita & Stokman (eds.), *European Community Decision
Making*, Yale UP, ch. 6; van Assen, M. A. L. M., Stokman, F. N. & van Oosten, R. C. H. (2003),
"Conflict measures in cooperative exchange models of collective decision-making", *Rationality
and Society* 15(1):85-112.  The steps follow the public implementation of the equal-gain model,
decide-exchange-model (github.com/foarsitter/decide-exchange-model, ``decide/model``).

* The outcome of an issue is the capability × salience weighted mean of the (voting) positions:
  the compromise model, which that literature calls the Nash bargaining solution.
* For every pair of issues (p, q), two actors can exchange when they sit on opposite sides of the
  outcome on both issues.  The actor who cares relatively more about p (salience ratio
  s_p / s_q) *demands* p and *supplies* q: it shifts its voting position on q toward the
  other's position, and the other shifts on p toward its position.
* A shift Δx of actor k on issue d moves the outcome by the *exchange ratio*
  Δx c_k s_kd / Σ_l c_l s_ld.  The exchange gives both actors the same utility gain
  (s_demand × outcome gain − s_supply × outcome loss): the supplier of p moves all the way to
  the demander's position, and the other shift follows from the equal gain; when that would
  overshoot the other's position, the roles of the cap are swapped.  When a shift would carry an
  issue's outcome past the demander's position, it is cut to stop the outcome there, and the
  other shift is recomputed by equal gain.
* Exchanges are realised in order of gain, highest first.  After each realised exchange, the
  other exchanges in which an actor supplies the same issue start from its shifted position
  and are recomputed; an exchange whose shift is no longer in the same direction as the actor's
  earlier shifts on that issue, would leave 0-100, or gains less than 1e-10, is dropped.
* The prediction is the compromise of the voting positions after the exchanges (one round,
  the model of Stokman & van Oosten 1994).  A proposal touching one dimension has nothing to
  exchange: the prediction is the compromise model's.

Deviations from decide-exchange-model, all stated in docs/models.md: floats instead of Decimal;
ties in gain are taken in a fixed order (decide draws a coin); the outcome used by the
overshoot check is that of the current voting positions (decide keeps a per-exchange record of
the other actors' shifts); the overshoot cut moves the supplier to the position that puts the
outcome on the demander's position (decide uses that position's value as the length of the move).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cicasim.models.bargain import Bargain, Prediction
from cicasim.models.compromise import weights

__all__ = ["Exchange", "exchange_model", "exchange_round"]

EPS_GAIN = 1e-10
#: Gains equal to this many decimals are ties, taken in the order the exchanges were listed.
GAIN_DIGITS = 12


@dataclass
class _Side:
    actor: int
    supply: int  # issue this side shifts on
    demand: int  # issue on which the other side shifts toward it
    x_supply: float
    x_demand: float
    moves: list[float] = field(default_factory=list)
    move: float = 0.0
    y: float = 0.0

    def valid(self, move: float) -> bool:
        if abs(move) > 100 or abs(move) <= 1e-10:
            return False
        if not 0.0 <= self.x_supply + move <= 100.0:
            return False
        if sum(self.moves) > 100:
            return False
        lo, hi = min(self.moves), max(self.moves)
        return (lo < 0 and hi < 0) or (lo > 0 and hi > 0)


class Exchange:
    """One candidate exchange between actors on an issue pair (the sides ``i`` and ``j``:
    ``i`` supplies q and demands p, ``j`` supplies p and demands q)."""

    def __init__(self, a: int, b: int, p: int, q: int, X: np.ndarray, S: np.ndarray,
                 W: np.ndarray, den: np.ndarray) -> None:
        self.W, self.den, self.S = W, den, S
        if S[a, p] / S[a, q] < S[b, p] / S[b, q]:
            a, b = b, a
        self.i = _Side(a, q, p, float(X[a, q]), float(X[a, p]))
        self.j = _Side(b, p, q, float(X[b, p]), float(X[b, q]))
        self.p, self.q = p, q
        self.gain = 0.0
        self.is_valid = True

    def _ratio(self, side: _Side, move: float) -> float:
        return abs(move) * self.W[side.actor, side.supply] / self.den[side.supply]

    def _reverse(self, side: _Side, ratio: float) -> float:
        return ratio * self.den[side.supply] / self.W[side.actor, side.supply]

    def calculate(self, X: np.ndarray) -> None:
        i, j, S = self.i, self.j, self.S
        sip, siq = S[i.actor, self.p], S[i.actor, self.q]
        sjp, sjq = S[j.actor, self.p], S[j.actor, self.q]
        dp = self._ratio(j, i.x_demand - j.x_supply)
        dq = (sjp + sip) / (sjq + siq) * dp
        i.move = self._reverse(i, dq)
        j.move = abs(i.x_demand - j.x_supply)
        if abs(i.move) > abs(j.x_demand - i.x_supply):
            dq = self._ratio(i, j.x_demand - i.x_supply)
            dp = (siq + sjq) / (sip + sjp) * dq
            i.move = abs(j.x_demand - i.x_supply)
            j.move = self._reverse(j, dp)
        self._orient_and_store()
        self.gain = abs(dq * siq - dp * sip)
        self.is_valid = bool(i.valid(i.move) and j.valid(j.move)) and self.gain >= EPS_GAIN
        if self.is_valid:
            self._check_overshoot(i, X)
            self._check_overshoot(j, X)
            self.is_valid = bool(i.valid(i.move) and j.valid(j.move))

    def _orient_and_store(self) -> None:
        i, j = self.i, self.j
        if i.x_supply > j.x_demand:
            i.move = -abs(i.move)
        if j.x_supply > i.x_demand:
            j.move = -abs(j.move)
        i.moves.append(i.move)
        j.moves.append(j.move)
        i.y = i.x_supply + i.move
        j.y = j.x_supply + j.move

    def _outcome(self, side: _Side, pos: float, X: np.ndarray) -> float:
        d, k = side.supply, side.actor
        w = self.W[:, d]
        return float((w @ X[:, d] - w[k] * X[k, d] + w[k] * pos) / self.den[d])

    def _check_overshoot(self, side: _Side, X: np.ndarray) -> None:
        """Cut ``side``'s shift when it would carry the outcome past the other's position."""
        other = self.j if side is self.i else self.i
        target = other.x_demand
        n0, n1 = self._outcome(side, side.x_supply, X), self._outcome(side, side.y, X)
        if (target - n0 >= 0 and target - n1 >= 0) or (target - n0 <= 0 and target - n1 <= 0):
            return
        d, k = side.supply, side.actor
        w = self.W[:, d]
        rest = w @ X[:, d] - w[k] * X[k, d]
        pos = (target * self.den[d] - rest) / w[k]
        ratio_side = self._ratio(side, pos - side.x_supply)
        S = self.S
        # equal gain: ratio_other = ratio_side * (s_side,supply + s_other,demand)... as decide's
        # by_exchange_ratio: (s of side on its supply + s of other on side's supply issue) /
        # (s of side on its demand + s of other on its supply)
        num = S[side.actor, side.supply] + S[other.actor, side.supply]
        den = S[side.actor, side.demand] + S[other.actor, side.demand]
        ratio_other = num / den * ratio_side
        side.move = abs(pos - side.x_supply) * np.sign(side.move or 1.0)
        other.move = self._reverse(other, ratio_other) * np.sign(other.move or 1.0)
        side.moves[-1], other.moves[-1] = side.move, other.move
        side.y, other.y = side.x_supply + side.move, other.x_supply + other.move
        self.gain = abs(ratio_other * S[side.actor, side.demand]
                        - ratio_side * S[side.actor, side.supply])

    def sides(self) -> tuple[_Side, _Side]:
        return self.i, self.j


def exchange_round(X: np.ndarray, S: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, list]:
    """One round of equal-gain exchanges: the voting positions after the round and the
    realised exchanges as (actor i, issue i supplies, y_i, actor j, issue j supplies, y_j,
    gain)."""
    n, d = X.shape
    X = X.astype(float).copy()
    den = W.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        nbs = np.where(den > 0, (W * X).sum(axis=0) / np.where(den > 0, den, 1), np.nan)
    left = X <= nbs[None, :]
    cands: list[Exchange] = []
    for p in range(d):
        for q in range(p + 1, d):
            if den[p] <= 0 or den[q] <= 0:
                continue
            grp = left[:, p].astype(int) | (left[:, q].astype(int) * 2)
            pairs = [(a, b) for a in np.flatnonzero(grp == 0) for b in np.flatnonzero(grp == 3)]
            pairs += [(a, b) for a in np.flatnonzero(grp == 1) for b in np.flatnonzero(grp == 2)]
            for a, b in pairs:
                if min(S[a, p], S[a, q], S[b, p], S[b, q]) <= 0 or W[a, p] <= 0 or W[b, q] <= 0:
                    continue
                if W[a, q] <= 0 or W[b, p] <= 0:
                    continue
                e = Exchange(int(a), int(b), p, q, X, S, W, den)
                e.calculate(X)
                cands.append(e)
    realised = []
    while cands:
        cands.sort(key=lambda e: -round(e.gain, GAIN_DIGITS))
        best = cands.pop(0)
        if not best.is_valid:
            continue
        for s in best.sides():
            X[s.actor, s.supply] = s.y
        realised.append((best.i.actor, best.i.supply, best.i.y, best.j.actor, best.j.supply,
                         best.j.y, best.gain))
        keep = []
        for e in cands:
            if not e.is_valid:
                continue
            changed = False
            for s in e.sides():
                for r in best.sides():
                    if s.actor == r.actor and s.supply == r.supply:
                        s.x_supply = r.y
                        s.moves.append(r.moves[-1])
                        changed = True
            if changed:
                for s in e.sides():
                    s.moves.pop()
                e.calculate(X)
            if e.is_valid:
                keep.append(e)
        cands = keep
    return X, realised


def exchange_model(bargain: Bargain, *, salience_fallback: bool = False) -> Prediction:
    """Stokman's equal-gain vote-exchange model (Stokman & van Oosten 1994): the compromise of
    the voting positions after one round of exchanges across the proposal's dimensions."""
    W = weights(bargain, salience_fallback=salience_fallback)
    X = bargain.position
    n_ex = 0
    if bargain.d > 1:
        X, realised = exchange_round(bargain.position, bargain.salience, W)
        n_ex = len(realised)
    tot = W.sum(axis=0)
    out = np.divide((W * X).sum(axis=0), tot, out=np.full(bargain.d, np.nan), where=tot > 0)
    return Prediction(outcome=out, info={"exchanges": n_ex, "voting_positions": X})
