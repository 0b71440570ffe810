"""Threads over replication blocks: every core in a single run, the same numbers on any count.

A block's numbers depend only on its keys (:mod:`cicasim.engine.draws`) and its arithmetic never
looks at another block, so blocks can run at the same time.  The compiled loops release the GIL
(numba ``nogil``) and so do numpy's generators while they fill their buffers, so threads of one
process run blocks in parallel without copying a negotiation to other processes.  Results come
back in block order whatever finishes first, and every caller combines them in that order:
the thread count never changes a number (``tests/test_threads.py``).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from cicasim.errors import InputError

__all__ = ["available_cores", "default_threads", "ordered_map", "resolve_threads", "set_threads"]

T = TypeVar("T")
R = TypeVar("R")

_default: int | None = None
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_lock = threading.Lock()


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count is not None:
        return count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> None:
    """Set the thread count that ``threads=None`` means in this process (None: all cores).

    The command line's ``--threads`` sets it, so library code that runs ensembles on the
    caller's behalf (sweeps in this process) uses the same count.  Pass 1 in worker processes
    that already share the cores with each other."""
    global _default
    if threads is not None and threads < 1:
        raise InputError(f"threads: must be at least 1 (got {threads})")
    _default = threads


def default_threads() -> int:
    """What ``threads=None`` means: :func:`set_threads`'s count, or all available cores."""
    return _default if _default is not None else available_cores()


def resolve_threads(threads: int | None) -> int:
    """``threads``, or the default when None; a one-line error below 1."""
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads: must be a whole number of at least 1 (got {threads!r})")
    return threads


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` worker threads, kept for the life of the process (each thread
    keeps its scratch buffers, :func:`cicasim.engine.kernel._tension_buffer`, from call to
    call); a forked child makes its own, since threads do not survive a fork."""
    key = (os.getpid(), threads)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ThreadPoolExecutor(threads, thread_name_prefix="cicasim-block")
            _pools[key] = pool
        return pool


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, threads: int) -> Iterator[R]:
    """``fn(item)`` for every item, yielded in the order of ``items``, computed on ``threads``
    threads with at most ``2 × threads`` results waiting, so memory stays bounded by the
    window, not by the number of items.  One thread runs everything in the calling thread."""
    if threads <= 1:
        for item in items:
            yield fn(item)
        return
    pool = _pool(threads)
    it = iter(items)
    pending: deque[Future[R]] = deque()
    try:
        for item in it:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * threads:
                break
        while pending:
            result = pending.popleft().result()
            for item in it:
                pending.append(pool.submit(fn, item))
                break
            yield result
    finally:
        for fut in pending:
            fut.cancel()
