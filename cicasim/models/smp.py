"""KTAB's Spatial Model of Politics (SMP): challenges, bargains and probabilistic Condorcet
elections.

Wise, B., Efird, B., Lester, S. et al. (2015), "KAPSARC Toolkit for Behavioral Analysis (KTAB):
the Spatial Model of Politics", KAPSARC discussion paper KS-1517-DP018A; the KTAB sources,
github.com/KAPSARC/KTAB (``examples/smp/libsrc/smp.cpp``, ``smpbcn.cpp``,
``KTAB/kmodel/libsrc/kmodel.cpp``).  Positions are on [0, 1] (the 0-100 scale / 100) and every
step follows KTAB's default parameters (proportional voting, linear victory probabilities,
conditional probabilistic Condorcet election, semi-committed third parties, one-third risk
adjustment, "Mid" risk range, S2P2 bargain interpolation, initiator-only bargains, ideals equal
to current positions).  Each turn:

1. **Utilities.**  d_ij = sqrt(Σ_k (s_ik (x_ik − x_jk))² / Σ_k s_ik²) is i's salience-weighted
   distance to j's position; u(d, R) = (1 − d)(1 + d R).  The probabilistic Condorcet election
   (PCE) over the actors' positions: coalition strength c_ij = Σ_k max(0, w_k (u_k(x_i) −
   u_k(x_j))) with w_k the capability and risk-neutral utilities; victory probability
   c_ij / (c_ij + c_ji); P(x_i wins) ∝ Π_j P(x_i beats x_j).  Risk attitudes R_i =
   (3 p_i − p_max − 2 p_min) / (2 (p_max − p_min)) in [−½, 1], and h's estimate of i's
   attitude (2 R_h + R_i) / 3.
2. **Challenges.**  Each actor i weighs a challenge to every j: i and j add their votes
   s c (u(x_i) − u(x_j)) to the two sides, each third party n adds the vote of a semi-committed
   supporter given its own chance of tipping the contest; P(i wins) = c_i/(c_i + c_j); the
   expected gain is (1 − s_j) 2u_i(x_i) + s_j (P 2u_i(x_i) + (1 − P) 2u_i(x_j)) − u_i(x_i) −
   u_i(x_j).  i challenges the j with the largest gain above 1e-5 and proposes the bargain in
   which both move to the point weighted by salience² × probability² (S2P2), rounded to 1e-4.
3. **Bargains.**  Every actor k holds the status quo bargain (nothing moves) and every bargain
   it initiated or received.  All actors vote over k's bargains by their average utility over
   the whole state (the bargain's two positions replaced), weighted by capability, in a PCE.
   **Deterministic mode**: k adopts its side of the most probable bargain.  **Stochastic mode**:
   k draws a bargain with the PCE probabilities, from a seeded numpy Generator.
4. **Stopping rule** (KTAB's ``smpStopFn``): stop after turn t ≥ 2 when the total movement of
   the turn is below 2% of the first turn's (+1e-4), or after 100 turns.

The **prediction** is the expected outcome of the final state: the positions weighted by the
PCE probability (capability-weighted votes of the actors' own utilities) over the distinct
positions (merged within KTAB's tolerance 1e-3).  In stochastic mode ``runs`` independent runs
(seeds spawned from one seed) give a predictive distribution; the point prediction is its
median.

Deviations from KTAB, stated in docs/models.md: actors with no salience on any dimension are left
out (KTAB rejects them); saliences whose sum over dimensions exceeds 1 are scaled to sum to 1
(KTAB requires the sum to be at most 1); bargains an actor received are ordered by initiator
(KTAB's threads order them by finishing time, which only matters for exact ties); the stochastic
mode draws from numpy's PCG64, not KTAB's generator, so its runs cannot match KTAB's draw for
draw (and were not compared with KTAB's stochastic mode).
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import Bargain, Prediction

__all__ = ["SmpRun", "bs_util", "cond_pce", "smp_model", "smp_run"]

MIN_C = 1e-8  # coalition floor (Model::coalitions)
MIN_CLTN = 1e-10  # challenge coalition floor (probEduChlg)
MIN_W = 1e-6  # bargain interpolation floor (interpBrgnSnPm)
MIN_SIG_EDU = 1e-5  # smallest expected gain that makes a challenge (bestChallenge)
POS_TOL = 1e-3  # positions closer than this are one option (SMPModel::posTol)
MAX_TURNS, MIN_TURNS, MIN_DELTA_RATIO, MIN_SIG_DELTA = 100, 2, 0.02, 1e-4  # smpStopFn


def bs_util(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """KTAB's scalar utility of a normalised distance d under risk attitude R (bsUtil)."""
    d = np.asarray(d, float)
    return np.where(d <= 1, (1 - d) * (1 + d * r), (1 - d) * (1 + r))


def cond_pce(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Conditional probabilistic Condorcet election over options (columns of ``u``, voters in
    rows, voting weights ``w``): proportional votes, linear victory probabilities."""
    diff = u[:, :, None] - u[:, None, :]  # (voter, option i, option j)
    c = MIN_C + np.maximum(w[:, None, None] * diff, 0.0).sum(axis=0)
    np.fill_diagonal(c, MIN_C)
    pv = c / (c + c.T)
    np.fill_diagonal(pv, 0.5)
    p = np.prod(pv, axis=1)
    return p / p.sum()


def cond_pce_batch(u: np.ndarray, valid: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`cond_pce` for several elections at once: ``u`` (E, voters, options) with
    ``valid`` (E, options) marking the options that exist (padding gets probability 0)."""
    diff = u[:, :, :, None] - u[:, :, None, :]  # (E, voter, i, j)
    c = MIN_C + np.maximum(w[None, :, None, None] * diff, 0.0).sum(axis=1)  # (E, i, j)
    pv = c / (c + np.transpose(c, (0, 2, 1)))
    m = u.shape[2]
    eye = np.eye(m, dtype=bool)[None]
    pv = np.where(eye, 0.5, pv)
    pv = np.where(valid[:, None, :], pv, 1.0)  # absent rivals do not count
    p = np.prod(pv, axis=2) * valid
    return p / p.sum(axis=1, keepdims=True)


def _draw(p: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probabilities ``p`` (inverse of the cumulative distribution)."""
    return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"),
                   p.size - 1))


def _vdiff(ideal: np.ndarray, pos: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """vd[i, j]: i's salience-weighted distance from its ideal to j's position (bvDiff)."""
    ds = sal[:, None, :] * (ideal[:, None, :] - pos[None, :, :])
    return np.sqrt((ds**2).sum(axis=2) / (sal**2).sum(axis=1)[:, None])


class SmpRun:
    """One run of the SMP on positions (N, D) in [0, 1], saliences (N, D), capabilities (N,)."""

    def __init__(self, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray) -> None:
        self.pos = np.asarray(pos, float).copy()
        self.sal = np.asarray(sal, float)
        self.cap = np.asarray(cap, float)
        self.s_sum = self.sal.sum(axis=1)
        self.history = [self.pos.copy()]

    def utilities(self) -> tuple[np.ndarray, np.ndarray]:
        """(A[h, i, j] = h's estimate of i's utility of j's position, risk attitudes R)."""
        vd = _vdiff(self.pos, self.pos, self.sal)
        p = cond_pce(1.0 - vd, self.cap)  # rnUtil(k, i) = 1 - vd(k, i)
        pmin, pmax = p.min(), p.max()
        nra = (3 * p - (pmax + 2 * pmin)) / (2 * (pmax - pmin)) if pmax > pmin else np.zeros_like(p)
        rhi = (2.0 * nra[:, None] + nra[None, :]) / 3.0  # (h, i)
        return bs_util(vd[None, :, :], rhi[:, :, None]), nra

    def challenges(self, A: np.ndarray) -> list[tuple[int, int, float]]:
        """(initiator i, target j, P(i beats j) in i's eyes) for every actor that challenges."""
        n = self.pos.shape[0]
        idx = np.arange(n)
        Ai = A[idx]  # Ai[i] = A[i], i's perspective: (i, a, b)
        uii = Ai[idx, idx, idx][:, None]  # A[i, i, i]
        uij = Ai[idx, idx, :]  # A[i, i, j]
        uji = Ai[idx, :, idx]  # A[i, j, i]
        ujj = np.einsum("ijj->ij", Ai)  # A[i, j, j]
        wi = (self.s_sum * self.cap)[:, None]
        wj = (self.s_sum * self.cap)[None, :]
        ci = wi * (uii - uij)
        cj = wj * (uji - ujj)
        chij = MIN_CLTN + np.maximum(ci, 0) + np.maximum(cj, 0)
        chji = MIN_CLTN + np.maximum(-ci, 0) + np.maximum(-cj, 0)
        c0i, c0j = chij[:, :, None], chji[:, :, None]
        # third parties n: arrays (i, j, n)
        uni = Ai[idx, :, idx][:, None, :]  # A[i, n, i]
        unj = np.transpose(Ai, (0, 2, 1))  # A[i, n, j] at [i, j, n]
        unn = np.einsum("inn->in", Ai)[:, None, :]  # A[i, n, n]
        wn = (self.s_sum * self.cap)[None, None, :]
        cn = wn * (uni - unj)
        cni = np.where(cn > 0, c0i + cn, c0i)
        cnj = np.where(cn < 0, c0j - cn, c0j)
        pin = cni / (cni + cnj)
        u_ik_j = pin * (2 * uni + unn) + (1 - pin) * (3 * unj)
        u_i_jk = pin * (3 * uni) + (1 - pin) * (2 * unj + unn)
        vn = wn * (u_ik_j - u_i_jk)
        third = np.ones((n, n, n), bool)
        third[idx, :, idx] = False  # n == i
        third[:, idx, idx] = False  # n == j
        chij = chij + np.where(third & (vn > 0), vn, 0.0).sum(axis=2)
        chji = chji + np.where(third & (vn < 0), -vn, 0.0).sum(axis=2)
        phij = chij / (chij + chji)
        sj = self.s_sum[None, :]
        eu = (1 - sj) * 2 * uii + sj * (phij * 2 * uii + (1 - phij) * 2 * uij)
        edu = eu - (uii + uij)
        edu = np.where(np.eye(n, dtype=bool) | ~(edu > MIN_SIG_EDU), -np.inf, edu)
        best = np.argmax(edu, axis=1)  # the first j on a tie, as KTAB's strict comparison
        return [(i, int(best[i]), float(phij[i, best[i]]))
                for i in range(n) if np.isfinite(edu[i, best[i]])]

    def bargain(self, i: np.ndarray, j: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The S2P2 interpolated bargains of initiators ``i`` with targets ``j`` (arrays), given
        the initiators' P(i beats j): (initiators' new positions, targets' new positions),
        rounded half up to 1e-4 as KTAB's ``round4``."""
        p = np.asarray(p, float)[:, None]
        wi = self.sal[i] ** 2 * p**2
        wj = self.sal[j] ** 2 * (1 - p) ** 2
        ti, tj = self.pos[i], self.pos[j]
        bi = ((wi + MIN_W) * ti + wj * tj) / (wi + MIN_W + wj)
        bj = (wi * ti + (MIN_W + wj) * tj) / (wi + MIN_W + wj)
        return np.floor(0.5 + bi * 1e4) / 1e4, np.floor(0.5 + bj * 1e4) / 1e4

    def turn(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """One turn; returns the new positions (and records them)."""
        n = self.pos.shape[0]
        A, nra = self.utilities()
        own = A[np.arange(n), np.arange(n), :]  # own[n, a] = A[n, n, a]
        new = self.pos.copy()
        tot = own.sum(axis=1)
        made = self.challenges(A)
        if not made:
            self.history.append(new.copy())
            return new
        ini = np.array([i for i, _, _ in made])
        rcv = np.array([j for _, j, _ in made])
        pa, pb = self.bargain(ini, rcv, np.array([p for _, _, p in made]))
        ua = bs_util(_vdiff(self.pos, pa, self.sal), nra[:, None])  # (voter, bargain)
        ub = bs_util(_vdiff(self.pos, pb, self.sal), nra[:, None])
        ubar = (tot[:, None] - own[:, ini] - own[:, rcv] + ua + ub) / n
        usq = tot / n
        involved = (ini[None, :] == np.arange(n)[:, None]) | (rcv[None, :] == np.arange(n)[:, None])
        movers = np.flatnonzero(involved.any(axis=1))
        m_max = 1 + int(involved.sum(axis=1).max())
        U = np.zeros((movers.size, n, m_max))
        valid = np.zeros((movers.size, m_max), bool)
        lists = []
        for e, k in enumerate(movers):
            mine = np.flatnonzero(involved[k])
            lists.append(mine)
            U[e, :, 0] = usq
            U[e, :, 1:1 + mine.size] = ubar[:, mine]
            valid[e, :1 + mine.size] = True
        probs = cond_pce_batch(U, valid, self.cap)
        for e, k in enumerate(movers):
            prob = probs[e, valid[e]]
            m = int(np.argmax(prob)) if rng is None else _draw(prob, rng)
            if m > 0:
                b = lists[e][m - 1]
                new[k] = pa[b] if ini[b] == k else pb[b]
        self.pos = new
        self.history.append(new.copy())
        return new

    def done(self) -> bool:
        t = len(self.history) - 1
        if t >= MAX_TURNS:
            return True
        if t < MIN_TURNS:
            return False
        d01 = np.linalg.norm(self.history[1] - self.history[0], axis=1).sum() + MIN_SIG_DELTA
        dxy = np.linalg.norm(self.history[t] - self.history[t - 1], axis=1).sum()
        return bool(dxy / d01 < MIN_DELTA_RATIO)

    def expected_outcome(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Σ p x over distinct positions, the distinct positions, their PCE probabilities)."""
        keep: list[int] = []
        for i in range(self.pos.shape[0]):
            if not any(np.linalg.norm(self.pos[i] - self.pos[u]) < POS_TOL for u in keep):
                keep.append(i)
        vd = _vdiff(self.pos, self.pos[keep], self.sal)
        A, nra = self.utilities()
        u = bs_util(vd, nra[:, None])
        p = cond_pce(u, self.cap) if len(keep) > 1 else np.ones(1)
        return p @ self.pos[keep], self.pos[keep], p


def smp_run(pos: np.ndarray, sal: np.ndarray, cap: np.ndarray, *,
            rng: np.random.Generator | None = None) -> SmpRun:
    """Run the SMP to its stopping rule (positions in [0, 1])."""
    run = SmpRun(pos, sal, cap)
    if np.ptp(run.pos, axis=0).max(initial=0.0) <= 0 or run.pos.shape[0] < 2:
        return run
    while True:
        run.turn(rng)
        if run.done():
            return run


def _inputs(bargain: Bargain, salience_fallback: bool = False
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sal = np.clip(bargain.salience, 0.0, None)
    if salience_fallback:
        empty = ~np.any(bargain.capability[:, None] * sal > 0, axis=0)
        sal = np.where(empty[None, :], 1.0 / bargain.d, sal)
    keep = (sal.sum(axis=1) > 0) & (bargain.capability > 0)
    sal = sal[keep]
    tot = sal.sum(axis=1, keepdims=True)
    sal = np.where(tot > 1.0, sal / np.where(tot > 0, tot, 1.0), sal)
    return bargain.position[keep] / 100.0, sal, bargain.capability[keep], keep


def smp_model(bargain: Bargain, *, stochastic: bool = False, seed: int = 0,
              runs: int = 16, salience_fallback: bool = False) -> Prediction:
    """KTAB's Spatial Model of Politics (Wise et al. 2015): the PCE-expected outcome of the
    final state; deterministic, or ``runs`` stochastic runs from ``seed`` (median outcome and
    the runs as the predictive distribution).  With ``salience_fallback``, a dimension on which
    no actor has salience gets salience 1/D for all."""
    pos, sal, cap, keep = _inputs(bargain, salience_fallback)
    if pos.shape[0] == 0:
        return Prediction(outcome=np.full(bargain.d, np.nan))
    if not stochastic:
        run = smp_run(pos, sal, cap)
        out, _, _ = run.expected_outcome()
        return Prediction(outcome=100.0 * out, info={"turns": len(run.history) - 1})
    seqs = np.random.SeedSequence(seed).spawn(runs)
    samples, turns = [], []
    for ss in seqs:
        run = smp_run(pos, sal, cap, rng=np.random.Generator(np.random.PCG64(ss)))
        samples.append(100.0 * run.expected_outcome()[0])
        turns.append(len(run.history) - 1)
    s = np.array(samples)
    return Prediction(outcome=np.median(s, axis=0), samples=s, info={"turns": turns})
