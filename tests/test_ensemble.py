"""Ensembles: reproducibility, common random numbers, domains and summaries (properties)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, make_scenario, shared_data
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.ensemble import run_ensemble, run_proposal, summarise, wilson
from cicasim.engine.kernel import PASSED, initial_state
from cicasim.models.compromise import compromise, weighted_median
from cicasim.spec.enlargement import new_actor
from cicasim.spec.scenario import Actor, PartnerTension, load_scenario

TINY = load_scenario(DATA / "tiny.toml")


def test_wilson_interval_known_value():
    # Wilson (1927) 95% interval for 7 of 10: 0.3968 - 0.8922 (Newcombe 1998, table I)
    lo, hi = wilson(7, 10)
    assert_allclose([lo, hi], [0.3968, 0.8922], atol=1e-4)


def test_same_seed_same_numbers_different_seed_different():
    a = run_ensemble(TINY, replications=700, seed=5).table()
    b = run_ensemble(TINY, replications=700, seed=5).table()
    c = run_ensemble(TINY, replications=700, seed=6).table()
    assert a.equals(b)
    assert not a["outcome_integration"].equals(c["outcome_integration"])


def test_replications_do_not_depend_on_the_total():
    """Replication r is the same whether 300 or 2,500 are run (it crosses a block boundary)."""
    small = run_proposal(TINY, "deal", replications=BLOCK + 10, seed=3).outcome
    large = run_proposal(TINY, "deal", replications=2500, seed=3).outcome
    assert_array_equal(small.outcome, large.outcome[: BLOCK + 10])
    assert_array_equal(small.status, large.status[: BLOCK + 10])


def test_actor_order_does_not_matter():
    """Synchronous updates and per-actor random streams: reordering the file changes nothing."""
    data = TINY.model_dump()
    data["actors"] = data["actors"][::-1]
    from cicasim.spec.scenario import parse_scenario

    rev = parse_scenario(data)
    a = run_proposal(TINY, "deal", replications=500, seed=9).outcome
    b = run_proposal(rev, "deal", replications=500, seed=9).outcome
    assert_array_equal(a.status, b.status)
    assert_allclose(a.outcome, b.outcome, rtol=1e-12)


def test_summary_matches_the_table():
    res = run_ensemble(TINY, replications=800, seed=1)
    (s,) = res.summaries()
    t = res.table()
    assert s.passed == int(t["passed"].sum())
    assert s.p_consensus == pytest.approx(t["passed"].mean())
    assert s.ci_low <= s.p_consensus <= s.ci_high
    assert s.median_rounds == pytest.approx(t["rounds"].median())
    failed = ~t["passed"]
    for actor, freq in s.blocking.items():
        objected = t["objectors"].str.split(";").apply(lambda ids, a=actor: a in ids)
        assert freq == pytest.approx((objected & failed).mean())
    assert set(s.blocking) == {"AAA", "BBB", "CCC"}  # members only


def test_table_lists_each_replications_objectors_abstainers_and_first_blocker():
    s = make_scenario([80, 60, 50, 65, 45], behaviour={"vote_noise": 0.1}, max_rounds=3)
    res = run_ensemble(s, replications=300, seed=4)
    t = res.table()
    (run,) = res.runs
    o, ids = run.outcome, run.negotiation.actor_ids
    names = np.asarray(ids, dtype=object)
    for k in range(run.replications):
        assert t["objectors"][k] == ";".join(names[o.objectors[k]])
        assert t["abstainers"][k] == ";".join(names[o.abstainers[k]])
        first = o.first_blocker[k]
        if first >= 0:
            assert t["first_blocker"][k] == ids[first]
        else:
            assert t["first_blocker"].isna()[k]
    assert (o.first_blocker >= 0).any() and (o.first_blocker < 0).any()


def test_observer_is_a_source_of_influence_but_never_votes():
    """docs/model.md property 3: observers never change a vote count, yet move positions."""
    data = TINY.model_dump()
    without = [a for a in data["actors"] if a["id"] != "OBS"]
    from cicasim.spec.scenario import parse_scenario

    base = dict(
        data,
        actors=without,
        enlargement=[],
        tensions=[t for t in data["tensions"] if "OBS" not in t["pair"]],
    )
    static = {"vote_noise": 0.02, "rival_penalty": 0.0, "holdup_rate": 0.0}
    one_round = [dict(p, max_rounds=1) for p in data["proposals"]]
    s_with = parse_scenario(dict(data, enlargement=[], behaviour=static, proposals=one_round))
    s_without = parse_scenario(dict(base, behaviour=static, proposals=one_round))
    a = run_proposal(s_with, "deal", replications=500, seed=2).outcome
    b = run_proposal(s_without, "deal", replications=500, seed=2).outcome
    assert_array_equal(a.status, b.status)  # the first vote is untouched by the observer
    assert not a.objectors[:, 3].any()
    # over several rounds the observer pulls positions, so the texts differ
    s_with = parse_scenario(dict(data, enlargement=[]))
    s_without = parse_scenario(base)
    a = run_proposal(s_with, "deal", replications=200, seed=2).outcome
    b = run_proposal(s_without, "deal", replications=200, seed=2).outcome
    assert not np.allclose(a.outcome, b.outcome)


# ---- properties over generated scenarios ---------------------------------------------------

RULES = st.sampled_from(
    [
        {"kind": "consensus"},
        {"kind": "consensus-minus-k", "k": 1},
        {"kind": "simple-majority"},
        {"kind": "qualified-majority", "min_members_share": 0.6},
    ]
)


@st.composite
def scenarios(draw, static: bool = False, rule=None):
    n = draw(st.integers(2, 7))
    pos = draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))
    sal = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    cap = draw(st.lists(st.floats(0.01, 100), min_size=n, max_size=n))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    tens = {p: draw(st.floats(0, 1)) for p in pairs if draw(st.booleans())}
    behaviour = {
        "loss_exponent": draw(st.sampled_from([1, 2])),
        "threshold": draw(st.floats(-0.2, 0.2)),
        "abstention_band": draw(st.floats(0, 0.1)),
        "amendment_step": draw(st.floats(0.05, 1)),
        "objector_weight": draw(st.floats(0, 3)),
        "confidence_bound": draw(st.sampled_from([float("inf"), 5.0, 30.0])),
        "influence_rate": draw(st.floats(0, 1)),
        "stubbornness": draw(st.floats(0, 1)),
    }
    if static:
        behaviour.update(vote_noise=0.0, rival_penalty=0.0, holdup_rate=0.0)
        rounds = 1
    else:
        behaviour.update(
            vote_noise=draw(st.floats(0, 0.3)),
            rival_penalty=draw(st.floats(0, 1)),
            holdup_rate=draw(st.floats(0, 0.5)),
        )
        rounds = draw(st.integers(1, 12))
    unc = {
        "position_sd": draw(st.floats(0, 30)),
        "capability_sd": draw(st.floats(0, 1)),
        "tension_sd": draw(st.floats(0, 0.3)),
    }
    return make_scenario(
        pos,
        saliences=sal,
        capabilities=cap,
        tensions=tens,
        p0=draw(st.floats(0, 100)),
        q=draw(st.floats(0, 100)),
        rule=rule or draw(RULES),
        max_rounds=rounds,
        behaviour=behaviour,
        uncertainty=unc,
    )


@given(scenarios(), st.integers(0, 2**32 - 1))
def test_outputs_stay_in_their_domains(s, seed):
    """docs/model.md property 7."""
    run = run_proposal(s, "p", replications=64, seed=seed)
    o = run.outcome
    assert np.all((o.outcome >= 0) & (o.outcome <= 100))
    assert np.all((o.policy >= 0) & (o.policy <= 100))
    # dilution is signed (negative: more ambitious than tabled), drift a distance
    assert np.all(np.isfinite(o.dilution))
    assert np.all(np.isfinite(o.drift) & (o.drift >= 0))
    if o.outcome.shape[1] == 1:
        assert not o.drift.any()  # one dimension: nowhere to go off the line
    assert np.all((o.rounds >= 1) & (o.rounds <= s.proposals[0].max_rounds))
    assert set(np.unique(o.status)) <= {1, 2, 3}
    assert not (o.objectors & o.abstainers).any()
    summ = summarise(run)
    assert 0 <= summ.ci_low <= summ.p_consensus <= summ.ci_high <= 1
    assert all(0 <= f <= 1 for f in summ.blocking.values())


@given(scenarios(), st.integers(0, 2**32 - 1))
def test_same_seed_gives_identical_results(s, seed):
    a = run_proposal(s, "p", replications=40, seed=seed).outcome
    b = run_proposal(s, "p", replications=40, seed=seed).outcome
    for f in ("status", "rounds", "outcome", "dilution", "drift", "objectors", "first_blocker"):
        assert_array_equal(getattr(a, f), getattr(b, f))


@given(
    scenarios(static=True, rule={"kind": "consensus"}),
    st.floats(0, 100),
    st.floats(0, 1),
    st.floats(0.01, 50),
    st.integers(0, 2**32 - 1),
)
def test_adding_a_member_never_raises_consensus_in_the_static_model(s, x, sal, cap, seed):
    """docs/model.md property 2, pathwise under common random numbers (the shared actors keep
    their random streams when a member joins)."""
    joiner = Actor(id="NEW", role="member", capability=cap, position={"x": x}, salience={"x": sal})
    bigger = new_actor(s, joiner, [PartnerTension(other="A00", value=0.5)])
    a = run_proposal(s, "p", replications=128, seed=seed).outcome
    b = run_proposal(bigger, "p", replications=128, seed=seed).outcome
    assert np.all(b.passed <= a.passed)
    assert b.passed.mean() <= a.passed.mean()


def test_compromise_model_on_scholz_example():
    """CHECKS.md: capability × salience weighted mean 7.38996 and weighted median 7 on the
    EC car-emissions example (Scholz, Calbert & Smith 2011), read from the public data."""
    import pandas as pd

    d = pd.read_csv(shared_data("scholz_ec", "ExampleActors.csv"))
    cap, pos, sal = d["Capability"].values, d["Position"].values, d["Salience"].values
    assert len(d) == 10
    assert_allclose(compromise(position=pos, salience=sal, capability=cap), 7.38996, atol=5e-6)
    assert weighted_median(values=pos, weights=cap * sal) == 7


def test_compromise_and_median_by_hand():
    # weights 1*1, 2*0.5, 1*2 = 1, 1, 2 -> mean (10 + 20 + 2*40) / 4 = 27.5; median 20 (lower)
    pos, sal, cap = [10, 20, 40], [1.0, 0.5, 2.0], [1.0, 2.0, 1.0]
    assert_allclose(compromise(position=pos, salience=sal, capability=cap), 27.5)
    assert weighted_median(values=pos, weights=np.multiply(cap, sal)) == 20


def test_passed_means_status_passed():
    o = run_proposal(TINY, "deal", replications=100, seed=1).outcome
    assert_array_equal(o.passed, o.status == PASSED)


def test_pair_noise_is_standardised_and_uncorrelated():
    """The factor construction of tension noise (cicasim.engine.draws): unit variance, zero mean,
    no correlation between two pairs sharing an actor, exact symmetry."""
    s = make_scenario([50.0] * 4, default_tension=0.5, uncertainty={"tension_sd": 0.01})
    neg = negotiation(s, "p")
    d = BlockDraws(
        master=1, point=0, block=0, proposal="p", actors=neg.actor_ids, dimensions=1
    ).start()
    t = (initial_state(neg, d).T - 0.5) / 0.01
    assert_array_equal(t, np.swapaxes(t, 1, 2))
    assert_array_equal(t[:, range(4), range(4)], -50.0)  # the diagonal is zero tension
    ab, ac = t[:, 0, 1], t[:, 0, 2]
    assert abs(ab.mean()) < 4 / np.sqrt(BLOCK)
    assert abs(ab.var() - 1) < 0.15
    assert abs(np.corrcoef(ab, ac)[0, 1]) < 4 / np.sqrt(BLOCK)


@pytest.mark.parametrize("keep", [True, False])
def test_on_block_sees_every_block_and_can_stop_the_run(keep):
    """The ensembles' ``on_block`` hook (where the explorer stops a run a newer setting has
    superseded) is called once per block, kept or summarised, and leaves the numbers alone;
    an exception it raises stops the run."""
    from cicasim.analysis.runs import run_scenario

    reps = BLOCK + 5  # two blocks per proposal
    calls: list[int] = []
    hooked = run_scenario(TINY, replications=reps, seed=3, keep=keep,
                          on_block=lambda: calls.append(1))
    plain = run_scenario(TINY, replications=reps, seed=3, keep=keep)
    assert len(calls) == 2 * len(TINY.proposals)
    assert hooked.summary().equals(plain.summary())  # NaN where nothing passed, alike

    class Stop(Exception):
        pass

    def stop() -> None:
        raise Stop

    with pytest.raises(Stop):
        run_scenario(TINY, replications=reps, seed=3, keep=keep, on_block=stop)
