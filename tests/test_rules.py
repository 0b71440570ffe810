"""The decision rules as simple games (cicasim.spec.rules): who wins under each rule, the numbers
the kernel counts with, and the one-line errors of a rule with nothing to count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from cicasim.spec.rules import (
    RULES,
    Consensus,
    ConsensusMinusK,
    QualifiedMajority,
    SimpleMajority,
    Tally,
    VoteContext,
    probability_name,
)


def _coalitions(n: int) -> np.ndarray:
    """Every coalition of ``n`` members, as rows of booleans."""
    return np.array(list(itertools.product([False, True], repeat=n)))


def test_consensus_wins_only_with_everyone():
    yes = _coalitions(4)
    won = Consensus().wins(yes, np.ones(4), np.zeros(4))
    assert won.sum() == 1 and yes[won].all()


@pytest.mark.parametrize("k", [0, 1, 2])
def test_consensus_minus_k_tolerates_k_outsiders(k):
    yes = _coalitions(5)
    won = ConsensusMinusK(k=k).wins(yes, np.ones(5), np.zeros(5))
    np.testing.assert_array_equal(won, (~yes).sum(axis=1) <= k)


@pytest.mark.parametrize("n", [4, 5])
def test_simple_majority_needs_more_than_half(n):
    yes = _coalitions(n)
    won = SimpleMajority().wins(yes, np.ones(n), np.zeros(n))
    np.testing.assert_array_equal(won, yes.sum(axis=1) > n / 2)


def test_weighted_quota_counts_votes_not_heads():
    # EEC 1958 Council: France, Germany, Italy 4 votes, Belgium and Netherlands 2, Luxembourg 1;
    # 12 of 17 needed (Treaty of Rome art. 148): Luxembourg is never decisive
    votes = np.array([4, 4, 4, 2, 2, 1], float)
    rule = QualifiedMajority(quota=12)
    yes = _coalitions(6)
    won = rule.wins(yes, votes, np.zeros(6))
    np.testing.assert_array_equal(won, yes.astype(float) @ votes >= 12)
    with_lux, without = yes[:, 5], ~yes[:, 5]
    assert set(map(tuple, yes[won & with_lux][:, :5])) == set(map(tuple, yes[won & without][:, :5]))


def test_population_share_and_blocking_floor():
    rule = QualifiedMajority(min_population_share=0.65, blocking_min=2)
    pop = np.array([50.0, 30.0, 10.0, 10.0])
    # 80% of the population: passes; 40%: fails, but one member out is under the floor of 2
    assert rule.wins(np.array([True, True, False, False]), np.ones(4), pop)[0]
    assert not rule.wins(np.array([False, False, True, True]), np.ones(4), pop)[0]
    assert rule.wins(np.array([False, True, True, True]), np.ones(4), pop)[0]


def test_members_share_rounds_up():
    (crit,) = QualifiedMajority(min_members_share=0.55).criteria(np.ones(27), np.zeros(27))
    assert crit.quota == 15  # 55% of 27 = 14.85 members


def test_tally_masks_observers_and_keeps_the_quota():
    ctx = VoteContext(member=np.array([True, True, False]), votes=np.array([3.0, 1.0, 5.0]),
                      population=np.zeros(3))
    t = QualifiedMajority(quota=3).tally(ctx)
    assert isinstance(t, Tally)
    np.testing.assert_array_equal(t.weights, [[3.0, 1.0, 0.0]])  # the observer's 5 votes gone
    assert t.quotas[0] == pytest.approx(3.0) and t.max_objections == 3
    assert Consensus().tally(ctx).max_objections == 0
    assert SimpleMajority().tally(ctx).quotas[0] == 2  # 2 members: 2 // 2 + 1


def test_a_qualified_majority_needs_a_criterion():
    with pytest.raises(ValidationError, match="needs at least one of quota, min_members"):
        QualifiedMajority()
    with pytest.raises(ValidationError):
        ConsensusMinusK(k=-1)


def test_registry_and_probability_name():
    assert set(RULES) == {"consensus", "consensus-minus-k", "qualified-majority",
                          "simple-majority"}
    assert probability_name(["consensus", "consensus"]) == "P(consensus)"
    assert probability_name(["consensus", "simple-majority"]) == "P(adopted)"
