"""Running a plan: its design points in batches through an executor, streamed into tables.

The work unit is a batch of consecutive design points (:func:`run_points`): a worker builds each
point's scenario and negotiations, runs every replication of every proposal (on ``threads``
threads of the compiled kernel in this process, one thread in a pool's worker) and returns the
batch's finished Arrow tables.  This process only streams them, in point order, into the tables
of :mod:`.store`.  A batch is a few hundred milliseconds of work or less, so the number of tasks is
about the number of points divided by the batch size, never points × proposals × blocks.  The
numbers depend only on the plan: never on the executor, the worker count, the batch size or a
resume.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import pickle
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import EnsembleResult, ProposalRun, run_negotiation, summarise
from cicasim.engine.table import block_batch
from cicasim.errors import InputError
from cicasim.results import lock_directory, make_directory
from cicasim.sweep.executors import Executor, InProcessExecutor, Task
from cicasim.sweep.plan import DesignPoint, Plan
from cicasim.sweep.result import SweepResult
from cicasim.sweep.store import MemorySink, Sink, check_directory, open_sink, prepare_directory
from cicasim.sweep.tables import BLOCKING, REPLICATIONS, SUMMARY, schemas

__all__ = ["PlanRef", "batches", "run_points", "run_sweep"]

Progress = Callable[[int, int], None]

#: Negotiations (replications × proposals) a batch of points aims at: enough to make a task's
#: fixed costs negligible, few enough that every worker gets several batches.
BATCH_NEGOTIATIONS = 40_000
#: Batches per worker at least (when there are enough points), so the last ones balance.
BATCHES_PER_WORKER = 4


def run_sweep(
    plan: Plan,
    *,
    out: str | Path | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    kind: str = "sweep",
    manifest_extra: dict[str, Any] | None = None,
) -> SweepResult:
    """Run every design point (not yet on disk) and stream the tables.

    Without ``out`` the sweep runs in memory and nothing is written.  With ``out`` the manifest
    is written before any computing, the replications stream into ``replications.parquet/``
    one finished part at a time, and the summary, blocking and deltas tables are written once
    at the end, each file by atomic rename; ``resume`` completes an interrupted sweep there,
    computing only the parts not on disk.  ``progress(done, total)`` is called with counts of
    design points.  The numbers are the same either way.
    """
    if out is None:
        if resume:
            raise InputError("resume: needs out, the directory of the sweep to complete")
        sink = MemorySink(plan)
        _stream(plan, sink, executor, progress)
        return sink.result()
    directory = Path(out)
    check_directory(directory, plan, kind=kind, resume=resume)
    make_directory(directory)
    with lock_directory(directory):
        prepare_directory(directory, plan, kind=kind, resume=resume, extra=manifest_extra or {})
        with open_sink(directory, plan) as sink:
            computed = _stream(plan, sink, executor, progress)
    return SweepResult(
        directory=directory, points=len(plan.points), computed=computed,
        n_replications=plan.replications, proposals=plan.proposals, plan=plan,
    )


def batches(plan: Plan, parts: list[tuple[int, int]], workers: int) -> list[tuple[int, int]]:
    """The work units: consecutive points ``(first, last)`` within each part to compute, of
    about :data:`BATCH_NEGOTIATIONS` negotiations, and at least
    :data:`BATCHES_PER_WORKER` per worker when there are points enough."""
    points = sum(last - first + 1 for first, last in parts)
    per_point = plan.replications * len(plan.proposals)
    size = max(1, min(math.ceil(BATCH_NEGOTIATIONS / per_point),
                      math.ceil(points / (BATCHES_PER_WORKER * max(1, workers)))))
    units = []
    for first, last in parts:  # each part in pieces of (nearly) equal size
        m = last - first + 1
        k = math.ceil(m / size)
        cuts = [first + (m * i) // k for i in range(k + 1)]
        units += [(a, b - 1) for a, b in itertools.pairwise(cuts)]
    return units


def _stream(plan: Plan, sink: Sink, executor: Executor | None, progress: Progress | None) -> int:
    """Compute the parts the sink lacks through ``executor``, feeding the sink the batches in
    point order whatever order they finish in; the number of points computed."""
    executor = executor or InProcessExecutor()
    total = len(plan.points)
    todo = sink.todo()
    units = batches(plan, todo, executor.workers)
    done = total - sum(last - first + 1 for first, last in todo)
    if progress:
        progress(done, total)
    ref = executor.share(PlanRef(plan))

    def tasks() -> Iterator[Task]:
        for first, last in units:
            yield first, run_points, (ref, plan.points[first:last + 1], executor.threads)

    waiting: dict[int, tuple[pa.Table, pa.Table, pa.Table]] = {}
    order = iter(units)
    nxt = next(order, None)
    for first, tables in executor.run(tasks()):
        waiting[first] = tables
        while nxt is not None and nxt[0] in waiting:
            sink.add(nxt[0], nxt[1], waiting.pop(nxt[0]))
            done += nxt[1] - nxt[0] + 1
            if progress:
                progress(done, total)
            nxt = next(order, None)
    sink.finish()
    return sum(last - first + 1 for first, last in todo)


# -- in the worker ---------------------------------------------------------------------------

_PLANS: dict[str, Plan] = {}


class PlanRef:
    """A plan as the workers receive it: pickled once, without its design points (a batch
    carries its own), and unpickled once per worker process (cached by token)."""

    def __init__(self, plan: Plan) -> None:
        self.token = uuid.uuid4().hex
        self._plan: Plan | None = plan
        self._blob: bytes | None = None

    def __getstate__(self) -> dict[str, Any]:
        if self._blob is None:
            self._blob = pickle.dumps(dataclasses.replace(self._plan, points=[]))
        return {"token": self.token, "blob": self._blob}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.token = state["token"]
        self._blob = state["blob"]
        self._plan = None

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            cached = _PLANS.get(self.token)
            if cached is None:
                _PLANS.clear()  # one sweep at a time per worker
                cached = _PLANS[self.token] = pickle.loads(self._blob)
            self._plan = cached
        return self._plan


def run_points(
    ref: PlanRef, points: list[DesignPoint], threads: int | None
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The work unit (runs in a worker): every replication of every proposal at each of the
    design ``points`` (consecutive), as the batch's replications, summary and blocking tables,
    each built once for the whole batch (a table per point would cost more than a tiny point's
    negotiations); the replications go straight from the outcomes to Arrow
    (:func:`cicasim.engine.table.block_batch`)."""
    plan = ref.plan
    sch = schemas(plan)
    factors = [(f.label, f) for f in plan.factors]
    batches: list[pa.RecordBatch] = []
    srows: list[dict[str, Any]] = []
    brows: list[dict[str, Any]] = []
    for dp in points:
        result = _ensemble(plan, dp, threads)
        values = {label: f.column(dp.values[label]) for label, f in factors}
        for run in result.runs:
            batches.append(block_batch(run.negotiation, run.outcome, point=dp.point,
                                       schema=sch[REPLICATIONS]))
            s = summarise(run)
            srows.append({
                "point": dp.point, "proposal": s.id, **values, "n_members": dp.n_members,
                "p_consensus": s.p_consensus, "ci_low": s.ci_low, "ci_high": s.ci_high,
                "median_rounds": s.median_rounds, "mean_dilution": s.mean_dilution,
                "mean_drift": s.mean_drift, "passed": s.passed, "replications": s.replications,
            })
            brows.extend(
                {"point": dp.point, "proposal": s.id, "actor": actor,
                 "frequency": s.blocking[actor], "first_blocker": s.first_blocker.get(actor, 0.0)}
                for actor in sorted(s.blocking)
            )
    return (
        pa.Table.from_batches(batches, schema=sch[REPLICATIONS]).combine_chunks(),
        pa.Table.from_pylist(srows, schema=sch[SUMMARY]),
        pa.Table.from_pylist(brows, schema=sch[BLOCKING]),
    )


def _ensemble(plan: Plan, dp: DesignPoint, threads: int | None) -> EnsembleResult:
    """Every replication of every proposal (in id order) at design point ``dp``."""
    scenario = plan.scenario_for(dp.values)
    runs = []
    for pid in sorted(plan.proposals):
        neg = negotiation(scenario, pid)
        outcome = run_negotiation(neg, replications=plan.replications, seed=plan.seed,
                                  point=dp.seed_key, threads=threads)
        runs.append(ProposalRun(negotiation=neg, replications=plan.replications, outcome=outcome))
    return EnsembleResult(scenario=scenario, seed=plan.seed, point=dp.point,
                          replications=plan.replications, runs=tuple(runs))
