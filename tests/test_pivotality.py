"""Pivotality by channel: a member taken out of the vote, the influence step or the compromise
alone (docs/model.md)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, make_scenario
from numpy.testing import assert_allclose

from cicasim.analysis.pivotality import CHANNELS, channel_negotiation, pivotality
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BlockDraws
from cicasim.engine.ensemble import blocks_for, concat_outcomes, run_block
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


def test_progress_reaches_its_total():
    seen = []
    pivotality(load_scenario(DATA / "tiny.toml"), "deal", replications=100, seed=2,
               progress=lambda done, total: seen.append((done, total)))
    done, total = seen[-1]
    assert done == total and [d for d, _ in seen] == list(range(1, total + 1))
