"""Pivotality by channel: a member taken out of the vote, the influence step or the compromise
alone (docs/model.md)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_contract import assert_contract, run_cli, snapshot
from conftest import DATA, ROOT, assert_same_outcome, make_scenario
from numpy.testing import assert_allclose

from cicasim.analysis.pivotality import CHANNELS, channel_negotiation, pivotality, without
from cicasim.analysis.runs import run_scenario
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.ensemble import (
    EnsembleResult,
    blocks_for,
    concat_outcomes,
    run_block,
    run_proposal,
)
from cicasim.engine.kernel import DEADLOCK, influence, initial_state
from cicasim.spec.scenario import load_scenario

STATIC = {"vote_noise": 0.0, "rival_penalty": 0.0, "holdup_rate": 0.0, "stubbornness": 1.0}


def _outcome(neg, reps=1, seed=0):
    return concat_outcomes([run_block(neg, seed=seed, point=0, block=b, rows=r)
                            for b, r in blocks_for(reps)])


def test_out_of_the_vote_it_never_votes_but_still_weighs_in_the_compromise():
    # A02 at 20 objects; without its vote the text passes in round 1
    s = make_scenario([80, 55, 20], saliences=[1, 1, 1], max_rounds=2, behaviour=STATIC)
    neg = channel_negotiation(negotiation(s, "p"), "A02", "vote")
    o = _outcome(neg)
    assert o.passed[0] and o.rounds[0] == 1
    assert not o.objectors[0, 2] and not o.abstainers[0, 2]
    assert neg.weighed[2]  # still in the compromise


def test_out_of_the_compromise_the_text_moves_to_the_others_mean():
    # z = mean(80, 55) = 67.5 without A02 (20); p2 = 80 + 0.5 (67.5 - 80) = 73.75, not 65.83
    s = make_scenario([80, 55, 20], saliences=[1, 1, 1], max_rounds=2, behaviour=STATIC)
    o = _outcome(channel_negotiation(negotiation(s, "p"), "A02", "compromise"))
    assert o.status[0] == DEADLOCK  # it still votes, and still objects
    assert_allclose(o.outcome[0], [73.75])


def test_out_of_influence_nobody_listens_to_it():
    s = make_scenario([80, 55, 20, 40], max_rounds=3, behaviour={"stubbornness": 0.2,
                                                                 "influence_rate": 0.5})
    neg = channel_negotiation(negotiation(s, "p"), "A03", "influence")
    draws = BlockDraws.of(neg, seed=1, point=0, block=0, rows=slice(0, 4))
    st = initial_state(neg, draws.start())
    before = influence(neg, st)
    st.x[:, 3] = 100.0 - st.x[:, 3]  # move A03: nobody else moves differently
    after = influence(neg, st)
    assert_allclose(after[:, :3], before[:, :3], rtol=0, atol=0)
    assert not np.allclose(after[:, 3], before[:, 3])  # it still listens


def test_default_masks_change_nothing():
    s = load_scenario(DATA / "tiny.toml")
    neg = negotiation(s, "deal")
    assert neg.weighed.tolist() == neg.member.tolist() and neg.source.all()
    with pytest.raises(ValueError, match="channel"):
        channel_negotiation(neg, "BBB", "tension")


def test_a_blocker_is_pivotal_through_its_vote():
    pivots = pivotality(load_scenario(DATA / "tiny.toml"), "deal", replications=500, seed=2)
    top = pivots[0]
    assert top.actor == "CCC" and set(top.channels) == set(CHANNELS)
    d, lo, hi = top.channels["vote"]
    assert lo > 0 and d > top.channels["influence"][0]
    assert top.to_dict()["channels"]["vote"]["delta"] == d


def test_without_the_run_kept_the_numbers_are_the_same_bit_for_bit():
    """The run computed block by block beside its counterfactuals (nothing per replication
    kept) gives the pivots of the run kept whole, and shows each of its blocks once, in
    order."""
    s = load_scenario(DATA / "tiny.toml")
    reps = 2 * BLOCK + 37
    base = run_proposal(s, "deal", replications=reps, seed=4)
    for channels in (None, 0, 1):
        kept = pivotality(s, "deal", replications=reps, seed=4, base=base, channels=channels)
        seen = []
        streamed = pivotality(s, "deal", replications=reps, seed=4, channels=channels,
                              threads=2, each_block=seen.append)
        assert streamed == kept
        assert_same_outcome(concat_outcomes(seen), base.outcome)
    assert any(p.channels for p in kept)


def test_run_pivotality_keeps_nothing_and_gives_the_kept_numbers(tmp_path):
    cica = load_scenario(ROOT / "scenarios" / "cica-2022.toml")
    args = {"replications": BLOCK + 300, "seed": 5, "pivotality": True, "threads": 2,
            "pivotality_channels": 2, "proposals": ["financial-summit"]}
    kept = run_scenario(cica, **args)
    seen = []
    streamed = run_scenario(cica, **args, keep=False, table=tmp_path / "r.parquet",
                            progress=lambda done, total: seen.append((done, total)))
    assert isinstance(kept.ensemble, EnsembleResult)
    assert not isinstance(streamed.ensemble, EnsembleResult)
    assert streamed.to_dict() == kept.to_dict()
    assert any(p["channels"] for p in streamed.to_dict()["proposals"][0]["pivotality"])
    assert pd.read_parquet(tmp_path / "r.parquet").equals(kept.replications())
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == list(range(1, len(seen) + 1))


def test_progress_reaches_its_total():
    seen = []
    pivotality(load_scenario(DATA / "tiny.toml"), "deal", replications=100, seed=2,
               progress=lambda done, total: seen.append((done, total)))
    done, total = seen[-1]
    assert done == total and [d for d, _ in seen] == list(range(1, total + 1))


def test_a_member_that_sponsors_another_proposal_is_removed_like_any_other():
    """scenarios/tiny.toml: Alpha sponsors "deal"; on "step" (Beta's) it is removable, and its
    counterfactual keeps "step" alone.  Beta, the sponsor of "step", is not removable there."""
    s = load_scenario(ROOT / "scenarios" / "tiny.toml")
    pivots = {p.actor: p for p in pivotality(s, "step", replications=300, seed=1, channels=0)}
    assert set(pivots) == {"AAA", "CCC"}
    assert pivots["AAA"].delta > 0 and pivots["CCC"].delta > 0
    alone = without(s, "AAA", proposal="step")
    assert [p.id for p in alone.proposals] == ["step"] and "AAA" not in [a.id for a in alone.actors]
    with pytest.raises(ValueError, match="BBB sponsors step: a sponsor is not removable"):
        without(s, "BBB", proposal="step")


def test_the_cli_reports_the_sponsor_as_not_removable(tmp_path):
    rc, out, err = run_cli(["run", ROOT / "scenarios" / "tiny.toml", "-n", "200", "--seed", "1",
                            "--pivotality"], tmp_path)
    assert rc == 0, err
    assert "pivotal members for step" in out and "pivotal members for deal" in out
    rows = [line for line in out.splitlines() if "not removable (sponsor)" in line]
    assert len(rows) == 2 and "Beta (BBB)" in rows[0] and "Alpha (AAA)" in rows[1]


def test_pivotality_top_breaks_down_as_many_members_as_asked(tmp_path):
    def members_shown(*top: str) -> list[str]:
        rc, out, err = run_cli(["run", DATA / "tiny.toml", "-n", "200", "--seed", "2",
                                "--pivotality", *top], tmp_path)
        assert rc == 0, err
        return [line.split("│")[1].strip() for line in out.splitlines()
                if line.startswith("│") and "(sponsor)" not in line and "+" in line]

    assert members_shown() == ["Gamma (CCC)"]  # Beta's removal changes nothing significantly
    assert members_shown("--pivotality-top", "1") == ["Gamma (CCC)"]
    assert members_shown("--pivotality-top", "all") == ["Gamma (CCC)", "Beta (BBB)"]
    assert members_shown("--pivotality-top", "0") == ["Gamma (CCC)", "Beta (BBB)"]
    rc, out, err = run_cli(["run", DATA / "tiny.toml", "-n", "200", "--seed", "2", "--json",
                            "--pivotality", "--pivotality-top", "all"], tmp_path)
    assert rc == 0, err
    (p,) = json.loads(out)["proposals"]
    assert p["sponsor"] == "AAA" and all(v["channels"] for v in p["pivotality"])


@pytest.mark.parametrize("top", ["x", "-1", "1.5", ""])
def test_a_bad_pivotality_top_is_one_line(tmp_path, top):
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["run", DATA / "tiny.toml", "--pivotality", "--pivotality-top", top],
                         tmp_path)
    assert_contract(rc, err, before, snapshot(tmp_path))
    assert rc == 2 and "--pivotality-top: expected 'all' or a whole number >= 0" in err
