"""The public API's contract: typed results with short reprs and DataFrame summaries, the same
numbers as the command line, sweeps in memory that touch no disk."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import DATA, ROOT

import cicasim as cs
from cicasim.cli import main
from cicasim.display import REPR_LIMIT
from cicasim.spec.rules import QualifiedMajority

CICA = (ROOT / "scenarios" / "cica-2022.toml").as_posix()
ENLARGEMENT = (ROOT / "experiments" / "cica-enlargement.toml").as_posix()
TINY = (DATA / "tiny.toml").as_posix()

TINY_EXPERIMENT = {
    "experiment": {"name": "tiny-api", "scenario": TINY, "seed": 3, "replications": 64,
                   "common_random_numbers": True},
    "factors": [
        {"kind": "rule", "values": [{"kind": "consensus"}, {"kind": "consensus-minus-k", "k": 1}]},
        {"kind": "uncertainty", "parameter": "tension_sd", "range": [0.0, 0.02],
         "levels": 2},
    ],
    "sensitivity": {"samples": 8, "resamples": 20},
}


def _cli_json(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _check_shown(result) -> pd.DataFrame:
    """The contract every public result keeps."""
    text = repr(result)
    assert len(text) <= REPR_LIMIT, (type(result).__name__, len(text))
    assert text.startswith(f"<{type(result).__name__}: ")
    assert "<table" in result._repr_html_()
    frame = result.summary()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    pdt.assert_frame_equal(result.to_frame(), frame)
    return frame


def test_import_is_light():
    code = ("import sys, cicasim; heavy = [m for m in ('numpy', 'numba', 'pandas', 'pydantic', "
            "'mesa', 'matplotlib') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""
    assert set(cs.__all__) <= set(dir(cs))
    with pytest.raises(AttributeError):
        cs.no_such_name  # noqa: B018


def test_run_summary_gives_the_numbers_the_cli_prints(capsys):
    printed = _cli_json(capsys, "run", CICA, "--seed", "1")
    r = cs.run(CICA, seed=1)
    frame = _check_shown(r)
    assert list(frame.columns[:9]) == ["proposal", "title", "p_consensus", "ci_low", "ci_high",
                                       "rule_alone", "median_rounds", "mean_dilution",
                                       "blockers"]
    assert r.to_dict() == printed
    for row, p in zip(frame.to_dict("records"), printed["proposals"], strict=True):
        assert row["proposal"] == p["id"]
        for col in ("p_consensus", "ci_low", "ci_high", "median_rounds", "mean_dilution"):
            assert row[col] == p[col]
        assert row["rule_alone"] == p["a_priori_passage"]
        assert row["blockers"] == {b["actor"]: b["frequency"] for b in p["blockers"]}
    reps = r.replications()
    assert len(reps) == 3 * 10_000 and {"proposal", "replication", "passed"} <= set(reps.columns)


def test_run_saves_and_reopens(tmp_path):
    scenario = cs.load_scenario(TINY)
    r = cs.run(scenario, seed=4, replications=200, pivotality=True)
    assert r.seed == 4 and r.source.startswith("<")
    r.save(tmp_path / "run")
    opened = cs.open_results(tmp_path / "run")
    _check_shown(opened)
    pdt.assert_frame_equal(opened.summary(), r.summary())
    pdt.assert_frame_equal(opened.replications(), r.replications())
    assert opened.scenario == scenario  # the manifest's text of a Scenario object parses back
    assert "pivotality" in json.loads((tmp_path / "run" / "summary.json").read_text())[
        "proposals"][0]
    assert opened.figures()[0] == "summary"


def test_a_seed_is_drawn_and_recorded():
    r = cs.run(TINY, replications=50)
    again = cs.run(TINY, replications=50, seed=r.seed)
    pdt.assert_frame_equal(r.replications(), again.replications())


def test_sweep_in_memory_touches_no_disk(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an in-memory sweep wrote to disk")

    import pyarrow.parquet as pq

    import cicasim.sweep.store as sweep_module

    monkeypatch.setattr(pq, "write_table", refuse)
    monkeypatch.setattr(pq, "ParquetWriter", refuse)
    monkeypatch.setattr(sweep_module, "write_json", refuse)
    monkeypatch.chdir(tmp_path)
    s = cs.sweep(ENLARGEMENT, replications=40)
    assert list(tmp_path.iterdir()) == []
    frame = _check_shown(s)
    assert len(frame) == 15 * 3  # design points × proposals
    assert frame["n_members"].tolist()[::3] == [28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
                                                40, 45, 50, 55, 60]
    assert s.directory is None and s.has("deltas")
    monkeypatch.undo()
    # the same tables, bit for bit, as the sweep streamed to disk by the command line
    out = tmp_path / "disk"
    assert main(["sweep", ENLARGEMENT, "-n", "40", "-j", "1", "--out", str(out)]) == 0
    for name in ("summary", "replications", "blocking", "points", "deltas"):
        pdt.assert_frame_equal(s.table(name), pd.read_parquet(out / f"{name}.parquet"))
    on_disk = cs.open_results(out)
    pdt.assert_frame_equal(on_disk.summary(), frame)


def test_sweep_takes_a_mapping_or_an_experiment(tmp_path):
    path = tmp_path / "e.toml"
    import tomlkit

    path.write_text(tomlkit.dumps(TINY_EXPERIMENT), encoding="utf-8")
    from_file = cs.sweep(path, replications=32)
    from_dict = cs.sweep(TINY_EXPERIMENT, replications=32)
    exp, _ = cs.load_experiment(path)
    from_object = cs.sweep(exp, replications=32)
    for other in (from_dict, from_object):
        pdt.assert_frame_equal(other.summary(), from_file.summary())
    with pytest.raises(cs.InputError, match="experiment: a list was given"):
        cs.sweep([1, 2])


def test_sweep_streams_and_resumes(tmp_path):
    out = tmp_path / "s"
    first = cs.sweep(TINY_EXPERIMENT, out=out, replications=32)
    assert first.directory == out and first.computed == first.points
    again = cs.sweep(TINY_EXPERIMENT, out=out, replications=32, resume=True)
    assert again.computed == 0
    pdt.assert_frame_equal(again.summary(), first.summary())
    _check_shown(again)


def test_compare_enlarge_matches_the_cli(capsys):
    printed = _cli_json(capsys, "compare", CICA, "--enlarge", "--seed", "3", "-n", "300",
                        "-j", "1")
    c = cs.compare(CICA, enlarge=True, seed=3, replications=300)
    frame = _check_shown(c)
    assert c.to_dict() == printed
    assert frame["delta"].tolist() == [p["delta"] for p in printed["proposals"]]
    k = cs.compare(CICA, enlarge=2, seed=3, replications=100)
    assert k.summary()["n_members_b"].iloc[0] == 30
    with pytest.raises(cs.InputError, match="exactly one"):
        cs.compare(CICA, CICA, enlarge=True, seed=1)


def test_trace_holds_the_datacollector_frames():
    t = cs.trace(CICA, "financial-summit", 2)
    frame = _check_shown(t)
    mv, av = t.model_vars(), t.agent_vars()
    assert len(mv) == t.rounds + 1 and len(frame) == t.rounds
    assert {"round", "text", "status"} <= set(mv.columns) and "vote" in av.columns
    assert t.status == t.end()["reason"]


def test_sensitivity_in_memory_equals_on_disk(tmp_path):
    mem = cs.sensitivity(TINY_EXPERIMENT, replications=32)
    frame = _check_shown(mem)
    assert mem.directory is None
    disk = cs.sensitivity(TINY_EXPERIMENT, replications=32, out=tmp_path / "s")
    pdt.assert_frame_equal(frame, disk.summary())
    pdt.assert_frame_equal(cs.open_results(tmp_path / "s").summary(), frame,
                           check_dtype=False)


def test_power_of_a_proposal_and_of_a_rule():
    p = cs.power(CICA, "financial-summit")
    frame = _check_shown(p)
    assert len(frame) == 28 and frame["banzhaf"].sum() == pytest.approx(1)
    q = cs.power(rule=QualifiedMajority(quota=2), votes=[1, 1, 1], names=["a", "b", "c"])
    assert q.passage_probability == pytest.approx(4 / 8)
    with pytest.raises(cs.InputError, match="name the proposal"):
        cs.power(CICA)


def test_the_public_functions_survive_importing_their_modules():
    import cicasim.analysis.power as power_module
    import cicasim.sweep as sweep_package
    from cicasim import api

    assert power_module.METHODS and cs.power is api.power
    assert sweep_package.load_experiment and cs.sweep is sweep_package and callable(cs.sweep)
    for name in ("sweep", "compare", "sensitivity", "power"):
        assert callable(getattr(cs, name))


def test_results_have_figures():
    pytest.importorskip("matplotlib")
    r = cs.run(TINY, seed=1, replications=100)
    assert r.plot().axes
    assert cs.trace(TINY, "deal", 1).plot().axes


def test_experiment_file_layout_round_trips():
    with open(ENLARGEMENT, "rb") as fh:
        data = tomllib.load(fh)
    assert cs.Experiment.model_validate(data).experiment.name == "cica-enlargement"


def test_building_blocks_have_short_reprs():
    from cicasim.sweep import plan_experiment

    plan = plan_experiment(ENLARGEMENT, replications=10)
    ens = cs.run_ensemble(cs.load_scenario(CICA), replications=50, seed=1)
    for obj in (plan, ens, ens.runs[0]):
        assert len(repr(obj)) <= REPR_LIMIT, type(obj).__name__
