"""Paired comparisons: Newcombe's interval, common random numbers, and `cicasim compare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario
from numpy.testing import assert_allclose

from cicasim.analysis.compare import (
    compare_scenarios,
    enlarged,
    paired_counts,
    paired_difference,
    paired_interval,
    wald_paired,
)
from cicasim.cli import main
from cicasim.spec.enlargement import enlargement_path
from cicasim.spec.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"


def _pairs(both: int, only_first: int, only_second: int, neither: int):
    """Newcombe's (e, f, g, h) table as two paired 0/1 vectors (first, second)."""
    first = np.r_[np.ones(both), np.ones(only_first), np.zeros(only_second), np.zeros(neither)]
    second = np.r_[np.ones(both), np.zeros(only_first), np.ones(only_second), np.zeros(neither)]
    return first.astype(bool), second.astype(bool)


@pytest.mark.parametrize("table,low,high", [
    # Newcombe (1998), Statistics in Medicine 17:2635, Table II, method 10 (4 d.p.)
    ((36, 12, 2, 0), 0.0569, 0.3404),
    ((18, 12, 2, 18), 0.0562, 0.3290),
    ((53, 0, 0, 1), -0.0729, 0.0729),
    ((0, 30, 0, 0), 0.8395, 1.0),
])
def test_newcombe_method_10_known_answers(table, low, high):
    first, second = _pairs(*table)
    # Newcombe's theta is p(first) - p(second): our delta is P(b) - P(a), so b = first
    delta, lo, hi = paired_difference(second, first)
    e, f, g, h = table
    assert_allclose(delta, (f - g) / sum(table), rtol=0, atol=1e-12)
    assert_allclose([lo, hi], [low, high], rtol=0, atol=5e-5)


def test_newcombe_approaches_the_wald_interval_for_large_samples():
    rng = np.random.Generator(np.random.PCG64(4))
    a = rng.random(200_000) < 0.4
    b = np.where(rng.random(a.size) < 0.9, a, rng.random(a.size) < 0.3)  # correlated pairs
    d, lo, hi = paired_difference(a, b)
    dw, low, highw = wald_paired(a, b)
    assert_allclose(d, dw, rtol=0, atol=1e-12)
    assert_allclose([lo, hi], [low, highw], rtol=0, atol=2e-4)


def test_interval_is_inside_minus_one_to_one_and_contains_delta():
    rng = np.random.Generator(np.random.PCG64(5))
    for n in (1, 2, 7, 50):
        for _ in range(20):
            a, b = rng.random(n) < rng.random(), rng.random(n) < rng.random()
            d, lo, hi = paired_difference(a, b)
            assert -1 <= lo <= d <= hi <= 1


def test_the_interval_from_block_counts_is_the_interval_from_the_arrays():
    """Counted block by block and added, the 2×2 table gives the same interval, bit for bit, as
    the whole vectors (what lets the pivotality keep nothing per replication)."""
    rng = np.random.Generator(np.random.PCG64(17))
    for n in (1, 2, 5, 40, 1000, 5000):
        for _ in range(25):
            pa, pb, keep = rng.random(3)
            a = rng.random(n) < pa
            b = np.where(rng.random(n) < keep, a, rng.random(n) < pb)  # often correlated
            cuts = np.sort(rng.integers(0, n + 1, size=int(rng.integers(0, 6))))
            tables = np.array([paired_counts(x, y) for x, y in
                               zip(np.split(a, cuts), np.split(b, cuts), strict=True)])
            # the table, counted independently: code 2a + b is 3 both, 2 a only, 1 b only
            both, only_a, only_b, neither = np.bincount(2 * a + b, minlength=4)[::-1]
            assert tables.sum(axis=0).tolist() == [both, only_a, only_b, neither]
            whole = paired_difference(a, b)
            assert paired_interval(*tables.sum(axis=0)) == whole
            assert paired_interval(*tables.sum(axis=0), confidence=0.9) == \
                paired_difference(a, b, confidence=0.9)
    assert all(np.isnan(paired_interval(0, 0, 0, 0)))
    with pytest.raises(ValueError, match="cannot be negative"):
        paired_interval(3, -1, 0, 2)


def test_identical_scenarios_differ_by_exactly_zero():
    s = load_scenario(TINY)
    (row,) = compare_scenarios(s, s, replications=500, seed=3)
    assert row.p_a == row.p_b
    # identical in every replication: an exact zero with a zero-width interval
    assert (row.delta, row.delta_low, row.delta_high) == (0.0, 0.0, 0.0)
    # a change that alters no replication is still a comparison: Newcombe's interval
    changed = s.model_copy(update={"scenario": s.scenario.model_copy(
        update={"default_tension": s.scenario.default_tension + 1e-9})})
    (row,) = compare_scenarios(s, changed, replications=500, seed=3)
    assert row.delta == 0.0 and row.delta_low < 0 < row.delta_high


def test_common_random_numbers_narrow_the_interval():
    """The paired interval is narrower than the square-and-add interval for independent
    samples (Newcombe 1998, independent version) when the pairs are positively correlated."""
    s = make_scenario([70, 50, 40, 45], roles=["member", "member", "member", "observer"],
                      behaviour={"vote_noise": 0.02}, uncertainty={"position_sd": 20.0},
                      p0=60, q=30)
    data = s.model_dump()
    data["enlargement"] = [{"kind": "observer-joins", "actor": "A03"}]
    before, after, label = enlarged(parse_scenario(data), steps=None, seed=9)
    assert label == "+ 1 observer as a member: A03"
    (row,) = compare_scenarios(before, after, replications=4000, seed=9)
    paired = row.delta_high - row.delta_low
    independent = np.hypot(row.p_a - row.ci_a_low, row.ci_b_high - row.p_b) + np.hypot(
        row.ci_a_high - row.p_a, row.p_b - row.ci_b_low)
    assert 0.5 < row.p_a < 0.9 and row.delta < 0
    assert paired < 0.7 * independent


def test_static_model_adding_a_member_never_raises_p_consensus():
    """docs/model.md property 2: in the static model (R = 1, σ = 0, β = 0, h = 0), under common
    random numbers, every replication that passes after enlargement passed before."""
    s = make_scenario([70, 55, 40, 35], roles=["member"] * 3 + ["observer"], max_rounds=1,
                      behaviour={"vote_noise": 0.0, "rival_penalty": 0.0, "holdup_rate": 0.0},
                      uncertainty={"position_sd": 15.0}, p0=60, q=40)
    after = enlargement_path(
        parse_scenario({**s.model_dump(), "enlargement": [
            {"kind": "observer-joins", "actor": "A03"}]}), seed=2)[1][1]
    from cicasim.engine.arrays import negotiation
    from cicasim.engine.kernel import PASSED
    from cicasim.sweep.executors import InProcessExecutor, run_units

    out = run_units(InProcessExecutor(), [("a", negotiation(s, "p"), 0, None),
                                          ("b", negotiation(after, "p"), 0, None)],
                    seed=2, replications=3000)
    a, b = out["a"].status == PASSED, out["b"].status == PASSED
    assert not (b & ~a).any()
    assert 0 < b.mean() < a.mean() < 1


# -- command line ----------------------------------------------------------------------------


def test_cli_compare_enlarge_json_and_out(tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = main(["compare", str(TINY), "--enlarge", "--seed", "5", "-n", "600", "--workers", "1",
               "--json", "--out", str(out)])
    assert rc == 0
    got = json.loads(capsys.readouterr().out)
    assert got["b"].endswith("+ 1 observer as a member: OBS") and got["seed"] == 5
    (row,) = got["proposals"]
    assert row["n_members_a"] == 3 and row["n_members_b"] == 4
    table = pd.read_parquet(out / "comparison.parquet")
    assert list(table.columns) == [
        "proposal", "replications", "p_a", "ci_a_low", "ci_a_high", "p_b", "ci_b_low",
        "ci_b_high", "delta", "delta_low", "delta_high", "n_members_a", "n_members_b",
    ]
    assert_allclose(table.loc[0, "delta"], row["delta"], rtol=0, atol=0)
    m = json.loads((out / "manifest.json").read_text())
    assert m["cicasim_results"] == "compare" and "tiny.toml" in m["inputs"]


def test_cli_compare_steps_equals_a_second_file(tmp_path, capsys):
    after = enlargement_path(load_scenario(TINY), seed=5)[1][1]
    b = tmp_path / "after.toml"
    import tomlkit

    b.write_text(tomlkit.dumps(after.model_dump(mode="json", exclude_none=True)))
    assert main(["compare", str(TINY), "--steps", "1", "--seed", "5", "-n", "300", "-j", "1",
                 "--json"]) == 0
    one = json.loads(capsys.readouterr().out)["proposals"]
    assert main(["compare", str(TINY), str(b), "--seed", "5", "-n", "300", "-j", "1",
                 "--json"]) == 0
    two = json.loads(capsys.readouterr().out)["proposals"]
    assert one == two


def test_cli_compare_prints_a_table(capsys):
    assert main(["compare", str(TINY), "--enlarge", "--seed", "5", "-n", "200", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert "ΔP = P(B) − P(A)" in out and "deal" in out and "seed 5" in out


@pytest.mark.parametrize("argv,expected", [
    (["--enlarge", "--steps", "1"], "give exactly one of a scenario B, --enlarge or --steps K"),
    ([], "give exactly one of a scenario B, --enlarge or --steps K"),
    (["--steps", "3"], "--steps: 3 enlargement steps asked; allowed: 1-1"),
    (["--enlarge", "--proposal", "nope"], "--proposal: 'nope' is not in both scenarios"),
])
def test_cli_compare_errors(capsys, argv, expected):
    rc = main(["compare", str(TINY), "--seed", "1", "-n", "10", "-j", "1", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and expected in err and err.count("\n") == 1


def test_cli_compare_no_shared_proposal(tmp_path, capsys):
    text = TINY.read_text().replace('id = "deal"', 'id = "other"')
    b = tmp_path / "b.toml"
    b.write_text(text)
    rc = main(["compare", str(TINY), str(b), "--seed", "1", "-n", "10", "-j", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "share no proposal" in err


def test_cli_compare_plots(tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = main(["compare", str(TINY), "--enlarge", "--seed", "5", "-n", "200", "-j", "1",
               "--out", str(out), "--plots"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["comparison.png"]
    assert (out / "figures" / "comparison.png").stat().st_size > 0


def test_cli_compare_plots_need_out(tmp_path, capsys):
    rc = main(["compare", str(TINY), "--enlarge", "--seed", "5", "-n", "10", "-j", "1",
               "--plots"])
    captured = capsys.readouterr()
    assert rc == 2 and not captured.out
    assert captured.err == "cicasim: error: --plots: needs --out DIR to write the figures into\n"
