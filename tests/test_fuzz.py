"""Fuzzing the command line: mutated scenario and experiment files and random command lines
must end in exit 0, or exit 2 with one line on stderr, no traceback and nothing written.

Each example runs ``cicasim.cli.main`` in this process, in a fresh temporary folder that holds
the mutated file next to special files (a FIFO, a symlink loop, a file in the way of a path).
The budget is small by default; ``CICASIM_FUZZ=N`` runs N examples per test (``make fuzz``).
Warnings are errors in the tests, so a numpy overflow on an exit-0 run fails them too.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from cli_contract import assert_contract, run_cli, snapshot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cicasim.analysis.sensitivity
import cicasim.sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"
CICA = ROOT / "scenarios" / "cica-2022.toml"
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))
BUDGET = int(os.environ.get("CICASIM_FUZZ", "0") or 0)


def budget(default: int) -> settings:
    return settings(
        max_examples=BUDGET or default, deadline=None, derandomize=not BUDGET,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


#: An experiment on the small scenario with every factor kind and a space-filling design.
SMALL_EXPERIMENT = f"""
[experiment]
name = "fuzz"
scenario = "{TINY.as_posix()}"
seed = 5
replications = 40
common_random_numbers = true

[design]
kind = "latin-hypercube"
samples = 4

[[factors]]
kind = "behaviour"
parameter = "vote_noise"
range = [0.01, 0.05]

[[factors]]
kind = "uncertainty"
parameter = "position_sd"
values = [0.0, 2.0]

[[factors]]
kind = "rule"
values = [{{kind = "consensus"}}, {{kind = "consensus-minus-k", k = 1}}]

[sensitivity]
samples = 4
"""

VALUES = [
    "0", "-1", "1", "0.5", "1e308", "-1e308", "1e-320", "inf", "-inf", "nan", "true", "2024-01-01",
    "18446744073709551616", "9223372036854775808", "1000000", "4294967296", "-0.0",
    "1" * 5000, '""', '"x\\ny"', '"\\u2028\\u001b[31m"', '"' + "a" * 100_000 + '"',
    "[]", "{}", "[1, 2]", '["a", "b"]', '{ kind = "consensus" }', '{ kind = "nope" }',
    '{ kind = "qualified-majority", quota = inf }',
    '{ kind = "consensus-minus-k", k = 18446744073709551616 }',
    '{ kind = "qualified-majority", min_members = 1, blocking_min = 4294967296 }',
    "[" * 40 + "]" * 40, "[" * 600 + "]" * 600, "{ a = " * 40 + "1" + " }" * 40,
    '"/dev/zero"', '"fifo.toml"', '"loop.toml"', '"file/x.toml"', '"' + "n" * 300 + '.toml"',
]
KEYS = ['"a\\nb"', "x" * 300, "kind", "id", "values", "range", "levels", "samples", "k"]
LINES = [
    "[design]\nkind = \"grid\"", "[[factors]]\nkind = \"behaviour\"\nparameter = \"threshold\"\n"
    "range = [0.0, 0.1]\nlevels = 10000", "[[factors]]\nkind = \"enlargement\"",
    "[design]\nkind = \"sobol\"\nsamples = 65536", "[[proposals]]", "[[actors]]",
    "[[enlargement]]\nkind = \"synthetic\"\ncount = 500", "[sensitivity]\nsamples = 65536",
]
_ASSIGN = re.compile(r"^(\s*[\w.\"-]+\s*=\s*)(.+)$")
_SCALAR = re.compile(r'"[^"\n]*"|-?\d+(?:\.\d+)?(?:e-?\d+)?')


@st.composite
def mutated(draw, text: str) -> bytes:
    """``text`` after one to three random edits: a value, key, line or byte changed."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(
            ["value", "value", "scalar", "scalar", "key", "delete", "duplicate", "insert",
             "truncate", "bytes"]
        ))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op in ("value", "key"):
            candidates = [j for j, ln in enumerate(lines) if _ASSIGN.match(ln)]
            if not candidates:
                continue
            i = draw(st.sampled_from(candidates))
            m = _ASSIGN.match(lines[i])
            if op == "value":
                lines[i] = m.group(1) + draw(st.sampled_from(VALUES))
            else:
                lines[i] = draw(st.sampled_from(KEYS)) + " = " + m.group(2)
        elif op == "scalar":
            found = list(_SCALAR.finditer(lines[i]))
            if found:
                m = draw(st.sampled_from(found))
                value = draw(st.sampled_from(VALUES))
                lines[i] = lines[i][: m.start()] + value + lines[i][m.end():]
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(LINES)))
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            return ("\n".join(lines) + "\n").encode() + draw(st.binary(min_size=1, max_size=8))
    return ("\n".join(lines) + "\n").encode()


def _folder(tmp: Path) -> None:
    """Special files the mutated paths may point at."""
    os.mkfifo(tmp / "fifo.toml")
    (tmp / "loop.toml").symlink_to("loop.toml")
    (tmp / "file").write_text("in the way\n", encoding="utf-8")


def expect(argv: list[str], tmp: Path) -> None:
    before = snapshot(tmp)
    rc, _, err = run_cli(argv, cwd=tmp)
    event(f"exit {rc}")  # the share of each exit code, in --hypothesis-show-statistics
    assert_contract(rc, err, before, snapshot(tmp) if rc == 2 else None, what=" ".join(argv)[:300])


SCENARIO_COMMANDS = [
    ["check", "{f}"],
    ["check", "{f}", "--json"],
    ["run", "{f}", "-n", "16", "--seed", "3", "--json"],
    ["run", "{f}", "-n", "16", "--seed", "3", "--out", "out"],
    ["power", "{f}", "--proposal", "{p}", "--json"],
    ["power", "{f}", "--proposal", "{p}", "--enlarge", "--json"],
    ["trace", "{f}", "--proposal", "{p}", "--seed", "2", "--json"],
    ["compare", "{f}", "--enlarge", "-n", "16", "--seed", "1", "-j", "1", "--json"],
]


@budget(100)
@given(data=st.data())
def test_mutated_scenarios(data):
    base, pid = data.draw(st.sampled_from([(TINY, "deal"), (CICA, "transformation")]))
    body = data.draw(mutated(base.read_text(encoding="utf-8")))
    argv = data.draw(st.sampled_from(SCENARIO_COMMANDS))
    with tempfile.TemporaryDirectory(prefix="cicasim-fuzz-") as name:
        tmp = Path(name)
        _folder(tmp)
        (tmp / "s.toml").write_bytes(body)
        expect([a.format(f="s.toml", p=pid) for a in argv], tmp)


@budget(40)
@given(data=st.data())
def test_mutated_experiments(data, monkeypatch_points):
    choices = [(p.read_text(encoding="utf-8"), True) for p in EXPERIMENTS]
    text, in_tree = data.draw(st.sampled_from([*choices, (SMALL_EXPERIMENT, False)]))
    body = data.draw(mutated(text))
    command = data.draw(st.sampled_from(["sweep", "sweep", "sensitivity"]))
    with tempfile.TemporaryDirectory(prefix="cicasim-fuzz-") as name:
        tmp = Path(name)
        _folder(tmp)
        # the shipped experiments name ../scenarios/...: give them the same neighbours
        (tmp / "scenarios").symlink_to(ROOT / "scenarios")
        (tmp / "experiments").mkdir()
        exp = tmp / "experiments" / "e.toml"
        exp.write_bytes(body)
        argv = [command, str(exp), "--out", "out", "-n", "4", "-j", "1", "--json"]
        expect(argv, tmp)


@pytest.fixture(scope="module")
def monkeypatch_points():
    """Design points capped at 48 while fuzzing: the guard is what is tested, and a mutated
    grid of 10,000 points would take minutes to run."""
    mp = pytest.MonkeyPatch()
    mp.setattr(cicasim.sweep.plan, "MAX_POINTS", 48)
    mp.setattr(cicasim.analysis.sensitivity, "MAX_POINTS", 48)
    yield
    mp.undo()


PATHS = ["s.toml", "fifo.toml", "loop.toml", "file/x.toml", "/dev/zero", "n" * 300, "a\nb.toml",
         "missing.toml", ".", "e.toml", "/proc/self/mem"]
OUTS = ["out", "file/out", "/proc/cicasim-out", "o" * 300, "/dev/full", "fifo.toml", ".", "s.toml"]
OPTIONS = {
    "-n": ["0", "-1", "3", "10000001", "1e3", "99999999999999999999999", "", "x"],
    "--seed": ["-1", "0", "18446744073709551616", "1" * 5000, "x"],
    "--out": OUTS,
    "--scheduler": ["", "inproc://x", "ucx://h:1", "tcp://[::1", "tcp://h:99999", "tls://h:1",
                    "tcp://127.0.0.1:9", "http://x"],
    "--workers": ["0", "1", "300", "x"],
    "--dpi": ["0", "100000", "72"],
    "--indent": ["-1", "1000000000", "2"],
    "--proposal": ["deal", "nope", "a\nb"],
    "--replication": ["-1", "10000000", "0"],
    "--kind": ["summary", "nope"],
    "--format": ["png", "bmp"],
    "--weights": ["w.csv", "fifo.toml", "/dev/zero", "loop.toml"],
    "--quota": ["inf", "nan", "-1", "1e308", "2"],
    "--min-members": ["0", "99999999999999999999", "2"],
    "--blocking-min": ["0", "4294967296", "2"],
    "--rule": ["unanimity", "majority", "x"],
    "--steps": ["0", "1", "5"],
    "--tls-ca-file": ["fifo.toml", "missing.pem"],
}
FLAGS = ["--json", "--force", "--resume", "--enlarge", "--pivotality"]  # --plots: too slow here
COMMANDS = ["check", "run", "power", "trace", "compare", "sweep", "sensitivity", "plot",
            "report", "schema", "import", "calibrate", "validate", "nope", "--version"]


@budget(100)
@given(data=st.data())
def test_command_lines(data):
    argv = [data.draw(st.sampled_from(COMMANDS))]
    argv += data.draw(st.lists(st.sampled_from(PATHS), max_size=2))
    for _ in range(data.draw(st.integers(0, 4))):
        if data.draw(st.booleans()):
            option = data.draw(st.sampled_from(sorted(OPTIONS)))
            argv += [option, data.draw(st.sampled_from(OPTIONS[option]))]
        else:
            argv.append(data.draw(st.sampled_from(FLAGS)))
    if argv[0] in ("run", "compare", "trace") and "-n" not in argv:
        argv += ["-n", "8"] if argv[0] != "trace" else []
    if argv[0] in ("compare", "sweep", "sensitivity") and "--workers" not in argv:
        argv += ["--workers", "1"]
    with tempfile.TemporaryDirectory(prefix="cicasim-fuzz-") as name:
        tmp = Path(name)
        _folder(tmp)
        (tmp / "s.toml").write_text(TINY.read_text(encoding="utf-8"), encoding="utf-8")
        (tmp / "e.toml").write_text(SMALL_EXPERIMENT, encoding="utf-8")
        (tmp / "w.csv").write_text("actor,weight\nA,3\nB,2\nC,1\n", encoding="utf-8")
        expect(argv, tmp)
