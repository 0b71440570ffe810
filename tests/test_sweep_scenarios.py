"""A scenario factor: whole scenario files as the levels of one factor (CICA by year)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.engine.ensemble import run_ensemble
from cicasim.spec.scenario import load_scenario
from cicasim.sweep import plan_experiment, run_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"


def _bigger(tmp: Path) -> Path:
    """tiny.toml with its observer as a member: the same actors, one more vote."""
    text = TINY.read_text(encoding="utf-8").replace(
        'id = "OBS"\nname = "Observer"\nrole = "observer"',
        'id = "OBS"\nname = "Observer"\nrole = "member"',
    )
    text = text.replace('[[enlargement]]\nkind = "observer-joins"\nactor = "OBS"\n', "")
    path = tmp / "bigger.toml"
    path.write_text(text, encoding="utf-8")
    assert len(load_scenario(path).members) == 4
    return path


def _experiment(tmp: Path, values: list[str], extra: str = "") -> Path:
    path = tmp / "years.toml"
    listed = ", ".join(f'"{v}"' for v in values)
    path.write_text(
        f'[experiment]\nname = "years"\nscenario = "{TINY.as_posix()}"\nseed = 3\n'
        f'replications = 400\n\n[[factors]]\nkind = "scenario"\nname = "year"\n'
        f"values = [{listed}]\n{extra}",
        encoding="utf-8",
    )
    return path


def test_each_point_runs_its_own_scenario(tmp_path):
    big = _bigger(tmp_path)
    exp = _experiment(tmp_path, [TINY.as_posix(), big.name])
    plan = plan_experiment(exp)
    assert [p.n_members for p in plan.points] == [3, 4]
    assert plan.common_random_numbers  # membership-only factors default to paired draws
    run_sweep(plan, out=tmp_path / "out")
    summary = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    for point, path in ((0, TINY), (1, big)):
        direct = run_ensemble(load_scenario(path), replications=400, seed=3).summaries()
        got = summary[summary["point"] == point]
        assert_allclose(got["p_consensus"].to_numpy(), [s.p_consensus for s in direct])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "bigger.toml" in manifest["inputs"]


def test_cli_sweep_with_a_scenario_factor(tmp_path, capsys):
    big = _bigger(tmp_path)
    exp = _experiment(tmp_path, [TINY.as_posix(), big.name])
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    assert "bigger (4 members)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("values", "extra", "needle"),
    [
        (["missing.toml"], "", "factors[0] (year).values[0]: file not found: missing.toml"),
        (["nodeal.toml"], "", "defines no proposal 'deal'"),
        (["TINY"], '\n[[factors]]\nkind = "enlargement"\n', "at most one enlargement or scenario"),
    ],
)
def test_bad_scenario_factors_are_one_line_errors(tmp_path, capsys, values, extra, needle):
    nodeal = TINY.read_text(encoding="utf-8").replace('id = "deal"', 'id = "other"')
    (tmp_path / "nodeal.toml").write_text(nodeal, encoding="utf-8")
    values = [TINY.as_posix() if v == "TINY" else v for v in values]
    exp = _experiment(tmp_path, values, extra)
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and needle in err, err
    assert not (tmp_path / "o").exists()


def test_the_bundled_history_experiment_plans():
    plan = plan_experiment(ROOT / "experiments" / "cica-history.toml", replications=10)
    assert [p.n_members for p in plan.points] == [16, 18, 22, 26, 27, 28, 28]
