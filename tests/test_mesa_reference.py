"""The per-agent Mesa reference of the benchmark implements the engine's model.

``benchmarks/mesa_reference.py`` is what the engine's speed is measured against, so it must be
the same model: with every source of noise switched off the two give the same negotiation
(outcome, rounds, final text to 1e-9, last vote, first blocker); with noise they draw different
random numbers from the same distributions, so P(consensus) and the mean number of rounds agree
within Monte Carlo error (4 standard errors of the difference).
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cicasim.engine.ensemble import run_proposal
from cicasim.engine.kernel import REASONS
from cicasim.spec.scenario import Scenario, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"


def _load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


reference = _load("mesa_reference")
bench = _load("bench_engine")


def _variant(
    data: dict[str, Any], *, noise: bool, behaviour: dict | None = None,
    uncertainty: dict | None = None, proposal: dict | None = None, touch: dict | None = None,
    overrides: dict[str, dict] | None = None, default_tension: float | None = None,
) -> Scenario:
    d = copy.deepcopy(data)
    if default_tension is not None:
        d["scenario"]["default_tension"] = default_tension
    if not noise:
        d["behaviour"].update(vote_noise=0.0, holdup_rate=0.0)
        d["uncertainty"] = {"position_sd": 0.0, "capability_sd": 0.0, "tension_sd": 0.0}
        for a in d["actors"]:
            a["uncertainty"] = {}
    d["behaviour"].update(behaviour or {})
    d["uncertainty"].update(uncertainty or {})
    d["proposals"][0].update(proposal or {})
    d["proposals"][0]["touches"][0].update(touch or {})
    for a in d["actors"]:
        if a["id"] in (overrides or {}):
            a["behaviour"] = overrides[a["id"]]
    return parse_scenario(d, "<test variant>")


TINY_DATA = load_scenario(TINY).model_dump()

DETERMINISTIC = {
    # deadlock after max_rounds: CCC, stubborn and far away, objects throughout
    "consensus": {},
    # passes once BBB abstains and only CCC objects
    "consensus-minus-1": {"proposal": {"rule": {"kind": "consensus-minus-k", "k": 1}}},
    "qualified-majority": {
        "proposal": {"rule": {"kind": "qualified-majority", "quota": 2, "min_members_share": 0.6}}
    },
    "simple-majority": {"proposal": {"rule": {"kind": "simple-majority"}}},
    # bounded confidence, objector weight, linear loss, a strong rival penalty
    "bounded-confidence": {
        "behaviour": {"confidence_bound": 25.0, "objector_weight": 1.0, "rival_penalty": 0.3,
                      "loss_exponent": 1},
        "overrides": {"CCC": {}},
    },
    # the sponsor would prefer the status quo to the amended text
    "withdrawn": {"proposal": {"sponsor": "BBB"}, "touch": {"position": 45, "status_quo": 50}},
}


def _engine_one(scenario: Scenario, pid: str):
    return run_proposal(scenario, pid, replications=1, seed=7).outcome


def _assert_same(scenario: Scenario, pid: str) -> str:
    ref = reference.run_reference(scenario, pid, replications=1, seed=7)[0]
    eng = _engine_one(scenario, pid)
    ids = [a.id for a in scenario.actors]
    assert ref.status == REASONS[int(eng.status[0])]
    assert ref.rounds == int(eng.rounds[0])
    assert_allclose(ref.text, eng.outcome[0], rtol=0, atol=1e-9)
    assert_allclose(ref.dilution, eng.dilution[0], rtol=0, atol=1e-9)
    assert ref.objectors == {ids[i] for i in np.flatnonzero(eng.objectors[0])}
    assert ref.abstainers == {ids[i] for i in np.flatnonzero(eng.abstainers[0])}
    blocker = int(eng.first_blocker[0])
    assert ref.first_blocker == (ids[blocker] if blocker >= 0 else None)
    return ref.status


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_zero_noise_tiny_is_the_same_negotiation(name):
    scenario = _variant(TINY_DATA, noise=False, **DETERMINISTIC[name])
    _assert_same(scenario, "deal")


def test_zero_noise_variants_reach_every_ending():
    endings = {
        _assert_same(_variant(TINY_DATA, noise=False, **v), "deal") for v in DETERMINISTIC.values()
    }
    assert endings == {"passed", "deadlock", "withdrawn"}


def test_zero_noise_benchmark_scenario_is_the_same_negotiation():
    """28 members, 9 observers, two dimensions, bounded confidence, every pair's tension."""
    data = bench.benchmark_scenario().model_dump()
    _assert_same(_variant(data, noise=False), "charter")


NOISY = {
    # vote noise and position uncertainty: P(consensus) about 0.2
    "noise": {"behaviour": {"vote_noise": 0.1}, "uncertainty": {"position_sd": 15.0}},
    # every random mechanism at once, under consensus minus one; BBB's hold-ups (tension 0.4
    # towards the sponsor) decide many negotiations
    "everything": {
        "default_tension": 0.4,
        "behaviour": {"vote_noise": 0.05, "holdup_rate": 0.5, "confidence_bound": 30.0,
                      "objector_weight": 1.0},
        "uncertainty": {"position_sd": 15.0, "capability_sd": 0.3, "tension_sd": 0.1},
        "proposal": {"rule": {"kind": "consensus-minus-k", "k": 1}},
        "overrides": {"CCC": {}},
    },
}


@pytest.mark.parametrize("name", sorted(NOISY))
def test_with_noise_statistics_agree(name):
    scenario = _variant(TINY_DATA, noise=True, **NOISY[name])
    ref = reference.run_reference(scenario, "deal", replications=300, seed=11)
    eng = run_proposal(scenario, "deal", replications=4096, seed=11).outcome
    nr, ne = len(ref), len(eng.status)
    # P(consensus): two binomial proportions, pooled standard error of their difference
    pr = np.mean([r.status == "passed" for r in ref])
    pe = np.mean(eng.status == 1)
    pool = (pr * nr + pe * ne) / (nr + ne)
    assert 0.02 < pool < 0.98, "the variant should leave the outcome uncertain"
    se = np.sqrt(pool * (1 - pool) * (1 / nr + 1 / ne))
    assert abs(pr - pe) <= 4 * se
    # mean rounds
    rr = np.array([r.rounds for r in ref], dtype=float)
    re = eng.rounds.astype(float)
    se = np.sqrt(rr.var(ddof=1) / nr + re.var(ddof=1) / ne)
    assert abs(rr.mean() - re.mean()) <= 4 * se


def test_reference_is_reproducible_and_per_agent():
    scenario = _variant(TINY_DATA, noise=True, **NOISY["noise"])
    a = reference.run_reference(scenario, "deal", replications=20, seed=3)
    b = reference.run_reference(scenario, "deal", replications=20, seed=3)
    assert a == b
    model = reference.NegotiationModel(scenario, "deal", rng=np.random.default_rng(0))
    assert len(model.agents) == len(scenario.actors)
    assert all(isinstance(x, reference.StateAgent) for x in model.agents)
