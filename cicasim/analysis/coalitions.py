"""Counting the winning coalitions of a simple game by size, exactly: the game's criteria as
weighted thresholds, a generating function over residue channels joined by the Chinese
remainder theorem for one weighted threshold with decimal weights, and an enumeration of the
winning coalitions otherwise.  :mod:`cicasim.analysis.power` turns the counts into the
Banzhaf and Shapley-Shubik indices (Felsenthal & Machover 1998; the generating function of Brams &
Affuso 1976 and Bilbao, Fernández, Jiménez & López 2000)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cicasim.errors import InputError
from cicasim.spec.rules import Rule

_TOL = 1e-9  # the tolerance of Rule.wins(): a sum >= quota - 1e-9 reaches the quota


_MAX_DECIMALS = 6


# Moduli of the residue channels: 0 stands for 2**64 (native uint64 wrap-around), then primes
# just below 2**63 so that a sum of two residues never wraps.
_PRIMES = (
    9223372036854775783,
    9223372036854775643,
    9223372036854775549,
    9223372036854775507,
    9223372036854775433,
    9223372036854775421,
)


@dataclass(frozen=True)
class _Weighted:
    name: str
    weights: np.ndarray  # int64 when exact, else float64
    quota: int | float  # int: sum >= quota; float: sum >= quota (tolerance already applied)
    exact: bool


@dataclass(frozen=True)
class _Game:
    """A coalition S wins iff (|S| >= size_min and every weighted threshold holds) or
    n - |S| < floor."""

    n: int
    size_min: int  # n + 1 when the criteria can never all hold
    weighted: tuple[_Weighted, ...]
    floor: int  # 0 = no blocking floor


def _game(rule: Rule, votes: np.ndarray, population: np.ndarray) -> _Game:
    n = len(votes)
    size_min = 0
    weighted: list[_Weighted] = []
    for crit in rule.criteria(votes, population):
        w = np.asarray(crit.weights, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InputError(f"rule criterion {crit.name!r}: weights must be n finite values >= 0")
        q = float(crit.quota) - _TOL
        if q <= 0:
            continue  # always holds
        if np.all(w == w[0]):
            need = n + 1 if w[0] == 0 else math.ceil(q / w[0])
            size_min = max(size_min, min(need, n + 1))
            continue
        scaled = _as_integers(w)
        if scaled is None:
            weighted.append(_Weighted(crit.name, w, q, exact=False))
            continue
        ints, scale = scaled
        q_int = math.ceil(q * scale)
        g = math.gcd(*(int(x) for x in ints))
        if g > 1:
            ints = ints // g
            q_int = -(-q_int // g)
        if q_int > int(ints.sum()):
            size_min = n + 1  # the threshold can never hold
            continue
        weighted.append(_Weighted(crit.name, ints, q_int, exact=True))
    floor = rule.blocking_floor() or 0
    return _Game(n=n, size_min=size_min, weighted=tuple(weighted), floor=int(floor))


def _as_integers(w: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(round(w * 10**d), 10**d)`` for the smallest ``d <= 6`` making ``w`` whole, else None.

    Decimal inputs (populations in millions with three decimals) become exact integers; the
    tolerance (1e-6 at the scaled level) is far inside the 1e-9 of the threshold test.
    """
    for d in range(_MAX_DECIMALS + 1):
        scale = 10**d
        s = w * scale
        r = np.rint(s)
        if np.all(np.abs(s - r) <= 1e-6 + 1e-12 * np.abs(s)) and r.sum() < 2**53:
            return r.astype(np.int64), scale
    return None


@dataclass(frozen=True)
class _Counts:
    by_size: list[int]  # length n + 1
    with_member: list[list[int]]  # n lists of length n + 1


def _combine(a: list[int], game: _Game, *, member: bool = False) -> list[int]:
    """Winning counts by size from the weighted-threshold counts ``a``, the size threshold and
    the blocking floor (for a member's table, coalitions containing the member)."""
    n = game.n
    out = []
    for k in range(n + 1):
        if member and k == 0:
            out.append(0)
        elif game.floor and n - k < game.floor:
            out.append(math.comb(n - 1, k - 1) if member else math.comb(n, k))
        elif k >= game.size_min:
            out.append(a[k])
        else:
            out.append(0)
    return out


def _dp_cells(game: _Game) -> int:
    crit = game.weighted[0]
    total = int(crit.weights.sum())
    q = int(crit.quota)
    return len(_moduli(game.n)) * (game.n + 1) * max(1, min(q, total - q + 1))


def _moduli(n: int) -> list[int]:
    """Residue channels whose product exceeds ``2**n`` (every count is at most that)."""
    mods, product = [0], 2**64
    for p in _PRIMES:
        if product > 2**n:
            break
        mods.append(p)
        product *= p
    if product <= 2**n:
        raise InputError(f"power_indices: {n} members is beyond the {63 * 7}-member limit")
    return mods


def _generating_function(
    crit: _Weighted, n: int, *, members: bool = True
) -> tuple[list[int], list[list[int]], np.ndarray]:
    """Counts for one integer weighted threshold ``sum w >= q``.

    Returns ``a[k]`` (coalitions of size k reaching the quota), per distinct weight class
    ``ai[c][k]`` (those of size k containing a member of class c), and each member's class.

    The table ``G[s, u]`` holds the coefficients of ``prod_j (1 + y x**w_j)``: the number of sets
    of size ``s`` and weight ``u``, for ``u < L`` only.  With ``L = q`` these sets are the losing
    coalitions; with ``L = total - q + 1`` they are the complements of the winning ones; the
    shorter side is used.  The sets that leave out a member of weight ``w`` have the table
    ``G / (1 + y x**w)``, whose partial sums are alternating sums of partial sums of ``G``::

        sum_{u<c} D[s, u] = sum_j (-1)**j P[s-j, c - j*w],   P[r, t] = sum_{u<t} G[r, u]

    so one prefix-sum table serves every member.
    """
    w = crit.weights.astype(np.int64)
    q = int(crit.quota)
    total = int(w.sum())
    losing = q <= total - q + 1
    L = q if losing else total - q + 1
    mods = _moduli(n)
    G = np.zeros((len(mods), n + 1, L), dtype=np.uint64)
    G[:, 0, 0] = 1
    P3 = np.array(mods[1:], dtype=np.uint64).reshape(-1, 1, 1)
    top, reach = 0, 1  # sizes 0..top and weights 0..reach-1 hold nonzero entries
    for wj in w:
        wj = int(wj)
        if wj >= L:
            continue  # a member this heavy is in no counted set
        width = min(reach, L - wj)
        # channel 0: modulo 2**64 is uint64's own wrap-around
        G[0, 1 : top + 2, wj : wj + width] += G[0, : top + 1, :width]
        if len(mods) > 1:
            s = G[1:, 1 : top + 2, wj : wj + width] + G[1:, : top + 1, :width]
            np.minimum(s, s - P3, out=s)  # reduce modulo each prime (s < 2p)
            G[1:, 1 : top + 2, wj : wj + width] = s
        top += 1
        reach = min(L, reach + wj)
    P = _prefix_sums(G[:, : top + 1, :reach], mods, L)
    rows = P.shape[1]

    binom = [math.comb(n, k) for k in range(n + 1)]
    binom1 = [0] + [math.comb(n - 1, k - 1) for k in range(1, n + 1)]
    full = _crt([_exact_sums(P[c, :, L][:, None]) for c in range(len(mods))], mods)
    full += [0] * (n + 1 - rows)
    if losing:
        a = [binom[k] - full[k] for k in range(n + 1)]
    else:
        a = [full[n - k] for k in range(n + 1)]
    if not members:  # the passage probability needs the whole table only
        return a, [], np.zeros(0, dtype=np.int64)

    classes, index = np.unique(w, return_inverse=True)
    cuts = (q - classes) if losing else np.full(len(classes), L)
    parts = _alternating_sums(P, classes, cuts, mods, n)  # parts[c][s] = sum_{u<cut} D_c[s, u]
    ai: list[list[int]] = []
    for part in parts:
        if losing:
            ai.append([0] + [binom1[k] - part[k - 1] for k in range(1, n + 1)])
        else:
            ai.append([0] + [part[n - k] for k in range(1, n + 1)])
    return a, ai, index.reshape(-1)


def _alternating_sums(
    P: np.ndarray, weights: np.ndarray, cuts: np.ndarray, mods: list[int], n: int
) -> list[list[int]]:
    """``sum_j (-1)**j P[s-j, cut - j*w]`` for every class ``(w, cut)`` and size ``s < n``.

    ``P[:, :, 0]`` is zero, so terms out of range point there.  Classes go in chunks to bound
    the memory of the gathered terms.
    """
    K, rows, width = P.shape
    s_idx = np.arange(n)[:, None]
    j_idx = np.arange(n)[None, :]
    r_idx = s_idx - j_idx
    valid = (r_idx >= 0) & (r_idx < rows)
    r_flat = np.clip(r_idx, 0, rows - 1) * width
    flat_P = P.reshape(K, -1)
    chunk = max(1, (1 << 21) // (n * n))
    out: list[list[int]] = []
    for lo in range(0, len(weights), chunk):
        w = weights[lo : lo + chunk].astype(np.int64)[:, None, None]
        c = np.asarray(cuts[lo : lo + chunk], dtype=np.int64)[:, None, None]
        cols = np.clip(c - j_idx[None] * w, 0, width - 1)
        flat = np.where(valid[None], r_flat[None] + cols, 0)
        terms = flat_P[:, flat]  # (K, chunk, n, n)
        sums = []
        for sl in (slice(0, None, 2), slice(1, None, 2)):
            t = terms[..., sl]
            hi = (t >> np.uint64(32)).sum(axis=-1, dtype=np.uint64).tolist()
            low = (t & np.uint64(0xFFFFFFFF)).sum(axis=-1, dtype=np.uint64).tolist()
            sums.append((hi, low))
        (he, le), (ho, lo_) = sums
        for ci in range(w.shape[0]):
            residues = [
                [((he[k][ci][s] - ho[k][ci][s]) << 32) + le[k][ci][s] - lo_[k][ci][s]
                 for s in range(n)]
                for k in range(K)
            ]
            out.append(_crt(residues, mods))
    return out


def _prefix_sums(G: np.ndarray, mods: list[int], L: int) -> np.ndarray:
    """``P[..., t] = sum_{u<t} G[..., u]`` per residue channel, for ``t = 0..L``."""
    K, rows, reach = G.shape
    P = np.zeros((K, rows, L + 1), dtype=np.uint64)
    np.cumsum(G[0], axis=-1, dtype=np.uint64, out=P[0, :, 1 : reach + 1])  # wraps mod 2**64
    if K > 1:
        X = G[1:].copy()
        p = np.array(mods[1:], dtype=np.uint64).reshape(-1, 1, 1)
        shift = 1
        while shift < reach:  # Hillis-Steele scan with a modular add
            s = X[:, :, shift:] + X[:, :, :-shift]
            np.minimum(s, s - p, out=s)
            X[:, :, shift:] = s
            shift *= 2
        P[1:, :, 1 : reach + 1] = X
    P[:, :, reach + 1 :] = P[:, :, reach : reach + 1]
    return P


def _exact_sums(x: np.ndarray) -> list[int]:
    """Row sums of a 2-D uint64 array in exact Python integers (no wrap-around)."""
    hi = (x >> np.uint64(32)).sum(axis=-1, dtype=np.uint64)
    lo = (x & np.uint64(0xFFFFFFFF)).sum(axis=-1, dtype=np.uint64)
    return [(int(h) << 32) + int(lw) for h, lw in zip(hi, lo, strict=True)]


def _crt(residues: list[list[int]], mods: list[int]) -> list[int]:
    """Recombine per-channel residues (any integers) into exact values (Garner's CRT)."""
    moduli = [2**64 if m == 0 else m for m in mods]
    inverses, product = [1], moduli[0]
    for m in moduli[1:]:
        inverses.append(pow(product, -1, m))
        product *= m
    out = []
    for j in range(len(residues[0])):
        x, prod = residues[0][j] % moduli[0], moduli[0]
        for c in range(1, len(moduli)):
            m = moduli[c]
            x += prod * (((residues[c][j] - x) * inverses[c]) % m)
            prod *= m
        out.append(x)
    return out


def _enumerate(game: _Game, *, limit: int) -> _Counts:
    """List the winning coalitions through their "no" sets T, grown member by member.

    T is kept while it leaves enough weight on every threshold (``w(T) <= total - quota``) and
    enough members, or while it is smaller than the blocking floor; both tests are monotone in T,
    so pruning loses nothing and every intermediate set is itself a winning complement.  Heavy
    members go first, so the list stays short until the light members double it at the end.
    Sets are bit masks (one bit per member, bytes in rows); the members' tables come from byte
    histograms per coalition size rather than one pass per member.
    """
    n = game.n
    nbytes = (n + 7) // 8
    crits = game.weighted
    dtype = np.int64 if all(c.exact for c in crits) else np.float64
    weights = [c.weights.astype(dtype) for c in crits]
    bounds = [dtype(c.weights.sum() - c.quota) for c in crits]
    max_size = n - game.size_min  # the largest "no" set the size threshold allows

    def ok(sums: list[np.ndarray], size: np.ndarray) -> np.ndarray:
        good = size <= max_size
        for s, b in zip(sums, bounds, strict=True):
            good &= s <= b
        return good | (size < game.floor)

    if not ok([np.zeros(1, dtype=dtype) for _ in crits], np.zeros(1, dtype=np.int16))[0]:
        zeros = [0] * (n + 1)
        return _Counts(zeros, [list(zeros) for _ in range(n)])
    cap, m = 1024, 1
    masks = np.zeros((cap, nbytes), dtype=np.uint8)
    sums = [np.zeros(cap, dtype=dtype) for _ in crits]
    size = np.zeros(cap, dtype=np.int16)
    heaviness = sum((w / max(float(b), 1e-300) for w, b in zip(weights, bounds, strict=True)),
                    start=np.zeros(n))
    for j in np.argsort(-heaviness, kind="stable"):
        new_sums = [s[:m] + w[j] for s, w in zip(sums, weights, strict=True)]
        new_size = size[:m] + np.int16(1)
        keep = np.flatnonzero(ok(new_sums, new_size))
        add = len(keep)
        if m + add > limit:
            raise InputError(
                f"power_indices: more than {limit:,} winning coalitions to list for a "
                "rule with several weighted thresholds; give one weighted threshold (votes or "
                "population) or fewer members"
            )
        if m + add > cap:
            cap = min(max(2 * cap, m + add), limit)
            masks, size = _grow(masks, cap), _grow(size, cap)
            sums = [_grow(s, cap) for s in sums]
        masks[m : m + add] = masks[keep]
        masks[m : m + add, j // 8] |= np.uint8(1 << (j % 8))
        for s, ns in zip(sums, new_sums, strict=True):
            s[m : m + add] = ns[keep]
        size[m : m + add] = new_size[keep]
        m += add
    k = n - size[:m].astype(np.int64)  # the winning coalition's size
    by_size = np.bincount(k, minlength=n + 1)
    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1  # (byte value, bit)
    in_no = np.zeros((nbytes * 8, n + 1), dtype=np.int64)  # member in T, by coalition size
    for b in range(nbytes):
        hist = np.bincount(k * 256 + masks[:m, b], minlength=(n + 1) * 256).reshape(n + 1, 256)
        in_no[8 * b : 8 * b + 8] = (hist @ bits).T
    with_member = [[int(x) for x in by_size - in_no[i]] for i in range(n)]
    return _Counts([int(x) for x in by_size], with_member)


def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty((cap, *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return out
