"""Shared fixtures: paths, a scenario factory and hypothesis settings."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from numpy.testing import assert_array_equal

from cicasim.engine.kernel import Outcome
from cicasim.spec.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED = (ROOT / ".." / "shared" / "data").resolve()

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def shared_data(*parts: str) -> Path:
    """A path in the public data sets, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public data set not present: ../shared/data/{'/'.join(parts)}")
    return path


def coin_flip_scenario(n: int, rule: dict[str, Any], votes: list[float] | None = None) -> Scenario:
    """``n`` members who vote by a fair coin: the sponsor is an observer and the text equals
    the status quo, so every member's utility margin is pure noise (accept iff z >= 0)."""
    return make_scenario(
        [50.0] * (n + 1),
        roles=["observer"] + ["member"] * n,
        p0=50,
        q=50,
        rule=rule,
        max_rounds=1,
        votes=None if votes is None else [0] + list(votes),
        behaviour={"vote_noise": 1.0, "abstention_band": 0.0, "rival_penalty": 0.0},
    )


def make_scenario(
    positions: list[float],
    *,
    saliences: list[float] | None = None,
    capabilities: list[float] | None = None,
    roles: list[str] | None = None,
    tensions: dict[tuple[int, int], float] | None = None,
    sponsor: int = 0,
    p0: float = 80.0,
    q: float = 20.0,
    rule: dict[str, Any] | None = None,
    max_rounds: int = 10,
    behaviour: dict[str, Any] | None = None,
    uncertainty: dict[str, Any] | None = None,
    default_tension: float = 0.0,
    stubbornness: list[float] | None = None,
    votes: list[float] | None = None,
) -> Scenario:
    """A one-dimensional scenario with actors A00, A01, ... built from lists."""
    n = len(positions)
    saliences = saliences or [0.5] * n
    capabilities = capabilities or [1.0] * n
    roles = roles or ["member"] * n
    actors = []
    for i in range(n):
        a: dict[str, Any] = {
            "id": f"A{i:02d}",
            "role": roles[i],
            "capability": capabilities[i],
            "position": {"x": positions[i]},
            "salience": {"x": saliences[i]},
        }
        if stubbornness is not None:
            a["behaviour"] = {"stubbornness": stubbornness[i]}
        if votes is not None:
            a["votes"] = votes[i]
        actors.append(a)
    data = {
        "scenario": {"name": "generated", "default_tension": default_tension},
        "behaviour": behaviour or {},
        "uncertainty": uncertainty or {},
        "dimensions": [{"id": "x"}],
        "actors": actors,
        "tensions": [
            {"pair": [f"A{i:02d}", f"A{j:02d}"], "value": v}
            for (i, j), v in (tensions or {}).items()
        ],
        "proposals": [
            {
                "id": "p",
                "title": "proposal",
                "sponsor": f"A{sponsor:02d}",
                "touches": [{"dimension": "x", "position": p0, "status_quo": q}],
                "rule": rule or {"kind": "consensus"},
                "max_rounds": max_rounds,
            }
        ],
    }
    return parse_scenario(data, "<test>")


#: The tables every sweep writes (deltas and steps only with some designs).
SWEEP_TABLES = ("replications", "summary", "blocking", "points")


def digests(directory: Path) -> dict[str, str]:
    """A sweep directory's tables as digests of their bytes (the replications: every file of
    the dataset, by name), to compare two runs file for file."""
    out = {}
    for t in SWEEP_TABLES:
        path = directory / f"{t}.parquet"
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        out[t] = hashlib.sha256(
            b"".join(f.name.encode() + f.read_bytes() for f in files)
        ).hexdigest()
    return out


def assert_same_outcome(a: Outcome, b: Outcome) -> None:
    """Two outcomes equal field by field, bit for bit, with the same shapes and dtypes."""
    for name in Outcome.__dataclass_fields__:
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name, strict=True)
