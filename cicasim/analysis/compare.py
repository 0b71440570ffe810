"""Paired comparisons of two scenarios: ΔP(consensus) per proposal under common random numbers.

Both sides run the same replications with the same master seed and design-point key, so an
actor present in both draws the same numbers in replication ``r`` on either side
(:mod:`cicasim.engine.draws`).  The per-replication pass indicators are then paired, and the
difference
of the two proportions gets the paired interval of Newcombe (1998, method 10): each side's
Wilson score interval combined with the correlation of the pairs.  Positive correlation, which
common random numbers create, narrows it well below the interval for independent samples (Law
2015, *Simulation Modeling and Analysis*, sec. 11.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import norm

from cicasim.display import Shown, count
from cicasim.engine.arrays import negotiation
from cicasim.engine.kernel import PASSED, Negotiation
from cicasim.errors import InputError
from cicasim.intervals import wilson, wilson_bounds
from cicasim.spec.enlargement import enlargement_path
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Comparison",
    "ComparisonResult",
    "Sides",
    "compare",
    "compare_scenarios",
    "compare_sides",
    "comparison_table",
    "enlarged",
    "paired_counts",
    "paired_difference",
    "paired_interval",
    "same_inputs",
    "sides",
    "wald_paired",
    "what_changed",
]


def paired_counts(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """The 2×2 table of paired 0/1 outcomes: ``(both, only_a, only_b, neither)``, the number of
    pairs that pass on both sides, on side a only, on side b only and on neither.  Tables of
    consecutive blocks of pairs add up to the table of all of them (:func:`paired_interval`)."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("paired outcomes must be two vectors of the same length")
    both = int(np.count_nonzero(a & b))  # passes on both sides
    only_b = int(np.count_nonzero(~a & b))
    only_a = int(np.count_nonzero(a & ~b))
    return both, only_a, only_b, a.size - both - only_a - only_b


def paired_difference(
    a: np.ndarray, b: np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(delta, low, high)`` for delta = P(b) − P(a) from paired 0/1 outcomes: Newcombe's
    interval (:func:`paired_interval`) of their 2×2 table (:func:`paired_counts`).

    Two sides that are the same negotiation (a point compared with itself) differ by exactly 0
    in every replication: callers report ``(0.0, 0.0, 0.0)`` for them (:func:`same_inputs`)
    rather than this interval, which has width ~1/n even with no discordant pair.
    """
    return paired_interval(*paired_counts(a, b), confidence=confidence)


def paired_interval(
    both: int, only_a: int, only_b: int, neither: int, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(delta, low, high)`` for delta = P(b) − P(a) from the 2×2 table of paired 0/1
    outcomes (:func:`paired_counts`), so pairs counted block by block need not be kept.

    Newcombe, R. G. (1998) "Improved confidence intervals for the difference between binomial
    proportions based on paired data", *Statistics in Medicine* 17, 2635-2650, method 10: the
    Wilson intervals (l_i, u_i) of the two margins, combined with the phi coefficient of the
    2×2 table (continuity-corrected towards zero when positive, as in the paper)::

        low  = delta − sqrt((p_b − l_b)² − 2φ (p_b − l_b)(u_a − p_a) + (u_a − p_a)²)
        high = delta + sqrt((u_b − p_b)² − 2φ (u_b − p_b)(p_a − l_a) + (p_a − l_a)²)

    It stays inside [−1, 1], behaves at 0 and 1 and with no discordant pairs, where the Wald
    interval collapses to a point.  No pairs give ``(nan, nan, nan)``.
    """
    both, only_a, only_b, neither = (int(k) for k in (both, only_a, only_b, neither))
    if min(both, only_a, only_b, neither) < 0:
        raise ValueError("the counts of a 2×2 table cannot be negative")
    n = both + only_a + only_b + neither
    if n == 0:
        return (float("nan"),) * 3
    z = float(norm.ppf(0.5 + confidence / 2))
    ka, kb = both + only_a, both + only_b
    pa, pb = ka / n, kb / n
    la, ua = wilson_bounds(ka, n, z)
    lb, ub = wilson_bounds(kb, n, z)
    denom = (both + only_b) * (only_a + neither) * (both + only_a) * (only_b + neither)
    phi = 0.0
    if denom > 0:
        cross = both * neither - only_a * only_b
        corrected = max(cross - n / 2, 0.0) if cross > 0 else cross
        phi = corrected / math.sqrt(denom)
    delta = pb - pa
    dl, du = pb - lb, ua - pa  # b's distance to its lower bound, a's to its upper
    el, eu = ub - pb, pa - la
    low = delta - math.sqrt(max(dl * dl - 2 * phi * dl * du + du * du, 0.0))
    high = delta + math.sqrt(max(el * el - 2 * phi * el * eu + eu * eu, 0.0))
    return delta, max(low, -1.0), min(high, 1.0)


def wald_paired(
    a: np.ndarray, b: np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """The normal (Wald) interval of a paired difference, for reference: delta ± z·sd/√n with
    the variance of the per-replication differences (Newcombe 1998, method 1)."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = d.size
    z = float(norm.ppf(0.5 + confidence / 2))
    mean = float(d.mean())
    sd = float(np.sqrt(((d - mean) ** 2).mean()))
    return mean, mean - z * sd / math.sqrt(n), mean + z * sd / math.sqrt(n)


@dataclass(frozen=True)
class Comparison:
    """One proposal: each side's P(consensus) with its Wilson interval, and the paired ΔP."""

    proposal: str
    replications: int
    p_a: float
    ci_a_low: float
    ci_a_high: float
    p_b: float
    ci_b_low: float
    ci_b_high: float
    delta: float
    delta_low: float
    delta_high: float
    n_members_a: int
    n_members_b: int

    def to_dict(self) -> dict:
        return asdict(self)


def enlarged(scenario: Scenario, *, steps: int | None, seed: int) -> tuple[Scenario, Scenario, str]:
    """``(before, after, label)``: the scenario and the scenario after its first ``steps``
    enlargement steps (all when None), seeded like a sweep with that master seed."""
    path = enlargement_path(scenario, seed=seed)
    k = len(path) - 1 if steps is None else steps
    if k < 1 or k > len(path) - 1:
        allowed = f"1-{len(path) - 1}" if len(path) > 1 else "none: the scenario has no steps"
        raise InputError(f"--steps: {k} enlargement steps asked; allowed: {allowed}")
    return path[0][1], path[k][1], what_changed(path[0][1], path[k][1])


def what_changed(before: Scenario, after: Scenario, *, shown: int = 8) -> str:
    """Who became a member between two scenarios, e.g. "+ 9 observers as members: IDN, TKM,
    …" or "+ 2 new members: AAA, BBB; + 23 synthetic members" (at most ``shown`` ids a part)."""
    was = {a.id: a.role for a in before.actors}
    joined = [a.id for a in after.members if was.get(a.id) != "member"]
    observers = [a for a in joined if was.get(a) == "observer"]
    fresh = [a for a in joined if a not in was]
    synthetic = [a for a in fresh if a.startswith("SYN")]
    named = [a for a in fresh if a not in synthetic]

    def ids(xs: list[str]) -> str:
        return ", ".join(xs[:shown]) + (f" and {len(xs) - shown} more" if len(xs) > shown else "")

    parts = []
    if observers:
        role = "a member" if len(observers) == 1 else "members"
        parts.append(f"+ {count(len(observers), 'observer')} as {role}: {ids(observers)}")
    if named:
        parts.append(f"+ {count(len(named), 'new member')}: {ids(named)}")
    if synthetic:
        parts.append(f"+ {count(len(synthetic), 'synthetic member')}")
    left = [a.id for a in before.members if a.id not in {m.id for m in after.members}]
    if left:
        parts.append(f"− {count(len(left), 'member')}: {ids(left)}")
    return "; ".join(parts) or "no change in membership"


def same_inputs(a: Negotiation, b: Negotiation) -> bool:
    """Whether two negotiations have the same inputs, hence (with the same seed and point) the
    same outcome in every replication: their difference is exactly 0, with no uncertainty."""
    for f in fields(a):
        if not f.init:
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.shape == y.shape and np.array_equal(x, y, equal_nan=True)):
                return False
        elif x != y:
            return False
    return True


def compare_scenarios(
    a: Scenario,
    b: Scenario,
    *,
    replications: int,
    seed: int,
    proposals: Sequence[str] | None = None,
    executor=None,
    progress=None,
) -> list[Comparison]:
    """ΔP(consensus) = P_b − P_a per shared proposal, under common random numbers.

    Both sides use the design-point key 0 and the same master seed, so shared actors draw the
    same numbers in every replication.
    """
    from cicasim.sweep.executors import InProcessExecutor, run_units

    ids_a = [p.id for p in a.proposals]
    ids_b = {p.id for p in b.proposals}
    shared = [pid for pid in ids_a if pid in ids_b]
    chosen = list(proposals) if proposals else shared
    if not chosen:
        raise InputError("proposals: the two scenarios share no proposal id to compare")
    for pid in chosen:
        if pid not in shared:
            raise InputError(
                f"--proposal: {pid!r} is not in both scenarios; allowed: {', '.join(shared)}"
            )
    negs = {(side, pid): negotiation(s, pid) for pid in chosen for side, s in (("a", a), ("b", b))}
    jobs = [(key, neg, 0, None) for key, neg in negs.items()]
    if progress:
        from cicasim.engine.ensemble import blocks_for

        total = len(jobs) * len(blocks_for(replications))
        done = [0]

        def tick() -> None:
            done[0] += 1
            progress(done[0], total)
    else:
        tick = None
    if executor is None or isinstance(executor, InProcessExecutor):
        # in this process: each side's blocks on the engine's threads (the same numbers)
        from cicasim.engine.ensemble import run_negotiation

        outcomes = {
            key: run_negotiation(neg, replications=replications, seed=seed, point=sp,
                                 on_block=tick)
            for key, neg, sp, _ in jobs
        }
    else:
        outcomes = run_units(executor, jobs, seed=seed, replications=replications, on_block=tick)
    out = []
    for pid in chosen:
        pa_ = outcomes[("a", pid)].status == PASSED
        pb_ = outcomes[("b", pid)].status == PASSED
        la, ha = wilson(int(pa_.sum()), replications)
        lb, hb = wilson(int(pb_.sum()), replications)
        if same_inputs(negs[("a", pid)], negs[("b", pid)]):
            d, lo, hi = 0.0, 0.0, 0.0  # the same negotiation: no difference, exactly
        else:
            d, lo, hi = paired_difference(pa_, pb_)
        out.append(Comparison(
            proposal=pid, replications=replications,
            p_a=float(pa_.mean()), ci_a_low=la, ci_a_high=ha,
            p_b=float(pb_.mean()), ci_b_low=lb, ci_b_high=hb,
            delta=d, delta_low=lo, delta_high=hi,
            n_members_a=len(a.members), n_members_b=len(b.members),
        ))
    return out


def comparison_table(rows: Sequence[Comparison]) -> pd.DataFrame:
    """The ``comparison.parquet`` table, one row per proposal."""
    return pd.DataFrame([r.to_dict() for r in rows])


#: The Arrow schema of ``comparison.parquet``.
COMPARISON_SCHEMA = pa.schema(
    [pa.field("proposal", pa.string()), pa.field("replications", pa.int64())]
    + [pa.field(c, pa.float64()) for c in (
        "p_a", "ci_a_low", "ci_a_high", "p_b", "ci_b_low", "ci_b_high",
        "delta", "delta_low", "delta_high")]
    + [pa.field("n_members_a", pa.int64()), pa.field("n_members_b", pa.int64())]
)


class ComparisonResult(Shown):
    """ΔP(consensus) = P(B) − P(A) per proposal, with the two sides' labels, the seed and the
    scenario texts (for the manifest of :meth:`save`)."""

    def __init__(
        self, rows: Sequence[Comparison], *, a: str, b: str, seed: int, replications: int,
        inputs: dict[str, str], enlarge: bool = False, steps: int | None = None,
        scenario: Scenario | None = None,
    ) -> None:
        self.rows = list(rows)
        self.a, self.b = a, b
        self.seed = seed
        self.n_replications = replications
        self.inputs = inputs
        self.enlarge, self.steps = enlarge, steps
        self.scenario = scenario  # A: names the proposals in the figure

    def headline(self) -> str:
        r = self.rows[0]
        return (f"B − A; A: {self.a} ({r.n_members_a} members), B: {self.b} "
                f"({r.n_members_b} members); seed {self.seed}, {self.n_replications:,} paired "
                "replications per proposal")

    def to_dict(self) -> dict:
        """What ``cicasim compare --json`` prints."""
        return {
            "a": self.a, "b": self.b, "seed": self.seed, "replications": self.n_replications,
            "proposals": [r.to_dict() for r in self.rows],
        }

    def summary(self) -> pd.DataFrame:
        """One row per proposal: each side's P(consensus) with its Wilson interval and the paired
        ΔP with Newcombe's interval (the ``comparison.parquet`` table)."""
        return comparison_table(self.rows)

    def write(self, directory: Path, *, plots: bool = False) -> None:
        """Write ``comparison.parquet`` and the manifest (with ``plots`` also the comparison
        figure) into the existing directory ``directory``."""
        from cicasim.results import manifest
        from cicasim.sweep import write_parquet

        write_parquet(directory / "comparison.parquet", self.summary(), COMPARISON_SCHEMA)
        manifest(
            kind="compare", seed=self.seed, inputs=self.inputs, a=self.a, b=self.b,
            replications=self.n_replications, proposals=[r.proposal for r in self.rows],
            enlarge=self.enlarge, steps=self.steps,
        ).write(directory)
        if plots:
            from cicasim.plotting import write_standard_figures

            write_standard_figures(directory)

    def save(self, directory: str | Path, *, plots: bool = False, force: bool = False) -> Path:
        """:meth:`write` into ``directory`` atomically: it must be new or empty, or hold
        compare results to replace with ``force``.  Returns it."""
        from cicasim.results import atomic_directory

        with atomic_directory(directory, kind="compare", force=force) as tmp:
            self.write(tmp, plots=plots)
        return Path(directory)

    def plot(self) -> Figure:
        """ΔP per proposal with its paired interval."""
        from cicasim.plotting import comparison_figure

        return comparison_figure(self.summary(), names=(self.a, self.b), scenario=self.scenario)


@dataclass(frozen=True)
class Sides:
    """The two scenarios of a comparison, their labels and the input texts for the manifest."""

    a: Scenario
    b: Scenario
    label_a: str
    label_b: str
    inputs: dict[str, str]
    enlarge: bool
    steps: int | None


def sides(
    a: str | Path | Scenario,
    b: str | Path | Scenario | None = None,
    *,
    enlarge: bool | int = False,
    seed: int,
) -> Sides:
    """Read the two sides of a comparison: A and B (files or scenario objects), or A and A
    after all its enlargement steps (``enlarge=True``) or its first K (``enlarge=K``), the
    steps seeded like a sweep with ``seed``."""
    from cicasim.analysis.runs import scenario_text
    from cicasim.spec.scenario import read_scenario

    def side(s: str | Path | Scenario) -> tuple[Scenario, str, str, str]:
        if isinstance(s, Scenario):
            return s, f"<{s.scenario.name}>", f"{s.scenario.name}.toml", scenario_text(s)
        scen, text = read_scenario(s)
        return scen, str(s), Path(s).name, text

    given = (b is not None) + (enlarge is not False and enlarge is not None)
    if given != 1:
        raise InputError("compare: give exactly one of a scenario B or enlarge (True or K steps)")
    if isinstance(enlarge, int) and not isinstance(enlarge, bool) and enlarge < 1:
        raise InputError(f"enlarge: {enlarge} steps asked; give True (all steps) or K >= 1")
    scen_a, label_a, name_a, text_a = side(a)
    inputs = {name_a: text_a}
    if b is not None:
        scen_b, label_b, name_b, text_b = side(b)
        if name_b in inputs:
            name_b = f"B-{name_b}"
        inputs[name_b] = text_b
        return Sides(scen_a, scen_b, label_a, label_b, inputs, enlarge=False, steps=None)
    steps = None if enlarge is True else int(enlarge)
    before, after, step = enlarged(scen_a, steps=steps, seed=seed)
    return Sides(before, after, label_a, f"{label_a} {step}", inputs,
                 enlarge=enlarge is True, steps=steps)


def compare_sides(
    both: Sides,
    *,
    replications: int = 10_000,
    seed: int,
    proposals: Sequence[str] | None = None,
    executor=None,
    progress=None,
) -> ComparisonResult:
    """Run both sides under common random numbers (:func:`compare_scenarios`)."""
    rows = compare_scenarios(
        both.a, both.b, replications=replications, seed=seed, proposals=proposals,
        executor=executor, progress=progress,
    )
    return ComparisonResult(
        rows, a=both.label_a, b=both.label_b, seed=seed, replications=replications,
        inputs=both.inputs, enlarge=both.enlarge, steps=both.steps, scenario=both.a,
    )


def compare(
    a: str | Path | Scenario,
    b: str | Path | Scenario | None = None,
    *,
    enlarge: bool | int = False,
    replications: int = 10_000,
    seed: int,
    proposals: Sequence[str] | None = None,
    executor=None,
    progress=None,
) -> ComparisonResult:
    """ΔP(consensus) between scenario ``a`` and ``b``, or between ``a`` and ``a`` after its
    enlargement steps: all with ``enlarge=True``, the first ``k`` with ``enlarge=k``
    (:func:`sides`, then :func:`compare_sides`)."""
    return compare_sides(
        sides(a, b, enlarge=enlarge, seed=seed), replications=replications, seed=seed,
        proposals=proposals, executor=executor, progress=progress,
    )
