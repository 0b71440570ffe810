"""`cicasim import ktab` and `cicasim import deu` on small files made here, and their errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from cicasim.cli import main
from cicasim.spec.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]
DEU = ROOT / ".." / "shared" / "data" / "deu3" / "deu3_dev.tsv"

# KTAB's SMP layout (KAPSARC KTAB, examples/smp/doc): name, description, actors, dimensions;
# header; one row per actor; every row ends with a comma
KTAB = """Toy, "A toy scenario", 3, 2,
Actor,Description,Power,Trade Position,Trade Salience,Security Position,Security Salience,
AA, Alpha, 100, 80, 40, 20, 30,
BB, Beta, 50, 40, 50, 60, 50,
CC, Gamma, 25, 10, 10, 90, 90,
"""


def _run(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_ktab_import(tmp_path, capsys):
    f = tmp_path / "toy.csv"
    f.write_text(KTAB)
    rc, out, _ = _run(["import", "ktab", str(f)], capsys)
    assert rc == 0
    doc = tomllib.loads(out)
    s = parse_scenario(doc, "ktab")
    assert [d.id for d in s.dimensions] == ["trade", "security"]
    a = s.actor("CC")
    assert a.capability == 25 and a.position == {"trade": 10, "security": 90}
    np.testing.assert_allclose([a.salience["trade"], a.salience["security"]], [0.1, 0.9])
    assert all(x.role == "member" for x in s.actors) and not s.proposals
    assert "# KTAB row 5, column 4" in out


def test_ktab_status_quo_adds_the_compromise(tmp_path, capsys):
    f = tmp_path / "toy.csv"
    f.write_text(KTAB)
    out = tmp_path / "toy.toml"
    rc, _, _ = _run(["import", "ktab", str(f), "--status-quo", "0", "--out", str(out)], capsys)
    assert rc == 0
    p = parse_scenario(tomllib.loads(out.read_text()), "ktab").proposals[0]
    # Achen's compromise on trade: (100*.4*80 + 50*.5*40 + 25*.1*10) / (40 + 25 + 2.5)
    np.testing.assert_allclose(p.touches[0].position, (3200 + 1000 + 25) / 67.5, atol=1e-3)
    assert p.sponsor == "AA"


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (KTAB.replace("CC, Gamma, 25, 10, 10, 90, 90", "CC, Gamma, 25, 10, 20, 90, 90"),
         "row 5: saliences sum to 110; KTAB allows at most 100"),
        (KTAB.replace("AA, Alpha, 100, 80", "AA, Alpha, 100, 180"), "position '180' is outside"),
        (KTAB.replace("BB, Beta, 50", "BB, Beta, x"), "row 4, column 3: expected a capability"),
        (KTAB.replace("Toy, \"A toy scenario\", 3, 2,", "Toy, \"A toy scenario\", 4, 2,"),
         "row 1 announces 4 actors but the file has 3"),
        ("just one line\n", "row 1: expected a KTAB SMP CSV"),
    ],
)
def test_ktab_errors(tmp_path, capsys, text, expect):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    rc, out, err = _run(["import", "ktab", str(f)], capsys)
    assert rc == 2 and not out
    assert err.startswith(f"cicasim: error: {f}") and err.count("\n") == 1
    assert expect in err


def test_ktab_missing_file(tmp_path, capsys):
    rc, _, err = _run(["import", "ktab", str(tmp_path / "none.csv")], capsys)
    assert rc == 2 and "none.csv: file not found" in err


def _deu_file(tmp_path: Path) -> Path:
    """A two-issue DEU file in the DEU III layout, with a Council weights table beside it."""
    from cicasim.validate.deu import STATES

    states = list(STATES)
    actors = ["com", "ep", *states]
    head = ["prnr", "isnr", "prname", "proc", "counvte", "intro", "finact"]
    head += [f"p{a}" for a in actors] + [f"s{a}" for a in actors] + ["rp", "out"]
    cap = [""] * 7 + ["4.1", "4.1"] + ["1"] * len(states) + [""] * len(actors) + ["", ""]
    pos = {"com": 100, "ep": 80, "de": 0, "fr": 50}
    row = ["d00001", "d00001i1", "toy", "COD", "Unan", "01-03-00", "999"]
    row += [str(pos.get(a, "")) for a in actors] + [str(50 if a in pos else "") for a in actors]
    row += ["0", "60"]
    lines = ["\t".join(head), "\t".join(cap), "\t".join(row)]
    d = tmp_path / "deu3"
    d.mkdir()
    (d / "deu.tsv").write_text("\n".join(lines) + "\n")
    council = tmp_path / "eu_council"
    council.mkdir()
    weights = {"DE": 10, "FR": 10, "IT": 10, "UK": 10, "ES": 8, "BE": 5, "GR": 5, "NL": 5,
               "PT": 5, "AT": 4, "SE": 4, "DK": 3, "IE": 3, "FI": 3, "LU": 2}
    joined = {"DE": 1958, "FR": 1958, "IT": 1958, "BE": 1958, "NL": 1958, "LU": 1958,
              "UK": 1973, "DK": 1973, "IE": 1973, "GR": 1981, "ES": 1986, "PT": 1986,
              "AT": 1995, "SE": 1995, "FI": 1995}
    rows = ["member,name,joined,weight_1995,weight_nice,population_nice_millions"]
    rows += [f"{m},{m},{joined[m]},{w},{3 * w},{w}" for m, w in weights.items()]
    (council / "council_weights.csv").write_text("\n".join(rows) + "\n")
    return d / "deu.tsv"


def test_deu_import_synthetic(tmp_path, capsys):
    f = _deu_file(tmp_path)
    rc, out, err = _run(["import", "deu", str(f), "--issue", "d00001i1"], capsys)
    assert rc == 0, err
    s = parse_scenario(tomllib.loads(out), "deu")
    assert s.actor("DE").position == {"issue": 0} and s.actor("DE").salience == {"issue": 0.5}
    assert s.actor("COM").role == "observer" and s.proposals[0].sponsor == "COM"
    assert s.proposals[0].rule.kind == "consensus"  # counvte Unan
    assert s.proposals[0].touches[0].status_quo == 0
    assert "# DEU pde" in out


def test_deu_import_negotiates_with_the_validation_parameter_set(tmp_path, capsys):
    from cicasim.validate.params import load_params

    f = _deu_file(tmp_path)
    rc, out, err = _run(["import", "deu", str(f), "--issue", "d00001i1"], capsys)
    assert rc == 0, err
    doc = tomllib.loads(out)
    params = load_params()
    assert doc["behaviour"] == params.behaviour
    s = parse_scenario(doc, "deu")
    # fitted values of cicasim/validate/params.toml (docs/validation.md)
    np.testing.assert_allclose(
        [s.behaviour.rival_penalty, s.behaviour.amendment_step, s.behaviour.stubbornness],
        [params.behaviour[k] for k in ("rival_penalty", "amendment_step", "stubbornness")],
    )
    assert s.proposals[0].max_rounds == params.max_rounds
    assert s.actor("COM").salience == {"issue": 0.0}
    com = next(ln for ln in out.splitlines() if ln.startswith("issue = 0.0") and "Commission" in ln)
    assert "0: the Commission never withdraws a single issue (docs/validation.md)" in com
    assert "DEU scom / 100" not in out


def test_deu_unknown_issue_and_missing_council(tmp_path, capsys):
    f = _deu_file(tmp_path)
    rc, _, err = _run(["import", "deu", str(f), "--issue", "nope"], capsys)
    assert rc == 2 and "--issue 'nope' is not in the file" in err and err.count("\n") == 1
    (tmp_path / "eu_council" / "council_weights.csv").unlink()
    rc, _, err = _run(["import", "deu", str(f), "--issue", "d00001i1"], capsys)
    assert rc == 2 and "council_weights.csv: file not found; pass --council FILE" in err


@pytest.mark.skipif(not DEU.is_file(), reason="DEU III file not found at ../shared/data/deu3")
def test_deu_import_real_issue(capsys):
    rc, out, err = _run(["import", "deu", str(DEU), "--issue", "d00067i1"], capsys)
    assert rc == 0, err
    s = parse_scenario(tomllib.loads(out), "deu")
    # DEU III row of issue d00067i1 (tankers): Germany 100 with salience 60, Commission 100
    assert s.actor("DE").position["issue"] == 100 and s.actor("DE").salience["issue"] == 0.6
    assert s.actor("COM").position["issue"] == 100
    assert s.proposals[0].rule.kind == "qualified-majority"
