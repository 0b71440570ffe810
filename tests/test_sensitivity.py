"""Sobol sensitivity indices: SALib on a known function, then end to end on a tiny experiment."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from cicasim.analysis.sensitivity import plan_sensitivity, saltelli_points, sobol_indices
from cicasim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "tests" / "data" / "tiny.toml").as_posix()


def test_ishigami_known_indices():
    """Ishigami & Homma (1990) function, a = 7, b = 0.1, inputs uniform on [-π, π]: analytic
    S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) (Saltelli et al. 2008, Global
    Sensitivity Analysis: The Primer, sec. 4.6; SALib's test suite)."""
    names = ["x1", "x2", "x3"]
    u = saltelli_points(names, samples=4096, second_order=False, seed=1)
    assert u.shape == (4096 * (3 + 2), 3)
    x = -math.pi + 2 * math.pi * u
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    got = sobol_indices(names, y, second_order=False, resamples=100, confidence=0.95, seed=1)
    assert_allclose(got["S1"], [0.3139, 0.4424, 0.0], rtol=0, atol=0.03)
    assert_allclose(got["ST"], [0.5576, 0.4424, 0.2437], rtol=0, atol=0.03)
    assert (got["S1_conf"] > 0).all() and (got["ST_conf"] > 0).all()


def test_saltelli_sample_is_seeded():
    a = saltelli_points(["a", "b"], samples=8, second_order=True, seed=3)
    b = saltelli_points(["a", "b"], samples=8, second_order=True, seed=3)
    c = saltelli_points(["a", "b"], samples=8, second_order=True, seed=4)
    assert a.shape == (8 * (2 * 2 + 2), 2)
    assert_allclose(a, b, rtol=0, atol=0)
    assert not np.allclose(a, c)


def test_constant_output_gives_nan_not_a_warning():
    got = sobol_indices(["a", "b"], np.zeros(8 * 4), second_order=False, resamples=10,
                        confidence=0.95, seed=1)
    assert got[["S1", "ST"]].isna().all().all()


EXPERIMENT = f"""
[experiment]
name = "tiny-sensitivity"
scenario = "{TINY}"
seed = 3
replications = 200
common_random_numbers = true

[[factors]]
kind = "rule"
values = [{{kind = "consensus"}}, {{kind = "consensus-minus-k", k = 1}}]

[[factors]]
kind = "uncertainty"
parameter = "tension_sd"
range = [0.0, 0.02]

[sensitivity]
samples = 8
resamples = 50
"""


def test_the_decision_rule_drives_p_consensus(tmp_path, capsys):
    exp = tmp_path / "s.toml"
    exp.write_text(EXPERIMENT, encoding="utf-8")
    plan = plan_sensitivity(exp)
    assert len(plan.points) == 8 * (2 + 2)
    out = tmp_path / "out"
    rc = main(["sensitivity", str(exp), "--out", str(out), "--workers", "1", "--json"])
    assert rc == 0
    got = json.loads(capsys.readouterr().out)
    assert got["points"] == 32
    table = pd.read_parquet(out / "sobol.parquet")
    assert list(table.columns) == ["proposal", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    rule = table[table["factor"] == "rule"].iloc[0]
    noise = table[table["factor"] == "tension_sd"].iloc[0]
    # consensus fails and consensus-minus-1 passes in the tiny scenario: the rule is nearly all
    assert rule["ST"] > 0.8 and noise["ST"] < 0.1
    m = json.loads((out / "manifest.json").read_text())
    assert m["cicasim_results"] == "sensitivity" and m["sensitivity"]["samples"] == 8
    assert (out / "summary.parquet").exists()
    # the text report, without keeping the runs
    assert main(["sensitivity", str(exp), "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "S1 (first order)" in text and "tension_sd" in text


def test_sensitivity_needs_factors(tmp_path, capsys):
    exp = tmp_path / "s.toml"
    exp.write_text(EXPERIMENT.split("[[factors]]")[0], encoding="utf-8")
    rc = main(["sensitivity", str(exp), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "needs at least one factor" in err and err.count("\n") == 1


def test_sensitivity_samples_must_be_a_power_of_two(tmp_path, capsys):
    exp = tmp_path / "s.toml"
    exp.write_text(EXPERIMENT.replace("samples = 8", "samples = 6"), encoding="utf-8")
    rc = main(["sensitivity", str(exp), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "sensitivity: samples must be a power of two (got 6)" in err


def test_sensitivity_plots(tmp_path, capsys):
    exp = tmp_path / "s.toml"
    exp.write_text(EXPERIMENT.replace("replications = 200", "replications = 50"),
                   encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["sensitivity", str(exp), "--out", str(out), "--workers", "1", "--plots"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["sobol.png"]
    assert (out / "figures" / "sobol.png").stat().st_size > 0


def test_sensitivity_plots_need_out(tmp_path, capsys):
    exp = tmp_path / "s.toml"
    exp.write_text(EXPERIMENT, encoding="utf-8")
    rc = main(["sensitivity", str(exp), "--workers", "1", "--plots"])
    captured = capsys.readouterr()
    assert rc == 2 and not captured.out and not (tmp_path / "out").exists()
    assert captured.err == "cicasim: error: --plots: needs --out DIR to write the figures into\n"
