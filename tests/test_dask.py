"""Sweeps on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1, started here and killed in teardown whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import digests

from cicasim.sweep import plan_experiment, run_sweep
from cicasim.sweep.executors import DaskExecutor, InProcessExecutor

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "tests" / "data" / "tiny.toml").as_posix()

EXPERIMENT = f"""
[experiment]
name = "dask"
scenario = "{TINY}"
seed = 21
replications = 1500

[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.01, 0.02, 0.03, 0.05]

[[factors]]
kind = "rule"
values = [{{kind = "consensus"}}, {{kind = "consensus-minus-k", k = 1}}]
"""


def _stop(procs: list[subprocess.Popen]) -> None:
    """Kill each started process's group (the processes hold nothing worth a clean exit)."""
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:  # already gone
            pass
    for p in procs:
        p.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(scheduler address, worker processes); every process is stopped in teardown."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the dask command line is not installed next to this Python")
    tmp = tmp_path_factory.mktemp("dask")
    log = open(tmp / "cluster.log", "w")  # noqa: SIM115 - closed in teardown
    sched_file = tmp / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        p = subprocess.Popen(
            [str(dask), *args], cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches its children
        )
        procs.append(p)
        return p

    try:
        # all three start at once; the workers find the scheduler through its file (a free
        # port chosen by the scheduler itself: --port 0) and import cicasim while they wait
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(sched_file))
        workers = [
            start("worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                  "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}",
                  "--memory-limit", "0", "--preload", "cicasim.sweep")
            for i in range(2)
        ]
        deadline = time.monotonic() + 120
        address = None
        while address is None:  # the file appears before it is written
            assert procs[0].poll() is None, "the dask scheduler exited"
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            time.sleep(0.1)
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        _stop(procs)
        log.close()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("local")
    exp = tmp / "e.toml"
    exp.write_text(EXPERIMENT, encoding="utf-8")
    plan = plan_experiment(exp)
    run_sweep(plan, out=tmp / "out", executor=InProcessExecutor())
    return plan, digests(tmp / "out")


def test_dask_cluster_gives_the_local_table(cluster, local, tmp_path):
    address, _ = cluster
    plan, want = local
    with DaskExecutor(address) as ex:
        assert ex.workers == 2
        run_sweep(plan, out=tmp_path / "out", executor=ex)
    assert digests(tmp_path / "out") == want


def test_sweep_survives_a_worker_killed_mid_sweep(cluster, local, tmp_path):
    address, workers = cluster
    plan, want = local
    victim = workers[0]
    assert victim.poll() is None
    state = {"killed_at": None}

    def progress(done: int, total: int) -> None:
        if state["killed_at"] is None and done >= 3:
            os.kill(victim.pid, signal.SIGKILL)
            state["killed_at"] = (done, total)

    with DaskExecutor(address) as ex:
        run_sweep(plan, out=tmp_path / "out", executor=ex, progress=progress)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    done, total = state["killed_at"]
    assert done < total  # it died with work left
    assert digests(tmp_path / "out") == want
