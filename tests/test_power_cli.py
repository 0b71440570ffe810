"""The `cicasim power` command, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from cicasim.cli import main

DATA = Path(__file__).resolve().parent / "data"
TINY = str(DATA / "tiny.toml")

EEC6 = "actor,weight\nDE,4\nFR,4\nIT,4\nBE,2\nNL,2\nLU,1\n"


def write(tmp_path: Path, text: str, name: str = "weights.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_json(capsys, argv: list[str]) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# ----------------------------------------------------------------------------------------------
# Weights files
# ----------------------------------------------------------------------------------------------
def test_weights_table(tmp_path, capsys):
    path = write(tmp_path, EEC6)
    assert main(["power", "--weights", path, "--quota", "12"]) == 0
    out = capsys.readouterr().out
    assert "0.21875 = 14 of 64 coalitions win" in out
    assert "Shapley-Shubik" in out and "LU" in out


def test_weights_json(tmp_path, capsys):
    out = run_json(capsys, ["power", "--weights", write(tmp_path, EEC6), "--quota", "12"])
    assert out["n"] == 6 and out["winning_coalitions"] == 14
    assert_allclose(out["passage_probability"], 0.21875, rtol=1e-15)
    assert list(out["banzhaf"]) == ["DE", "FR", "IT", "BE", "NL", "LU"]
    assert_allclose(out["banzhaf_absolute"]["DE"], 10 / 32, rtol=1e-15)
    assert_allclose(out["shapley_shubik"]["BE"], 0.15, rtol=1e-12)
    assert out["rule"] == {"kind": "qualified-majority", "quota": 12.0}


@pytest.mark.parametrize("rule,winning", [("unanimity", 1), ("majority", 22)])
def test_rule_option(tmp_path, capsys, rule, winning):
    out = run_json(capsys, ["power", "--weights", write(tmp_path, EEC6), "--rule", rule])
    assert out["winning_coalitions"] == winning  # majority: 4 or more of 6 -> 15 + 6 + 1


def test_population_and_blocking_floor(tmp_path, capsys):
    text = "actor,weight,population\nA,1,60.5\nB,1,30.25\nC,1,5\nD,1,3\nE,1,1.25\n"
    argv = ["power", "--weights", write(tmp_path, text), "--min-members-share", "0.55",
            "--min-population-share", "0.65"]
    plain = run_json(capsys, argv)
    floor = run_json(capsys, [*argv, "--blocking-min", "2"])
    # 3 of 5 members with 65 of 100: A and two others but not D+E (5), A and three (4), all (1)
    assert plain["winning_coalitions"] == 10
    # with the floor, fewer than 2 members outside also wins: B, C, D, E without A
    assert floor["winning_coalitions"] == 11
    assert floor["rule"]["blocking_min"] == 2


# ----------------------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------------------
def test_scenario_proposal(capsys):
    out = run_json(capsys, ["power", TINY, "--proposal", "deal"])
    assert out["proposal"] == "deal" and out["n"] == 3 and out["winning_coalitions"] == 1
    assert main(["power", TINY]) == 0  # the only proposal is the default
    assert "0.125 = 1 of 8 coalitions win" in capsys.readouterr().out


def test_enlarge(capsys):
    out = run_json(capsys, ["power", TINY, "--proposal", "deal", "--enlarge"])
    steps = {s["step"]: s for s in out["steps"]}
    assert list(steps) == ["base", "+OBS"]
    assert steps["+OBS"]["n"] == 4
    assert_allclose(steps["+OBS"]["passage_probability"], 1 / 16, rtol=1e-15)
    assert main(["power", TINY, "--enlarge"]) == 0
    text = capsys.readouterr().out
    assert "+OBS" in text and "0.5x" in text


# ----------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit code 2, nothing on stdout
# ----------------------------------------------------------------------------------------------
BAD_FILES = {
    "non-numeric": ("actor,weight\nA,3\nB,lots\n", ["--quota", "2"], "row 3 (weight): 'lots'"),
    "negative": ("actor,weight\nA,3\nB,-1\n", ["--quota", "2"], "row 3 (weight): -1 is not"),
    "empty weight": ("actor,weight\nA,3\nB,\n", ["--quota", "2"], "row 3 (weight): empty"),
    "infinite": ("actor,weight\nA,inf\nB,1\n", ["--quota", "2"], "row 2 (weight): inf"),
    "duplicate": ("actor,weight\nA,3\nA,1\n", ["--quota", "2"], "row 3 (actor): duplicate 'A'"),
    "no actor": ("actor,weight\n,3\n", ["--quota", "2"], "row 2 (actor): empty"),
    "missing column": ("actor,votes\nA,3\n", ["--quota", "2"], "missing column 'weight'"),
    "empty file": ("", ["--quota", "2"], "empty file"),
    "no rows": ("actor,weight\n", ["--quota", "2"], "no data rows"),
    "quota above total": ("actor,weight\nA,3\nB,1\n", ["--quota", "5"], "--quota 5 is outside"),
    "quota zero": ("actor,weight\nA,3\nB,1\n", ["--quota", "0"], "--quota 0 is outside"),
    "members share": (
        EEC6, ["--min-members-share", "1.5"], "--min-members-share 1.5 is outside 0-1"
    ),
    "population share": (
        "actor,weight,population\nA,1,2\nB,1,3\n", ["--min-population-share", "-0.1"],
        "--min-population-share -0.1 is outside 0-1",
    ),
    "no population": (EEC6, ["--min-population-share", "0.6"], "needs a population column"),
    "bad population": (
        "actor,weight,population\nA,1,many\n", ["--quota", "1"], "row 2 (population): 'many'"
    ),
    "too many members": (EEC6, ["--min-members", "7"], "--min-members 7 is not allowed"),
    "blocking only": (EEC6, ["--blocking-min", "2"], "--blocking-min needs a criterion"),
    "no rule": (EEC6, [], "no rule; give --quota"),
    "rule and quota": (EEC6, ["--rule", "majority", "--quota", "3"], "--rule cannot be combined"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_weights_file(tmp_path, capsys, case):
    text, options, message = BAD_FILES[case]
    path = write(tmp_path, text)
    assert main(["power", "--weights", path, *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"cicasim: error: {path}: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--weights", "nowhere.csv", "--quota", "1"], "nowhere.csv: file not found"),
        ([TINY, "--proposal", "nope"], "--proposal 'nope': no such proposal; allowed: deal"),
        ([TINY, "--quota", "3"], "--quota: the rule of a scenario comes from its proposal"),
        (["missing.toml"], "missing.toml: file not found"),
        ([], "give a SCENARIO"),
        ([TINY, "--weights", "x.csv"], "not both"),
        (["--weights", "x.csv", "--enlarge"], "--enlarge: works with a SCENARIO"),
    ],
)
def test_bad_arguments(capsys, argv, message):
    assert main(["power", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1


def test_enlarge_without_steps(tmp_path, capsys):
    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    text = text[: text.index("[[enlargement]]")]
    path = write(tmp_path, text, "flat.toml")
    assert main(["power", path, "--enlarge"]) == 2
    assert "has no [[enlargement]] steps" in capsys.readouterr().err


def test_enlarge_with_synthetic_members_is_seeded(tmp_path, capsys):
    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    text += '\n[[enlargement]]\nkind = "synthetic"\ncount = 2\n'
    path = write(tmp_path, text, "grow.toml")
    first = run_json(capsys, ["power", path, "--enlarge", "--seed", "5"])
    again = run_json(capsys, ["power", path, "--enlarge", "--seed", "5"])
    assert first == again
    assert [s["n"] for s in first["steps"]] == [3, 4, 6]
    assert_allclose(first["steps"][-1]["passage_probability"], 2.0**-6, rtol=1e-15)


@pytest.mark.parametrize("options,winning", [
    (["--quota", "255", "--min-members", "14", "--min-population-share", "0.62"], 2_718_751),
    (["--min-members-share", "0.55", "--min-members", "15", "--min-population-share", "0.65",
      "--blocking-min", "4"], 17_278_571),
])
def test_the_shipped_eu27_example_gives_the_documented_counts(capsys, options, winning):
    """docs/voting-power.md's EU-27 example runs on the shipped examples/eu27.csv."""
    path = Path(__file__).resolve().parents[1] / "examples" / "eu27.csv"
    assert main(["power", "--weights", str(path), *options, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["winning_coalitions"] == winning and out["n"] == 27
