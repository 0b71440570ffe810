"""Faults: a sweep killed with SIGKILL resumes to the same table as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import digests

from cicasim.cli import main
from cicasim.sweep import done_points, plan_experiment, run_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "tests" / "data" / "tiny.toml").as_posix()
POINTS = 24

EXPERIMENT = f"""
[experiment]
name = "faults"
scenario = "{TINY}"
seed = 8
replications = 2000

[[factors]]
kind = "behaviour"
parameter = "threshold"
range = [0.0, 0.05]
levels = {POINTS}
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    exp = tmp / "e.toml"
    exp.write_text(EXPERIMENT, encoding="utf-8")
    run_sweep(plan_experiment(exp), out=tmp / "whole")
    return exp, digests(tmp / "whole"), tmp / "whole"


def test_sigkill_then_resume_gives_the_uninterrupted_table(experiment, tmp_path, capsys):
    exp, want, whole = experiment
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cicasim.cli import entry; entry()", "sweep", str(exp),
         "--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(done_points(out, POINTS)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and anything it started
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    finished = done_points(out, POINTS)
    assert 3 <= len(finished) < POINTS, "killed too late to test anything"
    assert not (out / "summary.parquet").exists()  # written last, once

    rc = main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--resume"])
    assert rc == 0
    assert f"{POINTS - len(finished)} points computed now" in capsys.readouterr().out
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # swept away
    assert not (out / "progress").exists()
    assert digests(out) == want
    reps = pd.read_parquet(out / "replications.parquet")
    assert len(reps) == POINTS * 2000
    assert not reps.duplicated(["point", "proposal", "replication"]).any()
    assert sorted(reps["point"].unique()) == list(range(POINTS))


def stopped_before_the_last_tables(exp: Path, out: Path):
    """A sweep stopped after its last part, before its summary, blocking and deltas."""
    plan = plan_experiment(exp)

    def stop(done: int, total: int) -> None:
        if done == total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out=out, progress=stop)
    assert len(done_points(out, POINTS)) == POINTS
    assert not (out / "summary.parquet").exists()
    return plan


def test_resume_after_the_last_part_only_writes_the_last_tables(experiment, tmp_path):
    exp, want, _ = experiment
    out = tmp_path / "out"
    plan = stopped_before_the_last_tables(exp, out)
    (out / "replications.parquet" / ".points-000003-000004.parquet.999.tmp").write_bytes(b"half")
    again = run_sweep(plan, out=out, resume=True)
    assert again.computed == 0
    assert digests(out) == want
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not (out / "progress").exists()


def test_a_part_missing_its_summary_is_recomputed(experiment, tmp_path):
    exp, want, _ = experiment
    out = tmp_path / "out"
    plan = stopped_before_the_last_tables(exp, out)
    (summary,) = (out / "progress").glob("summary-000004-*.parquet")
    summary.unlink()
    again = run_sweep(plan, out=out, resume=True)
    first, last = (int(x) for x in summary.stem.split("-")[1:])
    assert again.computed == last - first + 1
    assert digests(out) == want
