"""Helpers shared by the sub-commands: option types and seed handling."""

from __future__ import annotations

import argparse

import numpy as np

__all__ = ["positive_int", "resolve_seed", "seed_int"]


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= {minimum}, got {text!r}"
        ) from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {value})")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (one-line error otherwise)."""
    return _whole_number(text, 1)


def seed_int(text: str) -> int:
    """argparse type: a seed, a whole number >= 0."""
    return _whole_number(text, 0)


def resolve_seed(seed: int | None) -> tuple[int, bool]:
    """The seed to use and whether it was drawn (fresh OS entropy, kept to 32 bits)."""
    if seed is not None:
        return seed, False
    return int(np.random.SeedSequence().entropy % 2**32), True
