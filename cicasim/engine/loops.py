"""The kernel's inner loops, compiled with numba.

:func:`run_rounds` takes each replication of a block through a range of rounds, one replication
at a time, in a fixed order of arithmetic, so a block of 1,024 replications and a single traced
replication give the same numbers, bit for bit.  Working on one replication at a time keeps its
arrays in the processor's cache, lets a replication stop the moment it is decided, and computes
the tensions only when they are needed: in round 1 the only supporter is the sponsor, so a vote
needs one row of the tensions, and most negotiations end there (``docs/performance.md``).

The rules are documented, with their sources, in :mod:`cicasim.engine.kernel`; this module only does
their arithmetic.  Every sum over actors runs in index order, never in an order that depends on
the data or the machine; the tension matrix is symmetric, so sums over ``j`` of ``T_ij`` read
row ``j`` and the loop over ``i`` inside them vectorises.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "factors_by_row",
    "fill_all_tensions",
    "influence_rows",
    "normal_quantile",
    "run_rounds",
]

# statuses, as in cicasim.engine.kernel
_RUNNING, _PASSED, _DEADLOCK, _WITHDRAWN = 0, 1, 2, 3


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def normal_quantile(u):  # pragma: no cover - compiled
    """Φ⁻¹(u), the standard normal quantile, by Wichura's (1988) algorithm AS 241 (PPND16,
    relative error about 1e-16); ``u`` in (0, 1).  Inlined here because the kernel needs one per
    vote cast (``tests/test_kernel.py`` checks it against ``scipy.special.ndtri``)."""
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r
                    + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r
                  + 1.3731693765509461125e4) * r + 1.9715909503065514427e3) * r
                + 1.3314166789178437745e2) * r + 3.3871328727963666080e0)
        den = (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r
                    + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r
                  + 5.3941960214247511077e3) * r + 6.8718700749205790830e2) * r
                + 4.2313330701600911252e1) * r + 1.0)
        return q * num / den
    r = u if q < 0.0 else 1.0 - u
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                    + 2.41780725177450611770e-1) * r + 1.27045825245236838258e0) * r
                  + 3.64784832476320460504e0) * r + 5.76949722146069140550e0) * r
                + 4.63033784615654529590e0) * r + 1.42343711074968357734e0)
        den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                    + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
                  + 6.89767334985100004550e-1) * r + 1.67638483018380384940e0) * r
                + 2.05319162663775882187e0) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
                  + 2.96560571828504891230e-1) * r + 1.78482653991729133580e0) * r
                + 5.46378491116411436990e0) * r + 6.65790464350110377720e0)
        den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                    + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
                  + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
                + 5.99832206555887937690e-1) * r + 1.0)
    z = num / den
    return -z if q < 0.0 else z


@njit(cache=True, nogil=True, error_model="numpy")
def factors_by_row(factors):  # pragma: no cover - compiled
    """The tension factors (B, N, M) as (B, M, N), C-contiguous: row ``b``'s factor ``m`` of
    every actor side by side, as :func:`_tension_row` reads them (a copy ordered for the cache,
    three times faster than numpy's strided one)."""
    B, N, M = factors.shape
    out = np.empty((B, M, N), dtype=factors.dtype)
    for b in range(B):
        for n in range(N):
            for m in range(M):
                out[b, m, n] = factors[b, n, m]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _tension_row(base, sd, factors, use_noise, b, i, out):  # pragma: no cover - compiled
    """Row ``i`` of replication ``b``'s tensions into ``out`` (N,):
    T_ij = clip(base_ij + sd_ij (a_i·a_j) / sqrt(M), 0, 1), T_ii = 0, from the actors' float32
    factor vectors, laid out ``factors[b]`` (M, N).  The dot product adds the M float32
    products in order m = 0, 1, ... in double precision: symmetric in the pair, so T_ij == T_ji
    bit for bit (``base`` and ``sd`` are symmetric)."""
    M, N = factors.shape[1], factors.shape[2]
    if not use_noise:
        for j in range(N):
            out[j] = min(max(base[i, j], 0.0), 1.0)
    else:
        scale = 1.0 / math.sqrt(M)
        for j in range(N):
            out[j] = 0.0
        for m in range(M):
            fim = factors[b, m, i]
            for j in range(N):
                out[j] += np.float64(fim * factors[b, m, j])
        for j in range(N):
            v = base[i, j] + sd[i, j] * out[j] * scale
            out[j] = min(max(v, 0.0), 1.0)
    out[i] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _fill_tensions(base, sd, factors, use_noise, b, T):  # pragma: no cover - compiled
    """All of replication ``b``'s tensions ``T[b]`` (N, N), row by row."""
    for i in range(T.shape[1]):
        _tension_row(base, sd, factors, use_noise, b, i, T[b, i])


@njit(cache=True, nogil=True, error_model="numpy")
def fill_all_tensions(base, sd, factors, use_noise, T):  # pragma: no cover - compiled
    """Fill the tensions ``T`` (B, N, N) of every replication (``factors`` (B, M, N))."""
    for b in range(T.shape[0]):
        _fill_tensions(base, sd, factors, use_noise, b, T)


@njit(cache=True, nogil=True, error_model="numpy")
def _influence_row(T, c, x, x0, lam, mu, eps, bounded, source, b, out, work):  # pragma: no cover
    """Replication ``b``'s synchronous Friedkin-Johnsen step with bounded confidence, from
    ``x[b]`` into ``out`` (N, D):

    x_i <- λ_i x0_i + (1 - λ_i)((1 - μ_i) x_i + μ_i Σ_j W_ij x_j),
    W_ij = c_j (1 - T_ij) 1[|x_i - x_j| <= ε_i] / Σ_j (the same),

    the sums over the actors ``j`` marked in ``source`` (everyone, unless an actor is taken out
    of the influence channel to measure its pivotality).

    Sums run over j in index order; the loop over i inside is vectorised.  T is symmetric, so
    row j of T holds T_ij for every i.  An actor with no weight within reach keeps its place.
    ``work`` is scratch space, (2 D + 3, N).
    """
    N, D = out.shape
    acc, xt = work[:D], work[D : 2 * D]  # (D, N) each
    tot, u, eps2 = work[2 * D], work[2 * D + 1], work[2 * D + 2]
    for i in range(N):
        tot[i] = 0.0
        eps2[i] = eps[i] * eps[i]
        for k in range(D):
            acc[k, i] = 0.0
            xt[k, i] = x[b, i, k]
    for j in range(N):
        if not source[j]:
            continue
        cj = c[b, j]
        if bounded:
            for i in range(N):
                u[i] = cj * (1.0 - T[b, j, i])
                d2 = 0.0
                for k in range(D):
                    diff = xt[k, i] - xt[k, j]
                    d2 += diff * diff
                if d2 > eps2[i]:
                    u[i] = 0.0
        elif D == 1:
            xj = xt[0, j]
            for i in range(N):
                ui = cj * (1.0 - T[b, j, i])
                tot[i] += ui
                acc[0, i] += ui * xj
            continue
        else:
            for i in range(N):
                u[i] = cj * (1.0 - T[b, j, i])
        for i in range(N):
            tot[i] += u[i]
        for k in range(D):
            xjk = xt[k, j]
            for i in range(N):
                acc[k, i] += u[i] * xjk
    for i in range(N):
        for k in range(D):
            pull = acc[k, i] / tot[i] if tot[i] > 0.0 else xt[k, i]
            out[i, k] = lam[i] * x0[b, i, k] + (1.0 - lam[i]) * (
                (1.0 - mu[i]) * xt[k, i] + mu[i] * pull
            )


@njit(cache=True, nogil=True, error_model="numpy")
def influence_rows(T, c, x, x0, lam, mu, eps, bounded, source, out):  # pragma: no cover
    """:func:`_influence_row` for every replication: ``out`` (B, N, D)."""
    work = np.empty((2 * x.shape[2] + 3, x.shape[1]))
    for b in range(x.shape[0]):
        _influence_row(T, c, x, x0, lam, mu, eps, bounded, source, b, out[b], work)


@njit(cache=True, nogil=True, error_model="numpy")
def _sponsor_utility(x, s, a, b, sp, z):  # pragma: no cover - compiled
    """U_s(z) = -Σ_k s_sk (|x_sk - z_k| / 100)^a_s for the sponsor ``sp`` of replication ``b``."""
    tot = 0.0
    for k in range(z.shape[0]):
        d = abs(x[b, sp, k] - z[k]) / 100.0
        tot += s[sp, k] * (d * d if a[sp] == 2 else d)
    return -tot


@njit(cache=True, nogil=True, error_model="numpy")
def _passes(accept, objection, member, obj_max, crit_w, crit_q, floor):  # pragma: no cover
    """The decision rule as numbers (:meth:`cicasim.spec.rules.Rule.tally`): at most ``obj_max``
    objecting members, every weighted sum of accepting members at its quota, unless fewer than
    ``floor`` members fail to accept."""
    N = accept.shape[0]
    n_obj = 0
    n_out = 0
    for i in range(N):
        if objection[i]:
            n_obj += 1
        if member[i] and not accept[i]:
            n_out += 1
    ok = n_obj <= obj_max
    for c in range(crit_w.shape[0]):
        tot = 0.0
        for i in range(N):
            if accept[i]:
                tot += crit_w[c, i]
        ok = ok and tot >= crit_q[c]
    return ok or n_out < floor


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pull(
    base, sd, factors, use_noise, sponsor, member, holdups, c, T, paired, supporters, b, trow,
    rival, tmax,
):  # pragma: no cover - compiled
    """Replication ``b``'s pull of last round's supporters S on each actor i: fills
    ``rival[i]`` = Σ_{j∈S} T_ij c_j and, when anyone can hold up, ``tmax[i]`` = the largest
    T_ij over the supporting members; returns Σ_{j∈S} c_j.  Sums run over j in index order
    (row j of T is T_ij for every i, T being symmetric).  In round 1 the sponsor is the only
    supporter and only its row of tensions is computed; otherwise the whole matrix, once."""
    N = rival.shape[0]
    wsum = 0.0
    for i in range(N):
        rival[i] = 0.0
        tmax[i] = 0.0
    for j in range(N):
        if not supporters[b, j]:
            continue
        cj = c[b, j]
        wsum += cj
        if paired[b]:
            row = T[b, j]
        elif j == sponsor and supporters[b].sum() == 1:
            _tension_row(base, sd, factors, use_noise, b, j, trow)
            row = trow
        else:
            _fill_tensions(base, sd, factors, use_noise, b, T)
            paired[b] = True
            row = T[b, j]
        if holdups and member[j]:
            for i in range(N):
                rival[i] += row[i] * cj
                tmax[i] = max(tmax[i], row[i])
        else:
            for i in range(N):
                rival[i] += row[i] * cj
    return wsum


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _most_opposed(objection, margin):  # pragma: no cover - compiled
    """The objector with the lowest margin (the first of equals), or -1 if nobody objects."""
    worst = -1
    lowest = np.inf
    for i in range(objection.shape[0]):
        if objection[i] and (worst < 0 or margin[i] < lowest):
            worst = i
            lowest = margin[i]
    return worst


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _amended(c, weighed, objection, s, x, p, alpha, gamma, b, tot, z, out):  # pragma: no cover
    """Replication ``b``'s next text into ``out``: p + α (z - p), z the compromise, the
    capability × salience weighted mean of the positions of the actors marked in ``weighed``
    (the members), objectors weighted by (1 + γ); the text stays where the weights are all
    zero."""
    D = out.shape[0]
    for k in range(D):
        tot[k] = 0.0
        z[k] = 0.0
    for i in range(objection.shape[0]):
        if not weighed[i]:
            continue
        wi = c[b, i] * (1.0 + gamma if objection[i] else 1.0)
        for k in range(D):
            wik = wi * s[i, k]
            tot[k] += wik
            z[k] += wik * x[b, i, k]
    for k in range(D):
        zk = z[k] / tot[k] if tot[k] > 0 else p[b, k]
        out[k] = p[b, k] + alpha * (zk - p[b, k])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _gain_along(x, s, a, q, p, b, i, lam):  # pragma: no cover - compiled
    """Actor ``i``'s gain U_i(z) - U_i(q) of replication ``b`` at z = p + λ (q - p)."""
    g = 0.0
    for k in range(q.shape[0]):
        z = p[b, k] + lam * (q[k] - p[b, k])
        dz = abs(x[b, i, k] - z) / 100.0
        dq = abs(x[b, i, k] - q[k]) / 100.0
        if a[i] == 2:
            g += s[i, k] * (dq * dq - dz * dz)
        else:
            g += s[i, k] * (dq - dz)
    return g


@njit(cache=True, nogil=True, error_model="numpy")
def _accommodation(x, s, a, q, p, b, i, need):  # pragma: no cover - compiled
    """The smallest λ in [0, 1] at which actor ``i``'s gain of the text p + λ (q - p) over the
    status quo reaches ``need``, or -1 when no point of that segment does.  The gain is concave
    in λ (a concave utility of an affine path), so the points that reach ``need`` form an
    interval: a ternary search finds its top, a bisection its lower end (60 halvings each)."""
    if _gain_along(x, s, a, q, p, b, i, 0.0) >= need:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        m1 = lo + (hi - lo) / 3.0
        m2 = hi - (hi - lo) / 3.0
        if _gain_along(x, s, a, q, p, b, i, m1) < _gain_along(x, s, a, q, p, b, i, m2):
            lo = m1
        else:
            hi = m2
    top = 0.5 * (lo + hi)
    if _gain_along(x, s, a, q, p, b, i, top) < need:
        return -1.0
    lo, hi = 0.0, top
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _gain_along(x, s, a, q, p, b, i, mid) >= need:
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True, nogil=True, error_model="numpy")
def _accommodated(x, s, a, q, p, member, objection, rho, theta, b, out):  # pragma: no cover
    """Replication ``b``'s next text under the accommodating protocol: the text moves toward
    the status quo just far enough for the most reluctant objector who can be satisfied to
    accept it, ignoring vote noise (gain - ρ_i >= θ_i); objectors no point between the text and
    the status quo satisfies (hold-ups, rivals) are not accommodated, and the text stays when
    nobody can be."""
    lam = 0.0
    for i in range(objection.shape[0]):
        if member[i] and objection[i]:
            li = _accommodation(x, s, a, q, p, b, i, theta[i] + rho[i])
            if li > lam:
                lam = li
    for k in range(out.shape[0]):
        out[k] = p[b, k] + lam * (q[k] - p[b, k])


@njit(cache=True, nogil=True, error_model="numpy")
def run_rounds(
    # the negotiation (fixed inputs); ``member`` votes, ``weighed`` counts in the compromise,
    # ``source`` is listened to in the influence step
    member, weighed, source, s, a, q, base, sd, use_noise, bounded,
    theta, band, beta, h, sigma, eps, lam, mu, alpha, gamma, protocol, sponsor, max_rounds,
    obj_max, crit_w, crit_q, floor,
    # random numbers: tension factors (B, M, N); vote-noise and hold-up uniforms (N, B, k) for
    # rounds first .. first + k - 1
    factors, noise, uhold, first,
    # the state, updated in place
    x0, x, c, T, paired, p, supporters, status, rounds, final_text,
    objectors, abstainers, acceptors, first_blocker, margin,
):  # pragma: no cover - compiled
    """Take every running replication through rounds ``first`` to ``first + k - 1`` (at most
    ``max_rounds``): evaluate, vote, decide, record, amend or withdraw, influence
    (``docs/model.md``; :func:`cicasim.engine.kernel.step` documents each rule and its source).

    ``paired[b]`` says whether ``T[b]`` is filled; a replication fills it the first time it
    needs more than the sponsor's row.  Every quantity is the same, bit for bit, whichever way
    it was reached.
    """
    B, N, D = x.shape
    k = noise.shape[2]
    last = min(first + k - 1, max_rounds)
    trow = np.empty(N)
    rival = np.empty(N)
    tmax = np.empty(N)
    mg = np.empty(N)
    rh = np.zeros(N)
    acc = np.empty(N, dtype=np.bool_)
    abst = np.empty(N, dtype=np.bool_)
    obj = np.empty(N, dtype=np.bool_)
    z = np.empty(D)
    tot = np.empty(D)
    pn = np.empty(D)
    xn = np.empty((N, D))
    work = np.empty((2 * D + 3, N))
    holdups = False
    for i in range(N):
        holdups = holdups or h[i] > 0.0
    for b in range(B):
        for t in range(first, last + 1):
            if status[b] != _RUNNING:
                break
            r = t - first
            # 2. the supporters' pull (rival penalty and hold-up come from it)
            wsum = _pull(
                base, sd, factors, use_noise, sponsor, member, holdups, c, T, paired, supporters,
                b, trow, rival, tmax,
            )
            # 1-3. gain over q, rival penalty, hold-up and the noisy margin, members only
            for i in range(N):
                if not member[i]:
                    mg[i] = np.nan
                    acc[i] = False
                    abst[i] = False
                    obj[i] = False
                    continue
                up = 0.0
                uq = 0.0
                for kk in range(D):
                    dp = abs(x[b, i, kk] - p[b, kk]) / 100.0
                    dq = abs(x[b, i, kk] - q[kk]) / 100.0
                    if a[i] == 2:
                        up -= s[i, kk] * dp * dp
                        uq -= s[i, kk] * dq * dq
                    else:
                        up -= s[i, kk] * dp
                        uq -= s[i, kk] * dq
                den = wsum - (c[b, i] if supporters[b, i] else 0.0)
                rho = beta[i] * rival[i] / den if den > 0.0 else 0.0
                rh[i] = rho
                held = uhold[i, b, r] < h[i] * tmax[i]
                # ε_i = σ_i Φ⁻¹(u), u moved off 0 by half a step of the uniforms' 2^-53 grid
                eps_i = 0.0
                if sigma[i] != 0.0:
                    eps_i = sigma[i] * normal_quantile(noise[i, b, r] + 2.0**-54)
                m = (up - uq) - rho + eps_i - theta[i]
                mg[i] = m
                if i == sponsor:
                    acc[i] = True
                    abst[i] = False
                else:
                    acc[i] = m >= 0 and not held
                    abst[i] = m < 0 and m >= -band[i] and not held
                obj[i] = not acc[i] and not abst[i]
            # 4. decide; the first blocker is the most opposed objector of the first failed round
            passed = _passes(acc, obj, member, obj_max, crit_w, crit_q, floor)
            if not passed and first_blocker[b] < 0:
                first_blocker[b] = _most_opposed(obj, mg)
            # 5. record the vote
            rounds[b] = t
            for kk in range(D):
                final_text[b, kk] = p[b, kk]
            for i in range(N):
                supporters[b, i] = acc[i]
                acceptors[b, i] = acc[i]
                abstainers[b, i] = abst[i]
                objectors[b, i] = obj[i]
                margin[b, i] = mg[i]
            if passed:
                status[b] = _PASSED
                break
            if t >= max_rounds:
                status[b] = _DEADLOCK
                break
            # 6. amend (towards the compromise, or accommodating the objectors); the sponsor
            # withdraws a text it likes less than q
            if protocol == 0:
                _amended(c, weighed, obj, s, x, p, alpha, gamma, b, tot, z, pn)
            else:
                _accommodated(x, s, a, q, p, member, obj, rh, theta, b, pn)
            if _sponsor_utility(x, s, a, b, sponsor, pn) < _sponsor_utility(x, s, a, b, sponsor, q):
                status[b] = _WITHDRAWN
                break
            for kk in range(D):
                p[b, kk] = pn[kk]
            # 7. influence, synchronously
            if not paired[b]:
                _fill_tensions(base, sd, factors, use_noise, b, T)
                paired[b] = True
            _influence_row(T, c, x, x0, lam, mu, eps, bounded, source, b, xn, work)
            for i in range(N):
                for kk in range(D):
                    x[b, i, kk] = xn[i, kk]
