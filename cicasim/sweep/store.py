"""The results directory a sweep streams into (the tables are :mod:`cicasim.sweep.tables`, the
result read back :mod:`cicasim.sweep.result`; ``docs/experiments.md`` documents the layout).

A results directory holds ``manifest.json`` (written before any computing), ``points.parquet``
(the plan), ``steps.parquet`` (the enlargement steps, when a factor enlarges), the replications
as a partitioned Parquet dataset ``replications.parquet/`` (one file per range of design
points, :func:`layout`; pandas, polars, DuckDB and pyarrow read the folder as one table) and, at
the end, ``summary.parquet``, ``blocking.parquet`` and, with common random numbers,
``deltas.parquet``.  While a sweep is unfinished ``progress/`` holds the summary, blocking and
deltas rows of the finished parts; ``--resume`` computes only the parts missing, and the last
tables are written once from ``progress/``, which is then removed.  Every file is written in
row groups of :data:`ROW_GROUP` rows, so its bytes depend only on its rows.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cicasim.errors import InputError
from cicasim.results import MANIFEST, write_json
from cicasim.results.directory import directory_entries, existing_results
from cicasim.sweep.plan import Plan
from cicasim.sweep.result import SweepResult
from cicasim.sweep.tables import (
    BLOCKING,
    DELTAS,
    DELTAS_SCHEMA,
    POINTS,
    PROGRESS,
    REPLICATIONS,
    STEPS,
    SUMMARY,
    TABLES,
    arrow_table,
    points_table,
    schemas,
    steps_table,
    write_parquet,
    written,
)

__all__ = [
    "check_directory",
    "DirectorySink",
    "MemorySink",
    "RowGroups",
    "Sink",
    "done_parts",
    "done_points",
    "layout",
    "open_sink",
    "part_name",
    "input_key",
    "prepare_directory",
]

# -- the replications dataset and its parts --------------------------------------------------

#: Rows per row group of every table the sweep writes (the last one of a file may be shorter).
ROW_GROUP = 65_536
#: Rows per part of the replications dataset, about (a part holds whole design points).
PART_ROWS = 1 << 20
#: Parts a sweep is split into at least (when it has points enough), so a resume loses little.
MIN_PARTS = 16

_PART = re.compile(r"^points-(\d{6,})-(\d{6,})\.parquet$")


def layout(plan: Plan) -> list[tuple[int, int]]:
    """The parts of the replications dataset: ranges ``(first, last)`` of consecutive design
    points.  They depend only on the plan, so a part's bytes never depend on the executor, the
    worker count or a resume."""
    n = len(plan.points)
    per_point = plan.replications * len(plan.proposals)
    size = max(1, min(PART_ROWS // per_point, math.ceil(n / MIN_PARTS)))
    return [(a, min(a + size, n) - 1) for a in range(0, n, size)]


def part_name(first: int, last: int) -> str:
    """``points-000000-000099.parquet``: a part of the replications dataset by its points."""
    return f"points-{first:06d}-{last:06d}.parquet"


def _parts_on_disk(directory: Path) -> set[tuple[int, int]]:
    try:
        names = os.listdir(directory / REPLICATIONS)
    except OSError:
        return set()
    return {(int(m[1]), int(m[2])) for m in map(_PART.match, names) if m}


def _progress(directory: Path, what: str, first: int, last: int) -> Path:
    return directory / PROGRESS / f"{what}-{first:06d}-{last:06d}.parquet"


def _finished(directory: Path) -> bool:
    """Whether the sweep's last tables are written (the progress files are then gone)."""
    return (directory / SUMMARY).is_file()


def done_parts(directory: Path) -> set[tuple[int, int]]:
    """The parts of the replications dataset on disk whose summary rows are there too (in
    ``progress/``, or in the final summary once the sweep is finished)."""
    finished = _finished(directory)
    return {
        (a, b) for a, b in _parts_on_disk(directory)
        if finished or _progress(directory, "summary", a, b).is_file()
    }


def done_points(directory: Path, n: int) -> set[int]:
    """The design points already on disk (in a finished part)."""
    return {p for a, b in done_parts(directory) for p in range(a, min(b, n - 1) + 1)}


class RowGroups:
    """A Parquet file streamed in row groups of exactly :data:`ROW_GROUP` rows (the last one
    shorter), so its bytes depend on its rows alone, never on how they arrived.  Written to a
    temporary sibling and renamed into place by :meth:`close`."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self._cm = written(path)
        tmp = self._cm.__enter__()
        try:
            self._writer = pq.ParquetWriter(tmp, schema)
        except BaseException as exc:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._buffer: list[pa.Table] = []
        self._rows = 0

    def add(self, table: pa.Table) -> None:
        self._buffer.append(table)
        self._rows += len(table)
        while self._rows >= ROW_GROUP:
            self._flush(ROW_GROUP)

    def _flush(self, rows: int) -> None:
        table = pa.concat_tables(self._buffer).combine_chunks()
        self._writer.write_table(table.slice(0, rows), row_group_size=ROW_GROUP)
        rest = table.slice(rows)
        self._buffer, self._rows = [rest], len(rest)

    def close(self) -> None:
        """Write what is left and rename the file into place."""
        try:
            if self._rows:
                self._flush(self._rows)
            self._writer.close()
        except BaseException as exc:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._cm.__exit__(None, None, None)

    def abandon(self) -> None:
        """Remove the temporary file (a failed or interrupted sweep)."""
        try:
            self._writer.close()
        finally:
            stop = KeyboardInterrupt()
            self._cm.__exit__(KeyboardInterrupt, stop, None)  # removes the temporary file


class Deltas:
    """ΔP of each design point against point 0, paired by replication (common random numbers),
    computed as the points stream by: point 0's pass indicators are all that is kept."""

    def __init__(self, plan: Plan) -> None:
        self.proposals = sorted(plan.proposals)
        self.replications = plan.replications
        self.base: np.ndarray | None = None  # (proposals, replications) of point 0

    def _passed(self, reps: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """The points of a batch and their pass indicators (points, proposals, replications):
        a batch is sorted by point, proposal and replication."""
        passed = reps.column("passed").to_numpy(zero_copy_only=False)
        shape = (-1, len(self.proposals), self.replications)
        points = reps.column("point").to_numpy()[:: len(self.proposals) * self.replications]
        return points, passed.reshape(shape)

    def set_base(self, reps: pa.Table) -> None:
        """Point 0's replications (e.g. read back from disk on a resume)."""
        self.base = self._passed(reps)[1][0]

    def rows(self, reps: pa.Table) -> pa.Table:
        from cicasim.analysis.compare import paired_difference

        points, passed = self._passed(reps)
        if self.base is None and points[0] == 0:
            self.base = passed[0]
        out: dict[str, list] = {k: [] for k in ("point", "proposal", "delta", "delta_low",
                                                "delta_high")}
        for point, by_proposal in zip(points, passed, strict=True):
            for pid, base, b in zip(self.proposals, self.base, by_proposal, strict=True):
                # point 0 against itself is no comparison: exactly 0
                d, lo, hi = (0.0, 0.0, 0.0) if point == 0 else paired_difference(base, b)
                for k, v in zip(out, (int(point), pid, d, lo, hi), strict=True):
                    out[k].append(v)
        return pa.table(out, schema=DELTAS_SCHEMA)


# -- where the batches go --------------------------------------------------------------------


class Sink(ABC):
    """Where a sweep's batches go, in point order: :meth:`todo` tells which parts to compute,
    :meth:`add` takes each batch of consecutive points, :meth:`finish` writes the last tables."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.schemas = schemas(plan)
        self.deltas = Deltas(plan) if plan.common_random_numbers and len(plan.points) > 1 else None

    @abstractmethod
    def todo(self) -> list[tuple[int, int]]:
        """The parts (:func:`layout`) still to compute."""

    @abstractmethod
    def add(self, first: int, last: int, tables: tuple[pa.Table, pa.Table, pa.Table]) -> None:
        """The replications, summary and blocking tables of points ``first`` to ``last``."""

    @abstractmethod
    def finish(self) -> None:
        """Every part is in: write the last tables."""


class MemorySink(Sink):
    """A sweep in memory: every table kept, nothing written."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self._tables: dict[str, list[pa.Table]] = {"replications": [], "summary": [],
                                                   "blocking": [], "deltas": []}

    def todo(self) -> list[tuple[int, int]]:
        return layout(self.plan)

    def add(self, first: int, last: int, tables: tuple[pa.Table, pa.Table, pa.Table]) -> None:
        for name, table in zip(("replications", "summary", "blocking"), tables, strict=True):
            self._tables[name].append(table)
        if self.deltas is not None:
            self._tables["deltas"].append(self.deltas.rows(tables[0]))

    def finish(self) -> None:
        pass

    def result(self) -> SweepResult:
        plan, sch = self.plan, self.schemas
        tables = {name: pa.concat_tables(parts) if parts else sch[TABLES[name]].empty_table()
                  for name, parts in self._tables.items() if name != "deltas" or parts}
        tables["points"] = arrow_table(points_table(plan), sch[POINTS])
        steps = steps_table(plan)
        if steps is not None:
            tables["steps"] = arrow_table(steps, sch[STEPS])
        n = len(plan.points)
        return SweepResult(
            directory=None, points=n, computed=n, n_replications=plan.replications,
            proposals=plan.proposals, plan=plan,
            tables={k: t.to_pandas() for k, t in tables.items()},
        )


class DirectorySink(Sink):
    """A sweep streamed into a results directory (:func:`prepare_directory` made it): each part
    of the replications dataset is streamed to a temporary file and renamed into place when its
    last point is in, after its summary, blocking and deltas rows went to ``progress/``.  This
    process holds one part's summary rows and one row group at most."""

    def __init__(self, directory: Path, plan: Plan) -> None:
        super().__init__(plan)
        self.directory = directory
        self._parts = layout(plan)
        self._done = done_parts(directory)
        self._part: tuple[int, int] | None = None
        self._writer: RowGroups | None = None
        self._rows: dict[str, list[pa.Table]] = {}
        if self.deltas is not None and self._parts[0] in self._done:
            self.deltas.set_base(pq.read_table(
                directory / REPLICATIONS / part_name(*self._parts[0]),
                columns=["point", "passed"], filters=[("point", "==", 0)],
            ))

    def todo(self) -> list[tuple[int, int]]:
        if _finished(self.directory):
            return []
        return [p for p in self._parts if p not in self._done]

    def add(self, first: int, last: int, tables: tuple[pa.Table, pa.Table, pa.Table]) -> None:
        if self._part is None:
            self._part = next(p for p in self._parts if p[0] == first)
            self._writer = RowGroups(self.directory / REPLICATIONS / part_name(*self._part),
                                     self.schemas[REPLICATIONS])
            self._rows = {"summary": [], "blocking": [], "deltas": []}
        reps, summ, blk = tables
        self._writer.add(reps)
        self._rows["summary"].append(summ)
        self._rows["blocking"].append(blk)
        if self.deltas is not None:
            self._rows["deltas"].append(self.deltas.rows(reps))
        if last == self._part[1]:
            self._close_part()

    def _close_part(self) -> None:
        """The part's rows to ``progress/``, then the part itself into place (last: a part on
        disk is a finished part)."""
        first, last = self._part
        for what, name in (("summary", SUMMARY), ("blocking", BLOCKING), ("deltas", DELTAS)):
            if what != "deltas" or self.deltas is not None:
                write_parquet(_progress(self.directory, what, first, last),
                              pa.concat_tables(self._rows[what]), self.schemas[name])
        self._writer.close()
        self._part = self._writer = None

    def abandon(self) -> None:
        """Remove an unfinished part's temporary file (the sweep failed or was interrupted)."""
        if self._writer is not None:
            self._writer.abandon()
            self._part = self._writer = None

    def finish(self) -> None:
        """The summary, blocking and deltas tables, each streamed once from ``progress/``;
        then ``progress/`` goes."""
        if _finished(self.directory):
            shutil.rmtree(self.directory / PROGRESS, ignore_errors=True)
            return
        missing = [p for p in self._parts if p not in done_parts(self.directory)]
        if missing:
            raise InputError(f"{self.directory}: design points {missing[0][0]}-{missing[0][1]} "
                             f"are missing from {REPLICATIONS}/")
        names = [("deltas", DELTAS)] if self.deltas is not None else []
        # summary last: its presence marks the sweep as finished
        for what, name in [("blocking", BLOCKING), *names, ("summary", SUMMARY)]:
            out = RowGroups(self.directory / name, self.schemas[name])
            try:
                for first, last in self._parts:
                    out.add(pq.read_table(_progress(self.directory, what, first, last),
                                          schema=self.schemas[name]))
            except BaseException:
                out.abandon()
                raise
            out.close()
        shutil.rmtree(self.directory / PROGRESS, ignore_errors=True)


@contextmanager
def open_sink(directory: Path, plan: Plan) -> Iterator[DirectorySink]:
    """A :class:`DirectorySink`; an unfinished part's temporary file is removed on failure."""
    sink = DirectorySink(directory, plan)
    try:
        yield sink
    except BaseException:
        sink.abandon()
        raise


# -- the directory ---------------------------------------------------------------------------


def check_directory(directory: str | Path, plan: Plan, *, kind: str = "sweep",
                    resume: bool = False) -> bool:
    """Whether ``directory`` can take this sweep's results; True when it holds a matching one
    to resume.  One-line errors otherwise; nothing is written."""
    directory = Path(directory)
    entries = directory_entries(directory)
    if not entries:  # absent or empty
        return False
    old = existing_results(directory, entries, kind=kind, instead="a new one", reasons=True)
    if not resume:
        raise InputError(
            f"{directory}: already holds results; pass --resume to complete them "
            "or give a new directory"
        )
    if old.fingerprint != plan.fingerprint():
        raise InputError(
            f"{directory}: holds a different {kind} (experiment, scenario, seed or "
            "replications differ); give a new directory to start afresh"
        )
    return True


def input_key(value: str) -> str:
    """The manifest's key of a file an experiment names: its path relative to the experiment,
    as written there (normalised), so two files of the same name stay apart."""
    return Path(os.path.normpath(value)).as_posix()


def prepare_directory(directory: Path, plan: Plan, *, kind: str, resume: bool,
                      extra: dict[str, Any]) -> None:
    """The manifest (unless resuming), the plan's tables, ``replications.parquet/`` and
    ``progress/``; a resumed sweep's half-written files are swept away."""
    from cicasim.results import manifest

    sch = schemas(plan)
    if check_directory(directory, plan, kind=kind, resume=resume):
        for folder in (directory, directory / REPLICATIONS, directory / PROGRESS):
            for tmp in folder.glob(".*.tmp"):  # half-written by an interrupted sweep
                tmp.unlink()
    else:
        scenario_key = input_key(plan.experiment.experiment.scenario)
        m = manifest(
            kind=kind, seed=plan.seed,
            inputs={plan.path.name: plan.text, scenario_key: plan.scenario_text,
                    **{input_key(v): t for v, t in plan.factor_inputs.items()}},
            experiment=plan.name, experiment_file=plan.path.name,
            scenario_file=scenario_key, design=plan.experiment.design.kind,
            replications=plan.replications, proposals=list(plan.proposals),
            points=len(plan.points), factors=[f.label for f in plan.factors],
            common_random_numbers=plan.common_random_numbers,
            fingerprint=plan.fingerprint(), **extra,
        )
        with written(directory / MANIFEST) as tmp:
            write_json(tmp, m)
    (directory / REPLICATIONS).mkdir(exist_ok=True)
    (directory / PROGRESS).mkdir(exist_ok=True)
    write_parquet(directory / POINTS, points_table(plan), sch[POINTS])
    steps = steps_table(plan)
    if steps is not None:
        write_parquet(directory / STEPS, steps, sch[STEPS])
