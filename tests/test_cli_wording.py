"""What the commands' tables are headed by, and counts in the singular: P(consensus) only where
every rule is consensus, P(adopted) otherwise, in run, sweep, compare and sensitivity alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_contract import run_cli

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "tests" / "data" / "tiny.toml").read_text(encoding="utf-8")
CONSENSUS = 'rule = { kind = "consensus" }'


def scenario(folder: Path, rule: str = CONSENSUS, *, members: int = 3) -> Path:
    """tiny.toml under ``rule``; with ``members = 1`` Beta and Gamma are observers."""
    text = TINY.replace(CONSENSUS, rule)
    if members == 1:
        for actor in ("Beta", "Gamma"):
            text = text.replace(f'name = "{actor}"\nrole = "member"',
                                f'name = "{actor}"\nrole = "observer"')
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def experiment(folder: Path, factors: str = "") -> Path:
    path = folder / "e.toml"
    path.write_text(
        '[experiment]\nname = "e"\nscenario = "s.toml"\nseed = 1\nreplications = 40\n'
        '[design]\nkind = "grid"\n[[factors]]\nkind = "enlargement"\n' + factors,
        encoding="utf-8")
    return path


@pytest.mark.parametrize("rule,name", [
    (CONSENSUS, "P(consensus)"),
    ('rule = { kind = "simple-majority" }', "P(adopted)"),
    ('rule = { kind = "consensus-minus-k", k = 1 }', "P(adopted)"),
])
def test_every_command_names_the_probability_by_the_rule(tmp_path, rule, name):
    other = "P(adopted)" if name == "P(consensus)" else "P(consensus)"
    scenario(tmp_path, rule)
    experiment(tmp_path)
    outputs = {
        "run": run_cli(["run", "s.toml", "-n", "40", "--seed", "1"], tmp_path),
        "sweep": run_cli(["sweep", "e.toml", "--out", "o", "-j", "1"], tmp_path),
        "compare": run_cli(["compare", "s.toml", "--enlarge", "-n", "40", "--seed", "1",
                            "-j", "1"], tmp_path),
    }
    for command, (rc, out, err) in outputs.items():
        assert rc == 0, (command, err)
        assert name in out and other not in out, (command, out)
        assert ("share of replications in which the proposal's rule was met" in out) == (
            name == "P(adopted)"), (command, out)


def test_a_rule_factor_heads_the_sweep_by_its_rules(tmp_path):
    scenario(tmp_path)
    experiment(tmp_path, '[[factors]]\nkind = "rule"\nvalues = [{ kind = "consensus" }, '
               '{ kind = "simple-majority" }]\n')
    rc, out, err = run_cli(["sweep", "e.toml", "--out", "o", "-j", "1"], tmp_path)
    assert rc == 0, err
    assert "P(adopted)" in out and "P(consensus)" not in out


def test_rule_names_in_brackets_are_shown(tmp_path):
    """The rule after a title is printed as text, not swallowed as console markup."""
    scenario(tmp_path, 'rule = { kind = "simple-majority" }')
    rc, out, err = run_cli(["run", "s.toml", "-n", "40", "--seed", "1"], tmp_path)
    assert rc == 0, err
    assert "deal: A deeper deal [simple-majority]" in out


def test_counts_of_one_are_singular(tmp_path):
    scenario(tmp_path, members=1)
    experiment(tmp_path)
    rc, out, err = run_cli(["compare", "s.toml", "--enlarge", "-n", "1", "--seed", "1",
                            "-j", "1"], tmp_path)
    assert rc == 0, err
    assert "(1 member)" in out and "1 paired replication per" in out
    rc, out, err = run_cli(["sweep", "e.toml", "--out", "o", "-j", "1", "-n", "1"], tmp_path)
    assert rc == 0, err
    assert "× 1 proposal ×" in out and "1 replication ·" in out and "base (1 member)" in out
    rc, out, err = run_cli(["check", "s.toml"], tmp_path)
    assert rc == 0, err
    assert "1 member: AAA" in out and "3 observers" in out and "1 pair listed" in out
    assert "tensions among members: none" in out and "0 member pairs" not in out


def test_import_counts_one_proposal_in_the_singular(tmp_path):
    (tmp_path / "toy.csv").write_text(
        'Toy, "A toy", 2, 1,\nActor,Description,Power,Trade Position,Trade Salience,\n'
        "AA, Alpha, 100, 80, 40,\nBB, Beta, 50, 40, 50,\n", encoding="utf-8")
    rc, out, err = run_cli(["import", "ktab", "toy.csv", "--status-quo", "0", "--out",
                            "toy.toml"], tmp_path)
    assert rc == 0, err
    assert out.strip() == "wrote toy.toml: 2 actors, 1 proposal"
