"""What the explorer's controls set, and the runs behind its pages, as plain data.

:class:`Settings` is every control of the Overview (replications, seed, parameter set,
behaviour sliders, uncertainty scales, an actor's position and salience on a dimension) and of
the Membership page (observers who join, synthetic members).  :func:`effective_scenario` turns
them into a validated :class:`~cicasim.spec.scenario.Scenario`; :func:`overview` runs its
ensemble with the library's own :func:`~cicasim.analysis.runs.run_scenario` (and
:func:`pivotality` with ``--pivotality``'s), :func:`membership` the enlargement path with paired
ΔP under common random numbers (:func:`~cicasim.analysis.compare.paired_difference`, Newcombe
1998), and :func:`scenario_toml` writes the settings as a scenario file that ``cicasim run``
(and, for the joins, ``cicasim compare --enlarge``) reproduces with the same seed.  Every run
takes a ``cancelled()`` check, consulted between blocks, so a run a newer setting has
superseded stops early.  Nothing here imports Solara, so it is tested without a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cicasim.errors import InputError
from cicasim.spec.scenario import Behaviour, Scenario, parse_scenario, read_scenario

__all__ = [
    "BEHAVIOUR_SLIDERS",
    "MAX_REPLICATIONS",
    "PARAMETER_SETS",
    "SCALES",
    "Membership",
    "Settings",
    "Superseded",
    "default_scenario_path",
    "effective_scenario",
    "initial_settings",
    "load",
    "membership",
    "overview",
    "parameter_behaviour",
    "pivotality",
    "scenario_toml",
    "stance",
]

#: The behaviour sliders: field of :class:`~cicasim.spec.scenario.Behaviour` -> (label, low, high,
#: step).  The ranges are the schema's, cut to where the model is meaningful (docs/model.md).
BEHAVIOUR_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "abstention_band": ("abstention band", 0.0, 0.5, 0.01),
    "rival_penalty": ("rival penalty β", 0.0, 2.0, 0.05),
    "holdup_rate": ("hold-up rate h", 0.0, 1.0, 0.01),
    "vote_noise": ("vote noise σ", 0.0, 0.5, 0.01),
    "amendment_step": ("amendment step α", 0.05, 1.0, 0.05),
    "stubbornness": ("stubbornness λ", 0.0, 1.0, 0.05),
    "influence_rate": ("influence rate μ", 0.0, 1.0, 0.05),
}
#: The uncertainty scales: each multiplies every standard deviation of that kind in the
#: scenario (scenario-wide, per actor and per tension); 1 = as written.
SCALES: dict[str, str] = {
    "position_sd": "position s.d. ×",
    "capability_sd": "capability s.d. ×",
    "tension_sd": "tension s.d. ×",
}
SCALE_RANGE = (0.0, 3.0, 0.1)
#: The parameter sets offered: the scenario's own behaviour, and every shipped set.
PARAMETER_SETS = ("scenario", "validation")
#: Most replications per proposal the page runs (the command line allows more).
MAX_REPLICATIONS = 100_000


def default_scenario_path() -> Path:
    """The bundled CICA 2022 scenario, shipped in the package (``scenarios/cica-2022.toml`` of a
    checkout is a link to it), so the explorer starts on it in any install."""
    return Path(__file__).resolve().parents[1] / "scenarios" / "cica-2022.toml"


@dataclass(frozen=True)
class Settings:
    """Every control of the pages; immutable, so a newer value is a new object."""

    replications: int = 4000
    seed: int = 1
    parameter_set: str = "scenario"
    behaviour: tuple[tuple[str, float], ...] = ()  # (slider, value); unset: the set's value
    scales: tuple[tuple[str, float], ...] = tuple((k, 1.0) for k in SCALES)
    joins: tuple[str, ...] = ()
    synthetic: int = 0
    synthetic_prior: str = "resample-members"
    # (actor, dimension, position, salience): one actor's stance on one dimension, as set
    stances: tuple[tuple[str, str, float, float], ...] = ()

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def with_behaviour(self, name: str, value: float) -> Settings:
        return self.replace(behaviour=tuple({**dict(self.behaviour), name: value}.items()))

    def with_scale(self, name: str, value: float) -> Settings:
        return self.replace(scales=tuple({**dict(self.scales), name: value}.items()))

    def with_join(self, actor: str, joins: bool) -> Settings:
        rest = tuple(a for a in self.joins if a != actor)
        return self.replace(joins=rest + (actor,) if joins else rest)

    def with_stance(self, actor: str, dimension: str, position: float,
                    salience: float) -> Settings:
        """``actor``'s position (0-100) and salience (0-1) on ``dimension`` set."""
        rest = tuple(t for t in self.stances if t[:2] != (actor, dimension))
        return self.replace(stances=rest + ((actor, dimension, float(position),
                                              float(salience)),))

    def check(self) -> None:
        """One-line :class:`InputError` naming the control when a value is out of range."""
        if not 1 <= self.replications <= MAX_REPLICATIONS:
            raise InputError(f"replications: {self.replications} is outside 1 to "
                             f"{MAX_REPLICATIONS:,}")
        if not 0 <= self.seed <= 2**63 - 1:
            raise InputError(f"seed: {self.seed} is not a whole number from 0 to 2**63 - 1")
        if self.parameter_set not in PARAMETER_SETS:
            raise InputError(f"parameter set: unknown {self.parameter_set!r}; allowed: "
                             f"{', '.join(PARAMETER_SETS)}")
        for k, v in self.scales:
            if k not in SCALES or not 0 <= v <= 100:
                raise InputError(f"uncertainty scale {k}: {v} is not allowed; allowed: "
                                 f"{', '.join(SCALES)} from 0 to 100")
        if not 0 <= self.synthetic <= 500:
            raise InputError(f"synthetic members: {self.synthetic} is outside 0 to 500")
        for actor, dim, position, salience in self.stances:
            if not 0 <= position <= 100:
                raise InputError(f"stance of {actor} on {dim}: position {position:g} is outside "
                                 "0 to 100")
            if not 0 <= salience <= 1:
                raise InputError(f"stance of {actor} on {dim}: salience {salience:g} is outside "
                                 "0 to 1")


def stance(scenario: Scenario, settings: Settings, actor: str, dimension: str
           ) -> tuple[float, float]:
    """``actor``'s (position, salience) on ``dimension``: as set on the page, else the
    scenario's."""
    for a, d, position, salience in settings.stances:
        if (a, d) == (actor, dimension):
            return position, salience
    found = next(a for a in scenario.actors if a.id == actor)
    return float(found.position.get(dimension, 50.0)), float(found.salience.get(dimension, 0.0))


def load(path: str | Path | None) -> tuple[Scenario, str]:
    """The scenario the explorer shows (the bundled CICA 2022 when ``path`` is None) and the
    label it goes by; one-line :class:`~cicasim.spec.scenario.ScenarioError` when invalid."""
    chosen = default_scenario_path() if path is None else Path(path)
    scenario, _ = read_scenario(chosen)
    if not scenario.proposals:
        raise InputError(f"{chosen}: proposals: the scenario defines no proposals; add a "
                         "[[proposals]] table to explore it")
    return scenario, str(path) if path is not None else "cica-2022 (bundled)"


def parameter_behaviour(scenario: Scenario, parameter_set: str) -> dict[str, Any]:
    """The scenario-wide behaviour of a parameter set: the scenario's own, or a shipped set's
    (:mod:`cicasim.validate.params`)."""
    if parameter_set == "scenario":
        return scenario.behaviour.model_dump()
    from cicasim.validate.params import load_params

    shipped = load_params(parameter_set)
    return {**Behaviour().model_dump(), **shipped.behaviour}


def initial_settings(scenario: Scenario, parameter_set: str = "scenario", **kw: Any) -> Settings:
    """Settings with the sliders at the parameter set's values."""
    own = parameter_behaviour(scenario, parameter_set)
    return Settings(parameter_set=parameter_set,
                    behaviour=tuple((k, float(own[k])) for k in BEHAVIOUR_SLIDERS), **kw)


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else float(value) * factor


def effective_scenario(scenario: Scenario, settings: Settings) -> Scenario:
    """The scenario with the settings' parameter set, behaviour, uncertainty scales and the
    actors' stances as set, and the membership page's joins as its enlargement path (the
    scenario's own path when none is chosen); one-line :class:`InputError` when a value is
    not allowed."""
    settings.check()
    data = scenario.model_dump(mode="python")
    behaviour = parameter_behaviour(scenario, settings.parameter_set)
    for k, v in settings.behaviour:
        if k not in BEHAVIOUR_SLIDERS:
            raise InputError(f"behaviour.{k}: not a slider; allowed: "
                             f"{', '.join(BEHAVIOUR_SLIDERS)}")
        behaviour[k] = float(v)
    data["behaviour"] = behaviour
    sc = {k: float(dict(settings.scales).get(k, 1.0)) for k in SCALES}
    data["uncertainty"] = {k: float(v) * sc[k] for k, v in data["uncertainty"].items()}
    for a in data["actors"]:
        for k in ("position_sd", "capability_sd"):
            a["uncertainty"][k] = _scaled(a["uncertainty"][k], sc[k])
    for t in data["tensions"]:
        t["sd"] = _scaled(t["sd"], sc["tension_sd"])
    actors = {a["id"]: a for a in data["actors"]}
    dims = [d["id"] for d in data["dimensions"]]
    for actor, dim, position, salience in settings.stances:
        if actor not in actors:
            raise InputError(f"stance: unknown actor {actor!r}; allowed: {', '.join(actors)}")
        if dim not in dims:
            raise InputError(f"stance of {actor}: unknown dimension {dim!r}; allowed: "
                             f"{', '.join(dims)}")
        actors[actor]["position"][dim] = float(position)
        actors[actor]["salience"][dim] = float(salience)
    steps: list[dict[str, Any]] = [
        {"kind": "observer-joins", "actor": a, "label": f"{a} joins"} for a in settings.joins
    ]
    if settings.synthetic:
        steps.append({"kind": "synthetic", "count": settings.synthetic,
                      "prior": settings.synthetic_prior,
                      "label": f"+{settings.synthetic} synthetic"})
    if steps:
        data["enlargement"] = steps
    return parse_scenario(data, "settings")


class Superseded(Exception):
    """A newer setting arrived while a run was under way; the run stopped between blocks."""


def _stopper(cancelled: Callable[[], bool]) -> Callable[..., None]:
    """A hook for the ensembles (called after every block, and after every ensemble of the
    pivotality) that stops the run with :class:`Superseded` once ``cancelled()``."""

    def check(*_: Any) -> None:
        if cancelled():
            raise Superseded()

    return check


def overview(scenario: Scenario, settings: Settings, *,
             cancelled: Callable[[], bool] = lambda: False):
    """The run the Overview shows: :class:`~cicasim.analysis.runs.RunResult` of every proposal,
    the library's own :func:`~cicasim.analysis.runs.run_scenario`.  Returns None as soon as
    ``cancelled()`` says a newer setting has arrived (checked between blocks)."""
    from cicasim.analysis.runs import run_scenario

    scen = effective_scenario(scenario, settings)
    try:
        _stopper(cancelled)()
        return run_scenario(scen, replications=settings.replications, seed=settings.seed,
                            on_block=_stopper(cancelled))
    except Superseded:
        return None


def pivotality(scenario: Scenario, settings: Settings, *,
               cancelled: Callable[[], bool] = lambda: False):
    """The Overview's run with each member's pivotality and, for the largest, its ΔP by channel
    (vote, influence, compromise): ``cicasim run --pivotality`` through
    :func:`~cicasim.analysis.runs.run_scenario` (:mod:`cicasim.analysis.pivotality`).  Returns
    None as soon as ``cancelled()`` (checked between blocks and between ensembles)."""
    from cicasim.analysis.runs import run_scenario

    scen = effective_scenario(scenario, settings)
    check = _stopper(cancelled)
    try:
        check()
        return run_scenario(scen, replications=settings.replications, seed=settings.seed,
                            pivotality=True, on_block=check, progress=check)
    except Superseded:
        return None


@dataclass(frozen=True)
class Membership:
    """The membership page's figures: per proposal the paired ΔP of the scenario after the
    chosen joins against it as it is, and P(consensus) at every step of the path."""

    labels: list[str]  # "base", then one per step
    members: list[int]  # members at each step
    p: dict[str, list[float]]  # proposal -> P(consensus) at each step
    delta: dict[str, tuple[float, float, float]]  # proposal -> (ΔP, low, high), last vs base

    def rows(self) -> list[dict[str, Any]]:
        return [{"proposal": pid, "p_before": ps[0], "p_after": ps[-1],
                 "delta": self.delta[pid][0], "low": self.delta[pid][1],
                 "high": self.delta[pid][2]} for pid, ps in self.p.items()]


def membership(
    scenario: Scenario, settings: Settings, *, cancelled: Callable[[], bool] = lambda: False
) -> Membership | None:
    """The enlargement path of the chosen joins (none chosen: None), each step's ensemble under
    the same seed, and ΔP of the last step against the base with the paired interval; the same
    numbers as ``cicasim compare FILE --enlarge`` on :func:`scenario_toml`'s file.  Returns
    None as soon as ``cancelled()`` says a newer setting has arrived (checked between blocks)."""
    from cicasim.analysis.compare import paired_difference, same_inputs
    from cicasim.engine.arrays import negotiation
    from cicasim.engine.ensemble import run_ensemble
    from cicasim.engine.kernel import PASSED
    from cicasim.spec.enlargement import enlargement_path

    if not settings.joins and not settings.synthetic:
        return None
    scen = effective_scenario(scenario, settings)
    try:
        path = enlargement_path(scen, seed=settings.seed)
    except ValueError as exc:
        raise InputError(f"membership: {exc}") from None
    ids = [p.id for p in scen.proposals]
    passed: list[dict[str, np.ndarray]] = []
    check = _stopper(cancelled)
    try:
        for _, s in path:
            check()
            ens = run_ensemble(s, replications=settings.replications, seed=settings.seed,
                               on_block=check)
            passed.append({r.proposal: r.outcome.status == PASSED for r in ens.runs})
    except Superseded:
        return None
    base, last = path[0][1], path[-1][1]
    delta = {}
    for pid in ids:
        if same_inputs(negotiation(base, pid), negotiation(last, pid)):
            delta[pid] = (0.0, 0.0, 0.0)
        else:
            delta[pid] = paired_difference(passed[0][pid], passed[-1][pid])
    return Membership(
        labels=[label for label, _ in path],
        members=[len(s.members) for _, s in path],
        p={pid: [float(p[pid].mean()) for p in passed] for pid in ids},
        delta=delta,
    )


def scenario_toml(scenario: Scenario, settings: Settings, source: str) -> str:
    """The settings as a scenario file: ``cicasim run FILE --seed S -n N`` prints the
    Overview's numbers, and ``cicasim compare FILE --enlarge`` the Membership page's ΔP."""
    from cicasim.analysis.runs import scenario_text

    scen = effective_scenario(scenario, settings)
    s = settings
    head = [
        f"# {scen.scenario.name} as set in `cicasim explore` (from {source}): parameter set "
        f"{s.parameter_set!r}, behaviour, uncertainty and stances as on the page.",
        f"# The Overview's numbers: cicasim run FILE --seed {s.seed} -n {s.replications}",
    ]
    if s.joins or s.synthetic:
        head.append(f"# The Membership page's ΔP: cicasim compare FILE --enlarge --seed {s.seed} "
                    f"-n {s.replications}")
    return "\n".join(head) + "\n\n" + scenario_text(scen)
