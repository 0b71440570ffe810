"""The results layer (cicasim.results): the typed manifest read and written in one place, the one
rule for what a results directory is, and Results reading a directory back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cicasim.errors import InputError
from cicasim.results import (
    MANIFEST,
    Manifest,
    Results,
    check_output_directory,
    manifest,
    open_results,
    read_manifest,
    sha256,
)
from cicasim.results.directory import directory_entries, existing_results


def test_a_new_manifest_records_its_provenance(tmp_path):
    m = manifest(kind="run", seed=5, inputs={"s.toml": "x = 1\n"}, replications=10)
    assert isinstance(m, Manifest) and m.kind == "run" and m.seed == 5
    assert m.inputs == {"s.toml": {"sha256": sha256("x = 1\n"), "text": "x = 1\n"}}
    assert m["replications"] == 10 and m.get("absent") is None
    assert {"created", "versions", "git_commit", "block_size", "command"} <= set(m)
    m.write(tmp_path)
    on_disk = json.loads((tmp_path / MANIFEST).read_text())
    assert list(on_disk) == list(m) and on_disk["seed"] == 5  # the key order kept
    back = read_manifest(tmp_path)
    assert back == m and back.inputs == m.inputs
    assert len(repr(back)) < 200 and "'run'" in repr(back)


@pytest.mark.parametrize(("data", "message"), [
    ({"seed": 1}, "results kind None is not a cicasim results kind"),
    ({"cicasim_results": "run", "seed": 1.5}, "seed: expected a whole number"),
    ({"cicasim_results": "run", "seed": True}, "seed: expected a whole number"),
    ({"cicasim_results": "run", "inputs": {"a": 1}}, "inputs: expected a table of file names"),
])
def test_a_malformed_manifest_is_one_line(tmp_path, data, message):
    (tmp_path / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as err:
        read_manifest(tmp_path)
    assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def test_the_rule_for_a_results_directory(tmp_path):
    with pytest.raises(InputError, match="no such results directory"):
        read_manifest(tmp_path / "absent")
    with pytest.raises(InputError, match=r"not a cicasim results directory \(no manifest.json\)"):
        read_manifest(tmp_path)
    manifest(kind="sweep", seed=1, inputs={}).write(tmp_path)
    with pytest.raises(InputError, match="results kind 'sweep' is not run, compare"):
        read_manifest(tmp_path, kinds=("run", "compare"))
    assert read_manifest(tmp_path, kinds=("sweep",)).kind == "sweep"


def test_an_output_directory_is_checked_by_the_same_rule(tmp_path):
    assert check_output_directory(tmp_path / "new", kind="run") is False
    assert check_output_directory(tmp_path, kind="run") is True  # empty
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not a cicasim results directory"):
        check_output_directory(tmp_path, kind="run")
    (tmp_path / "notes.txt").unlink()
    manifest(kind="run", seed=1, inputs={}).write(tmp_path)
    with pytest.raises(InputError, match="already holds run results; pass --force"):
        check_output_directory(tmp_path, kind="run")
    with pytest.raises(InputError, match="holds 'run' results, not compare results"):
        check_output_directory(tmp_path, kind="compare")
    assert check_output_directory(tmp_path, kind="run", force=True) is True



def test_an_existing_output_directory_is_read_through_the_typed_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text("{", encoding="utf-8")
    entries = directory_entries(tmp_path)
    with pytest.raises(InputError, match="is not a cicasim results directory; give a new one$"):
        existing_results(tmp_path, entries, kind="sweep", instead="a new one")
    with pytest.raises(InputError, match="manifest.json: not valid JSON"):  # with the reason
        existing_results(tmp_path, entries, kind="sweep", instead="a new one", reasons=True)
    manifest(kind="sweep", seed=1, inputs={}, fingerprint={"seed": 1}).write(tmp_path)
    old = existing_results(tmp_path, entries, kind="sweep", instead="a new one")
    assert old.kind == "sweep" and old.fingerprint == {"seed": 1}
    with pytest.raises(InputError, match="holds 'sweep' results, not run results; give a new"):
        existing_results(tmp_path, entries, kind="run", instead="a new one", reasons=True)
    manifest(kind="run", seed=1, inputs={}).write(tmp_path)
    assert read_manifest(tmp_path).fingerprint is None

def test_results_read_tables_on_demand(tmp_path):
    manifest(kind="sweep", seed=3, inputs={}).write(tmp_path)
    pd.DataFrame({"point": [0, 1], "p_consensus": [0.5, 0.25]}).to_parquet(
        tmp_path / "summary.parquet")
    res = open_results(tmp_path)
    assert res.kind == "sweep" and res.scenario is None
    assert res.has("summary") and not res.has("deltas")
    assert res.summary()["p_consensus"].tolist() == [0.5, 0.25]
    with pytest.raises(InputError, match="sweep results lack deltas.parquet"):
        res.table("deltas")
    assert "seed 3" in res.headline()


def test_results_in_memory_take_a_plain_mapping():
    res = Results(directory=None, manifest={"cicasim_results": "sweep", "seed": 2},
                  _tables={"summary": pd.DataFrame({"a": [1]})})
    assert isinstance(res.manifest, Manifest) and res.manifest.seed == 2
    assert res.has("summary") and "in memory" in res.headline()
    with pytest.raises(InputError, match="in memory lack the points table"):
        res.table("points")
