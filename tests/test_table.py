"""The per-replication table (cicasim.engine.table): the Arrow batch holds exactly the values of
the numpy columns, the sets of members are joined as a row-by-row join would join them, and
the run's and the sweep's Parquet conventions (NaN kept or written as null) hold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import run_negotiation
from cicasim.engine.table import block_batch, block_columns, joined, table_columns
from tests.conftest import ROOT

CICA = ROOT / "scenarios" / "cica-2022.toml"


def _naive(mask: np.ndarray, ids: list[str]) -> list[str]:
    return [";".join(a for a, m in zip(ids, row, strict=True) if m) for row in mask]


@pytest.mark.parametrize("n", [1, 7, 28, 70])
@pytest.mark.parametrize("text", [pa.string(), pa.large_string()])
def test_joined_matches_a_row_by_row_join(n, text):
    rng = np.random.default_rng(n)
    ids = [f"A{i:02d}" if i % 3 else f"Ünïcode-{i}" for i in range(n)]  # varied lengths
    mask = rng.random((500, n)) < rng.choice([0.02, 0.3], size=(500, 1))
    mask[:3] = False  # rows with no one marked
    got = joined(mask, ids, text)
    assert got.type == text and got.null_count == 0
    assert got.to_pylist() == _naive(mask, ids)


def test_joined_of_no_rows_and_no_ids():
    assert joined(np.zeros((0, 5), dtype=bool), list("abcde")).to_pylist() == []
    assert joined(np.zeros((4, 0), dtype=bool), []).to_pylist() == [""] * 4


def _outcome(proposal: str, replications: int = 1500):
    from cicasim.spec.scenario import load_scenario

    neg = negotiation(load_scenario(CICA), proposal)
    return neg, run_negotiation(neg, replications=replications, seed=7, threads=1)


def _schema(names: list[str], text: pa.DataType) -> pa.Schema:
    types = {"point": pa.int64(), "replication": pa.int64(), "rounds": pa.int64(),
             "passed": pa.bool_()}
    texts = {"proposal", "reason", "first_blocker", "objectors", "abstainers"}
    return pa.schema([(c, text if c in texts else types.get(c, pa.float64())) for c in names])


@pytest.mark.parametrize("text", [pa.string(), pa.large_string()])
def test_arrow_batch_holds_the_numpy_columns(text):
    neg, o = _outcome("financial-summit")
    other, _ = _outcome("interconnectivity-council", replications=1)
    names = table_columns([neg, other])  # a column this proposal lacks
    assert len(names) > len(block_columns(neg, o, point=4, first=10))
    schema = _schema(names, text)
    cols = block_columns(neg, o, point=4, first=10)
    for nulls in (True, False):
        batch = block_batch(neg, o, point=4, schema=schema, first=10, nulls=nulls)
        assert batch.schema == schema and batch.num_rows == len(o.status)
        got = batch.to_pydict()
        for name in names:
            want = cols.get(name)
            if want is None:  # a dimension this proposal does not touch
                assert all((v is None) if nulls else math.isnan(v) for v in got[name])
                continue
            if want.dtype.kind == "f":
                arrow = batch.column(name)
                assert arrow.null_count == (int(np.isnan(want).sum()) if nulls else 0)
                np.testing.assert_array_equal(
                    arrow.to_numpy(zero_copy_only=False), want)  # null reads back as NaN
            else:
                assert got[name] == want.tolist(), name
    assert None in got["first_blocker"] and "" in got["objectors"]  # both kinds of row seen
    assert any(";" in s for s in got["objectors"])


def test_a_pandas_table_and_the_arrow_batch_agree():
    neg, o = _outcome("financial-summit", replications=700)
    names = table_columns([neg])
    frame = pd.DataFrame(block_columns(neg, o, point=0))
    batch = block_batch(neg, o, point=0, schema=_schema(names, pa.string()), nulls=False)
    pd.testing.assert_frame_equal(batch.to_pandas(), frame[names], check_dtype=False)
