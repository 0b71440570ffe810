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

from cicasim.analysis.coalitions import (
    _combine,
    _Counts,
    _dp_cells,
    _enumerate,
    _Game,
    _game,
    _generating_function,
)
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


# ----------------------------------------------------------------------------------------------
# Counting: W[k] = winning coalitions of size k; Wi[i][k] = those of size k containing member i
# ----------------------------------------------------------------------------------------------


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
        return _enumerate(game, limit=ENUMERATION_LIMIT), method
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
