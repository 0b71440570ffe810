"""The public functions: one call per thing the command line does, each returning a typed result.

Every result has a short ``repr`` (at most :data:`cicasim.display.REPR_LIMIT` characters), an
HTML table in notebooks, ``.summary()`` (a pandas DataFrame; ``.to_frame()`` is the same) and,
where a figure applies, ``.plot()`` (a matplotlib ``Figure``).  The command line parses its
options, calls these (or the library functions behind them) and prints; the same seed gives the
same numbers either way.  ``docs/api.md`` walks through them.

Seeds: ``seed=None`` draws a fresh seed from the operating system and records it on the result
(``result.seed``), so every run can be repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cicasim.analysis.compare import ComparisonResult
    from cicasim.analysis.power import PowerResult
    from cicasim.analysis.runs import RunResult
    from cicasim.analysis.sensitivity import SobolResult
    from cicasim.engine.model import TraceResult
    from cicasim.results import Results
    from cicasim.spec.rules import Rule
    from cicasim.spec.scenario import Scenario
    from cicasim.sweep import Experiment, SweepResult

__all__ = ["compare", "open_results", "power", "run", "sensitivity", "sweep", "trace"]

Progress = Callable[[int, int], None]


def _seed(seed: int | None) -> int:
    from cicasim.engine.draws import fresh_seed

    if seed is None:
        return fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        from cicasim.errors import InputError

        raise InputError(f"seed: {seed!r} is not a whole number >= 0")
    return seed


def _scenario(scenario: str | Path | Scenario) -> Scenario:
    from cicasim.spec.scenario import Scenario, load_scenario

    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: str | Path | Scenario,
    *,
    replications: int = 10_000,
    seed: int | None = None,
    proposals: Sequence[str] | None = None,
    pivotality: bool = False,
    threads: int | None = None,
) -> RunResult:
    """The Monte Carlo ensemble of a scenario's proposals (``cicasim run``).

    ``scenario`` is a scenario file or a :class:`~cicasim.spec.scenario.Scenario`; ``proposals``
    keeps only those ids.  ``pivotality`` also estimates each member's paired ΔP(consensus)
    when it is removed (one more ensemble per member).  ``threads`` run the replication blocks
    (None: every core); the numbers are the same on any count.

    >>> r = cicasim.run("scenarios/cica-2022.toml", seed=1)    # doctest: +SKIP
    >>> r.summary()[["proposal", "p_consensus", "ci_low", "ci_high"]]    # doctest: +SKIP
    """
    from cicasim.analysis.runs import run_scenario

    return run_scenario(
        scenario, replications=replications, seed=_seed(seed), proposals=proposals,
        pivotality=pivotality, threads=threads,
    )


def sweep(
    experiment: str | Path | Mapping[str, Any] | Experiment,
    *,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    replications: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> SweepResult:
    """Every design point of an experiment (``cicasim sweep``).

    ``experiment`` is an experiment file, a mapping laid out like one (relative paths then
    resolve against the working directory) or an :class:`~cicasim.sweep.Experiment`.  Without
    ``out`` the sweep runs in memory and writes nothing; with ``out`` it streams each design
    point to that directory as it finishes, and ``resume=True`` completes an interrupted one.
    ``workers`` local processes (None: all cores) or a Dask ``scheduler`` address run the
    points; ``replications`` overrides the file's count.
    """
    from cicasim.sweep import check_directory, plan_experiment, run_sweep
    from cicasim.sweep.executors import make_executor

    plan = plan_experiment(experiment, replications=replications)
    if out is not None:
        check_directory(out, plan, kind="sweep", resume=resume)
    # with a scheduler the cluster's own workers run the units
    with make_executor(workers=None if scheduler is not None else workers,
                       scheduler=scheduler) as executor:
        return run_sweep(plan, out=out, executor=executor, resume=resume, progress=progress)


def compare(
    a: str | Path | Scenario,
    b: str | Path | Scenario | None = None,
    *,
    enlarge: bool | int = False,
    replications: int = 10_000,
    seed: int | None = None,
    proposals: Sequence[str] | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> ComparisonResult:
    """ΔP(consensus) = P(B) − P(A) per proposal under common random numbers (``cicasim
    compare``): B is a second scenario, or A after all its enlargement steps
    (``enlarge=True``) or its first K (``enlarge=K``)."""
    from cicasim.analysis.compare import compare as compare_sides
    from cicasim.sweep.executors import make_executor

    seed = _seed(seed)
    with make_executor(workers=workers) as executor:
        return compare_sides(
            a, b, enlarge=enlarge, replications=replications, seed=seed, proposals=proposals,
            executor=executor, progress=progress,
        )


def trace(
    scenario: str | Path | Scenario, proposal: str, seed: int, *, replication: int = 0
) -> TraceResult:
    """Replication ``replication`` of one proposal run round by round through the Mesa model
    (``cicasim trace``): the same numbers ``run(..., seed=seed)`` gave that replication.  The
    result holds the model and its DataCollector frames (``model_vars()``, ``agent_vars()``)."""
    from cicasim.engine.model import run_trace

    return run_trace(_scenario(scenario), proposal, seed=_seed(seed), replication=replication)


def sensitivity(
    experiment: str | Path | Mapping[str, Any] | Experiment,
    *,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    replications: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> SobolResult:
    """First-order and total Sobol indices of P(consensus) over an experiment's factors
    (``cicasim sensitivity``); the Saltelli design runs in memory, or into ``out`` (resumable)
    like :func:`sweep`."""
    from cicasim.analysis.sensitivity import plan_sensitivity, run_sensitivity
    from cicasim.sweep import check_directory
    from cicasim.sweep.executors import make_executor

    plan = plan_sensitivity(experiment, replications=replications)
    if out is not None:
        check_directory(out, plan, kind="sensitivity", resume=resume)
    # with a scheduler the cluster's own workers run the units
    with make_executor(workers=None if scheduler is not None else workers,
                       scheduler=scheduler) as executor:
        return run_sensitivity(plan, out=out, executor=executor, resume=resume,
                               progress=progress)


def power(
    scenario: str | Path | Scenario | None = None,
    proposal: str | None = None,
    *,
    rule: Rule | None = None,
    votes: Sequence[float] | None = None,
    population: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
    method: Literal["auto", "closed-form", "generating-function", "enumeration"] = "auto",
) -> PowerResult:
    """Exact a-priori voting power (``cicasim power``): passage probability, Banzhaf and
    Shapley–Shubik indices of a scenario proposal's rule over its members, or of ``rule`` over
    members with the given ``votes``, ``population`` and ``names``."""
    from cicasim.analysis.power import power_for_proposal, power_indices
    from cicasim.errors import InputError

    if scenario is not None:
        if rule is not None:
            raise InputError("power: give a scenario and proposal, or a rule, not both")
        scen = _scenario(scenario)
        if proposal is None:
            ids = [p.id for p in scen.proposals]
            raise InputError(f"proposal: name the proposal whose rule to analyse; allowed: "
                             f"{', '.join(ids) or 'none'}")
        return power_for_proposal(scen, proposal)
    if rule is None:
        raise InputError("power: give a scenario and proposal, or a rule with the members")
    return power_indices(rule=rule, votes=votes, population=population, names=names,
                         method=method)


def open_results(directory: str | Path) -> Results:
    """A results directory written by ``save(...)``, ``sweep(out=...)`` or the command line:
    its manifest, tables (``table(name)``, ``summary()``, ``replications()``), scenario and
    standard figures (``figures()``, ``plot(name)``)."""
    from cicasim.results import open_results as open_directory

    return open_directory(directory)
