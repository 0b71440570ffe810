"""Where the random numbers come from (cicasim.engine.draws): seeds that are pure functions of
keys, so an actor's numbers do not depend on the other actors, rows select replications, and
observers draw no per-round numbers."""

from __future__ import annotations

import hashlib

import numpy as np

from cicasim.engine.draws import (
    BLOCK,
    FIRST_DRAW,
    ROUNDS_PER_DRAW,
    BlockDraws,
    fresh_seed,
    key,
    seed_sequence,
)


def _draws(actors, **kw) -> BlockDraws:
    args = {"master": 7, "point": 0, "block": 0, "proposal": "p", "dimensions": 2}
    return BlockDraws(actors=actors, **(args | kw))


def test_key_is_stable_63_bits_and_not_pythons_hash():
    k = key("IDN")
    assert 0 <= k < 2**63
    assert key("IDN") == k and key("IND") != k
    # blake2b of the UTF-8 bytes, little-endian, shifted by one bit: the documented recipe
    digest = hashlib.blake2b(b"IDN", digest_size=8).digest()
    assert k == int.from_bytes(digest, "little") >> 1


def test_seed_sequence_is_the_spawn_key():
    s = seed_sequence(3, 1, 2)
    assert s.entropy == 3 and s.spawn_key == (1, 2)
    a = np.random.Generator(np.random.PCG64(seed_sequence(3, 1, 2))).random(4)
    b = np.random.Generator(np.random.PCG64(seed_sequence(3, 1, 2))).random(4)
    c = np.random.Generator(np.random.PCG64(seed_sequence(3, 2, 1))).random(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_an_actors_numbers_do_not_depend_on_who_else_is_there():
    alone = _draws(["A"]).start()
    crowd = _draws(["B", "A", "C"]).start()
    np.testing.assert_array_equal(alone.position[:, 0], crowd.position[:, 1])
    np.testing.assert_array_equal(alone.factors[:, 0], crowd.factors[:, 1])
    assert not np.array_equal(crowd.position[:, 0], crowd.position[:, 1])


def test_shapes_and_the_tension_factors_range():
    s = _draws(["A", "B"]).start()
    assert s.position.shape == (BLOCK, 2, 2) and s.capability.shape == (BLOCK, 2)
    bound = np.sqrt(3.0)
    assert np.all(np.abs(s.factors) <= bound + 1e-6)
    # uniform on (-sqrt 3, sqrt 3): mean 0, variance 1
    assert abs(float(s.factors.mean())) < 0.05 and abs(float(s.factors.var()) - 1) < 0.05


def test_rows_pick_the_same_replications_as_the_whole_block():
    whole = _draws(["A", "B"]).start()
    one = _draws(["A", "B"], rows=slice(5, 6)).start()
    np.testing.assert_array_equal(one.position[0], whole.position[5])
    other_block = _draws(["A", "B"], block=1).start()
    assert not np.array_equal(other_block.position, whole.position)


def test_rounds_come_2_then_8_at_a_time_and_observers_draw_none():
    rounds = _draws(["A", "OBS"], voters=[True, False]).rounds()
    first, second = next(rounds), next(rounds)
    assert (first.first, first.noise.shape[2]) == (1, FIRST_DRAW)
    assert (second.first, second.noise.shape[2]) == (FIRST_DRAW + 1, ROUNDS_PER_DRAW)
    assert np.all(first.noise[1] == 0) and np.all(first.holdup[1] == 0)
    assert np.all((first.noise[0] > 0) & (first.noise[0] < 1))
    singles = _draws(["A", "OBS"], voters=[True, False]).single_rounds()
    got = [next(singles) for _ in range(3)]
    assert [r.first for r in got] == [1, 2, 3]
    np.testing.assert_array_equal(got[2].noise[:, :, 0], second.noise[:, :, 0])


def test_fresh_seed_is_32_bits():
    assert all(0 <= fresh_seed() < 2**32 for _ in range(5))
