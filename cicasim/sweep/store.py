"""The sweep's tables: their schemas, how they are written to a results directory, merged and
read back (``docs/experiments.md`` documents the layout).

A results directory holds ``manifest.json`` (written before any computing), ``points.parquet``
(the plan), ``steps.parquet`` (the enlargement steps, when a factor enlarges), ``parts/`` (each
finished design point, written by atomic rename; ``--resume`` skips the points there) and the
merged tables ``replications.parquet``, ``summary.parquet``, ``blocking.parquet`` and, with
common random numbers, ``deltas.parquet``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cicasim.display import Shown
from cicasim.errors import InputError, os_reason, shown
from cicasim.results import MANIFEST, path_status, read_manifest, write_json
from cicasim.spec.factors import EnlargementFactor
from cicasim.sweep.plan import Plan

__all__ = [
    "BLOCKING",
    "DELTAS",
    "PARTS",
    "POINTS",
    "REPLICATIONS",
    "STEPS",
    "SUMMARY",
    "TABLES",
    "SweepResult",
    "arrow_table",
    "check_directory",
    "deltas_table",
    "done_points",
    "input_key",
    "merge_parts",
    "passed_by_proposal",
    "points_table",
    "prepare_directory",
    "records",
    "schemas",
    "steps_table",
    "write_parquet",
    "write_point",
]

PARTS = "parts"
REPLICATIONS = "replications.parquet"
SUMMARY = "summary.parquet"
BLOCKING = "blocking.parquet"
POINTS = "points.parquet"
DELTAS = "deltas.parquet"
STEPS = "steps.parquet"

#: The tables of a sweep by file name, and their short names (``SweepResult.table(name)``).
TABLES = {"replications": REPLICATIONS, "summary": SUMMARY, "blocking": BLOCKING,
          "points": POINTS, "deltas": DELTAS, "steps": STEPS}


# -- schemas ---------------------------------------------------------------------------------


def _dimensions(plan: Plan) -> list[str]:
    touched = {t.dimension for pid in plan.proposals for t in plan.scenario.proposal(pid).touches}
    return [d.id for d in plan.scenario.dimensions if d.id in touched]


def _factor_fields(plan: Plan) -> list[pa.Field]:
    return [pa.field(f.label, pa.type_for_alias(f.column_type)) for f in plan.factors]


def schemas(plan: Plan) -> dict[str, pa.Schema]:
    """The Arrow schemas of the result tables (a contract: ``docs/experiments.md``)."""
    fcols = _factor_fields(plan)
    dims = _dimensions(plan)
    i64, f64, text = pa.int64(), pa.float64(), pa.string()
    reps = pa.schema(
        [("point", i64), ("proposal", text), ("replication", i64), ("passed", pa.bool_()),
         ("reason", text), ("rounds", i64), ("dilution", f64), ("drift", f64),
         ("first_blocker", text), ("objectors", text), ("abstainers", text)]
        + [(f"outcome_{d}", f64) for d in dims]
        + [(f"policy_{d}", f64) for d in dims]
    )
    summary = pa.schema(
        [pa.field("point", i64), pa.field("proposal", text)]
        + fcols
        + [pa.field("n_members", i64)]
        + [pa.field(name, f64) for name in ("p_consensus", "ci_low", "ci_high", "median_rounds",
                                             "mean_dilution", "mean_drift")]
        + [pa.field("passed", i64), pa.field("replications", i64)]
    )
    blocking = pa.schema([("point", i64), ("proposal", text), ("actor", text),
                          ("frequency", f64), ("first_blocker", f64)])
    points = pa.schema(
        [pa.field("point", i64)] + fcols
        + [pa.field("label", text), pa.field("n_members", i64), pa.field("seed_key", i64)]
    )
    deltas = pa.schema([("point", i64), ("proposal", text), ("delta", f64), ("delta_low", f64),
                        ("delta_high", f64)])
    steps = pa.schema([("step", i64), ("label", text), ("kind", text),
                       ("joined", pa.list_(text)), ("n_members", i64)])
    return {
        REPLICATIONS: reps, SUMMARY: summary, BLOCKING: blocking, POINTS: points, DELTAS: deltas,
        STEPS: steps,
    }


# -- the plan's tables -----------------------------------------------------------------------


def points_table(plan: Plan) -> pd.DataFrame:
    """One row per design point: its number, factor values, label, number of members and
    seed key."""
    rows = []
    for dp in plan.points:
        row = {"point": dp.point}
        row.update({f.label: f.column(dp.values[f.label]) for f in plan.factors})
        row.update(label=dp.label, n_members=dp.n_members, seed_key=dp.seed_key)
        rows.append(row)
    return pd.DataFrame(rows)


def steps_table(plan: Plan) -> pd.DataFrame | None:
    """One row per enlargement step of the plan's enlargement factor (None without one): the
    number of steps applied (0 = the base scenario), the step's label and kind, the ids of the
    actors who join at it and the members after it."""
    for b in plan.bound:
        if isinstance(b.factor, EnlargementFactor):
            return pd.DataFrame([
                {"step": i, "label": b.labels[i], "kind": b.kinds[i], "joined": list(b.joined[i]),
                 "n_members": len(s.members)}
                for i, s in sorted(b.scenarios.items())
            ])
    return None


# -- writing ---------------------------------------------------------------------------------


def arrow_table(table: pa.Table | pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``table`` as an Arrow table of ``schema``, without pandas metadata: what a Parquet file
    of it holds."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(
            table.reindex(columns=schema.names), schema=schema, preserve_index=False
        )
    return table.replace_schema_metadata(None)


def write_parquet(path: Path, table: pa.Table | pd.DataFrame, schema: pa.Schema) -> None:
    """Write a table atomically: a temporary sibling, then :func:`os.replace`."""
    table = arrow_table(table, schema)
    with written(path) as tmp:
        pq.write_table(table, tmp)


@contextmanager
def written(path: Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write, renamed onto ``path`` when the block succeeds
    and removed when it fails; a write error (a full disk) is a one-line :class:`InputError`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot be written ({os_reason(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _part(directory: Path, point: int, what: str) -> Path:
    return directory / PARTS / f"point-{point:06d}.{what}.parquet"


def write_point(directory: Path, point: int, tables: tuple[pa.Table, pa.Table, pa.Table],
                sch: dict[str, pa.Schema]) -> None:
    """A finished design point's parts: summary, blocking, then replications (last, so a point
    is done when its replications part is there)."""
    reps, summ, blk = tables
    write_parquet(_part(directory, point, "summary"), summ, sch[SUMMARY])
    write_parquet(_part(directory, point, "blocking"), blk, sch[BLOCKING])
    write_parquet(_part(directory, point, "replications"), reps, sch[REPLICATIONS])


def done_points(directory: Path, n: int) -> set[int]:
    """Design points whose parts are all on disk (the replications part is written last)."""
    return {
        p for p in range(n)
        if _part(directory, p, "replications").exists()
        and _part(directory, p, "summary").exists()
        and _part(directory, p, "blocking").exists()
    }


def merge_parts(directory: Path, plan: Plan, sch: dict[str, pa.Schema]) -> None:
    """Concatenate the parts in point order into the final tables, one part at a time (memory
    stays that of one design point; each part becomes its own row groups)."""
    n = len(plan.points)
    missing = sorted(set(range(n)) - done_points(directory, n))
    if missing:
        raise InputError(f"{directory}: design points {missing[:5]} are missing from {PARTS}/")
    for name, what in ((REPLICATIONS, "replications"), (SUMMARY, "summary"),
                       (BLOCKING, "blocking")):
        with written(directory / name) as tmp:
            with pq.ParquetWriter(tmp, sch[name]) as writer:
                for p in range(n):
                    writer.write_table(pq.read_table(_part(directory, p, what), schema=sch[name]))
    if plan.common_random_numbers and n > 1:
        def passed(p: int) -> dict[str, np.ndarray]:
            return passed_by_proposal(
                pq.read_table(_part(directory, p, "replications"), columns=["proposal", "passed"])
            )

        write_parquet(directory / DELTAS, deltas_table(passed, n), sch[DELTAS])


def passed_by_proposal(table: pa.Table) -> dict[str, np.ndarray]:
    """Per proposal, the pass indicators of a point's replications (``proposal``, ``passed``)."""
    df = table.to_pandas()
    return {pid: g["passed"].to_numpy() for pid, g in df.groupby("proposal", sort=True)}


def deltas_table(passed: Callable[[int], dict[str, np.ndarray]], n: int) -> pd.DataFrame:
    """ΔP of every point against point 0, paired by replication (common random numbers);
    ``passed(p)`` gives point ``p``'s pass indicators per proposal."""
    from cicasim.analysis.compare import paired_difference

    base = passed(0)
    rows = []
    for p in range(n):
        for pid, b in passed(p).items():
            # point 0 against itself is no comparison: exactly 0
            d, lo, hi = (0.0, 0.0, 0.0) if p == 0 else paired_difference(base[pid], b)
            rows.append({"point": p, "proposal": pid, "delta": d, "delta_low": lo,
                         "delta_high": hi})
    return pd.DataFrame(rows)


# -- the directory ---------------------------------------------------------------------------


def check_directory(directory: str | Path, plan: Plan, *, kind: str = "sweep",
                    resume: bool = False) -> bool:
    """Whether ``directory`` can take this sweep's results; True when it holds a matching one
    to resume.  One-line errors otherwise; nothing is written."""
    directory = Path(directory)
    st = path_status(directory, "an output directory")
    if st is None:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{directory}: exists and is not a directory; give a new directory")
    try:
        entries = [p.name for p in directory.iterdir()]
    except OSError as exc:
        raise InputError(f"{directory}: cannot be read ({os_reason(exc)})") from None
    if not entries:
        return False
    if MANIFEST not in entries:
        raise InputError(
            f"{directory}: exists and is not a cicasim results directory; give a new one"
        )
    old = read_manifest(directory)
    if old["cicasim_results"] != kind:
        raise InputError(
            f"{directory}: holds {shown(old['cicasim_results'])} results, not {kind} "
            "results; give a new directory"
        )
    if not resume:
        raise InputError(
            f"{directory}: already holds results; pass --resume to complete them "
            "or give a new directory"
        )
    if old.get("fingerprint") != plan.fingerprint():
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
    """The manifest (unless resuming), the plan's tables and ``parts/``; a resumed sweep's
    half-written parts are swept away."""
    from cicasim.results import manifest

    sch = schemas(plan)
    if check_directory(directory, plan, kind=kind, resume=resume):
        (directory / PARTS).mkdir(exist_ok=True)
        for tmp in (directory / PARTS).glob(".*.tmp"):
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
        (directory / PARTS).mkdir(exist_ok=True)
    write_parquet(directory / POINTS, points_table(plan), sch[POINTS])
    steps = steps_table(plan)
    if steps is not None:
        write_parquet(directory / STEPS, steps, sch[STEPS])


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class SweepResult(Shown):
    """A sweep's tables, on disk (``directory``) or in memory (``tables``), and what ran."""

    directory: Path | None
    points: int
    computed: int  # points computed by this call (the rest were on disk)
    n_replications: int  # per point and proposal
    proposals: tuple[str, ...]
    plan: Plan | None = None
    tables: dict[str, pd.DataFrame] | None = None  # in memory: short name -> table

    def has(self, name: str) -> bool:
        """Whether the sweep has the table ``name`` (``deltas`` only with common random
        numbers and more than one point, ``steps`` only with an enlargement factor)."""
        if self.tables is not None:
            return name in self.tables
        return (self.directory / TABLES[name]).is_file()

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables (:data:`TABLES`): ``summary``, ``replications``, ``blocking``,
        ``points``, ``deltas`` or ``steps``."""
        if name not in TABLES:
            raise InputError(f"table: {name!r} is unknown; allowed: {', '.join(TABLES)}")
        if not self.has(name):
            raise InputError(f"table: this sweep has no {name} table")
        if self.tables is not None:
            return self.tables[name].copy()
        return pd.read_parquet(self.directory / TABLES[name])

    def summary(self) -> pd.DataFrame:
        """One row per design point and proposal: the factor values, the number of members,
        P(consensus) with its Wilson interval, median rounds and mean dilution."""
        return self.table("summary")

    def replications(self) -> pd.DataFrame:
        """One row per design point × proposal × replication."""
        return self.table("replications")

    def headline(self) -> str:
        name = f"{self.plan.name}, " if self.plan is not None else ""
        where = f"in {self.directory}" if self.directory is not None else "in memory"
        return (f"{name}{self.points} design points × {len(self.proposals)} proposals × "
                f"{self.n_replications:,} replications, {where}")

    def results(self) -> Any:
        """The tables as a :class:`cicasim.results.Results` (what the figures and the report
        read)."""
        from cicasim.results import Results, open_results

        if self.tables is None:
            return open_results(self.directory)
        return Results(directory=None, manifest=self._manifest(),
                       _tables=dict(self.tables))

    def _manifest(self) -> dict[str, Any]:
        plan = self.plan
        return {"cicasim_results": "sweep", "seed": plan.seed, "experiment": plan.name,
                "inputs": {plan.scenario_path.name: {"text": plan.scenario_text}},
                "scenario_file": plan.scenario_path.name}

    def plot(self, name: str | None = None) -> Any:
        """The first standard figure of the sweep (``name``: e.g. ``enlargement``, ``delta``,
        ``dilution`` or ``heatmap``)."""
        return self.results().plot(name)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready records (NaN becomes None), as the command line prints them."""
    return json.loads(table.to_json(orient="records"))
