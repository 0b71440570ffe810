"""Helpers shared by the sub-commands: option types, seed handling, progress, wording."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cicasim.display import count
from cicasim.errors import shown
from cicasim.spec.rules import probability_name

__all__ = [
    "MAX_REPLICATIONS",
    "MAX_WORKERS",
    "adopted_note",
    "actor_label",
    "bounded_int",
    "count",
    "positive_int",
    "probability_name",
    "progress_bar",
    "replication_index",
    "replications_int",
    "resolve_seed",
    "seed_int",
    "threads_argument",
    "workers_int",
]

#: Most replications per proposal (and side, or design point) a command runs: an ensemble's
#: outcomes are held in memory, about 100 bytes per replication and member.
MAX_REPLICATIONS = 10_000_000
#: Largest seed: numpy's SeedSequence takes any non-negative integer, the manifests store 64 bits.
MAX_SEED = 2**63 - 1


def _whole_number(text: str, minimum: int, maximum: int | None = None) -> int:
    allowed = f">= {minimum}" if maximum is None else f"from {minimum:,} to {maximum:,}"
    if len(text.strip()) > 30:
        raise argparse.ArgumentTypeError(f"expected a whole number {allowed}, got {shown(text)}")
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number {allowed}, got {shown(text)}"
        ) from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {value})")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum:,} (got {value:,})")
    return value


def bounded_int(minimum: int, maximum: int):
    """argparse type: a whole number from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        return _whole_number(text, minimum, maximum)

    parse.__name__ = "whole number"
    return parse


#: Most local worker processes.
MAX_WORKERS = 256


def workers_int(text: str) -> int:
    """argparse type: a number of local worker processes, 1 to :data:`MAX_WORKERS`."""
    return _whole_number(text, 1, MAX_WORKERS)


def threads_argument(parser: argparse.ArgumentParser, what: str = "the replication blocks") -> None:
    """``--threads N``: threads of this process that run ``what`` (default: all cores; the
    numbers are the same on any count, :mod:`cicasim.engine.threads`)."""
    parser.add_argument(
        "--threads", type=workers_int, metavar="N",
        help=f"threads running {what} (default: all cores; the numbers do not depend on it)",
    )


def replication_index(text: str) -> int:
    """argparse type: a replication index, 0 to :data:`MAX_REPLICATIONS` - 1."""
    return _whole_number(text, 0, MAX_REPLICATIONS - 1)


def replications_int(text: str) -> int:
    """argparse type: a number of replications, 1 to :data:`MAX_REPLICATIONS`."""
    return _whole_number(text, 1, MAX_REPLICATIONS)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (one-line error otherwise)."""
    return _whole_number(text, 1)


def seed_int(text: str) -> int:
    """argparse type: a seed, a whole number from 0 to 2**63 - 1."""
    return _whole_number(text, 0, MAX_SEED)


def resolve_seed(seed: int | None) -> tuple[int, bool]:
    """The seed to use and whether it was drawn (fresh OS entropy, kept to 32 bits)."""
    if seed is not None:
        return seed, False
    from cicasim.engine.draws import fresh_seed

    return fresh_seed(), True


def actor_label(names: dict[str, str], actor_id: str, *, width: int = 14) -> str:
    """The actor's name where it fits in ``width`` characters, else its id (tables where space
    is short: "Israel", but "KOR" for the Republic of Korea)."""
    name = names.get(actor_id) or actor_id
    return name if len(name) <= width else actor_id


def adopted_note(name: str) -> str | None:
    """The footnote a table headed by :func:`probability_name` needs: what P(adopted) means
    (None under P(consensus), which needs none)."""
    if name == "P(consensus)":
        return None
    return ("P(adopted): the share of replications in which the proposal's rule was met "
            "(under a rule other than consensus a text can pass over objections).")


@contextmanager
def progress_bar(description: str, unit: str = "blocks") -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar with ETA on stderr (shown on a terminal only); yields
    ``update(done, total, description=None)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, disable=not console.is_terminal,
    )
    task = bar.add_task(description, total=None)

    def update(done: int, total: int, description: str | None = None) -> None:
        if description is not None:
            bar.update(task, description=description)
        bar.update(task, completed=done, total=total)

    with bar:
        yield update
