"""Threads over replication blocks: the numbers are the same on any thread count, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, ROOT, assert_same_outcome

from cicasim.analysis.runs import run_scenario
from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import iter_blocks, run_proposal
from cicasim.engine.threads import (
    available_cores,
    default_threads,
    ordered_map,
    resolve_threads,
    set_threads,
)
from cicasim.errors import InputError
from cicasim.spec.scenario import load_scenario

CICA = load_scenario(ROOT / "scenarios" / "cica-2022.toml")
TINY = load_scenario(DATA / "tiny.toml")


@pytest.mark.parametrize("scenario", [CICA, TINY], ids=["cica-2022", "tiny"])
def test_per_replication_arrays_are_identical_for_1_2_3_threads(scenario):
    pid = scenario.proposals[0].id
    runs = [run_proposal(scenario, pid, replications=5 * 1024 + 7, seed=11, threads=t)
            for t in (1, 2, 3)]
    for other in runs[1:]:
        assert_same_outcome(runs[0].outcome, other.outcome)


def test_summaries_and_blocking_tables_are_identical_for_1_2_3_threads():
    results = [run_scenario(CICA, replications=3000, seed=4, threads=t) for t in (1, 2, 3)]
    first = results[0]
    for other in results[1:]:
        assert other.to_dict() == first.to_dict()
        assert other.blocking().equals(first.blocking())
        assert other.summary().equals(first.summary())
        assert other.replications().equals(first.replications())
    assert [r.manifest()["threads"] for r in results] == [1, 2, 3]


def test_blocks_come_back_in_order_on_many_threads():
    neg = negotiation(TINY, "deal")
    sizes = [len(o.status) for o in iter_blocks(neg, replications=4 * 1024 + 5, seed=1,
                                                 threads=4)]
    assert sizes == [1024, 1024, 1024, 1024, 5]
    assert list(ordered_map(lambda x: x * x, range(50), threads=3)) == [x * x for x in range(50)]


def test_an_error_in_a_block_reaches_the_caller():
    def boom(x: int) -> int:
        if x == 7:
            raise ValueError("block 7")
        return x

    with pytest.raises(ValueError, match="block 7"):
        list(ordered_map(boom, range(20), threads=2))


def test_thread_counts_resolve_and_bad_ones_are_refused():
    assert available_cores() >= 1
    assert resolve_threads(3) == 3
    try:
        set_threads(2)
        assert default_threads() == 2 and resolve_threads(None) == 2
    finally:
        set_threads(None)
    assert default_threads() == available_cores()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="threads"):
            resolve_threads(bad)
    with pytest.raises(InputError, match="threads"):
        set_threads(0)


def test_the_command_line_threads_option_changes_no_number(tmp_path, capsys):
    import json

    from cicasim.cli import main

    outs = []
    for t in ("1", "2"):
        code = main(["run", str(DATA / "tiny.toml"), "-n", "2100", "--seed", "3", "--json",
                     "--threads", t, "--out", str(tmp_path / t)])
        assert code == 0
        outs.append(json.loads(capsys.readouterr().out))
    set_threads(None)
    assert outs[0] == outs[1]
    manifests = [json.loads((tmp_path / t / "manifest.json").read_text()) for t in ("1", "2")]
    assert [m["threads"] for m in manifests] == [1, 2]
    import pandas as pd

    a, b = (pd.read_parquet(tmp_path / t / "replications.parquet") for t in ("1", "2"))
    assert a.equals(b) and np.isfinite(a["dilution"]).all()
    assert main(["run", str(DATA / "tiny.toml"), "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err
