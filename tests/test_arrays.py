"""The negotiation arrays (cicasim.engine.arrays): a scenario's fixed inputs for the kernel, in
actor order, with defaults and per-actor overrides filled in."""

from __future__ import annotations

import numpy as np
from conftest import DATA, make_scenario

from cicasim.engine.arrays import behaviour_vector, negotiation, tension_matrix
from cicasim.spec.scenario import load_scenario


def test_tension_matrix_is_symmetric_with_the_default_elsewhere():
    scen = make_scenario([10, 50, 90], tensions={(0, 2): 0.8}, default_tension=0.1)
    T, sd = tension_matrix(scen)
    np.testing.assert_array_equal(T, [[0, 0.1, 0.8], [0.1, 0, 0.1], [0.8, 0.1, 0]])
    np.testing.assert_array_equal(T, T.T)
    assert np.all(np.diag(sd) == 0) and sd[0, 1] == scen.uncertainty.tension_sd


def test_behaviour_vector_takes_the_override_or_the_default():
    scen = load_scenario(DATA / "tiny.toml")
    stub = behaviour_vector(scen, "stubbornness")
    ids = [a.id for a in scen.actors]
    assert stub[ids.index("CCC")] == 0.95
    others = np.delete(stub, ids.index("CCC"))
    assert np.all(others == scen.behaviour.stubbornness)


def test_negotiation_holds_the_proposals_inputs_in_actor_order():
    scen = make_scenario([10, 50, 90], saliences=[0.2, 0.5, 0.9], capabilities=[1, 2, 3],
                         roles=["member", "observer", "member"], p0=70, q=30)
    neg = negotiation(scen, scen.proposals[0].id)
    assert neg.actor_ids == ("A00", "A01", "A02") and neg.dimensions == ("x",)
    np.testing.assert_array_equal(neg.member, [True, False, True])
    np.testing.assert_array_equal(neg.position[:, 0], [10, 50, 90])
    np.testing.assert_array_equal(neg.salience[:, 0], [0.2, 0.5, 0.9])
    np.testing.assert_array_equal(neg.capability, [1, 2, 3])
    assert neg.tension.shape == (3, 3)
    assert neg.position.dtype == np.float64
