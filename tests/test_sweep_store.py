"""The sweep's results directory: the replications as a partitioned dataset that other tools
read directly, the last tables written once, nothing left behind, and the same bytes on any
worker count and after a resume."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from cicasim.results import open_results
from cicasim.sweep import plan_experiment, run_sweep
from cicasim.sweep.executors import InProcessExecutor, LocalProcessExecutor
from cicasim.sweep.run import BATCH_NEGOTIATIONS, batches
from cicasim.sweep.store import ROW_GROUP, done_points, layout

TINY = Path(__file__).resolve().parent / "data" / "tiny.toml"

GRID = f"""
[experiment]
name = "store"
scenario = "{TINY.as_posix()}"
seed = 5
replications = 700

[[factors]]
kind = "behaviour"
parameter = "vote_noise"
range = [0.0, 0.05]
levels = 20

[[factors]]
kind = "rule"
values = [{{kind = "consensus"}}, {{kind = "consensus-minus-k", k = 1}}]
"""

ENLARGE = f"""
[experiment]
name = "store-crn"
scenario = "{TINY.as_posix()}"
seed = 6
replications = 900

[[factors]]
kind = "enlargement"
append = [{{kind = "synthetic", count = 1}}, {{kind = "synthetic", count = 2}}]
"""


def digests(directory: Path) -> dict[str, str]:
    """Every file of a results directory but the manifest (it records the time) by its bytes."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "manifest.json"
    }


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store")
    (tmp / "e.toml").write_text(GRID, encoding="utf-8")
    plan = plan_experiment(tmp / "e.toml")
    run_sweep(plan, out=tmp / "whole", executor=InProcessExecutor())
    return plan, tmp / "whole", digests(tmp / "whole")


def test_the_replications_are_a_dataset_other_tools_read(grid):
    plan, whole, _ = grid
    memory = run_sweep(plan).replications()
    parts = sorted((whole / "replications.parquet").iterdir())
    assert [p.name for p in parts] == [
        f"points-{a:06d}-{b:06d}.parquet" for a, b in layout(plan)
    ]
    assert len(parts) > 1  # resumable part by part
    pd.testing.assert_frame_equal(pd.read_parquet(whole / "replications.parquet"), memory)
    pd.testing.assert_frame_equal(open_results(whole).replications(), memory)
    table = ds.dataset(whole / "replications.parquet", format="parquet").to_table()
    pd.testing.assert_frame_equal(table.to_pandas(), memory)
    polars = pytest.importorskip("polars")
    frame = polars.read_parquet(whole / "replications.parquet" / "*.parquet")
    pd.testing.assert_frame_equal(frame.to_pandas(), memory, check_dtype=False)
    duckdb = pytest.importorskip("duckdb")
    got = duckdb.sql(
        f"SELECT point, proposal, replication, passed FROM "
        f"read_parquet('{(whole / 'replications.parquet').as_posix()}/*.parquet') "
        "ORDER BY point, proposal, replication"
    ).df()
    assert got["passed"].tolist() == memory["passed"].tolist()


def test_the_last_tables_are_written_once_and_nothing_is_left_behind(grid):
    plan, whole, _ = grid
    names = {p.relative_to(whole).as_posix() for p in whole.rglob("*")}
    assert not [n for n in names if n.endswith(".tmp") or n.startswith("progress")]
    assert {n for n in names if "/" not in n} == {
        "manifest.json", "points.parquet", "replications.parquet", "summary.parquet",
        "blocking.parquet",
    }
    summary = pq.ParquetFile(whole / "summary.parquet")
    assert summary.metadata.num_rows == len(plan.points) * len(plan.proposals)
    assert summary.metadata.num_row_groups == -(-summary.metadata.num_rows // ROW_GROUP)
    pd.testing.assert_frame_equal(summary.read().to_pandas(), run_sweep(plan).summary())


@pytest.mark.parametrize("workers", [1, 2])
def test_any_worker_count_gives_the_same_bytes(grid, tmp_path, workers):
    plan, _, want = grid
    with LocalProcessExecutor(workers) as pool:
        run_sweep(plan, out=tmp_path / "pool", executor=pool)
    assert digests(tmp_path / "pool") == want


class Stop(Exception):
    pass


def interrupted(plan, out: Path, after: int, executor=None) -> set[int]:
    """Run the sweep into ``out`` and stop it once ``after`` points are done; the points left
    on disk."""
    def progress(done: int, total: int) -> None:
        if done >= after:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(plan, out=out, executor=executor, progress=progress)
    return done_points(out, len(plan.points))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_resume_computes_only_the_missing_parts_and_gives_the_same_bytes(
    grid, tmp_path, workers
):
    plan, _, want = grid
    out = tmp_path / "out"
    with LocalProcessExecutor(workers) as pool:
        kept = interrupted(plan, out, len(plan.points) // 2, executor=pool)
    assert 0 < len(kept) < len(plan.points)
    assert not (out / "summary.parquet").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # nothing half-written
    (out / "replications.parquet" / ".points-000039-000040.parquet.9.tmp").write_bytes(b"half")
    again = run_sweep(plan, out=out, resume=True)
    assert again.computed == len(plan.points) - len(kept)
    assert digests(out) == want
    assert run_sweep(plan, out=out, resume=True).computed == 0
    assert digests(out) == want


def test_common_random_numbers_resume_to_the_same_deltas(tmp_path):
    (tmp_path / "e.toml").write_text(ENLARGE, encoding="utf-8")
    plan = plan_experiment(tmp_path / "e.toml")
    assert plan.common_random_numbers
    run_sweep(plan, out=tmp_path / "whole")
    want = digests(tmp_path / "whole")
    assert "deltas.parquet" in want and "steps.parquet" in want
    kept = interrupted(plan, tmp_path / "out", 2)
    assert 0 in kept  # point 0 is read back from its part for the deltas
    run_sweep(plan, out=tmp_path / "out", resume=True)
    assert digests(tmp_path / "out") == want
    memory = run_sweep(plan)
    pd.testing.assert_frame_equal(memory.table("deltas"),
                                  pd.read_parquet(tmp_path / "out" / "deltas.parquet"))


def test_tasks_are_batches_of_points_not_blocks():
    tiny = SimpleNamespace(points=range(100_000), replications=10, proposals=("a",))
    parts = layout(tiny)
    assert sum(b - a + 1 for a, b in parts) == 100_000
    assert 16 <= len(parts) <= 17  # at least MIN_PARTS parts; each a few row groups at most
    for workers in (1, 2, 64, 1000):
        units = batches(tiny, parts, workers)
        assert [p for a, b in units for p in range(a, b + 1)] == list(range(100_000))
        assert all(any(pa <= a <= b <= pb for pa, pb in parts) for a, b in units)
        # tasks of the order of points / batch size, enough for every worker to balance
        assert len(units) <= 100_000 // 10 and len(units) >= min(4 * workers, 100_000) / 2
    heavy = SimpleNamespace(points=range(256), replications=3000, proposals=("a",))
    units = batches(heavy, layout(heavy), 2)
    assert len(units) >= 8 and max(b - a + 1 for a, b in units) * 3000 <= BATCH_NEGOTIATIONS
