"""`cicasim predict`: every model's prediction of each proposal beside cicasim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.models import from_scenario
from cicasim.spec.scenario import load_scenario

TINY = Path(__file__).resolve().parent / "data" / "tiny.toml"


def test_predict_json(capsys):
    rc = main(["predict", str(TINY), "--models", "compromise,nbs,cicasim,combination",
               "--replications", "64", "--seed", "3", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seed"] == 3 and len(out["proposals"]) == 1
    p = out["proposals"][0]
    assert set(p["models"]) == {"compromise", "nbs", "cicasim", "combination"}
    assert 0.0 <= p["p_passed"] <= 1.0
    assert p["policy"]["q10"][0] <= p["policy"]["q50"][0] <= p["policy"]["q90"][0]
    # the static models read the members only: the compromise of the three members
    b = from_scenario(load_scenario(TINY), "deal").members()
    w = b.capability * b.salience[:, 0]
    assert b.n == 3
    assert_allclose(p["models"]["compromise"], [np.sum(w * b.position[:, 0]) / w.sum()])
    # cicasim's point prediction is the median of its policy
    assert_allclose(p["models"]["cicasim"], p["policy"]["q50"])


def test_predict_is_reproducible_and_text(capsys):
    args = ["predict", str(TINY), "--models", "smp-stochastic,eum", "--seed", "5",
            "--smp-runs", "3", "--json"]
    main(args)
    a = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == a
    rc = main(["predict", str(TINY), "--models", "median", "--seed", "1"])
    text = capsys.readouterr().out
    assert rc == 0 and "deal: A deeper deal" in text and "median" in text


def test_predict_bad_model_is_one_line(capsys):
    rc = main(["predict", str(TINY), "--models", "oracle"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--models: unknown model 'oracle'" in err
