"""The sweep's tables: their names, their Arrow schemas, the plan's own tables (points and
enlargement steps) and writing a table whole (the layout is in ``docs/experiments.md``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cicasim.errors import InputError, os_reason
from cicasim.spec.factors import EnlargementFactor
from cicasim.sweep.plan import Plan

__all__ = [
    "BLOCKING",
    "DELTAS",
    "DELTAS_SCHEMA",
    "POINTS",
    "PROGRESS",
    "REPLICATIONS",
    "STEPS",
    "SUMMARY",
    "TABLES",
    "arrow_table",
    "points_table",
    "schemas",
    "steps_table",
    "write_parquet",
    "written",
]

PROGRESS = "progress"
REPLICATIONS = "replications.parquet"
SUMMARY = "summary.parquet"
BLOCKING = "blocking.parquet"
POINTS = "points.parquet"
DELTAS = "deltas.parquet"
STEPS = "steps.parquet"

#: Design points per chunk of the points table while it is built (:func:`points_table`).
POINTS_CHUNK = 16_384

#: The tables of a sweep by file name, and their short names (``SweepResult.table(name)``).
TABLES = {"replications": REPLICATIONS, "summary": SUMMARY, "blocking": BLOCKING,
          "points": POINTS, "deltas": DELTAS, "steps": STEPS}


# -- schemas ---------------------------------------------------------------------------------


#: The deltas table's schema (the same for every plan).
DELTAS_SCHEMA = pa.schema([("point", pa.int64()), ("proposal", pa.string()),
                          ("delta", pa.float64()), ("delta_low", pa.float64()),
                          ("delta_high", pa.float64())])


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
    steps = pa.schema([("step", i64), ("label", text), ("kind", text),
                       ("joined", pa.list_(text)), ("n_members", i64)])
    return {
        REPLICATIONS: reps, SUMMARY: summary, BLOCKING: blocking, POINTS: points,
        DELTAS: DELTAS_SCHEMA,
        STEPS: steps,
    }


# -- the plan's tables -----------------------------------------------------------------------


def points_table(plan: Plan, chunk: int = POINTS_CHUNK) -> pa.Table:
    """One row per design point: its number, factor values, label, number of members and
    seed key (the schema ``schemas(plan)[POINTS]``).  Built ``chunk`` design points at a time,
    since the plan makes its points on demand: never every point at once."""
    schema = schemas(plan)[POINTS]
    factors = plan.factors
    parts = []
    for first in range(0, len(plan.points), chunk):
        columns: dict[str, list] = {name: [] for name in schema.names}
        for dp in plan.points[first:first + chunk]:
            columns["point"].append(dp.point)
            for f in factors:
                columns[f.label].append(f.column(dp.values[f.label]))
            columns["label"].append(dp.label)
            columns["n_members"].append(dp.n_members)
            columns["seed_key"].append(dp.seed_key)
        parts.append(arrow_table(pd.DataFrame(columns), schema))
    if not parts:
        return schema.empty_table()
    return pa.concat_tables(parts).combine_chunks()


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
