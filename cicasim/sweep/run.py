"""Running a plan: its work units through an executor, into tables.

The work unit is one replication block of one proposal at one design point
(:func:`cicasim.sweep.executors.run_unit`); units run through an executor of
:mod:`cicasim.sweep.executors` (in-process, a local process pool or a Dask distributed cluster).
A design point's tables are built when its last block is in, and written (:mod:`.store`) or kept
in memory.  The numbers depend only on the plan: never on the executor, the worker count or a
resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import (
    EnsembleResult,
    ProposalRun,
    blocks_for,
    concat_outcomes,
    summarise,
)
from cicasim.engine.kernel import Negotiation, Outcome
from cicasim.errors import InputError
from cicasim.results import lock_directory, make_directory
from cicasim.spec.scenario import Scenario
from cicasim.sweep.executors import Executor, InProcessExecutor, Task, run_unit
from cicasim.sweep.plan import Plan
from cicasim.sweep.store import (
    BLOCKING,
    DELTAS,
    POINTS,
    REPLICATIONS,
    STEPS,
    SUMMARY,
    SweepResult,
    arrow_table,
    check_directory,
    deltas_table,
    done_points,
    merge_parts,
    passed_by_proposal,
    points_table,
    prepare_directory,
    schemas,
    steps_table,
    write_point,
)

__all__ = ["point_tables", "run_sweep"]

Progress = Callable[[int, int], None]


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
    """Run every design point (not yet on disk), then merge the tables.

    Without ``out`` the sweep runs in memory and nothing is written.  With ``out`` the manifest
    is written before any computing, each design point's parts when its last block is in, and
    the merged tables at the end, each by atomic rename; ``resume`` completes an interrupted
    sweep there.  ``progress(done, total)`` is called with counts of replication blocks.  The
    numbers are the same either way.
    """
    if out is None:
        if resume:
            raise InputError("resume: needs out, the directory of the sweep to complete")
        return _in_memory(plan, executor, progress)
    directory = Path(out)
    check_directory(directory, plan, kind=kind, resume=resume)
    make_directory(directory)
    with lock_directory(directory):
        prepare_directory(directory, plan, kind=kind, resume=resume, extra=manifest_extra or {})
        n = len(plan.points)
        done = done_points(directory, n)
        todo = [dp.point for dp in plan.points if dp.point not in done]
        sch = schemas(plan)
        for p, tables in _computed(plan, todo, sch, executor, progress, done=len(done)):
            write_point(directory, p, tables, sch)
        merge_parts(directory, plan, sch)
    return SweepResult(
        directory=directory, points=n, computed=len(todo),
        n_replications=plan.replications, proposals=plan.proposals, plan=plan,
    )


def _in_memory(plan: Plan, executor: Executor | None, progress: Progress | None) -> SweepResult:
    """:func:`run_sweep` without a directory: every table in memory."""
    sch = schemas(plan)
    n = len(plan.points)
    parts = dict(_computed(plan, list(range(n)), sch, executor, progress, done=0))
    tables = {
        "replications": pa.concat_tables([parts[p][0] for p in range(n)]),
        "summary": pa.concat_tables([parts[p][1] for p in range(n)]),
        "blocking": pa.concat_tables([parts[p][2] for p in range(n)]),
        "points": arrow_table(points_table(plan), sch[POINTS]),
    }
    steps = steps_table(plan)
    if steps is not None:
        tables["steps"] = arrow_table(steps, sch[STEPS])
    if plan.common_random_numbers and n > 1:
        def passed(p: int) -> dict[str, np.ndarray]:
            return passed_by_proposal(parts[p][0].select(["proposal", "passed"]))

        tables["deltas"] = arrow_table(deltas_table(passed, n), sch[DELTAS])
    return SweepResult(
        directory=None, points=n, computed=n, n_replications=plan.replications,
        proposals=plan.proposals, plan=plan,
        tables={k: t.to_pandas() for k, t in tables.items()},
    )


def _computed(
    plan: Plan, todo: list[int], sch: dict[str, pa.Schema], executor: Executor | None,
    progress: Progress | None, *, done: int,
) -> Iterator[tuple[int, tuple[pa.Table, pa.Table, pa.Table]]]:
    """Run the design points ``todo`` through ``executor`` and yield each point's three tables
    (:func:`point_tables`) as soon as its last block is in; ``done`` points are already
    finished (for the progress count)."""
    blocks = blocks_for(plan.replications)
    per_point = len(plan.proposals) * len(blocks)
    total = len(plan.points) * per_point
    finished = done * per_point
    if progress:
        progress(finished, total)
    executor = executor or InProcessExecutor()

    pending: dict[int, dict[str, Any]] = {}

    def tasks() -> Iterator[Task]:
        for p in todo:
            scenario = plan.scenario_at(p)
            negs = {pid: negotiation(scenario, pid) for pid in plan.proposals}
            pending[p] = {"scenario": scenario, "negs": negs, "got": {}}
            seed_key = plan.points[p].seed_key
            for pid in plan.proposals:
                for b, rows in blocks:
                    yield (p, pid, b), run_unit, (negs[pid], plan.seed, seed_key, b, rows)

    for (p, pid, b), out_block in executor.run(tasks()):
        state = pending[p]
        state["got"][(pid, b)] = out_block
        finished += 1
        if progress:
            progress(finished, total)
        if len(state["got"]) == per_point:
            outcomes = {
                q: concat_outcomes([state["got"][(q, bb)] for bb, _ in blocks])
                for q in plan.proposals
            }
            yield p, point_tables(plan, p, state["scenario"], state["negs"], outcomes, sch)
            del pending[p]


def point_tables(
    plan: Plan, point: int, scenario: Scenario, negs: dict[str, Negotiation],
    outcomes: dict[str, Outcome], sch: dict[str, pa.Schema],
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """A design point's three tables, built in Arrow directly: its replications, its summary
    rows and its blocking rows.  NaN is written as null, as pandas would write it (a mean
    dilution with nothing agreed; the dimensions a proposal does not touch)."""
    order = sorted(plan.proposals)
    runs = tuple(
        ProposalRun(negotiation=negs[pid], replications=plan.replications, outcome=outcomes[pid])
        for pid in order
    )
    result = EnsembleResult(
        scenario=scenario, seed=plan.seed, point=point, replications=plan.replications, runs=runs
    )
    cols = result.columns()
    n = len(cols["point"])
    reps = pa.table({
        f.name: pa.array(
            cols[f.name] if f.name in cols else np.full(n, np.nan), type=f.type, from_pandas=True
        )
        for f in sch[REPLICATIONS]
    })
    dp = plan.points[point]
    factor_columns = {f.label: f.column(dp.values[f.label]) for f in plan.factors}
    srows, brows = [], []
    for run in runs:
        s = summarise(run)
        srows.append({
            "point": point, "proposal": s.id, **factor_columns, "n_members": dp.n_members,
            "p_consensus": s.p_consensus, "ci_low": s.ci_low, "ci_high": s.ci_high,
            "median_rounds": s.median_rounds, "mean_dilution": s.mean_dilution,
            "mean_drift": s.mean_drift, "passed": s.passed, "replications": s.replications,
        })
        brows.extend(
            {"point": point, "proposal": s.id, "actor": actor,
             "frequency": s.blocking[actor], "first_blocker": s.first_blocker.get(actor, 0.0)}
            for actor in sorted(s.blocking)
        )
    return (
        reps,
        pa.Table.from_pylist(srows, schema=sch[SUMMARY]),
        pa.Table.from_pylist(brows, schema=sch[BLOCKING]),
    )
