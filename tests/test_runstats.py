"""A run's figures from its per-replication table read a row group at a time: the same counts,
percentiles and figures, bit for bit, as from the whole table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from cicasim.analysis.runs import ReplicationsWriter, run_scenario
from cicasim.engine.draws import BLOCK
from cicasim.plotting import blocking_frequencies, load_results, runstats, write_standard_figures
from cicasim.plotting.runstats import (
    QUANTILES,
    frame_chunks,
    parquet_chunks,
    percentiles,
    run_table_stats,
)
from cicasim.spec.scenario import load_scenario

CICA = load_scenario(ROOT / "scenarios" / "cica-2022.toml")


def test_percentiles_in_passes_are_numpys_bit_for_bit():
    rng = np.random.Generator(np.random.PCG64(23))
    for t in range(120):
        n = int(rng.integers(1, 3000))
        x = [rng.normal(size=n),  # ties, negatives, subnormals, a few values of every sign
             rng.integers(-3, 4, size=n) * 0.25,
             rng.exponential(size=n) * 1e-310,
             np.round(rng.random(n), 2) - 0.5][t % 4]
        parts = np.array_split(x, int(rng.integers(1, 7)))
        assert percentiles(lambda parts=parts: iter(parts), n) == \
            np.percentile(x, QUANTILES).tolist()
    assert percentiles(lambda: iter([np.array([2.5])]), 1, [0, 50, 100]) == [2.5, 2.5, 2.5]


@pytest.fixture(scope="module")
def run_table(tmp_path_factory):
    """A run of the three CICA proposals written in row groups of one block, so the table is
    read in many chunks."""
    path = tmp_path_factory.mktemp("runstats") / "replications.parquet"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ReplicationsWriter, "ROW_GROUP", BLOCK)
        run_scenario(CICA, replications=3 * BLOCK + 11, seed=9, keep=False, table=path)
    return path


def test_the_stats_read_in_row_groups_are_those_of_the_whole_table(run_table):
    table = pd.read_parquet(run_table)
    whole = run_table_stats(frame_chunks(table))
    for kept in (None, 0, 50):  # kept, or selected in passes
        streamed = run_table_stats(parquet_chunks(run_table), kept=kept)
        assert streamed.boxes.equals(whole.boxes)
        assert streamed.proposals == list(dict.fromkeys(table["proposal"]))
    members = [a.id for a in CICA.members]
    assert streamed.blocking(members).equals(blocking_frequencies(table, members=members))
    assert streamed.objectors == {a for s in table["objectors"] for a in s.split(";") if a}
    for r in whole.boxes.to_dict("records"):
        sub = table[(table["proposal"] == r["proposal"]) & table["passed"]]
        amended = sub["dilution"].to_numpy(float)
        amended = amended[amended != 0]
        assert (r["replications"], r["passed"], r["amended"]) == (
            (table["proposal"] == r["proposal"]).sum(), len(sub), len(amended))
        assert [r[k] for k in ("p5", "q1", "median", "q3", "p95")] == \
            np.percentile(amended, QUANTILES).tolist()


def test_the_figures_are_the_same_bytes_however_the_table_is_read(run_table, tmp_path,
                                                                   monkeypatch):
    run_scenario(CICA, replications=3 * BLOCK + 11, seed=9).save(tmp_path / "kept")
    written = {}
    for kept in (runstats.KEPT, 40):
        monkeypatch.setattr(runstats, "KEPT", kept)
        out = tmp_path / f"figures-{kept}"
        write_standard_figures(tmp_path / "kept", out=out, kind="summary")
        write_standard_figures(tmp_path / "kept", out=out, kind="blocking")
        written[kept] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    # and drawn from the table held in memory
    res = load_results(tmp_path / "kept")
    res._tables["replications"] = pd.read_parquet(tmp_path / "kept" / "replications.parquet")
    from cicasim.plotting import standard_figures
    from cicasim.plotting.style import save_figure

    out = tmp_path / "figures-frame"
    out.mkdir()
    for stem, _caption, fig in standard_figures(res):
        if stem == "summary" or stem.startswith("blocking-"):
            save_figure(fig, out / f"{stem}.png", fmt="png")
    frame = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert len(frame) == 4 and written[40] == written[runstats.KEPT] == frame
