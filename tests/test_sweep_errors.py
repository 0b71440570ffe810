"""Bad experiment files and options: one line on stderr, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from cicasim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "tests" / "data" / "tiny.toml").as_posix()

HEAD = f'[experiment]\nname = "t"\nscenario = "{TINY}"\nseed = 1\nreplications = 50\n'


def _factor(body: str) -> str:
    return HEAD + "\n[[factors]]\n" + body


CASES = {
    "not TOML": ("[experiment\nname = 1", "not valid TOML"),
    "unknown top-level key": (HEAD + "[designs]\nkind = 'grid'\n", "designs: unknown key"),
    "unknown experiment key": (HEAD + "seeds = 3\n", "experiment.seeds: unknown key"),
    "missing seed": ('[experiment]\nname = "t"\nscenario = "x.toml"\n',
                     "experiment.seed: required field is missing"),
    "negative seed": (HEAD.replace("seed = 1", "seed = -1"), "experiment.seed:"),
    "zero replications": (HEAD.replace("replications = 50", "replications = 0"),
                          "experiment.replications:"),
    "scenario missing": (HEAD.replace(TINY, "no-such.toml"),
                         "experiment.scenario: file not found: no-such.toml"),
    "unknown proposal": (HEAD + 'proposals = ["nope"]\n',
                         "experiment.proposals[0]: unknown proposal 'nope'; allowed: deal"),
    "unknown factor kind": (_factor('kind = "weather"\n'), "factors[0]:"),
    "unknown behaviour parameter": (
        _factor('kind = "behaviour"\nparameter = "mood"\nvalues = [1]\n'),
        "factors[0].parameter:"),
    "behaviour value out of range": (
        _factor('kind = "behaviour"\nparameter = "stubbornness"\nvalues = [0.5, 1.5]\n'),
        "factors[0] (stubbornness).values: stubbornness = 1.5:"),
    "uncertainty range out of range": (
        _factor('kind = "uncertainty"\nparameter = "position_sd"\n'
                'range = [-1.0, 5.0]\nlevels = 3\n'),
        "factors[0] (position_sd).range: position_sd = -1.0:"),
    "loss exponent as a range": (
        _factor('kind = "behaviour"\nparameter = "loss_exponent"\n'
                'range = [1.0, 2.0]\nlevels = 2\n'),
        "loss_exponent takes the values 1 or 2"),
    "values and range": (
        _factor('kind = "behaviour"\nparameter = "threshold"\n'
                'values = [0.1]\nrange = [0.0, 1.0]\n'),
        "give exactly one of values"),
    "neither values nor range": (_factor('kind = "behaviour"\nparameter = "threshold"\n'),
                                 "give exactly one of values"),
    "empty range": (_factor('kind = "behaviour"\nparameter = "threshold"\nrange = [0.5, 0.5]\n'),
                    "low < high"),
    "range without levels in a grid": (
        _factor('kind = "behaviour"\nparameter = "threshold"\nrange = [0.0, 0.5]\n'),
        "factors[0].levels: a range in a grid design needs levels = N"),
    "sobol not a power of two": (
        HEAD + '[design]\nkind = "sobol"\nsamples = 10\n', "design: a sobol design needs a power"),
    "latin hypercube without samples": (
        HEAD + '[design]\nkind = "latin-hypercube"\n', "needs samples = N"),
    "samples on a grid": (HEAD + '[design]\nkind = "grid"\nsamples = 4\n',
                          "samples applies to latin-hypercube"),
    "unknown design": (HEAD + '[design]\nkind = "factorial"\n', "design.kind:"),
    "too many enlargement steps": (_factor('kind = "enlargement"\nvalues = [0, 2]\n'),
                                   "enlargement).values[1]: 2 steps asked, but the path has 1"),
    "bad enlargement step": (
        _factor('kind = "enlargement"\nsteps = [{kind = "observer-joins", actor = "AAA"}]\n'),
        "enlargement[0].actor: 'AAA' is not an observer"),
    "two enlargement factors": (
        _factor('kind = "enlargement"\n') + '[[factors]]\nkind = "enlargement"\nname = "e2"\n',
        "at most one enlargement or scenario factor"),
    "bad rule": (_factor('kind = "rule"\nvalues = [{kind = "unanimity-ish"}]\n'),
                 "factors[0].values[0]:"),
    "rule with a stray parameter": (
        _factor('kind = "rule"\nvalues = [{kind = "consensus", k = 1}]\n'),
        "factors[0].values[0].k: unknown key"),
    "duplicate factor names": (
        _factor('kind = "behaviour"\nparameter = "threshold"\nvalues = [0.1]\n')
        + '[[factors]]\nkind = "behaviour"\nparameter = "threshold"\nvalues = [0.2]\n',
        "factors[1].name: duplicate factor 'threshold'"),
    "reserved factor name": (
        _factor('kind = "behaviour"\nname = "label"\nparameter = "threshold"\nvalues = [0.1]\n'),
        "factors[0].name: 'label' is a result column"),
    "space-filling design without factors": (HEAD + '[design]\nkind = "sobol"\nsamples = 8\n',
                                             "factors: a sobol design needs factors"),
}


def _run(argv, capsys):
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_experiment_files(tmp_path, capsys, case):
    text, expected = CASES[case]
    exp = tmp_path / "bad.toml"
    exp.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    rc, err = _run(["sweep", str(exp), "--out", str(out), "--workers", "1"], capsys)
    assert rc == 2, err
    assert err.startswith(f"cicasim: error: {exp}: "), err
    assert expected in err, err
    assert err.count("\n") == 1, err  # one line
    assert not out.exists()  # nothing written


def test_missing_experiment_file(tmp_path, capsys):
    rc, err = _run(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")], capsys)
    assert rc == 2 and err == f"cicasim: error: {tmp_path / 'nope.toml'}: file not found\n"


def test_bad_scenario_behind_an_experiment(tmp_path, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD.replace(TINY, "s.toml"), encoding="utf-8")
    rc, err = _run(["sweep", str(exp), "--out", str(tmp_path / "o")], capsys)
    # the experiment and the field that points to the scenario come first, then the scenario
    assert rc == 2 and err.startswith(
        f"cicasim: error: {exp}: experiment.scenario: {scen.resolve()}: dimensions"
    )
    assert err.count("\n") == 1


def test_scenario_without_enlargement_steps(tmp_path, capsys):
    text = Path(TINY).read_text(encoding="utf-8").split("[[enlargement]]")[0]
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD.replace(TINY, "s.toml") + '[[factors]]\nkind = "enlargement"\n',
                   encoding="utf-8")
    rc, err = _run(["sweep", str(exp), "--out", str(tmp_path / "o")], capsys)
    assert rc == 2 and "factors[0] (enlargement).steps: no enlargement steps" in err


@pytest.mark.parametrize("argv,expected", [
    (["--replications", "0"], "argument --replications/-n: must be at least 1"),
    (["--workers", "x"], "argument --workers/-j: expected a whole number"),
])
def test_bad_options(tmp_path, capsys, argv, expected):
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD, encoding="utf-8")
    rc, err = _run(["sweep", str(exp), "--out", str(tmp_path / "o"), *argv], capsys)
    assert rc == 2 and expected in err and err.count("\n") == 1


def test_out_is_not_a_results_directory(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD, encoding="utf-8")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    rc, err = _run(["sweep", str(exp), "--out", str(out), "--workers", "1"], capsys)
    assert rc == 2 and "is not a cicasim results directory" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_resume_into_a_different_experiment(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD, encoding="utf-8")
    out = tmp_path / "o"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--json"]) == 0
    capsys.readouterr()
    rc, err = _run(["sweep", str(exp), "--out", str(out), "--workers", "1", "-n", "60",
                    "--resume"], capsys)
    assert rc == 2 and "holds a different sweep" in err
    rc, err = _run(["sweep", str(exp), "--out", str(out), "--workers", "1"], capsys)
    assert rc == 2 and "pass --resume" in err


def test_unreachable_scheduler(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(HEAD, encoding="utf-8")
    rc, err = _run(["sweep", str(exp), "--out", str(tmp_path / "o"), "--scheduler",
                    "tcp://127.0.0.1:9"], capsys)
    assert rc == 2 and err.startswith("cicasim: error: --scheduler: cannot connect")
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_missing_referenced_scenario_shows_the_resolved_path(tmp_path, capsys):
    """The experiment's relative path is resolved against the experiment file, and the error
    shows where it looked."""
    exp = tmp_path / "noise.toml"
    exp.write_text(HEAD.replace(TINY, "../scenarios/cica-2022.toml"), encoding="utf-8")
    rc, err = _run(["sweep", str(exp), "--out", str(tmp_path / "o")], capsys)
    looked = (tmp_path.parent / "scenarios" / "cica-2022.toml").resolve()
    assert rc == 2 and err.count("\n") == 1
    assert "file not found: ../scenarios/cica-2022.toml" in err and str(looked) in err
