"""Where every random number of a negotiation comes from.

Seeds are pure functions of keys (Axelrod's per-match seeds; ``MODEL.md``): the stream of actor
``a`` in replication block ``b`` of design point ``p`` for proposal ``k`` is

    SeedSequence(master, spawn_key=(p, b, key(k), key(a)))

with ``key`` a stable 63-bit hash of the identifier.  Consequences:

* results never depend on the number of workers, the executor or which other points run;
* replication ``r`` always lives at row ``r % BLOCK`` of block ``r // BLOCK``, whatever the total;
* an actor's numbers do not change when another actor joins, so two scenarios that share actors
  share their random numbers (common random numbers, for paired comparisons of enlargement).

Every block draws full ``BLOCK``-sized vectors in a fixed order, whatever the dynamics do, so a
single traced replication sees exactly the numbers the ensemble saw.

Pairwise tension noise stays keyed per actor: each actor draws a ``(BLOCK, M)`` factor matrix
``a_i`` and the pair's noise is ``a_i·a_j / sqrt(M)``: symmetric, mean zero, unit variance,
uncorrelated across pairs (``E[a_i·a_j a_i·a_k] = 0`` for ``j != k``), and close to normal
(M = 16 terms; excess kurtosis 6/M).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from cicasim.kernel import RoundDraws, StartDraws

__all__ = ["BLOCK", "FACTORS", "BlockDraws", "key", "seed_sequence"]

#: Replications per block: part of the random-number layout, so fixed.
BLOCK = 1024
#: Number of factors behind the pairwise tension noise.
FACTORS = 16


def key(name: str) -> int:
    """A stable 63-bit key for an identifier (not Python's salted ``hash``)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def seed_sequence(master: int, *keys: int) -> np.random.SeedSequence:
    """``SeedSequence(master, spawn_key=keys)``: the one way seeds are made."""
    return np.random.SeedSequence(master, spawn_key=tuple(int(k) for k in keys))


class BlockDraws:
    """The random numbers of one block of replications of one proposal.

    ``rows`` selects replications within the block (default: all ``BLOCK``); the Mesa driver asks
    for one row and gets exactly that row of the ensemble's numbers.
    """

    def __init__(
        self,
        *,
        master: int,
        point: int,
        block: int,
        proposal: str,
        actors: Sequence[str],
        dimensions: int,
        rows: slice | np.ndarray | None = None,
    ) -> None:
        self._gens = [
            np.random.Generator(np.random.PCG64(seed_sequence(master, point, block, key(proposal), key(a))))
            for a in actors
        ]
        self._d = dimensions
        self._rows = slice(None) if rows is None else rows

    def _stack(self, draw) -> np.ndarray:
        return np.stack([draw(g) for g in self._gens], axis=1)[self._rows]

    def start(self, *, tension: bool = True) -> StartDraws:
        """Draws for the uncertain inputs (positions, capabilities, tensions).

        With ``tension=False`` (no tension uncertainty anywhere) the pair noise is not assembled
        (zeros instead); its factors are still drawn so the streams stay aligned.
        """
        pos = self._stack(lambda g: g.standard_normal((BLOCK, self._d)))
        cap = self._stack(lambda g: g.standard_normal(BLOCK))
        fa = self._stack(lambda g: g.standard_normal((BLOCK, FACTORS)))
        n = fa.shape[1]
        if not tension:
            return StartDraws(position=pos, capability=cap, tension=np.zeros((len(pos), n, n)))
        ten = (fa @ np.swapaxes(fa, 1, 2)) / np.sqrt(FACTORS)
        ten[:, np.arange(n), np.arange(n)] = 0.0
        return StartDraws(position=pos, capability=cap, tension=ten)

    def rounds(self) -> Iterator[RoundDraws]:
        """Per-round draws, forever (the kernel stops asking when it is done)."""
        while True:
            noise = self._stack(lambda g: g.standard_normal(BLOCK))
            holdup = self._stack(lambda g: g.random(BLOCK))
            yield RoundDraws(noise=noise, holdup=holdup)
