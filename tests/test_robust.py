"""Regression tests of each root cause of bad-input failures (docs/reliability.md): special
files, symlink loops, TOML limits, values the engine cannot take, echoed control characters,
size guards, output paths, full disks, a second writer, provenance keys, damaged results
directories, Dask addresses and Ctrl-C."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from cli_contract import assert_contract, run_cli, snapshot
from hypothesis import given
from hypothesis import strategies as st

import cicasim.results.directory
import cicasim.results.files
import cicasim.sweep
from cicasim.analysis.power import passage_probability, power_indices
from cicasim.errors import MAX_MESSAGE, InputError, read_text
from cicasim.results import lock_directory, write_text_atomic
from cicasim.spec.rules import Consensus, ConsensusMinusK, QualifiedMajority, SimpleMajority

ROOT = Path(__file__).resolve().parents[1]
TINY_PATH = ROOT / "tests" / "data" / "tiny.toml"
TINY = TINY_PATH.read_text(encoding="utf-8")


def experiment(scenario: str, extra: str = "") -> str:
    return (f'[experiment]\nname = "t"\nscenario = "{scenario}"\nseed = 1\nreplications = 40\n'
            + extra)


def fail(argv, tmp: Path, *expected: str) -> str:
    """Run ``argv`` in ``tmp``: exit 2, one line containing each ``expected``, nothing
    written; returns the line."""
    before = snapshot(tmp)
    rc, _, err = run_cli(argv, cwd=tmp)
    assert_contract(rc, err, before, snapshot(tmp))
    assert rc == 2, err
    for text in expected:
        assert text in err, err
    return err


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY, encoding="utf-8")
    return tmp_path


# -- 1. reading input ----------------------------------------------------------------------------


def test_a_fifo_is_refused_without_blocking(folder):
    os.mkfifo(folder / "pipe.toml")
    fail(["check", "pipe.toml"], folder, "pipe.toml: is a named pipe (FIFO)")
    fail(["sweep", "pipe.toml", "--out", "o"], folder, "named pipe")
    (folder / "e.toml").write_text(experiment("pipe.toml"), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o"], folder, "e.toml: experiment.scenario: ",
          "named pipe")


def test_a_symlink_loop_and_a_path_through_a_file(folder):
    (folder / "loop.toml").symlink_to("loop.toml")
    fail(["check", "loop.toml"], folder, "loop.toml: cannot be read (Too many levels")
    fail(["check", "tiny.toml/x.toml"], folder, "tiny.toml/x.toml: cannot be read (Not a dir")
    (folder / "e.toml").write_text(experiment("loop.toml"), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o"], folder, "experiment.scenario: ", "Too many levels")


def test_devices_long_names_and_directories(folder):
    fail(["check", "/dev/zero"], folder, "/dev/zero: is a character device")
    fail(["power", "--weights", "/dev/urandom", "--quota", "1"], folder, "character device")
    fail(["check", "n" * 300 + ".toml"], folder, "File name too long")
    fail(["check", "."], folder, "is a directory")


def test_the_size_cap(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 100 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="larger than the 0 MiB allowed"):
        read_text(big, limit=50)
    assert read_text(big, limit=200).startswith("# x")


def test_toml_nesting_and_huge_integers(folder):
    (folder / "deep.toml").write_text("x = " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    fail(["check", "deep.toml"], folder, "nested too deeply")
    (folder / "deep2.toml").write_text("x = " + "[" * 40 + "]" * 40 + "\n", encoding="utf-8")
    fail(["check", "deep2.toml"], folder, "nested more than 32 levels")
    (folder / "big.toml").write_text(TINY.replace('year', 'y') + "\n[x]\ny = " + "1" * 5000,
                                     encoding="utf-8")
    fail(["check", "big.toml"], folder, "a number is too long to read")
    (folder / "e.toml").write_text(experiment("tiny.toml").replace("seed = 1", "seed = "
                                                                   + "9" * 5000),
                                   encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o"], folder, "e.toml: a number is too long")


# -- 3. values the engine cannot take ------------------------------------------------------------


@pytest.mark.parametrize("rule,field", [
    ('{ kind = "consensus-minus-k", k = 18446744073709551616 }', "rule.k"),
    ('{ kind = "qualified-majority", min_members = 1, blocking_min = 18446744073709551616 }',
     "rule.blocking_min"),
    ('{ kind = "qualified-majority", quota = inf }', "rule.quota"),
    ('{ kind = "qualified-majority", quota = 1e300 }', "rule.quota"),
])
def test_rules_beyond_the_engine_fail_check(folder, rule, field):
    (folder / "r.toml").write_text(TINY.replace('{ kind = "consensus" }', rule),
                                   encoding="utf-8")
    for command in (["check", "r.toml"], ["run", "r.toml", "-n", "10"],
                    ["power", "r.toml", "--json"]):
        fail(command, folder, f"proposals[0] (deal).{field}:")


def test_the_largest_allowed_values_run_without_warnings(folder):
    """Warnings are errors in the tests: an overflow in the engine would fail this run."""
    text = TINY.replace("position_sd = 5.0", "position_sd = 1000.0\ncapability_sd = 1000.0")
    text = text.replace("tension_sd = 0.05", "tension_sd = 1000.0")
    text = text.replace('{ kind = "consensus" }',
                        '{ kind = "consensus-minus-k", k = 1000000 }')
    (folder / "max.toml").write_text(text, encoding="utf-8")
    rc, out, err = run_cli(["run", "max.toml", "-n", "200", "--seed", "1", "--json"], folder)
    assert rc == 0, err
    assert json.loads(out)["proposals"][0]["p_consensus"] == 1.0  # k tolerates every objection
    fail(["check", "over.toml"], folder, "file not found")
    (folder / "over.toml").write_text(text.replace("1000.0", "1e308", 1), encoding="utf-8")
    fail(["check", "over.toml"], folder, "uncertainty.position_sd: Input should be less than")


# -- 2. one line, escaped, cut ------------------------------------------------------------------


@pytest.mark.parametrize("old,new,expected", [
    ('id = "AAA"', 'id = "A\\nA"', "(A\\nA).id"),
    ("vote_noise = 0.02", '"vote\\nnoise" = 0.02', "behaviour.vote\\nnoise: unknown key"),
    ('kind = "observer-joins"', 'kind = "x\\u2028y"', "x\\u2028y"),
    ('name = "tiny"', 'name = "tiny"\nlong = "' + "z" * 100_000 + '"', "unknown key"),
    ('role = "member"', 'role = "\\u001b[31m' + "q" * 100_000 + '"', "(got '\\x1b[31mqqq"),
])
def test_errors_are_one_escaped_line_of_bounded_length(folder, old, new, expected):
    (folder / "x.toml").write_text(TINY.replace(old, new, 1), encoding="utf-8")
    err = fail(["check", "x.toml"], folder, expected)
    assert len(err) < MAX_MESSAGE + 100


def test_a_file_name_with_a_newline(folder):
    fail(["check", "a\nb.toml"], folder, "a\\nb.toml: file not found")


# -- 4. size guards -----------------------------------------------------------------------------


def test_replications_and_designs_are_bounded_before_anything_is_built(folder):
    fail(["run", "tiny.toml", "-n", str(10**12)], folder, "must be at most 10,000,000")
    grid = "".join(
        f'\n[[factors]]\nkind = "behaviour"\nparameter = "{p}"\nrange = [0.0, 0.5]\n'
        "levels = 10000\n" for p in ("threshold", "holdup_rate", "influence_rate"))
    (folder / "e.toml").write_text(experiment("tiny.toml", grid), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o"], folder,
          "factors: the grid has 10000 x 10000 x 10000 = 1,000,000,000,000 design points")
    (folder / "l.toml").write_text(experiment(
        "tiny.toml", '[design]\nkind = "latin-hypercube"\nsamples = 1000000\n' + grid),
        encoding="utf-8")
    fail(["sweep", "l.toml", "--out", "o"], folder, "design.samples: Input should be less")
    fail(["plot", ".", "--dpi", "100000"], folder, "--dpi: must be at most 1,200")
    fail(["schema", "--indent", str(10**9)], folder, "--indent: must be at most 16")


def test_power_states_its_member_limit(folder):
    rows = "".join(f"A{i},1\n" for i in range(501))
    (folder / "w.csv").write_text("actor,weight\n" + rows, encoding="utf-8")
    fail(["power", "--weights", "w.csv", "--rule", "unanimity"], folder, "at most 500 members")


@given(
    n=st.integers(1, 9),
    rule=st.sampled_from([
        Consensus(), ConsensusMinusK(k=1), ConsensusMinusK(k=3), SimpleMajority(),
        QualifiedMajority(quota=5), QualifiedMajority(min_members=3, blocking_min=2),
        QualifiedMajority(quota=4, min_population_share=0.5),
    ]),
    seed=st.integers(0, 1000),
)
def test_passage_probability_alone_equals_the_power_analysis(n, rule, seed):
    rng = np.random.default_rng(seed)
    votes = rng.integers(1, 5, n).tolist()
    population = rng.integers(1, 50, n).tolist()
    want = power_indices(rule=rule, votes=votes, population=population).passage_probability
    assert passage_probability(rule=rule, votes=votes, population=population) == want


def test_consensus_alone_is_the_closed_form_at_any_size():
    assert passage_probability(rule=Consensus(), votes=[1] * 2000) == 2.0**-2000 == 0.0
    assert passage_probability(rule=Consensus(), votes=[1] * 60) == 2.0**-60


# -- 5. output safety ---------------------------------------------------------------------------


def test_run_out_never_replaces_a_users_directory_or_other_results(folder):
    mine = folder / "mine"
    mine.mkdir()
    (mine / "manifest.json").write_text('{"cicasim_results": "run"}', encoding="utf-8")
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    for force in ([], ["--force"]):
        fail(["run", "tiny.toml", "-n", "10", "--out", "mine", *force], folder,
              "holds files cicasim did not write ('notes.txt')")
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    (folder / "e.toml").write_text(experiment("tiny.toml"), encoding="utf-8")
    assert run_cli(["sweep", "e.toml", "--out", "sw", "-j", "1", "--json"], folder)[0] == 0
    for command in (["run", "tiny.toml"], ["compare", "tiny.toml", "--enlarge", "-j", "1"]):
        fail([*command, "-n", "10", "--out", "sw", "--force"], folder,
              "holds 'sweep' results, not")
    assert run_cli(["run", "tiny.toml", "-n", "10", "--out", "r"], folder)[0] == 0
    fail(["run", "tiny.toml", "-n", "10", "--out", "r"], folder,
          "already holds run results; pass --force")
    rc, _, err = run_cli(["run", "tiny.toml", "-n", "20", "--seed", "4", "--out", "r",
                          "--force"], folder)
    assert rc == 0, err
    assert json.loads((folder / "r" / "manifest.json").read_text())["seed"] == 4


@pytest.mark.parametrize("out,expected", [
    ("tiny.toml/out", "cannot be used as an output directory (Not a directory)"),
    ("/proc/cicasim-out", "cannot create the directory"),
    ("o" * 300, "File name too long"),
    ("/dev/full", "exists and is not a directory"),
])
def test_unusable_out_paths_fail_before_computing(folder, out, expected):
    for command in (["run", "tiny.toml", "-n", "10"],
                    ["compare", "tiny.toml", "--enlarge", "-n", "10", "-j", "1"]):
        fail([*command, "--out", out], folder, expected)


def test_an_unwritable_directory(folder, monkeypatch):
    """Tests run as root, which permission bits do not stop: the refusal is simulated."""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(cicasim.results.directory.tempfile, "mkdtemp", refuse)
    fail(["run", "tiny.toml", "-n", "10", "--out", "o"], folder, "cannot write here",
          "Permission denied")


def test_a_full_disk_leaves_nothing_half_written(folder, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # run --out streams its table through pyarrow's ParquetWriter as the blocks come
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    fail(["run", "tiny.toml", "-n", "10", "--out", "o"], folder, "o: cannot write the results",
          "No space left on device")
    monkeypatch.undo()
    (folder / "e.toml").write_text(experiment("tiny.toml"), encoding="utf-8")
    monkeypatch.setattr(cicasim.sweep.store.pq, "write_table", full)
    rc, _, err = run_cli(["sweep", "e.toml", "--out", "sw", "-j", "1"], folder)
    assert_contract(rc, err)
    assert rc == 2 and "No space left on device" in err
    assert not [p for p in (folder / "sw").rglob("*") if p.name.endswith(".tmp")]


def test_report_on_a_full_disk_removes_its_temporary_file(folder, monkeypatch):
    assert run_cli(["run", "tiny.toml", "-n", "10", "--out", "r"], folder)[0] == 0
    real = os.replace

    def full(src, dst):
        if str(dst).endswith(".html"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(cicasim.results.files.os, "replace", full)
    before = snapshot(folder)
    rc, _, err = run_cli(["report", "r"], folder)
    assert_contract(rc, err, before, snapshot(folder))
    assert rc == 2 and "report.html: cannot be written (No space left on device)" in err


def test_files_are_written_by_rename_onto_regular_files_only(tmp_path):
    with pytest.raises(InputError, match="/dev/full: exists and is not a regular file"):
        write_text_atomic("/dev/full", "x")
    assert Path("/dev/full").is_char_device()
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="not a regular file"):
        write_text_atomic(tmp_path / "pipe", "x")
    write_text_atomic(tmp_path / "new.txt", "x")
    assert (tmp_path / "new.txt").read_text() == "x"


@pytest.mark.parametrize("argv", [
    ["import", "ktab", "k.csv", "--out"],
    ["calibrate", "--data", "data", "--year", "2022", "--out"],
])
def test_file_writers_refuse_special_files_before_working(folder, argv):
    fail([*argv, "/dev/full"], folder, "/dev/full: exists and is not a regular file")
    fail([*argv, "tiny.toml/x.toml"], folder, "(Not a directory)")
    assert Path("/dev/full").is_char_device()


def test_standard_output_on_a_full_device(folder):
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-c", "from cicasim.cli import entry; entry()", "schema"],
            stdout=full, stderr=subprocess.PIPE, text=True, cwd=folder, check=False,
        )
    assert proc.returncode == 2
    assert proc.stderr == (
        "cicasim: error: standard output: cannot be written (No space left on device)\n"
    )


def _hold_lock(directory: Path) -> subprocess.Popen:
    """A second process that holds ``directory``'s lock until killed."""
    code = ("import sys, time\nfrom cicasim.results import lock_directory\n"
            "with lock_directory(sys.argv[1]):\n    print('locked', flush=True)\n"
            "    time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(directory)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_a_second_writer_gets_a_clean_error(folder):
    (folder / "e.toml").write_text(experiment("tiny.toml"), encoding="utf-8")
    for out, argv in (("sw", ["sweep", "e.toml", "-j", "1"]),
                      ("r", ["run", "tiny.toml", "-n", "10"])):
        (folder / out).mkdir()
        proc = _hold_lock(folder / out)
        try:
            fail([*argv, "--out", out], folder, "another cicasim command is writing to this")
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        assert run_cli([*argv, "--out", out], folder)[0] == 0  # the lock died with its process


def test_the_lock_is_exclusive_within_a_process_too(tmp_path):
    with lock_directory(tmp_path), pytest.raises(InputError, match="another cicasim"):
        with lock_directory(tmp_path):
            pass


# -- 6. provenance and damaged results ------------------------------------------------------------


def test_manifest_inputs_are_keyed_by_path(folder):
    for d, label in (("a", "A"), ("b", "B")):
        (folder / d).mkdir()
        (folder / d / "tiny.toml").write_text(TINY.replace('name = "tiny"',
                                                           f'name = "tiny {label}"'))
    factor = '\n[[factors]]\nkind = "scenario"\nvalues = ["a/tiny.toml", "b/tiny.toml"]\n'
    (folder / "e.toml").write_text(experiment("tiny.toml", factor), encoding="utf-8")
    rc, _, err = run_cli(["sweep", "e.toml", "--out", "o", "-j", "1", "--json"], folder)
    assert rc == 0, err
    inputs = json.loads((folder / "o" / "manifest.json").read_text())["inputs"]
    assert sorted(inputs) == ["a/tiny.toml", "b/tiny.toml", "e.toml", "tiny.toml"]
    assert 'name = "tiny A"' in inputs["a/tiny.toml"]["text"]
    assert 'name = "tiny B"' in inputs["b/tiny.toml"]["text"]
    assert inputs["tiny.toml"]["text"] == TINY


def test_a_scenario_factor_with_independent_streams(folder):
    """Found by the fuzz: a scenario factor's file names entered the seed key as numbers."""
    (folder / "b.toml").write_text(TINY.replace("vote_noise = 0.02", "vote_noise = 0.03"))
    factor = '\n[[factors]]\nkind = "scenario"\nvalues = ["tiny.toml", "b.toml"]\n'
    text = experiment("tiny.toml", factor).replace(
        "replications = 40", "replications = 40\ncommon_random_numbers = false")
    (folder / "e.toml").write_text(text, encoding="utf-8")
    rc, out, err = run_cli(["sweep", "e.toml", "--out", "o", "-j", "1", "--json"], folder)
    assert rc == 0, err
    assert not json.loads(out)["common_random_numbers"]


def test_plot_and_report_on_damaged_results(folder):
    assert run_cli(["run", "tiny.toml", "-n", "10", "--out", "r"], folder)[0] == 0
    manifest = folder / "r" / "manifest.json"
    good = manifest.read_text(encoding="utf-8")
    for damaged in ({"inputs": ["not", "a", "table"]}, {"inputs": {"x": "text"}},
                    {"seed": "x"}, {"cicasim_results": ["run"]}):
        m = json.loads(good) | damaged
        manifest.write_text(json.dumps(m), encoding="utf-8")
        for command in (["plot", "r"], ["report", "r"]):
            fail(command, folder, "manifest.json: ")
    manifest.write_text(good, encoding="utf-8")
    (folder / "r" / "replications.parquet").write_bytes(b"PAR1 garbage " * 10)
    for command in (["plot", "r"], ["report", "r"]):
        fail(command, folder, "replications.parquet: not a readable Parquet table")


# -- 7. Dask -----------------------------------------------------------------------------------


@pytest.mark.parametrize("argv,expected", [
    (["--scheduler", ""], "--scheduler: empty address"),
    (["--scheduler", "inproc://x"], "the 'inproc' transport is not supported"),
    (["--scheduler", "ucx://h:1"], "the 'ucx' transport is not supported"),
    (["--scheduler", "tcp://[::1"], "is not a scheduler address"),
    (["--scheduler", "tls://127.0.0.1:9"], "a tls:// scheduler needs --tls-ca-file"),
    (["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "none.pem", "--tls-cert", "x.pem"],
     "--tls-ca-file: none.pem: file not found"),
    (["--scheduler", "tcp://127.0.0.1:9", "--tls-cert", "tiny.toml"], "need a tls:// scheduler"),
    (["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers: applies to local"),
])
def test_bad_scheduler_options(folder, argv, expected):
    (folder / "e.toml").write_text(experiment("tiny.toml"), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o", *argv], folder, expected)


def test_a_server_that_is_not_dask(folder):
    """It answers with a frame length of 2**64 - 1; the client must not try to allocate it."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        with server:
            conn, _ = server.accept()  # the probe
            conn.close()
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"\xff" * 64)
                time.sleep(1)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    (folder / "e.toml").write_text(experiment("tiny.toml"), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o", "--scheduler", f"tcp://127.0.0.1:{port}"], folder,
          f"--scheduler: no Dask scheduler answered at tcp://127.0.0.1:{port}")
    thread.join(timeout=30)


# -- 8. messages ---------------------------------------------------------------------------------


def test_messages_name_the_file_and_the_field(folder):
    fail(["run", str(ROOT / "experiments" / "cica-path.toml")], folder,
          "is an experiment file", "run it with `cicasim sweep`")
    (folder / "np.toml").write_text(TINY.split("[[proposals]]")[0], encoding="utf-8")
    fail(["run", "np.toml", "-n", "10"], folder,
          "np.toml: proposals: the scenario defines no proposals")
    (folder / "bad.toml").write_text(TINY.replace("capability = 3.0", "capability = -3.0"),
                                     encoding="utf-8")
    factor = '\n[[factors]]\nkind = "scenario"\nvalues = ["tiny.toml", "bad.toml"]\n'
    (folder / "e.toml").write_text(experiment("tiny.toml", factor), encoding="utf-8")
    fail(["sweep", "e.toml", "--out", "o"], folder,
          "e.toml: factors[0] (scenario).values[1]: ", "bad.toml: actors[0] (AAA).capability")


def test_ctrl_c_during_a_sweep_says_interrupted_once(folder):
    grid = ('\n[[factors]]\nkind = "behaviour"\nparameter = "threshold"\nrange = [0.0, 0.1]\n'
            "levels = 400\n")
    (folder / "e.toml").write_text(
        experiment("tiny.toml", grid).replace("replications = 40", "replications = 5000"),
        encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cicasim.cli import entry; entry()", "sweep", "e.toml",
         "--out", "o", "--workers", "2"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        while not list((folder / "o" / "replications.parquet").glob("points-*.parquet")):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert err == "cicasim: interrupted\n"
