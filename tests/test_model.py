"""The Mesa driver: a traced run equals the same replication of the ensemble, bit for bit."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from conftest import DATA, make_scenario
from numpy.testing import assert_array_equal

from cicasim.engine.draws import BLOCK
from cicasim.engine.ensemble import run_proposal
from cicasim.engine.model import NegotiationModel, StateAgent
from cicasim.spec.scenario import load_scenario

TINY = load_scenario(DATA / "tiny.toml")


@pytest.fixture(scope="module")
def ensemble():
    return run_proposal(TINY, "deal", replications=BLOCK + 40, seed=17).outcome


@pytest.mark.parametrize("rep", [0, 1, 37, BLOCK - 1, BLOCK, BLOCK + 39])
def test_trace_equals_ensemble_replication(ensemble, rep):
    model = NegotiationModel(TINY, "deal", seed=17, replication=rep)
    o = model.run()
    for field in (
        "status",
        "rounds",
        "outcome",
        "policy",
        "dilution",
        "objectors",
        "abstainers",
        "first_blocker",
    ):
        assert_array_equal(getattr(o, field)[0], getattr(ensemble, field)[rep], err_msg=field)


def test_model_is_a_mesa_model_with_thin_agents():
    model = NegotiationModel(TINY, "deal", seed=1)
    assert isinstance(model, mesa.Model)
    agents = list(model.agents)
    assert len(agents) == 4 and all(isinstance(a, StateAgent) for a in agents)
    obs = next(a for a in agents if a.actor_id == "OBS")
    model.step()
    # agents read the kernel state: positions are the state's row
    for a in agents:
        assert a.position == tuple(model.state.x[0, a.index])
    assert obs.vote is None and obs.margin is None
    votes = {a.actor_id: a.vote for a in agents if a.member}
    assert set(votes.values()) <= {"accept", "abstain", "object"}
    assert votes["AAA"] == "accept"  # the sponsor stands by its text


def test_datacollector_records_every_round():
    model = NegotiationModel(TINY, "deal", seed=4)
    model.run()
    mv = model.datacollector.get_model_vars_dataframe()
    t = int(model.state.t)
    assert list(mv["round"]) == list(range(t + 1))
    av = model.datacollector.get_agent_vars_dataframe()
    assert len(av) == 4 * (t + 1)
    last = mv.iloc[-1]
    assert last["accepts"] + last["abstentions"] + last["objections"] == 3
    assert last["status"] == model.reason != "running"


def test_a_round_means_the_same_in_the_collector_and_the_trace(capsys):
    """Row t of the DataCollector is round t as `cicasim trace` prints it: the text voted on in
    round t (the tabled text in round 1), the positions held when voting; the amended text
    and the positions after influence are the next row's starting point."""
    import json

    from cicasim.cli import main

    model = NegotiationModel(TINY, "deal", seed=4)
    model.run()
    mv = model.datacollector.get_model_vars_dataframe()
    av = model.datacollector.get_agent_vars_dataframe()
    assert mv["text"].iloc[1] == (80.0,)  # round 1 votes on the tabled text
    for t in range(1, len(mv) - 1):
        assert mv["next_text"].iloc[t] == mv["text"].iloc[t + 1]
        after = av.xs(t, level=0)["position_after"]
        at_next_vote = av.xs(t + 1, level=0)["position"]
        assert list(after) == list(at_next_vote)
    assert main(["trace", str(DATA / "tiny.toml"), "--proposal", "deal", "--seed", "4",
                 "--json"]) == 0
    rounds = json.loads(capsys.readouterr().out)["rounds"]
    assert [tuple(r["text"]) for r in rounds] == list(mv["text"].iloc[1:])


def test_trace_of_a_multidimensional_rule_based_scenario():
    s = make_scenario(
        [70, 40, 10, 90],
        rule={"kind": "simple-majority"},
        max_rounds=6,
        uncertainty={"position_sd": 10.0, "tension_sd": 0.1},
        behaviour={"holdup_rate": 0.3, "confidence_bound": 40.0},
    )
    ens = run_proposal(s, "p", replications=50, seed=8).outcome
    for rep in (0, 49):
        o = NegotiationModel(s, "p", seed=8, replication=rep).run()
        assert_array_equal(o.outcome[0], ens.outcome[rep])
        assert_array_equal(o.status[0], ens.status[rep])
    assert np.isfinite(ens.outcome).all()
