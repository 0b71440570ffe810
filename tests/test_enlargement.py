"""The enlargement operators (cicasim.spec.enlargement): an observer joins, a named actor joins,
synthetic members drawn from a prior, and the path of cumulative steps."""

from __future__ import annotations

import pytest
from conftest import DATA

from cicasim.engine.arrays import tension_matrix
from cicasim.spec.enlargement import (
    enlargement_path,
    new_actor,
    observer_joins,
    synthetic_members,
)
from cicasim.spec.scenario import Actor, PartnerTension, load_scenario, parse_scenario


@pytest.fixture
def tiny():
    """The tiny scenario without its own enlargement steps."""
    data = load_scenario(DATA / "tiny.toml").model_dump()
    return parse_scenario({**data, "enlargement": []}, "tiny")


def test_an_observer_joins(tiny):
    after = observer_joins(tiny, "OBS")
    assert [a.id for a in after.members] == ["AAA", "BBB", "CCC", "OBS"]
    assert not after.observers
    assert [a.id for a in tiny.members] == ["AAA", "BBB", "CCC"]  # the base is left alone


def test_only_an_observer_of_the_scenario_can_join(tiny):
    with pytest.raises(ValueError, match="'AAA' is not an observer"):
        observer_joins(tiny, "AAA")
    with pytest.raises(ValueError, match="'ZZZ' is not in the scenario"):
        observer_joins(tiny, "ZZZ")


def test_a_named_actor_joins_with_its_tensions(tiny):
    actor = Actor.model_validate({"id": "NEW", "role": "member", "capability": 1.0,
                                  "position": {"integration": 40},
                                  "salience": {"integration": 0.5}})
    after = new_actor(tiny, actor, [PartnerTension(other="AAA", value=0.7)])
    T, _ = tension_matrix(after)
    ids = [a.id for a in after.actors]
    assert ids[-1] == "NEW"
    assert T[ids.index("NEW"), ids.index("AAA")] == 0.7
    assert T[ids.index("NEW"), ids.index("BBB")] == tiny.scenario.default_tension


def test_synthetic_members_are_seeded_resamples(tiny):
    a = synthetic_members(tiny, count=3, seed=1)
    b = synthetic_members(tiny, count=3, seed=1)
    c = synthetic_members(tiny, count=3, seed=2)
    new = a.actors[len(tiny.actors):]
    assert [x.id for x in new] == ["SYN01", "SYN02", "SYN03"]
    assert all(x.role == "member" for x in new)
    assert a.model_dump() == b.model_dump() and a.model_dump() != c.model_dump()
    templates = {x.id: x for x in tiny.members}
    for x in new:  # a member's copy, its position jittered within the scale
        like = x.name.split("like ")[1].rstrip(")")
        assert like in templates
        assert 0 <= x.position["integration"] <= 100
    # each new member has a tension with every actor already there
    assert len(a.tensions) == len(tiny.tensions) + sum(len(tiny.actors) + i for i in range(3))


def test_a_prior_with_no_actors_is_refused(tiny):
    no_observers = observer_joins(tiny, "OBS")
    with pytest.raises(ValueError, match="prior 'resample-observers': no actors to resample"):
        synthetic_members(no_observers, count=1, prior="resample-observers", seed=1)


def test_the_path_is_cumulative():
    scen = load_scenario(DATA.parents[1] / "scenarios" / "cica-2022.toml")
    if not scen.enlargement:
        pytest.skip("the scenario has no enlargement steps")
    path = enlargement_path(scen, seed=1)
    assert path[0][0] == "base" and len(path) == len(scen.enlargement) + 1
    sizes = [len(s.members) for _, s in path]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
    assert all(not s.enlargement for _, s in path)
