"""The amendment protocols (cicasim.spec.protocols), checked by hand on a three-member case."""

from __future__ import annotations

import numpy as np
import pytest

from cicasim.engine.ensemble import run_ensemble
from cicasim.engine.kernel import DEADLOCK, PASSED
from cicasim.spec.protocols import PROTOCOLS, protocol_code
from cicasim.spec.scenario import ScenarioError, parse_scenario


def _three(amendment: str) -> dict:
    """Sponsor A at 100, B at 80, C at 30 on one dimension; text 100, status quo 0; quadratic
    loss, equal capability and salience, no noise, no rivalry, positions fixed (λ = 1)."""
    actor = lambda i, x: {  # noqa: E731
        "id": i, "role": "member", "capability": 1.0,
        "position": {"d": x}, "salience": {"d": 1.0},
    }
    return {
        "scenario": {"name": "three"},
        "behaviour": {
            "vote_noise": 0.0, "rival_penalty": 0.0, "abstention_band": 0.0,
            "stubbornness": 1.0, "amendment": amendment,
        },
        "dimensions": [{"id": "d"}],
        "actors": [actor("A", 100), actor("B", 80), actor("C", 30)],
        "proposals": [{
            "id": "p", "sponsor": "A", "max_rounds": 10,
            "touches": [{"dimension": "d", "position": 100, "status_quo": 0}],
        }],
    }


def test_accommodation_by_hand():
    # Round 1: C's gain of text 100 over 0 is 0.3^2 - 0.7^2 = -0.40, so C objects; B accepts.
    # C accepts z when |30 - z| <= 30, i.e. z <= 60: the text moves to 60 and passes in round 2.
    run = run_ensemble(parse_scenario(_three("accommodate")), replications=4, seed=3).runs[0]
    o = run.outcome
    assert (o.status == PASSED).all()
    assert (o.rounds == 2).all()
    np.testing.assert_allclose(o.outcome[:, 0], 60.0, atol=1e-9)
    # dilution: 40 of the 100 points from the text to the status quo
    np.testing.assert_allclose(o.dilution, 0.4, atol=1e-11)


def test_compromise_never_reaches_the_objector():
    # Achen's compromise of 100, 80, 30 is 70: the text approaches 70, never <= 60, so C
    # objects in every round and the negotiation deadlocks.
    run = run_ensemble(parse_scenario(_three("compromise")), replications=4, seed=3).runs[0]
    o = run.outcome
    assert (o.status == DEADLOCK).all()
    assert (o.outcome[:, 0] > 70.0).all()


def test_unsatisfiable_objector_is_not_accommodated():
    # With a rival penalty no text can cover (C's tension with A and B is 1), C cannot be
    # satisfied by any point between the text and the status quo: the text stays at 100.
    data = _three("accommodate")
    data["behaviour"]["rival_penalty"] = 5.0
    data["tensions"] = [{"pair": ["A", "C"], "value": 1.0}, {"pair": ["B", "C"], "value": 1.0}]
    o = run_ensemble(parse_scenario(data), replications=2, seed=3).runs[0].outcome
    assert (o.status == DEADLOCK).all()
    np.testing.assert_allclose(o.outcome[:, 0], 100.0)


def test_registry_names_codes_and_references():
    assert [p.code for p in PROTOCOLS.values()] == list(range(len(PROTOCOLS)))
    assert all(p.reference and p.rule for p in PROTOCOLS.values())
    assert protocol_code("accommodate") == 1
    with pytest.raises(KeyError, match="allowed: compromise, accommodate"):
        protocol_code("split")


def test_unknown_protocol_is_a_one_line_error():
    data = _three("split-the-difference")
    with pytest.raises(ScenarioError, match=r"behaviour\.amendment"):
        parse_scenario(data)
