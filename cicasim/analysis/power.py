"""Exact voting power of a decision rule: the power to act, Banzhaf and Shapley–Shubik.

Every rule of :mod:`cicasim.spec.rules` is a *simple game* over the members: a coalition of "yes"
members wins or loses.  Before any bargaining the rule alone fixes

* how easily the body can act: Coleman's (1971) *power of a collectivity to act*, the share of
  the ``2**n`` yes/no coalitions that win (the passage probability of a proposal when every member
  votes yes or no by a fair coin);
* who holds power in it: the Banzhaf (1965) index, absolute (Penrose 1946: the probability that a
  member's vote decides the outcome, with all others voting by coin flips) and normalised (shares
  summing to 1), and the Shapley & Shubik (1954) index (the share of the ``n!`` orders of joining
  in which the member turns a losing coalition into a winning one).

Felsenthal & Machover (1998) give the definitions used here.

How the counts are made, exactly
--------------------------------
All three figures follow from two exact tables: the number of winning coalitions of each size
``k`` and, for each member, the number of winning coalitions of size ``k`` that contain it.  For a
monotone game the Banzhaf swing count of member ``i`` is ``2 |W_i| - |W|`` and its Shapley–Shubik
index is ``sum_s s!(n-1-s)!/n! (W_i(s+1) - W(s) + W_i(s))``; both are computed in Python integers
and divided only at the end.

The rule's :meth:`~cicasim.spec.rules.Rule.criteria` are sorted into *size* thresholds (a criterion
whose weights are all equal: a number or share of members), *weighted* thresholds (votes,
population) and the blocking-minority floor (which also depends on size only).  Then:

``closed-form``
    no weighted threshold (consensus, consensus minus k, simple majority, member counts, any
    blocking floor): the counts are binomial coefficients.
``generating-function``
    one weighted threshold: the coefficients of ``prod_j (1 + y x**w_j)`` (Brams & Affuso 1976;
    Bilbao, Fernández, Jiménez & López 2000), truncated at the quota on the side with fewer terms
    (losing coalitions below the quota, or the complements of the winning ones).  A member's table
    is the quotient by ``(1 + y x**w_i)``; only its partial sums are needed, and they are
    alternating sums of the partial sums of the whole table, so one prefix-sum table serves all
    members.  Weights must be whole numbers after scaling by a power of ten up to ``10**6``:
    votes are integers already, and populations written with up to six decimals (e.g. millions
    to the person) are read as exact decimals, so no rounding enters.  The arithmetic only adds
    and subtracts, so it runs in ``uint64`` numpy arrays modulo ``2**64`` (exact up to 63
    members) and, beyond, also modulo as many primes below ``2**63`` as needed, recombined by the
    Chinese remainder theorem: exact integer counts at any size, at numpy speed.
``enumeration``
    two or more weighted thresholds (the Nice rule: votes, members and population), or weights
    that are not decimals: the winning coalitions are listed one by one, each as the complement of
    its "no" set, growing the "no" sets member by member and pruning as soon as one fails (all
    criteria are monotone, so no winning coalition is missed).  The work is proportional to the
    number of winning coalitions, capped at :data:`ENUMERATION_LIMIT`; beyond it an error says so.

Threshold tests use the same tolerance as :meth:`cicasim.spec.rules.Rule.wins` (a sum within
``1e-9``
below the quota counts as reaching it), so the analytics and the engine agree on every coalition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cicasim.display import Shown
from cicasim.errors import InputError
from cicasim.spec.rules import Rule

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DP_CELL_LIMIT",
    "ENUMERATION_LIMIT",
    "MAX_MEMBERS",
    "METHODS",
    "PowerResult",
    "passage_for_proposal",
    "passage_probability",
    "power_for_proposal",
    "power_indices",
]

#: Most members whose exact power indices are computed: the Shapley-Shubik sum costs about
#: n**4 digit operations (10 s at 500 members); the passage probability alone has no limit.
MAX_MEMBERS = 500
#: Largest number of winning coalitions the enumeration method lists (about 200 MB at peak).
ENUMERATION_LIMIT = 1 << 22
#: Largest generating-function table, in 64-bit cells (channels x sizes x truncated weights).
DP_CELL_LIMIT = 1 << 25
#: The counting methods; "auto" picks the cheapest one that applies.
METHODS = ("auto", "closed-form", "generating-function", "enumeration")

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


# ----------------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class PowerResult(Shown):
    """Exact a-priori voting power of a rule over ``n`` members.

    ``winning_coalitions`` and ``swings`` are exact integers; the indices are the nearest floats
    to the exact rationals.  Mappings are keyed by actor (in member order) and read-only.
    """

    n: int
    names: tuple[str, ...]
    winning_coalitions: int
    passage_probability: float
    swings: Mapping[str, int]
    banzhaf: Mapping[str, float]
    banzhaf_absolute: Mapping[str, float]
    shapley_shubik: Mapping[str, float]
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (integers stay exact)."""
        return {
            "n": self.n,
            "winning_coalitions": self.winning_coalitions,
            "passage_probability": self.passage_probability,
            "banzhaf": dict(self.banzhaf),
            "banzhaf_absolute": dict(self.banzhaf_absolute),
            "shapley_shubik": dict(self.shapley_shubik),
            "swings": dict(self.swings),
            "method": self.method,
        }

    def headline(self) -> str:
        return (f"{self.n} members, passage probability {self.passage_probability:.6g} "
                f"({self.method})")

    def summary(self) -> pd.DataFrame:
        """One row per member: normalised and absolute Banzhaf index, Shapley–Shubik index and
        swings."""
        import pandas as pd

        return pd.DataFrame({
            "actor": list(self.names),
            "banzhaf": [self.banzhaf[a] for a in self.names],
            "banzhaf_absolute": [self.banzhaf_absolute[a] for a in self.names],
            "shapley_shubik": [self.shapley_shubik[a] for a in self.names],
            "swings": [self.swings[a] for a in self.names],  # exact: object when past int64
        })


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------
def power_indices(
    *,
    rule: Rule,
    votes: Sequence[float] | np.ndarray | None = None,
    population: Sequence[float] | np.ndarray | None = None,
    names: Sequence[str] | None = None,
    method: Literal["auto", "closed-form", "generating-function", "enumeration"] = "auto",
) -> PowerResult:
    """Passage probability, Banzhaf and Shapley–Shubik indices of ``rule`` over the members.

    ``votes`` (weighted votes, default 1 each), ``population`` (default 0 each) and ``names``
    (default "1".."n") are indexed by member; at least one of them fixes ``n``.  ``method`` forces a
    counting method (see the module docstring); "auto" takes the cheapest that applies.
    """
    n = _member_count(votes, population, names)
    if n > MAX_MEMBERS:
        raise InputError(
            f"power_indices: {n:,} members; the exact Banzhaf and Shapley-Shubik indices are "
            f"computed for at most {MAX_MEMBERS} members (about 10 s at the limit)"
        )
    v = _weights(votes, n, "votes", default=1.0)
    p = _weights(population, n, "population", default=0.0)
    labels = _names(names, n)
    if method not in METHODS:
        raise InputError(f"method: {method!r} is unknown; allowed: {', '.join(METHODS)}")
    game = _game(rule, v, p)
    counts, used = _count(game, method)
    return _result(counts, labels, used)


def passage_probability(
    *,
    rule: Rule,
    votes: Sequence[float] | np.ndarray | None = None,
    population: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Coleman's power to act alone: the share of the ``2**n`` yes/no coalitions that win.

    No power index is computed, so this is cheap at any size: binomial sums for rules without
    a weighted threshold (``2**-n`` for consensus: only the grand coalition wins), the
    coalition counts by size otherwise (see the module docstring).
    """
    n = _member_count(votes, population, None)
    game = _game(
        rule,
        _weights(votes, n, "votes", default=1.0),
        _weights(population, n, "population", default=0.0),
    )
    if not game.weighted:
        wins = sum(
            math.comb(n, k) for k in range(n + 1)
            if k >= game.size_min or (game.floor and n - k < game.floor)
        )
    else:
        counts, _ = _count(game, "auto", members=False)
        wins = sum(counts.by_size)
    return wins / 2**n


def _proposal_weights(scenario: Any, proposal_id: str) -> tuple[Any, list, list, list]:
    """A scenario proposal's rule and its members' votes, populations and names (one-line
    errors for an unknown proposal or a population criterion without populations)."""
    try:
        proposal = scenario.proposal(proposal_id)
    except KeyError:
        known = ", ".join(p.id for p in scenario.proposals) or "none"
        raise InputError(
            f"scenario {scenario.scenario.name!r}: no proposal {proposal_id!r}; allowed: {known}"
        ) from None
    members = scenario.members
    votes = [1.0 if a.votes is None else float(a.votes) for a in members]
    population = [0.0 if a.population is None else float(a.population) for a in members]
    names = [a.id for a in members]
    crits = proposal.rule.criteria(np.asarray(votes), np.asarray(population))
    if any(c.name == "population" for c in crits):
        missing = [a.id for a in members if a.population is None]
        if missing:
            raise InputError(
                f"scenario {scenario.scenario.name!r}: proposal {proposal_id!r} has a population "
                f"criterion but member(s) {', '.join(missing)} give no actors.population"
            )
    return proposal.rule, votes, population, names


def passage_for_proposal(scenario: Any, proposal_id: str) -> float:
    """:func:`passage_probability` of a scenario proposal's rule over the scenario's members."""
    rule, votes, population, _ = _proposal_weights(scenario, proposal_id)
    return passage_probability(rule=rule, votes=votes, population=population)


def power_for_proposal(scenario: Any, proposal_id: str) -> PowerResult:
    """:func:`power_indices` of a scenario proposal's rule over the scenario's members.

    Votes come from each member's ``votes`` (1 when absent) and population from ``population``,
    which every member must give when the rule has a population criterion.
    """
    rule, votes, population, names = _proposal_weights(scenario, proposal_id)
    return power_indices(rule=rule, votes=votes, population=population, names=names)


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def _member_count(*arrays: Any) -> int:
    sizes = {len(a) for a in arrays if a is not None}
    if not sizes:
        raise InputError("power_indices: give votes, population or names (one per member)")
    if len(sizes) > 1:
        raise InputError(
            f"power_indices: votes, population and names differ in length ({sorted(sizes)})"
        )
    n = sizes.pop()
    if n < 1:
        raise InputError("power_indices: no members; at least one is needed")
    return n


def _weights(values: Any, n: int, field: str, *, default: float) -> np.ndarray:
    if values is None:
        return np.full(n, default)
    out = np.empty(n)
    for i, x in enumerate(values):
        try:
            out[i] = float(x)
        except (TypeError, ValueError):
            raise InputError(f"{field}[{i}]: {x!r} is not a number") from None
        if not math.isfinite(out[i]) or out[i] < 0:
            raise InputError(f"{field}[{i}]: {x!r} is not allowed; weights must be finite and >= 0")
    return out


def _names(names: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if names is None:
        return tuple(str(i + 1) for i in range(n))
    labels = tuple(str(x) for x in names)
    seen: set[str] = set()
    for i, x in enumerate(labels):
        if x in seen:
            raise InputError(f"names[{i}]: duplicate {x!r}; each member must be named once")
        seen.add(x)
    return labels


# ----------------------------------------------------------------------------------------------
# The game in normal form
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# Counting: W[k] = winning coalitions of size k; Wi[i][k] = those of size k containing member i
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Counts:
    by_size: list[int]  # length n + 1
    with_member: list[list[int]]  # n lists of length n + 1


def _count(game: _Game, method: str, *, members: bool = True) -> tuple[_Counts, str]:
    nw = len(game.weighted)
    exact_one = nw == 1 and game.weighted[0].exact
    if method == "auto":
        if nw == 0:
            method = "closed-form"
        elif exact_one and _dp_cells(game) <= DP_CELL_LIMIT:
            method = "generating-function"
        else:
            method = "enumeration"
    if method == "enumeration":
        return _enumerate(game), method
    if method == "closed-form" and nw:
        raise InputError("method 'closed-form': the rule has weighted thresholds; use 'auto'")
    if method == "generating-function" and not exact_one:
        raise InputError(
            "method 'generating-function': needs exactly one weighted threshold with decimal "
            "weights; use 'auto'"
        )
    n = game.n
    if nw == 0:
        a = [math.comb(n, k) for k in range(n + 1)]
        ai = [[0] + [math.comb(n - 1, k - 1) for k in range(1, n + 1)]]
        index = np.zeros(n, dtype=np.int64)
    else:
        a, ai, index = _generating_function(game.weighted[0], n, members=members)
    by_size = _combine(a, game)
    if not members:
        return _Counts(by_size, []), method
    per_class = [_combine(row, game, member=True) for row in ai]
    return _Counts(by_size, [per_class[c] for c in index]), method


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


def _enumerate(game: _Game) -> _Counts:
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
        if m + add > ENUMERATION_LIMIT:
            raise InputError(
                f"power_indices: more than {ENUMERATION_LIMIT:,} winning coalitions to list for a "
                "rule with several weighted thresholds; give one weighted threshold (votes or "
                "population) or fewer members"
            )
        if m + add > cap:
            cap = min(max(2 * cap, m + add), ENUMERATION_LIMIT)
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


# ----------------------------------------------------------------------------------------------
# Indices from counts
# ----------------------------------------------------------------------------------------------
def _result(counts: _Counts, names: tuple[str, ...], method: str) -> PowerResult:
    n = len(names)
    W = counts.by_size
    total = sum(W)
    fact = [math.factorial(s) for s in range(n + 1)]
    swings, ss_num = [], []
    for Wi in counts.with_member:
        swings.append(2 * sum(Wi) - total)
        # sum over coalitions S without i of size s where i is pivotal, weighted s!(n-1-s)!
        ss_num.append(
            sum(
                fact[s] * fact[n - 1 - s] * (Wi[s + 1] - W[s] + Wi[s])
                for s in range(n)
            )
        )
    eta_sum = sum(swings)
    half = 2 ** (n - 1)
    fn = fact[n]
    return PowerResult(
        n=n,
        names=names,
        winning_coalitions=total,
        passage_probability=total / 2**n,
        swings=MappingProxyType(dict(zip(names, swings, strict=True))),
        banzhaf=MappingProxyType(
            {a: (e / eta_sum if eta_sum else 0.0) for a, e in zip(names, swings, strict=True)}
        ),
        banzhaf_absolute=MappingProxyType(
            {a: e / half for a, e in zip(names, swings, strict=True)}
        ),
        shapley_shubik=MappingProxyType(
            {a: x / fn for a, x in zip(names, ss_num, strict=True)}
        ),
        method=method,
    )
