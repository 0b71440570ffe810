"""The scoring harness: scores against worked examples, the combinations, and
`cicasim validate deu --models`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_validate import _cli_files

from cicasim.cli import main
from cicasim.models.combination import cv_subset_combination, equal_weight, subsets
from cicasim.validate.scoring import crps_samples, hit_rate, mae

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DEU = DATA / "deu3" / "deu3_dev.tsv"


def test_mae_and_hit_rates_worked_example():
    pred = np.array([10.0, 20.0, 30.0, 40.0])
    out = np.array([15.0, 20.0, 50.0, 31.0])  # errors 5, 0, 20, 9
    assert mae(pred, out) == pytest.approx(8.5)
    assert hit_rate(pred, out, 5) == pytest.approx(0.5)  # 5 and 0 (|error| <= 5 counts)
    assert hit_rate(pred, out, 10) == pytest.approx(0.75)


def test_crps_worked_examples():
    # two samples 0 and 10, outcome 4: the empirical CDF is 1/2 on [0, 10), so the CRPS is
    # the integral of (F - 1{x >= 4})^2 = 10 x 1/4 = 2.5 (= 5 - 5/2 in the energy form)
    assert crps_samples(np.array([0.0, 10.0]), 4.0) == pytest.approx(2.5)
    # one sample: the absolute error
    assert crps_samples(np.array([7.0]), 3.0) == pytest.approx(4.0)
    # against the O(m^2) definition
    rng = np.random.Generator(np.random.PCG64(3))
    x = rng.normal(50, 10, size=37)
    brute = np.mean(np.abs(x - 42.0)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps_samples(x, 42.0) == pytest.approx(brute, rel=1e-12)


def test_combinations_worked_example():
    p = np.array([[0.0, 10.0, 20.0, 30.0],   # model a
                  [10.0, 10.0, 40.0, 50.0]])  # model b
    assert_allclose(equal_weight(p), [5.0, 10.0, 30.0, 40.0])
    assert subsets(2) == [(0,), (1,), (0, 1)]
    y = np.array([0.0, 10.0, 40.0, 50.0])
    folds = np.array([0, 0, 1, 1])
    # fold 0 is scored with the subset best on fold 1 (b: error 0 there), and vice versa (a)
    out, chosen = cv_subset_combination(p, y, folds, names=["a", "b"])
    assert chosen == [("b",), ("a",)]
    assert_allclose(out, [10.0, 10.0, 20.0, 30.0])


def test_cli_models_json_and_out(tmp_path, capsys):
    deu, weights = _cli_files(tmp_path)
    out = tmp_path / "res"
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--json",
               "--replications", "20", "--fit-replications", "8", "--folds", "3",
               "--bootstrap", "200", "--seed", "4", "--models", "all", "--smp-runs", "2",
               "--out", str(out)])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("n_issues", "mae", "mae_ci_low", "mae_ci_high", "mae_compromise", "mae_median",
                "mae_cv", "diff_compromise", "breakdown"):
        assert key in s
    rows = {r["id"]: r for r in s["models"]}
    assert set(rows) == {"compromise", "median", "nbs", "eum", "eum-simple", "exchange", "smp",
                         "smp-stochastic", "cicasim", "cicasim-cv", "combination",
                         "combination-cv"}
    for r in rows.values():
        for key in ("id", "mae", "mae_ci_low", "mae_ci_high", "diff_compromise",
                    "diff_compromise_ci", "hit5", "hit10", "crps", "mae_by_rule",
                    "mae_by_procedure"):
            assert key in r
        assert r["mae_ci_low"] <= r["mae"] <= r["mae_ci_high"]
        assert 0 <= r["hit5"] <= r["hit10"] <= 1
    assert_allclose(rows["compromise"]["mae"], s["mae_compromise"])
    assert_allclose(rows["median"]["mae"], s["mae_median"])
    assert_allclose(rows["cicasim"]["mae"], s["mae"])
    assert_allclose(rows["cicasim-cv"]["diff_compromise"], s["diff_cv_compromise"])
    assert rows["compromise"]["diff_compromise"] == 0.0
    assert rows["cicasim"]["crps"] is not None and rows["smp-stochastic"]["crps"] is not None
    assert rows["nbs"]["crps"] is None
    assert {"models.csv", "models.png", "issues.csv"} <= {p.name for p in out.iterdir()}
    issues = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in issues["models"]] == [r["id"] for r in s["models"]]


def test_cli_models_text_and_bad_id(tmp_path, capsys):
    deu, weights = _cli_files(tmp_path)
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--no-cv",
               "--replications", "10", "--bootstrap", "100", "--models", "median,eum"])
    text = capsys.readouterr().out
    assert rc == 0 and "models scored alike" in text
    assert "compromise" in text.split("models scored alike")[1]  # always the reference
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--models", "foo"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--models: unknown model 'foo'" in err


@pytest.mark.shared_data
@pytest.mark.skipif(not DEU.exists(), reason="public data not found at ../shared/data")
def test_league_reproduces_the_benchmarks_on_deu3(capsys):
    rc = main(["validate", "deu", str(DEU), "--no-cv", "--replications", "8", "--bootstrap",
               "200", "--json", "--models", "median,nbs,eum"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in s["models"]}
    # known answers (shared/design/CHECKS.md)
    assert_allclose(rows["compromise"]["mae"], 22.81, atol=0.005)
    assert_allclose(rows["median"]["mae"], 26.42, atol=0.005)
    assert rows["eum"]["mae"] > 0 and rows["nbs"]["mae"] > 0


def test_combination_cv_without_cv_checks_the_folds(tmp_path, capsys):
    """combination-cv splits the proposals into folds even with --no-cv: too few proposals for
    the folds is the one-line error, not a traceback."""
    deu, weights = _cli_files(tmp_path)
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--no-cv",
               "--models", "combination-cv", "--folds", "9", "--replications", "10"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--folds: 9 folds need at least 9 proposals" in err and str(deu) in err
