"""Helpers shared by the sub-commands: option types and seed handling."""

from __future__ import annotations

import argparse

import numpy as np

from cicasim.errors import InputError

__all__ = ["positive_int", "resolve_seed", "seed_int"]


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (one-line error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def seed_int(text: str) -> int:
    """argparse type: a seed, a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def resolve_seed(seed: int | None) -> tuple[int, bool]:
    """The seed to use and whether it was drawn (fresh OS entropy, kept to 32 bits)."""
    if seed is not None:
        return seed, False
    return int(np.random.SeedSequence().entropy % 2**32), True


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)
