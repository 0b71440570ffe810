"""Executors: where work units run, behind one small interface.

A sweep's work unit is a batch of design points (:func:`cicasim.sweep.run.run_points`); a
comparison's is one replication block of one proposal (:func:`run_unit`).  An :class:`Executor`
runs units in this process, on a pool of local processes, or on a Dask distributed cluster
(registry :data:`EXECUTORS`) and yields the results keyed by tag, never by completion order, so
the tables a sweep writes do not depend on where the units ran (the EMA workbench's evaluator
split).  What every unit needs (a sweep's plan) goes through :meth:`Executor.share`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cicasim.engine.ensemble import blocks_for, concat_outcomes, run_block
from cicasim.engine.kernel import Negotiation, Outcome
from cicasim.errors import InputError, os_reason, read_text, shown

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "LocalProcessExecutor",
    "Task",
    "available_cores",
    "make_executor",
    "run_unit",
    "run_units",
    "scheduler_address",
    "tls_security",
]


def run_unit(neg: Negotiation, seed: int, seed_key: int, block: int, rows: int) -> Outcome:
    """The work unit: one replication block of one proposal (runs in a worker); ``seed_key``
    is the design point's key of the random numbers (the engine's ``point``)."""
    return run_block(neg, seed=seed, point=seed_key, block=block, rows=rows)


Task = tuple[Any, Callable[..., Any], tuple[Any, ...]]


class Executor(ABC):
    """Runs tasks ``(tag, function, args)`` and yields ``(tag, result)`` as they finish.

    At most ``window`` tasks are in flight, so memory stays bounded and finished design points
    reach the disk early.  Results are keyed by tag, never by completion order.
    """

    name: str = ""
    workers: int = 1
    #: Threads of the compiled kernel each unit runs its replication blocks on (None: this
    #: process's default, :func:`cicasim.engine.threads.default_threads`); 1 where the workers
    #: already share the cores.
    threads: int | None = 1

    def share(self, obj: Any) -> Any:
        """``obj`` as the units' arguments should carry it: itself.  (Dask's ``scatter`` would
        send it once per worker, but a worker killed mid-sweep then loses the scattered copy
        and cancels the units that need it.)"""
        return obj

    @abstractmethod
    def run(self, tasks: Iterable[Task], *, window: int | None = None) -> Iterator[tuple[Any, Any]]:
        ...

    def close(self) -> None:  # noqa: B027 - a no-op default, not an abstract method
        """Release the workers (idempotent); nothing to release by default."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs every task in the calling process, in order: the reference the others must equal."""

    name = "in-process"
    threads = None  # the units run here: the blocks on this process's threads

    def run(self, tasks, *, window=None):
        for tag, fn, args in tasks:
            yield tag, fn(*args)


def _ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C to the parent, which stops the pool and says
    "interrupted" once (the workers would each print a traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcessExecutor(Executor):
    """A pool of local worker processes (``concurrent.futures``, the forkserver start method:
    no fork of a threaded parent, and the library imported once in the server)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cicasim.sweep.run"])  # the engine, imported once
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_ignore_interrupts
        )

    def run(self, tasks, *, window=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        window = window or 2 * self.workers
        it = iter(tasks)
        pending: dict[Any, Any] = {}
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    tag, fn, args = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._pool.submit(fn, *args)] = tag
            if not pending:
                return
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                tag = pending.pop(fut)
                yield tag, fut.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


#: The Dask transports ``--scheduler`` accepts: plain TCP and TLS over TCP.
SCHEMES = ("tcp", "tls")


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``tcp://host:port`` or ``tls://host:port`` (``host:port`` means tcp; the port defaults
    to Dask's 8786) as ``(normalised address, host, port)``; a one-line error for an empty or
    malformed address or another scheme."""
    from urllib.parse import urlsplit

    text = address.strip()
    if not text:
        raise InputError("--scheduler: empty address; give tcp://HOST:PORT or tls://HOST:PORT")
    bad = InputError(
        f"--scheduler: {shown(address)} is not a scheduler address; allowed: tcp://HOST:PORT "
        "or tls://HOST:PORT"
    )
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        port = parts.port or 8786
    except ValueError:
        raise bad from None
    if parts.scheme not in SCHEMES:
        raise InputError(
            f"--scheduler: the {shown(parts.scheme)} transport is not supported; allowed: "
            "tcp:// or tls://"
        )
    host = parts.hostname
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment or (
        parts.username or parts.password
    ):
        raise bad
    shown_host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown_host}:{port}", host, port


def _probe(address: str, host: str, port: int) -> None:
    """Fail fast, in one line, when nothing listens at the scheduler's address (Dask's own
    client would retry until its timeout)."""
    import socket

    try:
        socket.create_connection((host, port), timeout=5).close()
    except (OSError, UnicodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise InputError(
            f"--scheduler: cannot connect to a Dask scheduler at {address} ({reason})"
        ) from None


def _handshake(address: str, security: Any, timeout: float) -> None:
    """Ask whatever listens at ``address`` for its identity, as a Dask client would, and
    refuse in one line unless a Dask scheduler answers (a server that is not Dask's can send
    anything, e.g. a frame length the client would try to allocate)."""
    import asyncio

    from distributed.comm import connect

    async def identity() -> Any:
        args = security.get_connection_args("client") if security is not None else {}
        comm = await connect(address, timeout=timeout, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    try:
        reply = asyncio.run(identity())
    except Exception as exc:  # noqa: BLE001 - whatever answered, it is not a usable scheduler
        raise InputError(
            f"--scheduler: no Dask scheduler answered at {address} "
            f"({type(exc).__name__}: {shown(str(exc), 120)})"
        ) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise InputError(f"--scheduler: {address} answered, but not as a Dask scheduler")


def tls_security(ca_file: str | None, cert: str | None, key: str | None) -> Any:
    """Dask's :class:`distributed.security.Security` for a ``tls://`` scheduler: the CA that
    signs the cluster's certificates, and this client's certificate and key (PEM; the key may
    be in the certificate file).  Encryption is required."""
    from distributed.security import Security

    for flag, path in (("--tls-ca-file", ca_file), ("--tls-cert", cert), ("--tls-key", key)):
        if path is not None:
            try:
                read_text(path, what=f"{flag}: a PEM file")
            except InputError as exc:
                raise InputError(f"{flag}: {exc}") from None
    return Security(
        tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True
    )


class DaskExecutor(Executor):
    """Tasks on an existing Dask distributed cluster (``Client(address)``).

    A worker that dies takes its running tasks with it; the scheduler reschedules them on the
    others (up to ``distributed.scheduler.allowed-failures`` deaths per task), and since a unit's
    result depends only on its inputs the table is unchanged.
    """

    name = "dask"

    def __init__(
        self, address: str, *, timeout: float = 10.0, security: Any = None
    ) -> None:
        import logging

        address, host, port = scheduler_address(address)
        if address.startswith("tls://") and security is None:
            raise InputError(
                "--scheduler: a tls:// scheduler needs --tls-ca-file and --tls-cert (and "
                "--tls-key unless the key is in the certificate file)"
            )
        if address.startswith("tcp://") and security is not None:
            raise InputError("--tls-ca-file/--tls-cert/--tls-key: need a tls:// scheduler")
        _probe(address, host, port)
        from distributed import Client

        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # a failed handshake is reported in one line below
        try:
            _handshake(address, security, timeout)
            try:
                self._client = Client(
                    address, timeout=timeout, set_as_default=False, security=security
                )
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    f"--scheduler: cannot connect to a Dask scheduler at {address} "
                    f"({shown(str(exc), 120)})"
                ) from None
        finally:
            quiet.setLevel(level)
        try:
            self._client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            self._client.close()
            raise InputError(
                f"--scheduler: the Dask cluster at {address} has no workers"
            ) from None
        self.workers = max(1, sum(self._client.nthreads().values()))

    def run(self, tasks, *, window=None):
        import uuid

        from distributed import as_completed

        window = window or 2 * self.workers + 2
        it = iter(tasks)
        token = uuid.uuid4().hex[:8]
        ac = as_completed(loop=self._client.loop, with_results=True)
        tags: dict[str, Any] = {}
        count = 0

        def submit() -> bool:
            nonlocal count
            try:
                tag, fn, args = next(it)
            except StopIteration:
                return False
            fut = self._client.submit(fn, *args, key=f"cicasim-{token}-{count}", pure=False)
            count += 1
            tags[fut.key] = tag
            ac.add(fut)
            return True

        for _ in range(window):
            if not submit():
                break
        for fut, result in ac:
            tag = tags.pop(fut.key)
            fut.release()
            yield tag, result
            submit()

    def close(self) -> None:
        self._client.close()


#: Executors by name.
EXECUTORS: dict[str, type[Executor]] = {
    InProcessExecutor.name: InProcessExecutor,
    LocalProcessExecutor.name: LocalProcessExecutor,
    DaskExecutor.name: DaskExecutor,
}


def available_cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_executor(
    *, workers: int | None = None, scheduler: str | None = None, security: Any = None
) -> Executor:
    """Dask when a scheduler address is given (``security`` for ``tls://``); else a local
    pool, in-process for one worker."""
    if scheduler is not None:
        if workers is not None:
            raise InputError(
                "--workers: applies to local processes; with --scheduler the cluster's own "
                "workers run the units (give one or the other)"
            )
        return DaskExecutor(scheduler, security=security)
    if security is not None:
        raise InputError("--tls-ca-file/--tls-cert/--tls-key: need --scheduler tls://HOST:PORT")
    workers = workers or available_cores()
    return InProcessExecutor() if workers == 1 else LocalProcessExecutor(workers)


def run_units(
    executor: Executor,
    jobs: Iterable[tuple[Any, Negotiation, int, int]],
    *,
    seed: int,
    replications: int,
    on_block: Callable[[], None] | None = None,
) -> dict[Any, Outcome]:
    """Run ``replications`` replications of each ``(tag, negotiation, seed key, _)`` job,
    block by block on ``executor``; the whole outcomes by tag, blocks in order."""
    jobs = list(jobs)
    blocks = blocks_for(replications)
    tasks = (
        ((tag, b), run_unit, (neg, seed, seed_key, b, rows))
        for tag, neg, seed_key, _ in jobs
        for b, rows in blocks
    )
    got: dict[Any, dict[int, Outcome]] = {tag: {} for tag, *_ in jobs}
    for (tag, b), out in executor.run(tasks):
        got[tag][b] = out
        if on_block:
            on_block()
    return {tag: concat_outcomes([parts[b] for b, _ in blocks]) for tag, parts in got.items()}
