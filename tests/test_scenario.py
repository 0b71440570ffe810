"""Scenario files: loading, validation errors (one line, exit code 2, nothing written), schema."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import tomlkit
from conftest import DATA

from cicasim.cli import main
from cicasim.spec.scenario import ScenarioError, json_schema, load_scenario

TINY = DATA / "tiny.toml"


def test_tiny_loads_with_defaults():
    s = load_scenario(TINY)
    assert [a.id for a in s.members] == ["AAA", "BBB", "CCC"]
    assert [a.id for a in s.observers] == ["OBS"]
    assert s.actor("CCC").behaviour.stubbornness == 0.95
    assert s.behaviour.loss_exponent == 2  # default
    assert s.proposal("deal").rule.kind == "consensus"


def _mutated(tmp_path: Path, mutate) -> Path:
    doc = tomlkit.parse(TINY.read_text())
    mutate(doc)
    path = tmp_path / "bad.toml"
    path.write_text(tomlkit.dumps(doc))
    return path


BAD = {
    "unknown key": (
        lambda d: d["actors"][1].update({"colour": "red"}),
        ["actors[1] (BBB).colour", "unknown key"],
    ),
    "out of range": (
        lambda d: d["actors"][0].update({"capability": -1}),
        ["actors[0] (AAA).capability", "greater than 0"],
    ),
    "position out of range": (
        lambda d: d["actors"][0]["position"].update({"integration": 120}),
        ["position.integration", "less than or equal to 100"],
    ),
    "duplicate actor": (
        lambda d: d["actors"][2].update({"id": "AAA"}),
        ["actors[2].id", "duplicate 'AAA'"],
    ),
    "tension absent actor": (
        lambda d: d["tensions"][0].update({"pair": ["AAA", "ZZZ"]}),
        ["tensions[0].pair", "unknown actor 'ZZZ'"],
    ),
    "undefined dimension": (
        lambda d: d["proposals"][0]["touches"][0].update({"dimension": "trade"}),
        ["proposals[0] (deal).touches", "undefined dimension 'trade'", "allowed: integration"],
    ),
    "unknown sponsor": (
        lambda d: d["proposals"][0].update({"sponsor": "XYZ"}),
        ["proposals[0] (deal).sponsor", "unknown actor 'XYZ'"],
    ),
    "bad role": (
        lambda d: d["actors"][0].update({"role": "king"}),
        ["actors[0] (AAA).role", "'member' or 'observer'"],
    ),
    "rule key on wrong rule": (
        lambda d: d["proposals"][0].update({"rule": {"kind": "consensus", "quota": 3}}),
        ["rule.quota", "unknown key"],
    ),
    "unknown rule": (
        lambda d: d["proposals"][0].update({"rule": {"kind": "dictator"}}),
        ["rule", "consensus"],
    ),
    "missing field": (
        lambda d: d["actors"][0].pop("capability"),
        ["actors[0] (AAA).capability", "required"],
    ),
    "self tension": (
        lambda d: d["tensions"][0].update({"pair": ["AAA", "AAA"]}),
        ["tensions[0].pair", "itself"],
    ),
    "missing dimension": (
        lambda d: d["actors"][1]["salience"].pop("integration"),
        ["actors[1] (BBB).salience", "missing dimension"],
    ),
    "enlarge a member": (
        lambda d: d["enlargement"][0].update({"actor": "AAA"}),
        ["enlargement[0].actor", "not an observer"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_give_one_line_and_exit_2(case, tmp_path, capsys):
    mutate, needles = BAD[case]
    path = _mutated(tmp_path, mutate)
    out = tmp_path / "out"
    rc = main(["run", str(path), "-n", "10", "--seed", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 2
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith(f"cicasim: error: {path}: ")
    for needle in needles:
        assert needle in err, err
    assert not out.exists()
    assert not list(tmp_path.glob(".out*")), "temporary output left behind"


def test_malformed_toml(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text("[scenario\nname = 'x'\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cicasim: error: {path}: not valid TOML") and "\n" not in err


def test_missing_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"cicasim: error: {tmp_path / 'nope.toml'}: file not found (a scenario, TOML)"
    )


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_replications_must_be_positive(value, capsys):
    assert main(["run", str(TINY), "--replications", value]) == 2
    err = capsys.readouterr().err.strip()
    assert "--replications" in err and "\n" not in err


def test_scenario_is_never_executed(tmp_path):
    """A scenario is data: a Python payload in a string stays a string."""
    doc = tomlkit.parse(TINY.read_text())
    doc["scenario"]["description"] = "__import__('os').system('touch pwned')"
    path = tmp_path / "s.toml"
    path.write_text(tomlkit.dumps(doc))
    s = load_scenario(path)
    assert s.scenario.description.startswith("__import__")
    assert not (tmp_path / "pwned").exists()


def test_schema_command_prints_the_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json_schema()
    assert set(schema["required"]) >= {"scenario", "dimensions", "actors"}
    assert "actors" in schema["properties"]


def test_schema_accepts_the_bundled_files():
    """Every scenario the project ships validates."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    files = sorted(root.glob("*.toml"))
    for f in files:
        load_scenario(f)
    data = tomllib.loads(TINY.read_text())
    assert data["scenario"]["name"] == "tiny"


def test_scenario_error_is_an_input_error():
    from cicasim.errors import InputError

    assert issubclass(ScenarioError, InputError)
