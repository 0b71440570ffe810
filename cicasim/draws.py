"""Where every random number of a negotiation comes from.

Seeds are pure functions of keys (Axelrod's per-match seeds; ``MODEL.md``): the stream of actor
``a`` in replication block ``b`` of design point ``p`` for proposal ``k`` is

    SeedSequence(master, spawn_key=(p, b, key(k), key(a)))

with ``key`` a stable 63-bit hash of the identifier.  Consequences:

* results never depend on the number of workers, the executor or which other points run;
* replication ``r`` always lives at row ``r % BLOCK`` of block ``r // BLOCK``, whatever the total;
* an actor's numbers do not change when another actor joins, so two scenarios that share actors
  share their random numbers (common random numbers, for paired comparisons of enlargement).

Draws are single precision (they are noise, not state; the dynamics run in double precision).
Every block draws full ``BLOCK``-sized vectors in a fixed order, whatever the dynamics do, so a
single traced replication sees exactly the numbers the ensemble saw: per actor, its position
noise ``(BLOCK, D)``, its capability noise, its ``(BLOCK, M)`` tension factors, then, for
rounds 1-2, 3-4, 5-8, 9-16, ..., vote noise ``(BLOCK, k)`` and hold-up uniforms ``(BLOCK, k)``.

Pairwise tension noise stays keyed per actor: each actor draws a ``(BLOCK, M)`` factor matrix
``a_i`` and the pair's noise is ``a_i·a_j / sqrt(M)``: symmetric, mean zero, unit variance,
uncorrelated across pairs (``E[a_i·a_j a_i·a_k] = 0`` for ``j != k``), and close to normal
(M = 8 terms; excess kurtosis 6/M = 0.75, and the result is clipped to 0-1 anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from cicasim.kernel import RoundDraws, StartDraws

__all__ = [
    "BLOCK",
    "FACTORS",
    "ROUND_CHUNKS",
    "ROUNDS_PER_DRAW",
    "BlockDraws",
    "key",
    "seed_sequence",
]

#: Replications per block: part of the random-number layout, so fixed.
BLOCK = 1024
#: Number of factors behind the pairwise tension noise.
FACTORS = 8
#: Rounds of vote noise and hold-up draws made per generator call: 2, 2, 4, then 8 at a time
#: (most negotiations end early, so the first calls are small).
ROUND_CHUNKS = (2, 2, 4)
ROUNDS_PER_DRAW = 8


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
            np.random.Generator(
                np.random.PCG64(seed_sequence(master, point, block, key(proposal), key(a)))
            )
            for a in actors
        ]
        self._d = dimensions
        self._rows = slice(None) if rows is None else rows

    @classmethod
    def of(cls, neg, *, seed: int, point: int, block: int, rows: slice) -> BlockDraws:
        """The draws of negotiation ``neg`` (a :class:`~cicasim.kernel.Negotiation`) in block
        ``block`` of design point ``point``, restricted to ``rows`` of the block."""
        return cls(
            master=seed,
            point=point,
            block=block,
            proposal=neg.proposal,
            actors=neg.actor_ids,
            dimensions=len(neg.dimensions),
            rows=rows,
        )

    def _fill(self, shape: tuple[int, ...], normal: bool = True) -> np.ndarray:
        """One ``(N, BLOCK, ...)`` float32 array, actor ``i``'s slab from actor ``i``'s stream
        (normal or uniform draws, written in place: no per-actor temporaries)."""
        out = np.empty((len(self._gens), BLOCK, *shape), dtype=np.float32)
        for g, slab in zip(self._gens, out, strict=True):
            if normal:
                g.standard_normal(dtype=np.float32, out=slab)
            else:
                g.random(dtype=np.float32, out=slab)
        return out

    def _rows_first(self, a: np.ndarray) -> np.ndarray:
        """``(N, BLOCK, ...)`` -> ``(rows, N, ...)`` (a view)."""
        return np.swapaxes(a, 0, 1)[self._rows]

    def start(self) -> StartDraws:
        """Draws for the uncertain inputs: position and capability noise and tension factors."""
        pos = self._rows_first(self._fill((self._d,)))
        cap = self._rows_first(self._fill(()))
        fac = self._rows_first(self._fill((FACTORS,)))
        return StartDraws(position=pos, capability=cap, factors=fac)

    def rounds(self) -> Iterator[RoundDraws]:
        """Per-round draws, forever (the kernel stops asking when it is done).

        Each actor draws ``k`` rounds at a time (``ROUND_CHUNKS``, then ``ROUNDS_PER_DRAW``): a
        ``(BLOCK, k)`` matrix of vote noise, then one of hold-up uniforms.
        """
        chunks = iter(ROUND_CHUNKS)
        while True:
            k = next(chunks, ROUNDS_PER_DRAW)
            noise = self._fill((k,))
            holdup = self._fill((k,), normal=False)
            for r in range(k):
                yield RoundDraws(
                    noise=self._rows_first(noise[:, :, r]),
                    holdup=self._rows_first(holdup[:, :, r]),
                )
