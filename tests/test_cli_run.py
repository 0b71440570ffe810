"""`cicasim run`, `trace` and `check` end to end, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA

from cicasim.cli import main
from cicasim.results import sha256

TINY = str(DATA / "tiny.toml")


def test_run_json_has_the_documented_keys(capsys):
    assert main(["run", TINY, "-n", "500", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"scenario", "seed", "replications", "proposals"}
    assert out["seed"] == 3 and out["replications"] == 500
    (p,) = out["proposals"]
    assert set(p) >= {
        "id",
        "p_consensus",
        "ci_low",
        "ci_high",
        "median_rounds",
        "mean_dilution",
        "blockers",
    }
    assert p["id"] == "deal"
    assert 0 <= p["ci_low"] <= p["p_consensus"] <= p["ci_high"] <= 1
    assert all(set(b) == {"actor", "frequency"} for b in p["blockers"])
    assert len(p["blockers"]) <= 3


def test_run_table_prints_seed_and_proposal(capsys):
    assert main(["run", TINY, "-n", "200"]) == 0
    out = capsys.readouterr().out
    assert "seed" in out and "drawn" in out and "deal" in out and "P(consensus)" in out


def test_run_out_writes_parquet_and_manifest(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", TINY, "-n", "300", "--seed", "9", "--out", str(out)]) == 0
    table = pd.read_parquet(out / "replications.parquet")
    assert len(table) == 300 and table["replication"].tolist() == list(range(300))
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 9 and man["cicasim_results"] == "run"
    text = (DATA / "tiny.toml").read_text()
    assert man["inputs"]["tiny.toml"]["sha256"] == sha256(text)
    assert man["inputs"]["tiny.toml"]["text"] == text
    assert {"numpy", "numba", "mesa", "python"} <= set(man["versions"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["proposals"][0]["p_consensus"] == pytest.approx(table["passed"].mean())
    # the same seed reproduces the table
    again = tmp_path / "again"
    assert main(["run", TINY, "-n", "300", "--seed", "9", "--out", str(again)]) == 0
    assert table.equals(pd.read_parquet(again / "replications.parquet"))


def test_run_refuses_to_overwrite_a_foreign_directory(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["run", TINY, "-n", "10", "--seed", "1", "--out", str(foreign)]) == 2
    assert "not a cicasim results directory" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_unknown_proposal(capsys):
    assert main(["run", TINY, "--proposal", "nope", "-n", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown id 'nope'" in err and "allowed: deal" in err


def test_trace_tells_the_story(capsys):
    assert main(["trace", TINY, "--proposal", "deal", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "round 1: text (80.0)" in out
    assert "objected" in out and "ended after" in out


def test_trace_json_matches_the_run(capsys):
    assert main(["trace", TINY, "--proposal", "deal", "--seed", "5", "--json"]) == 0
    tr = json.loads(capsys.readouterr().out)
    assert main(["run", TINY, "-n", "1", "--seed", "5", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    passed = run["proposals"][0]["p_consensus"] == 1.0
    assert (tr["end"]["reason"] == "passed") == passed
    assert tr["rounds"][0]["text"] == [80.0]
    assert len(tr["rounds"]) == tr["end"]["rounds"]


def test_check_prints_members_and_observers_apart(capsys):
    assert main(["check", TINY]) == 0
    out = capsys.readouterr().out
    assert "3 members: AAA, BBB, CCC" in out and "1 observer: OBS" in out
    assert "over the 3 member pairs (1 listed" in out
    assert "tensions with observers: 0 pairs listed" in out
    assert "1 step" in out and "1 steps" not in out


def test_check_summarises(capsys):
    assert main(["check", TINY, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["members"] == ["AAA", "BBB", "CCC"] and s["observers"] == ["OBS"]
    t = s["tension"]
    assert t["members_max"] == 0.6
    # members and observers apart: the one listed pair is between members
    assert t["member_pairs"] == 3 and t["member_pairs_listed"] == 1
    assert t["observer_pairs_listed"] == 0
    assert t["highest"][0] == {"pair": ["AAA", "CCC"], "value": 0.6}
    assert all("OBS" in h["pair"] for h in t["highest_with_observers"])
    assert all("OBS" not in h["pair"] for h in t["highest"])
    assert s["proposals"][0]["rule"] == "consensus"


def test_the_smallest_example_has_a_proposal_that_passes(capsys):
    """scenarios/tiny.toml, the documented smallest example: "step" can pass, "deal" cannot."""
    root = Path(__file__).resolve().parents[1]
    assert main(["run", str(root / "scenarios" / "tiny.toml"), "-n", "400", "--seed", "1",
                 "--json"]) == 0
    got = {p["id"]: p["p_consensus"] for p in json.loads(capsys.readouterr().out)["proposals"]}
    assert 0.4 < got["step"] < 0.9 and got["deal"] == 0.0


def test_the_tests_copy_is_the_smallest_example_with_deal_alone():
    """tests/data/tiny.toml is no second example: it is scenarios/tiny.toml without "step"
    (the tests need a proposal that never passes), and may not drift from it."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    example = tomllib.loads((root / "scenarios" / "tiny.toml").read_text(encoding="utf-8"))
    copy = tomllib.loads((DATA / "tiny.toml").read_text(encoding="utf-8"))
    example["proposals"] = [p for p in example["proposals"] if p["id"] != "step"]
    for data in (example, copy):
        for t in data["tensions"]:
            t.pop("source")
    assert copy == example


def test_the_scenario_format_example_is_valid_and_can_pass(tmp_path, capsys):
    import re

    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = re.search(r"## Example\s+```toml\n(.*?)```", doc, re.S).group(1)
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    assert main(["run", str(path), "-n", "200", "--seed", "1", "--json"]) == 0
    (p,) = json.loads(capsys.readouterr().out)["proposals"]
    assert p["p_consensus"] > 0.5


def test_help_imports_nothing_heavy():
    """Building the command line (``cicasim --help``) compiles nothing and loads none of the
    heavy libraries: each command imports them when it runs."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cicasim.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = ('numba', 'pandas', 'pyarrow', 'matplotlib', 'mesa', 'dask', 'scipy', 'SALib',"
        " 'networkx')\n"
        "print(','.join(h for h in heavy if h in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_help_loads_no_command_and_a_command_only_its_own():
    """``cicasim --help`` lists the commands from their sources' HELP without importing any
    command module (so neither numpy nor pydantic); ``cicasim run --help`` imports run alone."""
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from cicasim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(sys.argv[1:])\n"
        "mods = [m for m in sys.modules if m.startswith('cicasim.commands.')]\n"
        "print(','.join(sorted(mods)), 'numpy' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    out = subprocess.run([sys.executable, "-c", code, "run", "--help"], capture_output=True,
                         text=True, check=True).stdout.split()
    assert set(out[0].split(",")) <= {"cicasim.commands.run", "cicasim.commands._common"}


def test_the_help_headings_read_from_source_are_the_modules():
    import importlib

    from cicasim.cli import _command_heading, _command_modules

    for name in _command_modules():
        mod = importlib.import_module(f"cicasim.commands.{name}")
        assert _command_heading(name) == (getattr(mod, "NAME", name), mod.HELP)


def test_results_respect_the_umask(tmp_path, capsys):
    """A results directory and its files get the mode the umask gives any other file, not the
    0700 / 0600 of temporary files."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "res"
        assert main(["run", TINY, "-n", "20", "--seed", "1", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for f in out.iterdir():
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o644, f.name


def test_run_reports_progress_per_block(tmp_path):
    """cicasim run's progress bar: one tick per replication block of every proposal, with or
    without the per-replication table."""
    from cicasim.analysis.runs import run_scenario

    for table in (None, tmp_path / "replications.parquet"):
        seen: list[tuple[int, int]] = []
        run_scenario(DATA / "tiny.toml", replications=2500, seed=1, keep=False, table=table,
                     progress=lambda *tick, seen=seen: seen.append(tick))
        assert seen == [(k, 3) for k in (1, 2, 3)]  # 2,500 replications: 3 blocks of 1,024
    assert pd.read_parquet(tmp_path / "replications.parquet").shape[0] == 2500
