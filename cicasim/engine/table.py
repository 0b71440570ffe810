"""The per-replication table: one row per proposal × replication, as numpy columns (for pandas)
or as an Arrow record batch (for Parquet).

Its text columns are built without a Python string per row: the endings, the proposal and the
first blocker take few distinct values, so each is built once and indexed (an Arrow dictionary
array, decoded); the sets of objectors and abstainers are gathered as bytes
(:func:`joined`).  Both forms hold the same values, and the Arrow one
decodes its dictionaries to plain strings, so a Parquet file's bytes do not depend on the path
taken (``docs/experiments.md`` lists the columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cicasim.engine.kernel import PASSED, REASONS, Negotiation, Outcome

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ROW_COLUMNS", "block_batch", "block_columns", "joined", "table_columns"]

#: The per-replication table's leading columns; per touched dimension ``outcome_<dim>`` and
#: ``policy_<dim>`` follow (:func:`table_columns`).
ROW_COLUMNS = ("point", "proposal", "replication", "passed", "reason", "rounds", "dilution",
               "drift", "first_blocker", "objectors", "abstainers")
_REASON_LIST = [REASONS[k] for k in sorted(REASONS)]
_REASON_NAMES = np.array(_REASON_LIST, dtype=object)


def table_columns(negotiations: Sequence[Negotiation]) -> list[str]:
    """The columns of the per-replication table of these proposals' negotiations, in order:
    :data:`ROW_COLUMNS`, then each dimension's outcome and policy, in order of first touch."""
    names = list(ROW_COLUMNS)
    for neg in negotiations:
        for d in neg.dimensions:
            for col in (f"outcome_{d}", f"policy_{d}"):
                if col not in names:
                    names.append(col)
    return names


def joined(mask: np.ndarray, ids: Sequence[str], text: pa.DataType | None = None) -> pa.Array:
    """Per row of the boolean ``mask`` (R, N), the ids it marks joined by ";" ("" for none), as
    an Arrow string array of type ``text`` (default ``string``).  Built without a string per
    row: the marked ids' UTF-8 bytes are gathered into one buffer in row order, each followed by
    ";", the ";" that ends each row is dropped, and the rows' lengths give the offsets."""
    import pyarrow as pa

    text = text or pa.string()
    rows_n = mask.shape[0]
    encoded = [str(a).encode("utf-8") + b";" for a in ids]
    size = np.array([len(e) for e in encoded], dtype=np.int64)
    start = np.cumsum(size) - size  # of each id in the buffer of all ids
    buffer = np.frombuffer(b"".join(encoded) or b";", dtype=np.uint8)
    rows, cols = np.nonzero(mask)  # row-major: each row's ids in order
    lengths = size[cols]
    placed = np.cumsum(lengths) - lengths  # where each marked id goes in the output
    data = buffer[np.repeat(start[cols] - placed, lengths) + np.arange(int(lengths.sum()))]
    per_row = np.bincount(rows, weights=lengths, minlength=rows_n).astype(np.int64)
    ends = np.cumsum(per_row)
    data = np.delete(data, ends[per_row > 0] - 1)  # each row's last ";"
    offsets = np.zeros(rows_n + 1, dtype=np.int64)
    np.cumsum(np.maximum(per_row - 1, 0), out=offsets[1:])
    large = pa.types.is_large_string(text)
    array_type = pa.LargeStringArray if large else pa.StringArray
    return array_type.from_buffers(
        rows_n, pa.py_buffer(offsets if large else offsets.astype(np.int32)),
        pa.py_buffer(data))


def _joined_names(mask: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """Per row of ``mask``, its marked ids joined by ";" (an object array of str)."""
    return joined(mask, ids).to_numpy(zero_copy_only=False)


def block_columns(
    neg: Negotiation, o: Outcome, *, point: int, first: int = 0
) -> dict[str, np.ndarray]:
    """The per-replication table's rows of outcomes ``o`` of one proposal, replications
    ``first``, ``first + 1``, ...: the columns of :func:`table_columns` this proposal has."""
    n = len(o.status)
    ids = np.asarray(neg.actor_ids, dtype=object)
    cols = {
        "point": np.full(n, point, dtype=np.int64),
        "proposal": np.full(n, neg.proposal, dtype=object),
        "replication": np.arange(first, first + n, dtype=np.int64),
        "passed": o.status == PASSED,
        "reason": _REASON_NAMES[o.status],
        "rounds": o.rounds.astype(np.int64),
        "dilution": o.dilution,
        "drift": o.drift,
        "first_blocker": np.append(ids, None)[o.first_blocker],  # -1: none
        "objectors": _joined_names(o.objectors, ids),
        "abstainers": _joined_names(o.abstainers, ids),
    }
    for j, d in enumerate(neg.dimensions):
        cols[f"outcome_{d}"] = o.outcome[:, j]
        cols[f"policy_{d}"] = o.policy[:, j]
    return cols


def _decoded(codes: np.ndarray, values: list[str], text: pa.DataType,
             missing: np.ndarray | None = None) -> pa.Array:
    """``values[codes]`` as a plain Arrow string array of type ``text`` (null where
    ``missing``), built through a dictionary array."""
    import pyarrow as pa

    if missing is not None:
        codes = np.where(missing, 0, codes)
    indices = codes.astype(np.int32, copy=False)
    dictionary = pa.array(values or [""], type=text)
    return pa.DictionaryArray.from_arrays(indices, dictionary, mask=missing).dictionary_decode()


def block_batch(
    neg: Negotiation, o: Outcome, *, point: int, schema: pa.Schema, first: int = 0,
    nulls: bool = True,
) -> pa.RecordBatch:
    """:func:`block_columns` as an Arrow record batch of ``schema`` (its text columns ``string``
    or ``large_string``).  With ``nulls`` a float NaN is written as null, as pandas writes it,
    and the columns of dimensions this proposal does not touch are all null; without, they
    stay NaN (the file of ``cicasim run --out``)."""
    import pyarrow as pa

    n = len(o.status)
    ids = list(neg.actor_ids)
    text = schema.field("proposal").type
    zeros = np.zeros(n, dtype=np.intp)
    arrays = {
        "point": pa.array(np.full(n, point, dtype=np.int64)),
        "proposal": _decoded(zeros, [neg.proposal], text),
        "replication": pa.array(np.arange(first, first + n, dtype=np.int64)),
        "passed": pa.array(o.status == PASSED),
        "reason": _decoded(o.status, _REASON_LIST, text),
        "rounds": pa.array(o.rounds.astype(np.int64)),
        "first_blocker": _decoded(o.first_blocker, ids, text, missing=o.first_blocker < 0),
        "objectors": joined(o.objectors, ids, text),
        "abstainers": joined(o.abstainers, ids, text),
    }
    floats = {"dilution": o.dilution, "drift": o.drift}
    for j, d in enumerate(neg.dimensions):
        floats[f"outcome_{d}"] = o.outcome[:, j]
        floats[f"policy_{d}"] = o.policy[:, j]
    for name, values in floats.items():
        arrays[name] = pa.array(values, type=pa.float64(), from_pandas=nulls)
    absent = pa.nulls(n, pa.float64()) if nulls else pa.array(np.full(n, np.nan))
    return pa.record_batch([arrays.get(f.name, absent) for f in schema], schema=schema)
