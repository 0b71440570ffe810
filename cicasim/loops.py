"""The kernel's inner loops, compiled with numba.

Each function walks the replication axis and does one replication's arithmetic in a fixed order,
so a block of 1,024 replications and a single traced replication give the same numbers, bit for
bit.  They fuse what numpy would do in dozens of passes over ``(B, N, N)`` arrays into one pass
with no temporaries, which is where the engine's speed comes from (``docs/performance.md``).
The rules they implement are documented, with their sources, in :mod:`cicasim.kernel`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["influence_update", "pair_arrays", "vote_margins"]


@njit(cache=True)
def pair_arrays(base, sd, factors, use_noise, c, normalise, T, A):  # pragma: no cover - compiled
    """Per replication: tensions T_ij = clip(base_ij + sd_ij a_i·a_j / sqrt(M), 0, 1) from the
    actors' factor draws ``factors`` (B, N, M), and influence weights A_ij = c_j (1 - T_ij),
    row-normalised when ``normalise``.  Fills ``T`` and ``A`` (B, N, N)."""
    B, N = c.shape
    M = factors.shape[2]
    scale = 1.0 / math.sqrt(M)
    f = np.empty((N, M), dtype=np.float32)  # float32 products, as the draws are
    for b in range(B):
        if use_noise:
            for i in range(N):
                for m in range(M):
                    f[i, m] = factors[b, i, m]
        for i in range(N):
            T[b, i, i] = 0.0
            for j in range(i + 1, N):
                v = base[i, j]
                if use_noise and sd[i, j] != 0.0:
                    # four partial sums in a fixed order: the same on every machine
                    s0 = 0.0
                    s1 = 0.0
                    s2 = 0.0
                    s3 = 0.0
                    m = 0
                    while m + 4 <= M:
                        s0 += f[i, m] * f[j, m]
                        s1 += f[i, m + 1] * f[j, m + 1]
                        s2 += f[i, m + 2] * f[j, m + 2]
                        s3 += f[i, m + 3] * f[j, m + 3]
                        m += 4
                    while m < M:
                        s0 += f[i, m] * f[j, m]
                        m += 1
                    v += sd[i, j] * ((s0 + s1) + (s2 + s3)) * scale
                v = min(max(v, 0.0), 1.0)
                T[b, i, j] = v
                T[b, j, i] = v
        for i in range(N):
            row = 0.0
            for j in range(N):
                a = c[b, j] * (1.0 - T[b, i, j])
                A[b, i, j] = a
                row += a
            if normalise:
                for j in range(N):
                    A[b, i, j] /= row


@njit(cache=True)
def vote_margins(
    x, s, a, p, q, T, pair_row, c, supporters, member, beta, h, sigma, theta, noise, uhold,
    margin, held,
):  # pragma: no cover - compiled
    """Per replication and actor: gain of text ``p`` over status quo ``q``, the rival penalty,
    the hold-up draw and the noisy margin u - θ.  Fills ``margin`` and ``held`` (B, N).
    ``pair_row[b]`` is negotiation ``b``'s row of the tension array ``T``."""
    B, N, D = x.shape
    w = np.empty(N)
    for b in range(B):
        r = pair_row[b]
        wsum = 0.0
        for j in range(N):
            w[j] = c[b, j] if supporters[b, j] else 0.0
            wsum += w[j]
        for i in range(N):
            up = 0.0
            uq = 0.0
            for k in range(D):
                dp = abs(x[b, i, k] - p[b, k]) / 100.0
                dq = abs(x[b, i, k] - q[k]) / 100.0
                if a[i] == 2:
                    up -= s[i, k] * dp * dp
                    uq -= s[i, k] * dq * dq
                else:
                    up -= s[i, k] * dp
                    uq -= s[i, k] * dq
            # Σ_j T_ij w_j (T_ii = 0: i itself adds nothing), four partial sums, fixed order
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            j = 0
            while j + 4 <= N:
                s0 += T[r, i, j] * w[j]
                s1 += T[r, i, j + 1] * w[j + 1]
                s2 += T[r, i, j + 2] * w[j + 2]
                s3 += T[r, i, j + 3] * w[j + 3]
                j += 4
            while j < N:
                s0 += T[r, i, j] * w[j]
                j += 1
            num = (s0 + s1) + (s2 + s3)
            tmax = 0.0
            if h[i] > 0.0:
                for j in range(N):
                    if supporters[b, j] and member[j] and j != i and T[r, i, j] > tmax:
                        tmax = T[r, i, j]
            den = wsum - w[i]
            rho = beta[i] * num / den if den > 0.0 else 0.0
            held[b, i] = uhold[b, i] < h[i] * tmax
            margin[b, i] = (up - uq) - rho + sigma[i] * noise[b, i] - theta[i]


@njit(cache=True)
def influence_update(A, pair_row, x, x0, lam, mu, eps, bounded, running, out):  # pragma: no cover
    """Synchronous Friedkin-Johnsen step with bounded confidence for the running rows; other
    rows are copied.  ``A`` is row-normalised unless ``bounded``.  Fills ``out`` (B, N, D)."""
    B, N, D = x.shape
    acc = np.empty(D)
    for b in range(B):
        if not running[b]:
            out[b] = x[b]
            continue
        r = pair_row[b]
        for i in range(N):
            for k in range(D):
                acc[k] = 0.0
            if bounded:
                tot = 0.0
                for j in range(N):
                    d2 = 0.0
                    for k in range(D):
                        diff = x[b, i, k] - x[b, j, k]
                        d2 += diff * diff
                    if math.sqrt(d2) <= eps[i]:
                        w = A[r, i, j]
                        tot += w
                        for k in range(D):
                            acc[k] += w * x[b, j, k]
                for k in range(D):
                    acc[k] /= tot
            elif D == 1:
                s0 = 0.0
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                j = 0
                while j + 4 <= N:
                    s0 += A[r, i, j] * x[b, j, 0]
                    s1 += A[r, i, j + 1] * x[b, j + 1, 0]
                    s2 += A[r, i, j + 2] * x[b, j + 2, 0]
                    s3 += A[r, i, j + 3] * x[b, j + 3, 0]
                    j += 4
                while j < N:
                    s0 += A[r, i, j] * x[b, j, 0]
                    j += 1
                acc[0] = (s0 + s1) + (s2 + s3)
            else:
                for j in range(N):
                    w = A[r, i, j]
                    for k in range(D):
                        acc[k] += w * x[b, j, k]
            for k in range(D):
                out[b, i, k] = lam[i] * x0[b, i, k] + (1.0 - lam[i]) * (
                    (1.0 - mu[i]) * x[b, i, k] + mu[i] * acc[k]
                )
