"""The plan's design points (cicasim.sweep.plan.DesignPoints): a read-only sequence built on
demand from the design, equal point for point to the list built eagerly, and small."""

from __future__ import annotations

import itertools
import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cicasim.sweep import DESIGNS, DesignPoint, DesignPoints, plan_experiment, seed_key
from cicasim.sweep.run import PlanRef
from cicasim.sweep.tables import points_table

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.toml"

GRID = """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.01, 0.05, 0.1]

[[factors]]
kind = "enlargement"

[[factors]]
kind = "rule"
values = [{kind = "consensus"}, {kind = "consensus-minus-k", k = 1}]

[[factors]]
kind = "uncertainty"
parameter = "position_sd"
range = [0.0, 10.0]
levels = 3
"""

LHS = """
[design]
kind = "latin-hypercube"
samples = 40

[[factors]]
kind = "behaviour"
parameter = "threshold"
range = [0.0, 0.4]

[[factors]]
kind = "rule"
values = [{kind = "consensus"}, {kind = "simple-majority"}]

[[factors]]
kind = "enlargement"
"""


def experiment(tmp: Path, body: str, *, name: str = "exp.toml", extra: str = "") -> Path:
    path = tmp / name
    path.write_text(
        f'[experiment]\nname = "t"\nscenario = "{TINY.as_posix()}"\nseed = 5\n'
        f"replications = 10\n{extra}\n{body}",
        encoding="utf-8",
    )
    return path


def eager(plan, rows: list[dict]) -> list[DesignPoint]:
    """The design points built eagerly from their factor values, by the documented rules."""
    points = []
    for p, values in enumerate(rows):
        parts, members = [], len(plan.scenario.members)
        for b in plan.bound:
            text, n = b.factor.describe(values[b.factor.label], b)
            parts.append(text)
            members = n if n is not None else members
        key = 0 if plan.common_random_numbers else seed_key(
            {b.factor.label: b.factor.key_value(values[b.factor.label]) for b in plan.bound})
        points.append(DesignPoint(point=p, values=values, label="; ".join(parts) or "base",
                                  n_members=members, seed_key=key))
    return points


def grid_rows() -> list[dict]:
    rules = ["consensus", "consensus-minus-k"]
    return [
        {"vote_noise": v, "enlargement": e, "rule": r, "position_sd": s}
        for v, e, r, s in itertools.product([0.01, 0.05, 0.1], [0, 1], rules, [0.0, 5.0, 10.0])
    ]


@pytest.fixture(params=["grid", "latin-hypercube", "crn"])
def plan_and_list(request, tmp_path):
    """A plan and its design points built eagerly (the list the plan used to hold)."""
    if request.param == "latin-hypercube":
        plan = plan_experiment(experiment(tmp_path, LHS))
        unit = DESIGNS["latin-hypercube"](3, 40, plan.seed)
        rows = [{b.factor.label: b.factor.from_unit(b, float(x))
                 for b, x in zip(plan.bound, u, strict=True)} for u in unit]
        return plan, eager(plan, rows)
    extra = "common_random_numbers = true" if request.param == "crn" else ""
    plan = plan_experiment(experiment(tmp_path, GRID, extra=extra))
    rules = {r.kind: r for r in plan.bound[2].levels}
    rows = [{**r, "rule": rules[r["rule"]]} for r in grid_rows()]
    return plan, eager(plan, rows)


def test_iteration_equals_the_eager_list(plan_and_list):
    plan, want = plan_and_list
    assert isinstance(plan.points, DesignPoints)
    got = list(plan.points)
    assert got == want
    assert [type(v) for p in got for v in p.values.values()] == \
        [type(v) for p in want for v in p.values.values()]
    assert len({p.seed_key for p in got}) == (1 if plan.common_random_numbers else len(got))


def test_length_indexing_and_slices_agree_with_the_list(plan_and_list):
    plan, want = plan_and_list
    points, n = plan.points, len(want)
    assert len(points) == n and bool(points)
    for i in (0, 1, n // 2, n - 1, -1, -n, np.int64(3)):
        assert points[i] == want[i]
    for s in (slice(None), slice(3, 9), slice(-5, None), slice(None, None, -1),
              slice(1, n, 4), slice(n, n + 3), slice(5, 2)):
        got = points[s]
        assert isinstance(got, list) and got == want[s]
    for i in (n, -n - 1):
        with pytest.raises(IndexError):
            points[i]
    with pytest.raises(TypeError):
        points["0"]
    with pytest.raises(TypeError):
        points[0] = want[1]
    assert points == want and want == points and points != want[:-1]
    assert points.index(want[-1]) == n - 1 and want[2] in points
    assert [p.point for p in reversed(points)] == list(range(n))[::-1]


def test_a_plan_pickles_with_its_points_and_the_workers_plan_without(plan_and_list):
    plan, want = plan_and_list
    again = pickle.loads(pickle.dumps(plan))
    assert isinstance(again.points, DesignPoints) and list(again.points) == want
    assert list(pickle.loads(pickle.dumps(plan.points))) == want
    ref = pickle.loads(pickle.dumps(PlanRef(plan)))
    assert len(ref.plan.points) == 0 and ref.plan.seed == plan.seed


def test_the_unit_design_is_copied_when_planned(tmp_path):
    path = experiment(tmp_path, LHS)
    unit = np.linspace(0.0, 0.99, 3 * 8).reshape(8, 3)
    last = 0.4 * unit[-1, 0]  # threshold's range is [0, 0.4]
    plan = plan_experiment(path, unit_points=unit)
    before = list(plan.points)
    unit[:] = 0.0  # the caller's array changes; the plan's points do not
    assert list(plan.points) == before
    assert before[-1].values["threshold"] == pytest.approx(last)
    with pytest.raises(ValueError, match="samples × 3"):
        plan_experiment(path, unit_points=unit[:, :2])


def test_the_points_table_does_not_depend_on_its_chunks(plan_and_list):
    plan, want = plan_and_list
    whole = points_table(plan)
    assert whole.equals(points_table(plan, chunk=7)) and whole.equals(points_table(plan, chunk=1))
    assert whole.column("label").to_pylist() == [p.label for p in want]
    assert whole.column("seed_key").to_pylist() == [p.seed_key for p in want]
    assert isinstance(whole.to_pandas(), pd.DataFrame) and whole.num_rows == len(want)


def test_a_large_plan_holds_its_design_not_its_points(tmp_path):
    """Planning a 100,000-point grid keeps far less than its points would take as objects."""
    path = experiment(tmp_path, """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
range = [0.0, 0.1]
levels = 250

[[factors]]
kind = "rule"
values = [{kind = "consensus"}, {kind = "consensus-minus-k", k = 1}]

[[factors]]
kind = "uncertainty"
parameter = "position_sd"
range = [0.0, 10.0]
levels = 200
""")
    plan_experiment(path)  # imports and caches, outside the measurement
    tracemalloc.start()
    try:
        plan = plan_experiment(path)
        kept = tracemalloc.get_traced_memory()[0]
        sample = plan.points[:1_000]
        per_point = (tracemalloc.get_traced_memory()[0] - kept) / len(sample)
    finally:
        tracemalloc.stop()
    assert len(plan.points) == 100_000
    assert per_point > 0
    assert kept < 100_000 * per_point / 20
    assert plan.points[-1].point == 99_999
