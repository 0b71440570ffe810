"""Executors: every executor gives the same results as running the tasks in this process, keyed
by tag; the registry's contract; choosing an executor from the command line's options."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from cicasim.engine.arrays import negotiation
from cicasim.engine.ensemble import blocks_for, concat_outcomes, run_block
from cicasim.errors import InputError
from cicasim.spec.scenario import load_scenario
from cicasim.sweep.executors import (
    EXECUTORS,
    DaskExecutor,
    Executor,
    InProcessExecutor,
    LocalProcessExecutor,
    make_executor,
    run_unit,
    run_units,
    scheduler_address,
)

TINY = Path(__file__).resolve().parent / "data" / "tiny.toml"


def _square(x: int) -> int:
    return x * x


def _tasks(n: int):
    return (((i, "tag"), _square, (i,)) for i in range(n))


@pytest.fixture(scope="module")
def neg():
    scenario = load_scenario(TINY)
    return negotiation(scenario, scenario.proposals[0].id)


def test_the_registry_names_each_executor_by_its_own_name():
    assert set(EXECUTORS) == {"in-process", "processes", "dask"}
    for name, cls in EXECUTORS.items():
        assert issubclass(cls, Executor) and cls.name == name
        assert not inspect.isabstract(cls)
        # the interface: run(tasks, *, window=None) yields (tag, result); close is idempotent
        params = inspect.signature(cls.run).parameters
        assert list(params)[:2] == ["self", "tasks"] and params["window"].default is None


def test_in_process_runs_every_task_in_order():
    with InProcessExecutor() as ex:
        got = list(ex.run(_tasks(7)))
        ex.close()  # idempotent
    assert got == [((i, "tag"), i * i) for i in range(7)]


@pytest.mark.parametrize("window", [None, 1, 3])
def test_a_local_pool_yields_every_result_under_its_tag(window):
    with LocalProcessExecutor(2) as ex:
        assert ex.workers == 2
        got = dict(ex.run(_tasks(11), window=window))
    assert got == dict(InProcessExecutor().run(_tasks(11)))


def test_a_work_unit_is_one_block_of_the_engine(neg):
    for block, rows in blocks_for(2500):
        got = run_unit(neg, 5, 77, block, rows)
        want = run_block(neg, seed=5, point=77, block=block, rows=rows)
        assert np.array_equal(got.passed, want.passed)
        assert np.array_equal(got.dilution, want.dilution, equal_nan=True)


def test_run_units_gives_the_same_outcomes_on_every_executor(neg):
    jobs = [("a", neg, 0, None), ("b", neg, 12345, None)]
    want = run_units(InProcessExecutor(), jobs, seed=3, replications=2100)
    with LocalProcessExecutor(2) as pool:
        got = run_units(pool, jobs, seed=3, replications=2100)
    assert set(got) == {"a", "b"}
    for tag in jobs:
        w, g = want[tag[0]], got[tag[0]]
        assert len(g.passed) == 2100
        assert np.array_equal(w.passed, g.passed)
        assert np.array_equal(w.rounds, g.rounds)
        assert np.array_equal(w.dilution, g.dilution, equal_nan=True)
    # the blocks are concatenated in order: the same as the engine's own blocks
    whole = concat_outcomes([run_block(neg, seed=3, point=12345, block=b, rows=r)
                             for b, r in blocks_for(2100)])
    assert np.array_equal(got["b"].passed, whole.passed)
    # different seed keys give different streams
    assert not np.array_equal(got["a"].dilution, got["b"].dilution, equal_nan=True)


def test_make_executor_chooses_from_the_options():
    with make_executor(workers=1) as ex:
        assert isinstance(ex, InProcessExecutor)
    with make_executor(workers=2) as ex:
        assert isinstance(ex, LocalProcessExecutor) and ex.workers == 2
    with pytest.raises(InputError, match="--workers: applies to local processes"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:9")
    with pytest.raises(InputError, match="need --scheduler"):
        make_executor(security=object())


@pytest.mark.parametrize(("given", "want"), [
    ("h:1", "tcp://h:1"), ("tcp://h", "tcp://h:8786"), ("tls://10.0.0.1:99", "tls://10.0.0.1:99"),
    ("tcp://[::1]:5", "tcp://[::1]:5"),
])
def test_scheduler_addresses_are_normalised(given, want):
    assert scheduler_address(given)[0] == want


@pytest.mark.parametrize("bad", ["", "ucx://h:1", "tcp://h/x", "tcp://u@h:1", "tcp://h:99999"])
def test_a_bad_scheduler_address_is_one_line(bad):
    with pytest.raises(InputError, match="^--scheduler: "):
        scheduler_address(bad)


def test_nothing_listening_at_the_scheduler_is_one_line():
    with pytest.raises(InputError, match="cannot connect to a Dask scheduler at tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=2)
