"""Memory bounded by design: runs summarised and written block by block, big blocks in passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import DATA, ROOT, assert_same_outcome, make_scenario

from cicasim.analysis.runs import ReplicationsWriter, run_scenario
from cicasim.engine import kernel
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.ensemble import (
    EnsembleResult,
    run_proposal,
    summarise,
    summarise_ensemble,
)
from cicasim.engine.kernel import PASSED, negotiate, rows_per_pass
from cicasim.errors import InputError
from cicasim.spec.scenario import load_scenario

CICA = load_scenario(ROOT / "scenarios" / "cica-2022.toml")
TINY = load_scenario(DATA / "tiny.toml")


@pytest.mark.parametrize("pid", [p.id for p in CICA.proposals])
def test_a_block_in_passes_gives_the_same_outcome_bit_for_bit(pid):
    neg = negotiation(CICA, pid)
    for block, rows in ((0, BLOCK), (2, 333)):
        outs = []
        for pass_rows in (None, 1, 10, 300):
            d = BlockDraws.of(neg, seed=8, point=0, block=block, rows=slice(0, rows))
            outs.append(negotiate(neg, d.start(), d.rounds(), pass_rows=pass_rows))
        for o in outs[1:]:
            assert_same_outcome(outs[0], o)


def test_the_tension_buffer_stays_under_its_cap(monkeypatch):
    assert rows_per_pass(37) == BLOCK or rows_per_pass(37) * 8 * 37 * 37 <= kernel.TENSION_CAP
    for n in (90, 200, 509, 5000):
        assert rows_per_pass(n) * 8 * n * n <= kernel.TENSION_CAP or rows_per_pass(n) == 1
    assert rows_per_pass(509) < BLOCK
    full = run_proposal(CICA, "transformation", replications=1500, seed=2, threads=1).outcome
    # a cap this low runs each block in passes of a few replications: the same numbers
    monkeypatch.setattr(kernel, "TENSION_CAP", 8 * 37 * 37 * 5)
    assert rows_per_pass(37) == 5
    kernel._scratch.__dict__.pop("tensions", None)
    small = run_proposal(CICA, "transformation", replications=1500, seed=2, threads=1).outcome
    assert_same_outcome(full, small)
    assert kernel._scratch.tensions.nbytes <= kernel.TENSION_CAP


def test_summaries_on_the_fly_equal_the_kept_run_bit_for_bit():
    kept = run_scenario(CICA, replications=2 * BLOCK + 100, seed=6, threads=2)
    streamed = run_scenario(CICA, replications=2 * BLOCK + 100, seed=6, threads=2, keep=False)
    assert isinstance(kept.ensemble, EnsembleResult)
    assert not isinstance(streamed.ensemble, EnsembleResult)
    assert streamed.to_dict() == kept.to_dict()
    assert streamed.blocking().equals(kept.blocking())
    with pytest.raises(InputError, match="kept no per-replication"):
        streamed.replications()


def test_running_summary_counts_as_the_whole_arrays_do():
    """Counts, median and blocking exactly as numpy computes them on the whole run; means to
    rounding (sums added block by block)."""
    for pid in ("financial-summit", "transformation"):
        run = run_proposal(CICA, pid, replications=3 * BLOCK + 1, seed=12)
        s, o = summarise(run), run.outcome
        passed = o.status == PASSED
        assert s.passed == int(passed.sum())
        assert s.median_rounds == float(np.median(o.rounds))
        block = (o.objectors & ~passed[:, None]).mean(axis=0)
        ids = run.negotiation.actor_ids
        assert s.blocking == {ids[i]: float(block[i]) for i in range(len(ids))
                              if run.negotiation.member[i]}
        blockers = o.first_blocker[o.first_blocker >= 0]
        first = np.bincount(blockers, minlength=len(ids)) / len(o.status)
        assert s.first_blocker == {ids[i]: float(first[i]) for i in range(len(ids)) if first[i]}
        assert s.mean_dilution == pytest.approx(float(o.dilution[passed].mean()), rel=1e-14)
        for j, d in enumerate(run.negotiation.dimensions):
            assert s.mean_outcome[d] == pytest.approx(float(o.outcome[passed, j].mean()), rel=1e-14)


def test_median_of_even_and_odd_counts():
    # rounds 1 and 2 only: even totals take the mean of the two middle values
    sc = make_scenario([80.0, 20.0, 50.0], max_rounds=2)
    for n in (1, 2, 3, 4, 1025, 1026):
        run = run_proposal(sc, sc.proposals[0].id, replications=n, seed=n)
        assert summarise(run).median_rounds == float(np.median(run.outcome.rounds))


def test_the_streamed_table_is_the_table_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(ReplicationsWriter, "ROW_GROUP", 2 * BLOCK)
    reps = 5 * BLOCK + 3
    kept = run_scenario(CICA, replications=reps, seed=3)
    streamed = run_scenario(CICA, replications=reps, seed=3, keep=False,
                            table=tmp_path / "replications.parquet")
    table = pd.read_parquet(tmp_path / "replications.parquet")
    assert table.equals(kept.replications())
    assert streamed.replications().equals(table)
    meta = pq.ParquetFile(tmp_path / "replications.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(sizes) == 3 * reps and len(sizes) > 3
    assert all(2 * BLOCK <= k < 3 * BLOCK for k in sizes[:-1])
    # a kept run saved later writes the same file
    kept.save(tmp_path / "saved")
    assert pd.read_parquet(tmp_path / "saved" / "replications.parquet").equals(table)
    assert streamed.to_dict() == kept.to_dict()


def test_proposals_without_a_dimension_leave_its_columns_empty(tmp_path):
    scen = load_scenario(ROOT / "scenarios" / "cica-2022.toml")
    run_scenario(scen, replications=50, seed=1, keep=False, table=tmp_path / "t.parquet")
    t = pd.read_parquet(tmp_path / "t.parquet")
    one = t[t["proposal"] == "financial-summit"]
    others = [c for c in t.columns if c.startswith("outcome_")]
    assert any(one[c].isna().all() for c in others)
    assert set(t["reason"]) <= {"passed", "deadlock", "withdrawn"}


def test_summarise_ensemble_checks_its_input():
    with pytest.raises(InputError, match="replications"):
        summarise_ensemble(TINY, replications=0, seed=1)
    with pytest.raises(InputError, match="unknown id"):
        summarise_ensemble(TINY, proposals=["nope"], replications=10, seed=1)
