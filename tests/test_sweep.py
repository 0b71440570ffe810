"""Sweeps: designs, seeds, the results layout, and identical tables whatever the executor."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import digests
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.engine.ensemble import run_ensemble
from cicasim.spec.enlargement import enlargement_path
from cicasim.spec.scenario import load_scenario
from cicasim.sweep import DESIGNS, plan_experiment, run_sweep, seed_key
from cicasim.sweep.executors import EXECUTORS, InProcessExecutor, LocalProcessExecutor

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"


def write_experiment(tmp: Path, body: str, *, name: str = "exp.toml", replications: int = 300,
                     seed: int = 11, extra: str = "") -> Path:
    path = tmp / name
    path.write_text(
        f'[experiment]\nname = "t"\nscenario = "{TINY.as_posix()}"\nseed = {seed}\n'
        f"replications = {replications}\n{extra}\n{body}",
        encoding="utf-8",
    )
    return path


GRID = """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.01, 0.05]

[[factors]]
kind = "enlargement"

[[factors]]
kind = "rule"
values = [{kind = "consensus"}, {kind = "consensus-minus-k", k = 1}]
"""


# -- designs ---------------------------------------------------------------------------------


def test_grid_is_the_full_product_first_factor_slowest(tmp_path):
    plan = plan_experiment(write_experiment(tmp_path, GRID))
    assert len(plan.points) == 2 * 2 * 2
    got = [(p.values["vote_noise"], p.values["enlargement"], p.values["rule"].kind)
           for p in plan.points]
    assert got[:3] == [(0.01, 0, "consensus"), (0.01, 0, "consensus-minus-k"),
                       (0.01, 1, "consensus")]
    assert got[-1] == (0.05, 1, "consensus-minus-k")
    assert [p.n_members for p in plan.points[:4]] == [3, 3, 4, 4]  # OBS joins at step 1
    assert plan.points[2].label == "vote_noise=0.01; +OBS (4 members); rule=consensus"
    assert not plan.common_random_numbers  # not an enlargement-only design


def test_grid_range_with_levels_is_linspace(tmp_path):
    plan = plan_experiment(write_experiment(tmp_path, """
[[factors]]
kind = "uncertainty"
parameter = "position_sd"
range = [0.0, 10.0]
levels = 5
"""))
    assert_allclose([p.values["position_sd"] for p in plan.points], [0, 2.5, 5, 7.5, 10])


@pytest.mark.parametrize("kind,samples", [("latin-hypercube", 16), ("sobol", 16)])
def test_space_filling_designs_are_seeded_and_stratified(tmp_path, kind, samples):
    body = f"""
[design]
kind = "{kind}"
samples = {samples}

[[factors]]
kind = "behaviour"
parameter = "threshold"
range = [0.0, 0.4]

[[factors]]
kind = "uncertainty"
parameter = "position_sd"
range = [0.0, 10.0]
"""
    a = plan_experiment(write_experiment(tmp_path, body, name="a.toml"))
    b = plan_experiment(write_experiment(tmp_path, body, name="b.toml"))
    c = plan_experiment(write_experiment(tmp_path, body, name="c.toml", seed=12))
    va = np.array([[p.values["threshold"], p.values["position_sd"]] for p in a.points])
    vb = np.array([[p.values["threshold"], p.values["position_sd"]] for p in b.points])
    vc = np.array([[p.values["threshold"], p.values["position_sd"]] for p in c.points])
    assert va.shape == (samples, 2)
    assert_allclose(va, vb, rtol=0, atol=0)  # same seed, same design
    assert not np.allclose(va, vc)  # another seed, another design
    # one point in each of the n equal strata of every factor (Latin hypercube property; a
    # scrambled Sobol' sequence of 2^m points has it too, Owen 1998)
    for col, width in ((0, 0.4), (1, 10.0)):
        strata = np.floor(va[:, col] / width * samples).astype(int)
        assert sorted(strata) == list(range(samples))


def test_discrete_factors_in_a_space_filling_design_take_their_levels(tmp_path):
    plan = plan_experiment(write_experiment(tmp_path, """
[design]
kind = "latin-hypercube"
samples = 8

[[factors]]
kind = "rule"
values = [{kind = "consensus"}, {kind = "simple-majority"}]

[[factors]]
kind = "enlargement"
"""))
    rules = [p.values["rule"].kind for p in plan.points]
    steps = [p.values["enlargement"] for p in plan.points]
    assert rules.count("consensus") == 4 and rules.count("simple-majority") == 4
    assert steps.count(0) == 4 and steps.count(1) == 4


def test_registries_list_their_entries():
    assert set(DESIGNS) == {"latin-hypercube", "sobol"}
    assert set(EXECUTORS) == {"in-process", "processes", "dask"}
    for fn in DESIGNS.values():
        assert "(" in fn.__doc__  # cites its source
        u = fn(3, 8, 5)
        assert u.shape == (8, 3) and (u >= 0).all() and (u < 1).all()
        assert_allclose(u, fn(3, 8, 5), rtol=0, atol=0)


# -- seeds -----------------------------------------------------------------------------------


def test_seed_keys_depend_on_values_only():
    assert seed_key({}) == 0
    assert seed_key({"a": 0.1, "b": 2}) == seed_key({"b": 2, "a": 0.1})
    assert seed_key({"a": 0.1}) != seed_key({"a": 0.1000000001})


def test_a_point_does_not_depend_on_the_other_points_of_the_sweep(tmp_path):
    two = write_experiment(tmp_path, """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.01, 0.05]
""", name="two.toml")
    one = write_experiment(tmp_path, """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.05]
""", name="one.toml")
    run_sweep(plan_experiment(two), out=tmp_path / "two")
    run_sweep(plan_experiment(one), out=tmp_path / "one")
    a = pd.read_parquet(tmp_path / "two" / "replications.parquet")
    b = pd.read_parquet(tmp_path / "one" / "replications.parquet")
    a = a[a["point"] == 1].drop(columns="point").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b.drop(columns="point"))


def test_a_sweep_without_factors_equals_cicasim_run(tmp_path):
    plan = plan_experiment(write_experiment(tmp_path, ""))
    run_sweep(plan, out=tmp_path / "s")
    got = pd.read_parquet(tmp_path / "s" / "replications.parquet")
    want = run_ensemble(load_scenario(TINY), replications=300, seed=11).table()
    pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False)


def test_common_random_numbers_share_the_streams_of_every_point(tmp_path):
    plan = plan_experiment(write_experiment(tmp_path, '[[factors]]\nkind = "enlargement"\n'))
    assert plan.common_random_numbers  # the default for an enlargement-only design
    assert {p.seed_key for p in plan.points} == {0}
    run_sweep(plan, out=tmp_path / "s")
    got = pd.read_parquet(tmp_path / "s" / "replications.parquet")
    # point 1 (the observer has joined) is exactly the enlarged scenario at point key 0
    after = enlargement_path(load_scenario(TINY), seed=11)[1][1]
    want = run_ensemble(after, replications=300, seed=11, point=0).table()
    one = got[got["point"] == 1].reset_index(drop=True)
    assert_allclose(one["dilution"], want["dilution"], rtol=0, atol=0)
    assert (one["passed"].to_numpy() == want["passed"].to_numpy()).all()
    deltas = pd.read_parquet(tmp_path / "s" / "deltas.parquet")
    assert list(deltas.columns) == ["point", "proposal", "delta", "delta_low", "delta_high"]
    # point 0 against itself: exactly 0, with a zero-width interval
    first = deltas[deltas["point"] == 0]
    assert (first[["delta", "delta_low", "delta_high"]] == 0.0).all().all()


# -- results layout --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    plan = plan_experiment(write_experiment(tmp, GRID))
    seen = []

    def progress(done, total):
        seen.append((done, total, (tmp / "out" / "manifest.json").exists()))

    result = run_sweep(plan, out=tmp / "out", executor=InProcessExecutor(), progress=progress)
    return plan, result, seen, tmp


def test_manifest_first_then_parts_then_tables(grid_sweep):
    plan, result, seen, _ = grid_sweep
    assert all(m for _, _, m in seen)  # the manifest was there before any block finished
    assert seen[-1][0] == seen[-1][1] == 8 * 1  # 8 points × 1 proposal × 1 block of 300
    m = json.loads((result.directory / "manifest.json").read_text())
    assert m["cicasim_results"] == "sweep"
    assert m["points"] == 8 and m["replications"] == 300 and m["seed"] == 11
    # inputs are keyed by their path as the experiment names them (here an absolute one)
    assert set(m["inputs"]) == {"exp.toml", TINY.as_posix()}
    assert m["inputs"][TINY.as_posix()]["text"] == TINY.read_text()
    assert m["scenario_file"] == TINY.as_posix()
    # the replications are a dataset of parts; the progress rows are gone once finished
    assert len(list((result.directory / "replications.parquet").glob("points-*.parquet"))) == 8
    assert not (result.directory / "progress").exists()


def test_the_tables_have_the_documented_columns(grid_sweep):
    _, result, _, _ = grid_sweep
    d = result.directory
    reps = pd.read_parquet(d / "replications.parquet")
    assert list(reps.columns) == [
        "point", "proposal", "replication", "passed", "reason", "rounds", "dilution",
        "drift", "first_blocker", "objectors", "abstainers", "outcome_integration",
        "policy_integration",
    ]
    assert len(reps) == 8 * 300
    assert not reps.duplicated(["point", "proposal", "replication"]).any()
    assert reps.equals(reps.sort_values(["point", "proposal", "replication"], kind="stable")
                       .reset_index(drop=True))
    summary = pd.read_parquet(d / "summary.parquet")
    assert list(summary.columns) == [
        "point", "proposal", "vote_noise", "enlargement", "rule", "n_members", "p_consensus",
        "ci_low", "ci_high", "median_rounds", "mean_dilution", "mean_drift", "passed",
        "replications",
    ]
    assert summary["rule"].tolist()[:2] == ["consensus", "consensus-minus-k(k=1)"]
    by = reps.groupby(["point", "proposal"])["passed"].mean().to_numpy()
    assert_allclose(summary["p_consensus"], by, rtol=0, atol=1e-15)
    assert ((summary["ci_low"] <= summary["p_consensus"])
            & (summary["p_consensus"] <= summary["ci_high"])).all()
    blocking = pd.read_parquet(d / "blocking.parquet")
    assert list(blocking.columns) == ["point", "proposal", "actor", "frequency", "first_blocker"]
    assert blocking["frequency"].between(0, 1).all()
    assert len(blocking) == 4 * 3 + 4 * 4  # members per point
    points = pd.read_parquet(d / "points.parquet")
    assert list(points.columns) == [
        "point", "vote_noise", "enlargement", "rule", "label", "n_members", "seed_key",
    ]
    assert points["point"].tolist() == list(range(8))


def test_local_pool_and_resume_give_the_same_bytes(grid_sweep, tmp_path):
    plan, result, _, _ = grid_sweep
    want = digests(result.directory)
    with LocalProcessExecutor(2) as pool:
        run_sweep(plan, out=tmp_path / "pool", executor=pool)
    assert digests(tmp_path / "pool") == want
    # resume: stop after five points, then complete
    def stop(done, total):
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out=tmp_path / "resumed", progress=stop)
    again = run_sweep(plan, out=tmp_path / "resumed", resume=True)
    assert again.computed == 3
    assert digests(tmp_path / "resumed") == want


# -- command line ----------------------------------------------------------------------------


def test_cli_sweep_json(tmp_path, capsys):
    exp = write_experiment(tmp_path, '[[factors]]\nkind = "enlargement"\n')
    rc = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1", "--json",
               "--replications", "200"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["points"] == 2 and out["replications"] == 200 and out["common_random_numbers"]
    assert [r["n_members"] for r in out["summary"]] == [3, 4]
    assert len(out["deltas"]) == 2
    rc = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1",
               "--replications", "200", "--resume"])
    assert rc == 0
    assert "0 points computed now" in capsys.readouterr().out


def test_cli_plots_unavailable_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "cicasim.plotting" else real(n, *a)
    )
    exp = write_experiment(tmp_path, "")
    rc = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1", "--plots"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("cicasim: error: --plots: plotting is unavailable")
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_cli_plots_calls_the_plotting_module(tmp_path, capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("cicasim.plotting")
    fake.__spec__ = importlib.machinery.ModuleSpec("cicasim.plotting", None)
    fake.write_standard_figures = lambda d: calls.append(Path(d))
    monkeypatch.setitem(sys.modules, "cicasim.plotting", fake)
    exp = write_experiment(tmp_path, "")
    rc = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1", "--plots"])
    assert rc == 0
    assert calls == [tmp_path / "o"]
