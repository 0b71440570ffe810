"""Validation against DEU-style data, on small hand-made files (no shared data needed)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.errors import InputError
from cicasim.validate.baselines import issue_compromise as compromise
from cicasim.validate.baselines import issue_weighted_median as weighted_median
from cicasim.validate.convert import issue_scenario
from cicasim.validate.council import council_at, read_council
from cicasim.validate.deu import ACTORS, parse_intro, read_deu
from cicasim.validate.fit import cross_validate, grid_points, grouped_folds
from cicasim.validate.params import load_params, parse_params
from cicasim.validate.predict import predict_issue, prepare_issue
from cicasim.validate.report import bootstrap_mae

# EU-15 weights of 1995 (CHECKS.md) and members by accession year.
EU15 = {
    "DE": (1958, 10), "FR": (1958, 10), "IT": (1958, 10), "BE": (1958, 5), "NL": (1958, 5),
    "LU": (1958, 2), "UK": (1973, 10), "DK": (1973, 3), "IE": (1973, 3), "GR": (1981, 5),
    "ES": (1986, 8), "PT": (1986, 5), "AT": (1995, 4), "SE": (1995, 4), "FI": (1995, 3),
}
META = ["prnr", "isnr", "prname", "proc", "counvte", "intro"]
HEADER = [*META, *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS), "rp", "out"]
CAPABILITY = {a: 1.0 for a in ACTORS} | {"com": 4.1, "ep": 4.1, "de": 4.1, "fr": 2.8}


def council_csv(path: Path) -> Path:
    lines = ["member,name,joined,weight_1995,weight_nice,population_nice_millions"]
    for code, (year, w) in EU15.items():
        lines.append(f"{code},{code} name,{year},{w},,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def issue_row(
    prnr: str, isnr: str, *, proc="CNS", rule="QMV", intro="13-03-96",
    pos: dict[str, float], sal: dict[str, float], rp="", out="",
) -> list[str]:
    cells = {"prnr": prnr, "isnr": isnr, "prname": prnr, "proc": proc, "counvte": rule,
             "intro": intro, "rp": str(rp), "out": str(out)}
    for a in ACTORS:
        cells[f"p{a}"] = f"{pos[a]:g}" if a in pos else ""
        cells[f"s{a}"] = f"{sal[a]:g}" if a in sal else ("" if a in pos else "0")
    return [cells[c] for c in HEADER]


def deu_tsv(path: Path, rows: list[list[str]], capability=CAPABILITY) -> Path:
    cap = ["" for _ in HEADER]
    for a in ACTORS:
        cap[HEADER.index(f"p{a}")] = f"{capability[a]:g}"
    text = "\n".join("\t".join(r) for r in [HEADER, cap, *rows]) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def hand_issue(**kw) -> list[str]:
    """The hand-worked issue: Commission 100, Germany 40 (salience 100), France 60 (50)."""
    base = dict(pos={"com": 100, "de": 40, "fr": 60}, sal={"com": 80, "de": 100, "fr": 50},
                rp=0, out=50)
    base.update(kw)
    return issue_row("d96001", "d96001i1", **base)


def test_reader_reads_positions_saliences_and_blanks(tmp_path):
    path = deu_tsv(tmp_path / "d.tsv", [
        hand_issue(),
        issue_row("d96001", "d96001i2", pos={"com": 0, "ep": 30, "uk": 100},
                  sal={"com": 50, "ep": 90}, rp="", out=""),
    ])
    data = read_deu(path)
    assert data.capability["de"] == 4.1 and data.capability["ep"] == 4.1
    one, two = data.issues
    assert one.positions == {"com": 100.0, "de": 40.0, "fr": 60.0}
    assert one.saliences == {"com": 80.0, "de": 100.0, "fr": 50.0}
    assert one.reference == 0.0 and one.outcome == 50.0 and one.line == 3
    assert one.date == date(1996, 3, 13) and one.procedure == "CNS" and one.rule == "QMV"
    # a blank salience beside a coded position reads as 0 and is flagged
    assert two.saliences["uk"] == 0.0 and two.blank_salience == ("uk",)
    assert two.reference is None and two.outcome is None
    assert data.with_outcome() == [one]
    assert one.states == ["fr", "de"]  # file order of the DEU columns


@pytest.mark.parametrize(
    ("text", "proposal", "expected"),
    [
        ("13-03-96", "d96085", date(1996, 3, 13)),
        ("14-09-2016", "d160280", date(2016, 9, 14)),
        # spreadsheet-mangled dd-mm-yy: 14 July 2004 read as yy-mm-dd
        ("2014-07-04", "a04163", date(2004, 7, 14)),
        ("1930-05-05", "n05099", date(2005, 5, 30)),
        ("2017-04-18", "d180104", date(2018, 4, 17)),
        # an ISO date that agrees with the proposal's year is kept as it is
        ("2016-03-08", "d160070", date(2016, 3, 8)),
    ],
)
def test_intro_dates(text, proposal, expected):
    assert parse_intro(text, proposal=proposal) == expected


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.__setitem__(HEADER.index("pde"), "abc"),
         "row 3, column 'pde': expected a number 0-100 or blank, got 'abc'"),
        (lambda r: r.__setitem__(HEADER.index("pde"), "140"),
         "row 3, column 'pde': expected a number 0-100 or blank, got '140'"),
        (lambda r: r.__setitem__(HEADER.index("proc"), "SYN"),
         "row 3, column 'proc': expected a procedure, one of COD, CNS, got 'SYN'"),
        (lambda r: r.__setitem__(HEADER.index("counvte"), "majority"),
         "row 3, column 'counvte': expected a Council rule, one of QMV, Unan, QMV(10)"),
        (lambda r: r.__setitem__(HEADER.index("intro"), "yesterday"),
         "row 3, column 'intro': expected a date dd-mm-yy, dd-mm-yyyy or yyyy-mm-dd"),
        (lambda r: r.__setitem__(HEADER.index("out"), "-3"),
         "row 3, column 'out': expected a number 0-100 or blank, got '-3'"),
    ],
)
def test_malformed_cells_give_one_line_errors(tmp_path, mutate, message):
    row = hand_issue()
    mutate(row)
    path = deu_tsv(tmp_path / "bad.tsv", [row])
    with pytest.raises(InputError) as exc:
        read_deu(path)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"{path}: ") and message in text


def test_malformed_files_give_one_line_errors(tmp_path):
    missing = tmp_path / "missing.tsv"
    with pytest.raises(InputError, match=r"missing\.tsv: file not found"):
        read_deu(missing)
    header_only = tmp_path / "cols.tsv"
    header_only.write_text("prnr\tisnr\tpcom\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1 \(header\): missing column\(s\) 'prname'"):
        read_deu(header_only)
    no_cap = deu_tsv(tmp_path / "cap.tsv", [hand_issue()], capability=CAPABILITY | {"mt": 0})
    with pytest.raises(InputError, match=r"row 2, column 'pmt': expected a capability > 0"):
        read_deu(no_cap)
    dup = deu_tsv(tmp_path / "dup.tsv", [hand_issue(), hand_issue()])
    with pytest.raises(InputError, match=r"row 4, column 'isnr': expected a unique issue id"):
        read_deu(dup)


def test_baselines_by_hand(tmp_path):
    data = read_deu(deu_tsv(tmp_path / "d.tsv", [hand_issue()]))
    issue = data.issues[0]
    # weights capability x salience: com 4.1*80 = 328, de 4.1*100 = 410, fr 2.8*50 = 140
    expected = (328 * 100 + 410 * 40 + 140 * 60) / (328 + 410 + 140)
    assert_allclose(compromise(issue, data.capability), expected, rtol=1e-12)
    # sorted: de 40 (410), fr 60 (140), com 100 (328); half of 878 is 439 -> fr at 60
    assert weighted_median(issue, data.capability) == 60.0


def test_council_eu15_rule(tmp_path):
    council = read_council(council_csv(tmp_path / "w.csv"))
    c = council_at(council, date(1996, 3, 13))
    assert len(c.members) == 15 and sum(c.votes.values()) == 87
    assert c.qmv == {"kind": "qualified-majority", "quota": 62.0}
    assert c.qmv10 == {"kind": "qualified-majority", "quota": 62.0, "min_members": 10}
    assert c.codes["el"] == "GR" and c.votes["de"] == 10
    with pytest.raises(InputError, match="covered: from 1995-01-01"):
        council_at(council, date(1990, 1, 1))
    # Nice weights are blank in this table: a one-line error, not a crash
    with pytest.raises(InputError, match="weight_nice of DE .* is blank but needed"):
        council_at(council, date(2005, 1, 1))


def test_council_lisbon_double_majority(tmp_path):
    w = tmp_path / "w.csv"
    lines = ["member,name,joined,weight_1995,weight_nice,population_nice_millions"]
    iso = {"DE": "DEU", "FR": "FRA", "IT": "ITA", "PL": "POL", "HR": "HRV"}
    for code, year in (("DE", 1958), ("FR", 1958), ("IT", 1958), ("PL", 2004), ("HR", 2013)):
        lines.append(f"{code},{code},{year},,5,")
    w.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pop = tmp_path / "pop.csv"
    rows = ["Country Name,Country Code,Year,Value"]
    for k, (code, m) in enumerate(iso.items()):
        rows += [f"{code},{m},2015,{(k + 1) * 1e6:.0f}", f"{code},{m},2016,{(k + 1) * 2e6:.0f}"]
    pop.write_text("\n".join(rows) + "\n", encoding="utf-8")
    c = council_at(read_council(w, population=pop), date(2016, 6, 1))
    assert c.members == ("de", "fr", "it", "pl", "cr") and c.period == "EU-5 (Lisbon)"
    assert_allclose([c.population[m] for m in c.members], [2, 4, 6, 8, 10])
    assert c.qmv == {"kind": "qualified-majority", "min_members": 15,
                     "min_population_share": 0.65, "blocking_min": 4}


def _hand_scenario(tmp_path, behaviour=None, **kw):
    data = read_deu(deu_tsv(tmp_path / "d.tsv", [hand_issue(**kw)]))
    council = council_at(read_council(council_csv(tmp_path / "w.csv")), data.issues[0].date)
    return data, council, issue_scenario(
        data.issues[0], capability=data.capability, council=council, behaviour=behaviour
    )


def test_conversion_of_a_hand_made_issue(tmp_path):
    """The small issue converted by hand: 15 members (QMV 62 of 87), CNS so no Parliament."""
    data, council, sc = _hand_scenario(tmp_path)
    ids = [a.id for a in sc.actors]
    assert ids == [*EU15, "COM"]  # members in the weights table's order
    de, fr, at = sc.actor("DE"), sc.actor("FR"), sc.actor("AT")
    assert (de.role, de.capability, de.position, de.salience, de.votes) == (
        "member", 4.1, {"issue": 40.0}, {"issue": 1.0}, 10.0)
    assert (fr.capability, fr.position, fr.salience) == (2.8, {"issue": 60.0}, {"issue": 0.5})
    # an uncoded member: no stake, negligible capability, goes along
    assert at.salience == {"issue": 0.0} and at.capability == 1e-6
    assert at.behaviour.threshold == -1.0 and at.votes == 4.0
    com = sc.actor("COM")
    assert com.role == "observer" and com.position == {"issue": 100.0}
    assert com.salience == {"issue": 0.0}  # never withdraws a single issue
    prop = sc.proposals[0]
    assert prop.sponsor == "COM" and prop.id == "d96001i1"
    assert (prop.touches[0].position, prop.touches[0].status_quo) == (100.0, 0.0)
    assert prop.rule.kind == "qualified-majority" and prop.rule.quota == 62.0
    # every other actor has tension 1 with the Commission
    assert sorted(t.pair[0] for t in sc.tensions) == sorted(EU15)
    assert all(t.pair[1] == "COM" and t.value == 1.0 for t in sc.tensions)


def test_conversion_codecision_makes_parliament_a_veto_player(tmp_path):
    _, _, sc = _hand_scenario(
        tmp_path, proc="COD", pos={"com": 100, "ep": 90, "de": 40}, sal={"ep": 70, "de": 100},
    )
    ep = sc.actor("EP")
    assert ep.role == "member" and ep.votes == 87.0 and ep.population == 0.0
    rule = sc.proposals[0].rule
    assert rule.quota == 62.0 + 87.0  # no coalition without the Parliament reaches it
    votes = np.array([a.votes for a in sc.members])
    ep_i = [a.id for a in sc.members].index("EP")
    all_states = np.ones(len(votes), bool)
    all_states[ep_i] = False
    assert not rule.wins(all_states[None], votes, np.zeros(len(votes)))[0]
    with_ep = all_states.copy()
    with_ep[ep_i] = True
    assert rule.wins(with_ep[None], votes, np.zeros(len(votes)))[0]


def test_rule_extensions_for_the_parliament():
    """Lisbon under codecision: the Parliament's veto by weight, members' count + 1, and no
    blocking floor; QMV(10) takes the period's rule for acts not on a Commission proposal."""
    from cicasim.validate.convert import issue_rule
    from cicasim.validate.council import Council
    from cicasim.validate.deu import DeuIssue

    members = tuple(f"s{i}" for i in range(28))
    council = Council(
        period="EU-28 (Lisbon)", members=members, votes={m: 1.0 for m in members},
        population={m: 10.0 for m in members},
        qmv={"kind": "qualified-majority", "min_members": 16, "min_population_share": 0.65,
             "blocking_min": 4},
        qmv10={"kind": "qualified-majority", "min_members": 21, "min_population_share": 0.65},
        names={m: m for m in members}, codes={m: m.upper() for m in members},
    )
    issue = DeuIssue(proposal="d16", issue="d16i1", name="", procedure="COD", rule="QMV",
                     date=date(2016, 1, 1), positions={}, saliences={}, reference=0.0,
                     outcome=None)
    assert issue_rule(issue, council, parliament_veto=True) == {
        "kind": "qualified-majority", "min_members": 17, "min_population_share": 0.65,
        "quota": 29.0}
    assert issue_rule(issue, council, parliament_veto=False) == council.qmv
    ten = DeuIssue(**{**issue.__dict__, "rule": "QMV(10)"})
    assert issue_rule(ten, council, parliament_veto=False) == council.qmv10


def test_conversion_unanimity_and_blank_reference(tmp_path):
    _, _, sc = _hand_scenario(tmp_path, rule="Unan", rp="")
    assert sc.proposals[0].rule.kind == "consensus"
    assert sc.proposals[0].touches[0].status_quo == 0.0  # blank reference point -> 0


def test_conversion_blank_commission_starts_at_members_compromise(tmp_path):
    _, _, sc = _hand_scenario(tmp_path, pos={"de": 40, "fr": 60}, sal={"de": 100, "fr": 50})
    z = (4.1 * 1.0 * 40 + 2.8 * 0.5 * 60) / (4.1 + 1.4)
    assert_allclose(sc.proposals[0].touches[0].position, z, rtol=1e-12)


def test_hand_made_issue_negotiation_by_hand(tmp_path):
    """Unanimity, no noise, no influence.  Round 1: the tabled text (100) carries the penalty
    β = 1 for Germany and France (tension 1 with the Commission), so both object.  Round 2:
    the text moves α = 0.5 of the way to the members' compromise z = 45.09; Germany gains
    0.16 - 0.3255² = 0.054 and France 0.5 (0.36 - 0.1255²) over the status quo 0, and no one
    backs a rival any more, so it passes at 100 + 0.5 (z - 100)."""
    behaviour = {"rival_penalty": 1.0, "amendment_step": 0.5, "vote_noise": 0.0,
                 "influence_rate": 0.0}
    _, _, sc = _hand_scenario(tmp_path, behaviour=behaviour, rule="Unan")
    pred, passed = predict_issue(sc, replications=16, seed=3)
    z = (4.1 * 40 + 1.4 * 60) / 5.5
    assert_allclose(pred, 100 + 0.5 * (z - 100), rtol=1e-12)
    assert passed == 1.0
    # without the penalty, and with Germany at 70 (it prefers 100 to 0), the tabled text
    # passes at once: Germany gains 0.49 - 0.09, France 0.5 (0.36 - 0.16)
    _, _, sc0 = _hand_scenario(
        tmp_path, behaviour=behaviour | {"rival_penalty": 0.0}, rule="Unan",
        pos={"com": 100, "de": 70, "fr": 60},
    )
    assert predict_issue(sc0, replications=16, seed=3) == (100.0, 1.0)


def test_prepared_issue_equals_run_ensemble(tmp_path):
    _, _, sc = _hand_scenario(tmp_path, behaviour={"vote_noise": 0.3})
    prep = prepare_issue(sc, replications=40, seed=11)
    assert prep.predict() == predict_issue(sc, replications=40, seed=11)
    other = {"rival_penalty": 0.5, "amendment_step": 0.3, "stubbornness": 0.2}
    rebuilt = sc.model_copy(update={"behaviour": sc.behaviour.model_copy(update=other)})
    assert prep.predict(other) == predict_issue(rebuilt, replications=40, seed=11)


def test_grouped_folds_keep_proposals_together():
    groups = [f"p{i // 3}" for i in range(30)] + ["big"] * 7
    folds = grouped_folds(groups, k=4, seed=5)
    for g in set(groups):
        assert len({folds[i] for i, x in enumerate(groups) if x == g}) == 1
    sizes = np.bincount(folds, minlength=4)
    assert sizes.max() - sizes.min() <= 7
    assert (grouped_folds(groups, k=4, seed=5) == folds).all()


def test_cross_validate_picks_per_fold_on_training_issues():
    points = grid_points({"a": [0.0, 1.0]})
    outcomes = np.array([0.0, 0.0, 10.0, 10.0])
    groups = ["x", "x", "y", "y"]
    # point 0 predicts 0 everywhere, point 1 predicts 10 everywhere
    preds = np.array([[0.0] * 4, [10.0] * 4])
    cv = cross_validate(preds, np.ones_like(preds), outcomes, groups, points=points, k=2, seed=1)
    # each fold is one proposal; training on the other picks the wrong point for it
    assert_allclose(np.abs(cv.cv_predictions - outcomes).mean(), 10.0)
    assert cv.mae_grid.tolist() == [5.0, 5.0] and cv.best == 0


def test_bootstrap_intervals_cover_and_pair():
    rng = np.random.Generator(np.random.PCG64(1))
    e1 = rng.uniform(0, 40, 200)
    groups = np.repeat(np.arange(50), 4).astype(str)
    ci = bootstrap_mae({"a": e1, "b": e1 + 1.0}, groups, resamples=500, seed=2,
                       pairs=(("a", "b"),))
    assert ci["a"][0] < e1.mean() < ci["a"][1]
    assert_allclose(ci["a - b"], (-1.0, -1.0), atol=1e-9)  # a constant difference
    again = bootstrap_mae({"a": e1}, groups, resamples=500, seed=2)
    assert again["a"] == ci["a"]


def test_shipped_parameter_set_is_valid():
    p = load_params()
    assert p.name == "validation" and p.fit.grid
    assert set(p.fit.grid) <= set(p.behaviour)
    for k, values in p.fit.grid.items():
        assert p.behaviour[k] in values, k
    with pytest.raises(InputError, match=r"x\.toml: behaviour\.stubbornness: .*less than or"):
        parse_params("[behaviour]\nstubbornness = 3\n", "x.toml")
    with pytest.raises(InputError, match=r"x\.toml: fit\.grid\.nonsense: not a behaviour"):
        parse_params("[fit.grid]\nnonsense = [1]\n", "x.toml")


def _cli_files(tmp_path):
    rows = []
    for k in range(6):
        pos = {"com": 100 - 10 * k, "de": 20 + 5 * k, "fr": 70, "uk": 10 * k, "it": 50}
        sal = {"com": 50, "de": 90, "fr": 60, "uk": 80, "it": 40}
        rows.append(issue_row(f"d9600{k // 2}", f"d9600{k // 2}i{k % 2}", pos=pos, sal=sal,
                              rp=0, out=40 + 5 * k, rule="Unan" if k % 3 == 0 else "QMV"))
    return deu_tsv(tmp_path / "deu.tsv", rows), council_csv(tmp_path / "w.csv")


def test_cli_json_and_out(tmp_path, capsys):
    deu, weights = _cli_files(tmp_path)
    out = tmp_path / "res"
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--json",
               "--replications", "20", "--fit-replications", "8", "--folds", "3",
               "--bootstrap", "200", "--seed", "4", "--out", str(out)])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("n_issues", "mae", "mae_ci_low", "mae_ci_high", "mae_compromise", "mae_median",
                "mae_cv"):
        assert key in s
    assert s["n_issues"] == 6 and s["mae_ci_low"] <= s["mae"] <= s["mae_ci_high"]
    assert sorted(p.name for p in out.iterdir()) == [
        "issues.csv", "manifest.json", "predicted_vs_actual.png", "summary.json"]
    import pandas as pd

    table = pd.read_csv(out / "issues.csv")
    assert len(table) == 6 and {"cicasim", "compromise", "median", "outcome"} <= set(table)
    assert_allclose(s["mae_compromise"], (table["compromise"] - table["outcome"]).abs().mean())


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    deu, weights = _cli_files(tmp_path)
    bad = tmp_path / "bad.tsv"
    bad.write_text(deu.read_text(encoding="utf-8").replace("\t70\t", "\tseventy\t", 1),
                   encoding="utf-8")
    out = tmp_path / "never"
    rc = main(["validate", "deu", str(bad), "--council", str(weights), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith("cicasim: error: ") and "row 3, column 'pfr'" in err
    assert not out.exists()
    rc = main(["validate", "deu", str(deu), "--council", str(tmp_path / "none.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "none.csv: file not found" in err and err.count("\n") == 1
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--folds", "9"])
    err = capsys.readouterr().err
    assert rc == 2 and "--folds: 9 folds need at least 9 proposals" in err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    rc = main(["validate", "deu", str(deu), "--council", str(weights), "--no-cv", "--out",
               str(busy)])
    err = capsys.readouterr().err
    assert rc == 2 and "busy: exists and is not a cicasim results directory" in err
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
