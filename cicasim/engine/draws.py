"""Where every random number of a negotiation comes from.

Seeds are pure functions of keys (Axelrod's per-match seeds; ``docs/model.md``): the stream of actor
``a`` in replication block ``b`` of design point ``p`` for proposal ``k`` is

    SeedSequence(master, spawn_key=(p, b, key(k), key(a)))

with ``key`` a stable 63-bit hash of the identifier.  Consequences:

* results never depend on the number of workers, the executor or which other points run;
* replication ``r`` always lives at row ``r % BLOCK`` of block ``r // BLOCK``, whatever the total;
* an actor's numbers do not change when another actor joins, so two scenarios that share actors
  share their random numbers (common random numbers, for paired comparisons of enlargement).

Every block draws full ``BLOCK``-sized vectors in a fixed order, whatever the dynamics do, so a
single traced replication sees exactly the numbers the ensemble saw.  Per actor, in its stream:

1. position noise ``(BLOCK, D)`` and capability noise ``(BLOCK,)``: standard normals;
2. tension factors ``(BLOCK, M)``: uniforms on (-sqrt 3, sqrt 3), mean zero, unit variance;
3. if it votes (observers do not), for rounds 1-2, then 3-10, 11-18, ... for as long as any
   negotiation of the block runs: ``(BLOCK, k)`` uniforms for the vote noise, then ``(BLOCK, k)``
   uniforms for the hold-up.  The kernel turns a vote-noise uniform into a standard normal by
   inverse transform sampling (Devroye 1986, ch. II.2) only where a vote is cast, so the many
   replications decided in round 1 cost no normal quantiles for the rounds they never reach.

Pairwise tension noise stays keyed per actor: the pair's noise is ``a_i·a_j / sqrt(M)`` for the
actors' factor vectors ``a``: symmetric, mean zero, unit variance, uncorrelated across pairs
(``E[a_i·a_j a_i·a_k] = 0`` for ``j != k``), and close to normal (each product has kurtosis
1.8² = 3.24, so the sum of M = 8 has excess kurtosis 0.24/8 = 0.03; it is clipped to 0-1 anyway).

The start draws and the hold-up are single precision (noise, not state; the dynamics run in double
precision); the vote-noise uniforms are double, so their normal quantiles reach the far tails.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from cicasim.engine.kernel import RoundDraws, StartDraws

__all__ = [
    "BLOCK",
    "FACTORS",
    "FIRST_DRAW",
    "ROUNDS_PER_DRAW",
    "BlockDraws",
    "fresh_seed",
    "key",
    "seed_sequence",
]

#: Replications per block: part of the random-number layout, so fixed.
BLOCK = 1024
#: Number of factors behind the pairwise tension noise.
FACTORS = 8
#: Rounds of vote-noise and hold-up draws per generator call: the first 2, then 8 at a time.
#: Most negotiations end in round 1 or 2; those that go on are taken through 8 rounds in one
#: pass while their tensions are in the processor's cache.
FIRST_DRAW, ROUNDS_PER_DRAW = 2, 8
_SQRT3 = np.float32(np.sqrt(3.0))


@functools.lru_cache(maxsize=4096)
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
    for one row and gets exactly that row of the ensemble's numbers.  ``voters`` (default: all)
    marks the actors that draw per-round numbers.
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
        voters: Sequence[bool] | None = None,
    ) -> None:
        self._gens = [
            np.random.Generator(
                np.random.PCG64(seed_sequence(master, point, block, key(proposal), key(a)))
            )
            for a in actors
        ]
        self._d = dimensions
        self._rows = slice(None) if rows is None else rows
        self._voters = [True] * len(actors) if voters is None else [bool(v) for v in voters]

    @classmethod
    def of(cls, neg, *, seed: int, point: int, block: int, rows: slice) -> BlockDraws:
        """The draws of negotiation ``neg`` (a :class:`~cicasim.engine.kernel.Negotiation`) in block
        ``block`` of design point ``point``, restricted to ``rows`` of the block."""
        return cls(
            master=seed,
            point=point,
            block=block,
            proposal=neg.proposal,
            actors=neg.actor_ids,
            dimensions=len(neg.dimensions),
            rows=rows,
            voters=neg.member,
        )

    def _fill(
        self, shape: tuple[int, ...], who: Sequence[bool], *, normal: bool, dtype=np.float32
    ) -> np.ndarray:
        """One ``(N, BLOCK, ...)`` array, actor ``i``'s slab from actor ``i``'s stream (standard
        normal or uniform draws, written in place: no per-actor temporaries).  Only the actors
        marked in ``who`` draw; the other slabs are zero."""
        out = np.empty((len(self._gens), BLOCK, *shape), dtype=dtype)
        for g, slab, draws in zip(self._gens, out, who, strict=True):
            if not draws:
                slab.fill(0)
            elif normal:
                g.standard_normal(dtype=dtype, out=slab)
            else:
                g.random(dtype=dtype, out=slab)
        return out

    def _rows_first(self, a: np.ndarray) -> np.ndarray:
        """``(N, BLOCK, ...)`` -> ``(rows, N, ...)`` (a view)."""
        return np.swapaxes(a, 0, 1)[self._rows]

    def start(self) -> StartDraws:
        """Draws for the uncertain inputs: position and capability noise and tension factors."""
        everyone = [True] * len(self._gens)
        pos = self._fill((self._d,), everyone, normal=True)
        cap = self._fill((), everyone, normal=True)
        fac = self._fill((FACTORS,), everyone, normal=False)
        fac *= 2 * _SQRT3
        fac -= _SQRT3
        return StartDraws(
            position=self._rows_first(pos),
            capability=self._rows_first(cap),
            factors=self._rows_first(fac),
        )

    def rounds(self) -> Iterator[RoundDraws]:
        """Per-round draws, ``FIRST_DRAW`` rounds, then ``ROUNDS_PER_DRAW`` at a time, forever
        (the kernel stops asking when it is done): for each voting actor, a ``(BLOCK, k)`` matrix
        of vote-noise uniforms (double precision), then one of hold-up uniforms.  Observers never
        vote, so they draw none: these draws come after an actor's start draws in its own
        stream, so no other number depends on who votes.
        """
        first = 1
        k = FIRST_DRAW
        while True:
            noise = self._fill((k,), self._voters, normal=False, dtype=np.float64)
            holdup = self._fill((k,), self._voters, normal=False)
            yield RoundDraws(noise=noise[:, self._rows], holdup=holdup[:, self._rows], first=first)
            first += k
            k = ROUNDS_PER_DRAW

    def single_rounds(self) -> Iterator[RoundDraws]:
        """:meth:`rounds`, one round at a time (for a driver that steps round by round)."""
        for chunk in self.rounds():
            for r in range(chunk.noise.shape[2]):
                yield RoundDraws(
                    noise=chunk.noise[:, :, r : r + 1],
                    holdup=chunk.holdup[:, :, r : r + 1],
                    first=chunk.first + r,
                )


def fresh_seed() -> int:
    """A master seed from fresh OS entropy, kept to 32 bits so it is easy to note and repeat."""
    return int(np.random.SeedSequence().entropy % 2**32)
