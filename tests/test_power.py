"""Exact voting power (cicasim.analysis.power): known answers, brute force, exactness, peer
tools."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import cicasim.analysis.power as power_module
from cicasim.analysis.power import PowerResult, power_for_proposal, power_indices
from cicasim.errors import InputError
from cicasim.spec.rules import (
    RULES,
    Consensus,
    ConsensusMinusK,
    QualifiedMajority,
    Rule,
    SimpleMajority,
)
from cicasim.spec.scenario import load_scenario, parse_scenario

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

EEC6 = {"DE": 4, "FR": 4, "IT": 4, "BE": 2, "NL": 2, "LU": 1}
EU15 = {
    "DE": 10, "FR": 10, "IT": 10, "UK": 10, "ES": 8, "BE": 5, "GR": 5, "NL": 5, "PT": 5,
    "AT": 4, "SE": 4, "DK": 3, "IE": 3, "FI": 3, "LU": 2,
}
# UN Security Council: 5 permanent members with a veto and 10 others, 9 votes needed; as a
# weighted game: permanent 7, others 1, quota 39 (5*7 + 4).
UNSC_VOTES = [7] * 5 + [1] * 10
UNSC_NAMES = ["CN", "FR", "RU", "UK", "US"] + [f"E{i}" for i in range(1, 11)]


def ids(n: int) -> list[str]:
    return [f"m{i}" for i in range(n)]


# ----------------------------------------------------------------------------------------------
# Brute force: every coalition through Rule.wins()
# ----------------------------------------------------------------------------------------------
def brute_force(rule: Rule, votes, population) -> tuple[int, np.ndarray, np.ndarray]:
    """(winning coalitions, Banzhaf swings, Shapley-Shubik) by enumerating all 2**n coalitions."""
    votes = np.asarray(votes, float)
    population = np.asarray(population, float)
    n = len(votes)
    codes = np.arange(2**n)
    yes = ((codes[:, None] >> np.arange(n)) & 1).astype(bool)
    win = rule.wins(yes, votes, population)
    sizes = yes.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(n - 1 - s) for s in range(n)])
    swings = np.zeros(n, dtype=np.int64)
    ss = np.zeros(n)
    for i in range(n):
        without = codes[~yes[:, i]]
        pivotal = win[without | (1 << i)] & ~win[without]
        swings[i] = pivotal.sum()
        ss[i] = weight[sizes[without][pivotal]].sum() / math.factorial(n)
    return int(win.sum()), swings, ss


def assert_matches_brute_force(result: PowerResult, rule: Rule, votes, population) -> None:
    total, swings, ss = brute_force(rule, votes, population)
    n = len(votes)
    assert result.winning_coalitions == total
    assert list(result.swings.values()) == swings.tolist()
    assert_allclose(result.passage_probability, total / 2**n, rtol=1e-15)
    assert_allclose(list(result.banzhaf_absolute.values()), swings / 2 ** (n - 1), rtol=1e-12)
    assert_allclose(list(result.shapley_shubik.values()), ss, rtol=1e-9, atol=1e-15)
    if swings.sum():
        assert_allclose(list(result.banzhaf.values()), swings / swings.sum(), rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# Known answers (shared/design CHECKS.md)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 5, 28])
def test_unanimity_passes_with_two_to_the_minus_n(n):
    r = power_indices(rule=Consensus(), names=ids(n))
    assert r.winning_coalitions == 1
    assert_allclose(r.passage_probability, 2.0**-n, rtol=1e-15)
    if n == 28:
        assert_allclose(r.passage_probability, 3.725e-9, rtol=1e-3)  # CHECKS.md, 4 digits
    assert_allclose(list(r.shapley_shubik.values()), [1 / n] * n, rtol=1e-12)


def test_simple_majority_of_27_passes_half_the_time():
    r = power_indices(rule=SimpleMajority(), names=ids(27))
    assert r.winning_coalitions == 2**26
    assert_allclose(r.passage_probability, 0.5, rtol=1e-15)


def test_eec6_treaty_of_rome():
    r = power_indices(
        rule=QualifiedMajority(quota=12), votes=list(EEC6.values()), names=list(EEC6)
    )
    assert r.winning_coalitions == 14
    assert_allclose(r.passage_probability, 0.21875, rtol=1e-15)
    # Luxembourg is a dummy in the EEC-6 (Felsenthal & Machover 1998, 5.3)
    assert r.banzhaf["LU"] == 0.0 and r.shapley_shubik["LU"] == 0.0


def test_eu15_1995_weights():
    r = power_indices(rule=QualifiedMajority(quota=62), votes=list(EU15.values()), names=list(EU15))
    assert r.winning_coalitions == 2549
    assert_allclose(r.passage_probability, 0.077789, rtol=1e-5)


@pytest.mark.parametrize("method", ["auto", "enumeration"])
def test_un_security_council(method):
    r = power_indices(
        rule=QualifiedMajority(quota=39), votes=UNSC_VOTES, names=UNSC_NAMES, method=method
    )
    assert r.winning_coalitions == 848
    assert_allclose(r.passage_probability, 848 / 32768, rtol=1e-15)
    assert_allclose(r.passage_probability, 0.025879, atol=5e-7)
    assert_allclose([r.shapley_shubik[a] for a in UNSC_NAMES[:5]], [0.196270] * 5, atol=5e-7)
    assert_allclose([r.shapley_shubik[a] for a in UNSC_NAMES[5:]], [0.0018648] * 10, atol=5e-8)
    assert_allclose(sum(r.shapley_shubik.values()), 1.0, rtol=1e-12)


def test_un_security_council_as_veto_plus_count():
    """The same game written as "all five permanent members and at least nine members"."""
    votes = [1] * 5 + [0] * 10
    crit = QualifiedMajority(quota=5, min_members=9)
    r = power_indices(rule=crit, votes=votes, names=UNSC_NAMES)
    assert r.winning_coalitions == 848


# ----------------------------------------------------------------------------------------------
# Exactness beyond 64 bits
# ----------------------------------------------------------------------------------------------
def test_exact_counts_at_120_members():
    n = 120
    r = power_indices(rule=Consensus(), names=ids(n))
    assert r.winning_coalitions == 1
    assert all(s == 1 for s in r.swings.values())
    assert_allclose(r.banzhaf_absolute["m0"], 2.0**-119, rtol=1e-15)
    m = power_indices(rule=SimpleMajority(), names=ids(n))
    assert m.winning_coalitions == sum(math.comb(n, k) for k in range(61, n + 1))
    assert m.swings["m0"] == math.comb(n - 1, 60)  # exactly 60 of the other 119 say yes


@pytest.mark.parametrize("n_heavy,n_light,quota", [(60, 60, 91), (40, 80, 121), (1, 63, 40)])
def test_exact_weighted_counts_beyond_64_members(n_heavy, n_light, quota):
    """Two weight classes (2 and 1): the count of winning coalitions is a binomial double sum.
    These go through the generating function with more than one residue channel."""
    votes = [2] * n_heavy + [1] * n_light
    r = power_indices(rule=QualifiedMajority(quota=quota), votes=votes)
    assert r.method == "generating-function"
    expected = sum(
        math.comb(n_heavy, i) * math.comb(n_light, j)
        for i in range(n_heavy + 1)
        for j in range(n_light + 1)
        if 2 * i + j >= quota
    )
    assert r.winning_coalitions == expected
    # a light member swings when the others weigh exactly quota - 1
    swings_light = sum(
        math.comb(n_heavy, i) * math.comb(n_light - 1, quota - 1 - 2 * i)
        for i in range(n_heavy + 1)
        if 0 <= quota - 1 - 2 * i <= n_light - 1
    )
    assert r.swings[str(len(votes))] == swings_light
    assert_allclose(sum(r.shapley_shubik.values()), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# Every registered rule against brute force (hypothesis)
# ----------------------------------------------------------------------------------------------
decimal_weights = st.one_of(
    st.integers(0, 12).map(float),
    st.integers(0, 400).map(lambda x: x / 10),
    st.integers(0, 100_000).map(lambda x: x / 1000),
)
any_weights = st.floats(0.01, 100, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def rule_for(draw, kind: str, n: int, total_votes: float) -> Rule:
    cls = RULES[kind]
    if cls is Consensus or cls is SimpleMajority:
        return cls()
    if cls is ConsensusMinusK:
        return ConsensusMinusK(k=draw(st.integers(0, n + 1)))
    if cls is QualifiedMajority:
        fields = draw(
            st.sets(
                st.sampled_from(
                    ["quota", "min_members", "min_members_share", "min_population_share"]
                ),
                min_size=1,
            )
        )
        args: dict = {}
        if "quota" in fields:
            share = draw(st.integers(1, 110)) / 100
            args["quota"] = max(round(share * total_votes, 1), 0.1)
        if "min_members" in fields:
            args["min_members"] = draw(st.integers(1, n + 1))
        if "min_members_share" in fields:
            args["min_members_share"] = draw(st.integers(1, 100)) / 100
        if "min_population_share" in fields:
            args["min_population_share"] = draw(st.integers(1, 100)) / 100
        if draw(st.booleans()):
            args["blocking_min"] = draw(st.integers(1, n + 1))
        return QualifiedMajority(**args)
    return cls()  # a rule added later: its defaults must be a valid rule


@st.composite
def games(draw, kind: str):
    n = draw(st.integers(1, 10))
    votes = draw(st.lists(decimal_weights, min_size=n, max_size=n))
    weights = st.one_of(decimal_weights, any_weights) if draw(st.booleans()) else decimal_weights
    population = draw(st.lists(weights, min_size=n, max_size=n))
    rule = draw(rule_for(kind, n, sum(votes)))
    return rule, votes, population


@pytest.mark.parametrize("kind", sorted(RULES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_rule_matches_brute_force(kind, data):
    rule, votes, population = data.draw(games(kind))
    result = power_indices(rule=rule, votes=votes, population=population, names=ids(len(votes)))
    assert_matches_brute_force(result, rule, votes, population)
    assert result.method in power_module.METHODS
    enumerated = power_indices(
        rule=rule, votes=votes, population=population, method="enumeration"
    )
    assert enumerated.winning_coalitions == result.winning_coalitions
    assert list(enumerated.swings.values()) == list(result.swings.values())


@pytest.mark.parametrize("kind", sorted(RULES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_tally_decides_as_the_simple_game(kind, data):
    """The engine's compiled decision (Rule.tally) on every yes/no vote of the members, an
    observer beside them, equals the rule's simple game (no abstentions: all who do not accept
    object)."""
    from cicasim.engine.loops import _passes
    from cicasim.spec.rules import VoteContext

    rule, votes, population = data.draw(games(kind))
    n = len(votes)
    member = np.array([True] * n + [False])
    ctx = VoteContext(
        member=member,
        votes=np.array([*votes, 99.0], float),
        population=np.array([*population, 99.0], float),
    )
    tally = rule.tally(ctx)
    yes = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
    wins = rule.wins(yes, np.asarray(votes, float), np.asarray(population, float))
    for coalition, expected in zip(yes, wins, strict=True):
        accept = np.append(coalition, False)
        objection = np.append(~coalition, False)
        got = _passes(accept, objection, member, tally.max_objections, tally.weights,
                      tally.quotas, tally.floor)
        assert got == expected, (rule, coalition)


@settings(max_examples=40, deadline=None)
@given(
    weights=st.lists(st.integers(0, 30), min_size=1, max_size=10),
    share=st.integers(1, 100),
    min_members=st.one_of(st.none(), st.integers(1, 11)),
    blocking=st.one_of(st.none(), st.integers(1, 11)),
)
def test_generating_function_matches_brute_force(weights, share, min_members, blocking):
    """Integer weighted games with size thresholds and a blocking floor, forced through the
    generating function (including weights at or above the quota and zero weights)."""
    quota = max(1, math.ceil(share / 100 * sum(weights)))
    rule = QualifiedMajority(quota=quota, min_members=min_members, blocking_min=blocking)
    if sum(weights) == 0 or len(set(weights)) == 1:
        return  # a size threshold, not a weighted one
    r = power_indices(rule=rule, votes=weights, method="generating-function")
    assert_matches_brute_force(r, rule, weights, np.zeros(len(weights)))


# ----------------------------------------------------------------------------------------------
# Properties of the indices
# ----------------------------------------------------------------------------------------------
def test_index_properties_on_a_random_game():
    rng = np.random.default_rng(20240501)
    votes = rng.integers(1, 40, size=40)
    votes[0] = 0  # a member with no vote is a dummy
    votes[1] = votes[2]
    r = power_indices(rule=QualifiedMajority(quota=int(votes.sum() * 0.62)), votes=votes)
    assert_allclose(sum(r.banzhaf.values()), 1.0, rtol=1e-12)
    assert_allclose(sum(r.shapley_shubik.values()), 1.0, rtol=1e-12)
    assert r.swings["1"] == 0 and r.shapley_shubik["1"] == 0.0
    assert r.swings["2"] == r.swings["3"]
    order = np.argsort(votes, kind="stable")
    ss = np.array(list(r.shapley_shubik.values()))[order]
    assert np.all(np.diff(ss) >= -1e-15)  # more weight never means less power


def test_lisbon_floor_makes_blocking_harder():
    """Lisbon's rule of four: with the floor, small groups cannot block (TEU art. 16(4))."""
    rng = np.random.default_rng(7)
    population = np.round(rng.uniform(0.4, 80, size=14), 3)
    base = dict(min_members_share=0.55, min_population_share=0.65)
    without = power_indices(rule=QualifiedMajority(**base), population=population)
    rule = QualifiedMajority(**base, blocking_min=4)
    with_floor = power_indices(rule=rule, population=population)
    assert with_floor.method == "generating-function"
    assert with_floor.winning_coalitions > without.winning_coalitions
    assert_matches_brute_force(with_floor, rule, np.ones(14), population)


def test_input_is_not_mutated():
    votes = [29, 29, 29, 27, 27, 14, 13, 12, 12, 12, 12, 10, 10, 10]
    population = np.round(np.linspace(80, 1, 14), 3)
    kept = (list(votes), population.copy())
    power_indices(rule=QualifiedMajority(quota=170, min_population_share=0.62),
                  votes=votes, population=population)
    assert votes == kept[0]
    np.testing.assert_array_equal(population, kept[1])


def test_result_to_dict_is_plain():
    r = power_indices(rule=QualifiedMajority(quota=12), votes=list(EEC6.values()), names=list(EEC6))
    d = r.to_dict()
    assert set(d) >= {"n", "winning_coalitions", "passage_probability", "banzhaf",
                      "banzhaf_absolute", "shapley_shubik"}
    assert type(d["banzhaf"]) is dict and list(d["banzhaf"]) == list(EEC6)
    assert d["winning_coalitions"] == 14 and d["n"] == 6


# ----------------------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------------------
def test_power_for_proposal_on_tiny():
    s = load_scenario(DATA / "tiny.toml")
    r = power_for_proposal(s, "deal")
    assert r.names == ("AAA", "BBB", "CCC")  # the observer does not vote
    assert r.winning_coalitions == 1
    assert_allclose(r.passage_probability, 1 / 8, rtol=1e-15)


def _tiny_with(rule: dict, **actor_fields) -> object:
    data = tomllib.loads((DATA / "tiny.toml").read_text(encoding="utf-8"))
    data["proposals"][0]["rule"] = rule
    for actor in data["actors"]:
        for key, values in actor_fields.items():
            if actor["id"] in values:
                actor[key] = values[actor["id"]]
    return parse_scenario(data, "tiny.toml")


def test_power_for_proposal_uses_votes_and_population():
    s = _tiny_with(
        {"kind": "qualified-majority", "quota": 4, "min_population_share": 0.5},
        votes={"AAA": 3, "BBB": 2, "CCC": 1},
        population={"AAA": 10.5, "BBB": 20.25, "CCC": 1.0},
    )
    r = power_for_proposal(s, "deal")
    # winning: {A,B} (5 votes, 30.75) and {A,B,C}; {A,C} has 4 votes but 11.5 of 31.75
    assert r.winning_coalitions == 2
    assert r.swings == {"AAA": 2, "BBB": 2, "CCC": 0}


def test_power_for_proposal_errors():
    s = load_scenario(DATA / "tiny.toml")
    with pytest.raises(InputError, match="no proposal 'nope'; allowed: deal"):
        power_for_proposal(s, "nope")
    s = _tiny_with({"kind": "qualified-majority", "min_population_share": 0.5})
    with pytest.raises(InputError, match=r"AAA, BBB, CCC give no actors\.population"):
        power_for_proposal(s, "deal")


# ----------------------------------------------------------------------------------------------
# Bad input to the library
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(votes=[1, -2, 3]), r"votes\[1\]: -2 is not allowed; weights must be finite and >= 0"),
        (dict(votes=[1, "x"]), r"votes\[1\]: 'x' is not a number"),
        (dict(population=[1, float("nan")]), r"population\[1\]: nan is not allowed"),
        (dict(names=["a", "b", "a"]), r"names\[2\]: duplicate 'a'"),
        (dict(votes=[1, 2], names=["a"]), "differ in length"),
        (dict(), "give votes, population or names"),
        (dict(votes=[1, 2], method="magic"), "method: 'magic' is unknown"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        power_indices(rule=SimpleMajority(), **kwargs)


def test_enumeration_limit_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(power_module, "ENUMERATION_LIMIT", 100)
    rule = QualifiedMajority(quota=2, min_population_share=0.1)
    with pytest.raises(InputError, match="more than 100 winning coalitions"):
        power_indices(rule=rule, votes=np.arange(1, 13), population=np.arange(12, 0, -1))


def test_forced_method_that_does_not_apply():
    with pytest.raises(InputError, match="method 'generating-function'"):
        power_indices(
            rule=QualifiedMajority(quota=5, min_population_share=0.5),
            votes=[1, 2, 3, 4],
            population=[4, 3, 2, 1],
            method="generating-function",
        )


# ----------------------------------------------------------------------------------------------
# Cross-checks against peer tools (test-only dependencies)
# ----------------------------------------------------------------------------------------------
def _peer_games():
    rng = np.random.default_rng(11)
    yield "EEC-6", list(EEC6.values()), 12
    yield "EU-15", list(EU15.values()), 62
    yield "UNSC", UNSC_VOTES, 39
    for n in (12, 25):
        w = rng.integers(1, 30, size=n).tolist()
        yield f"random-{n}", w, int(sum(w) * 0.6)


@pytest.mark.parametrize("label,votes,quota", list(_peer_games()))
def test_agrees_with_powerindex(label, votes, quota):
    powerindex = pytest.importorskip("powerindex")
    game = powerindex.Game(quota, weights=list(votes))
    game.calc_banzhaf()
    game.calc_shapley_shubik()
    r = power_indices(rule=QualifiedMajority(quota=quota), votes=votes)
    assert_allclose(list(r.banzhaf.values()), game.banzhaf, rtol=1e-9, atol=1e-15)
    assert_allclose(list(r.shapley_shubik.values()), game.shapley_shubik, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("label,votes,quota", list(_peer_games()))
def test_agrees_with_powerindices(label, votes, quota):
    powerindices = pytest.importorskip("powerindices")
    pbi = powerindices.compute_pbi(quota, list(votes))  # copies: it rewrites its input
    ssi = powerindices.compute_ssi(quota, list(votes))
    r = power_indices(rule=QualifiedMajority(quota=quota), votes=votes)
    assert_allclose(list(r.banzhaf_absolute.values()), pbi, rtol=1e-9, atol=1e-15)
    assert_allclose(list(r.shapley_shubik.values()), ssi, rtol=1e-9, atol=1e-15)


def test_agrees_with_powerindex_beyond_64_members():
    """powerindex counts in Python integers, so it stays exact past 64 members (Banzhaf only
    here: its Shapley-Shubik is slow at this size)."""
    powerindex = pytest.importorskip("powerindex")
    rng = np.random.default_rng(3)
    votes = rng.integers(1, 8, size=90).tolist()
    quota = int(sum(votes) * 0.7)
    game = powerindex.Game(quota, weights=list(votes))
    game.calc_banzhaf()
    r = power_indices(rule=QualifiedMajority(quota=quota), votes=votes)
    assert_allclose(list(r.banzhaf.values()), game.banzhaf, rtol=1e-12)


@pytest.mark.shared_data
def test_eu27_nice_votes_agrees_with_peers():
    path = SHARED / "eu_council" / "council_weights.csv"
    if not path.is_file():
        pytest.skip(f"public data set not found at {path}")
    import csv

    with path.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["member"] != "HR"]  # the 2007 EU-27
    votes = [int(r["weight_nice"]) for r in rows]
    assert len(votes) == 27 and sum(votes) == 345
    powerindices = pytest.importorskip("powerindices")
    r = power_indices(rule=QualifiedMajority(quota=255), votes=votes)
    assert_allclose(list(r.banzhaf_absolute.values()), powerindices.compute_pbi(255, list(votes)),
                    rtol=1e-9)
    assert_allclose(r.passage_probability, 0.020256, atol=5e-7)  # Nice votes alone: about 2%
