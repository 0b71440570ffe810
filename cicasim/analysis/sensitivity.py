"""Variance-based sensitivity: which assumptions drive P(consensus)?

First-order (S1) and total (ST) Sobol indices (Sobol' 2001; Saltelli et al. 2010) of each
proposal's P(consensus) over the experiment's factors, computed with SALib (Herman & Usher
2017): Saltelli's extension of the Sobol sequence gives ``N (D + 2)`` design points (``N (2D +
2)`` with second-order indices), each point runs an ensemble like any sweep point, and
``SALib.analyze.sobol`` estimates the indices with bootstrap confidence intervals.

Factors given as ``values`` (discrete levels, decision rules, enlargement steps) enter as a
uniform draw over their levels; ranges as a uniform draw over the range.  Each P(consensus)
carries Monte Carlo noise of its own, which inflates the indices of unimportant factors a
little; use enough replications, and ``common_random_numbers = true`` so the points share their
random numbers and the noise largely cancels between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cicasim.display import Shown
from cicasim.engine.draws import key, seed_sequence
from cicasim.errors import InputError
from cicasim.sweep import (
    MAX_POINTS,
    Experiment,
    Plan,
    SweepResult,
    experiment_source,
    plan_experiment,
    run_sweep,
    write_parquet,
)
from cicasim.sweep.executors import Executor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SOBOL", "SobolResult", "run_sensitivity", "saltelli_points", "sobol_indices"]

SOBOL = "sobol.parquet"

SOBOL_SCHEMA = pa.schema([
    pa.field("proposal", pa.string()),
    pa.field("factor", pa.string()),
    pa.field("S1", pa.float64()),
    pa.field("S1_conf", pa.float64()),
    pa.field("ST", pa.float64()),
    pa.field("ST_conf", pa.float64()),
])


def _problem(names: list[str]) -> dict:
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _salib_seed(seed: int, what: str) -> int:
    return int(seed_sequence(seed, key(what)).generate_state(1, dtype=np.uint32)[0])


def saltelli_points(
    names: list[str], *, samples: int, second_order: bool, seed: int
) -> np.ndarray:
    """The Saltelli sample on the unit cube (SALib's ``sample.sobol``, scrambled, seeded)."""
    from SALib.sample import sobol as sobol_sample

    return sobol_sample.sample(
        _problem(names), samples, calc_second_order=second_order, scramble=True,
        seed=_salib_seed(seed, "sensitivity-sample"),
    )


def sobol_indices(
    names: list[str], y: np.ndarray, *, second_order: bool, resamples: int, confidence: float,
    seed: int,
) -> pd.DataFrame:
    """S1, ST and their confidence half-widths per factor; NaN when ``y`` does not vary (the
    indices are shares of a variance that is zero)."""
    from SALib.analyze import sobol as sobol_analyze

    if not np.isfinite(y).all() or np.ptp(y) == 0:
        nan = [float("nan")] * len(names)
        return pd.DataFrame({"factor": names, "S1": nan, "S1_conf": nan, "ST": nan,
                             "ST_conf": nan})
    with np.errstate(divide="ignore", invalid="ignore"):
        res = sobol_analyze.analyze(
            _problem(names), np.asarray(y, dtype=float), calc_second_order=second_order,
            num_resamples=resamples, conf_level=confidence,
            seed=_salib_seed(seed, "sensitivity-analyze"),
        )
    return pd.DataFrame({
        "factor": names, "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"],
        "ST_conf": res["ST_conf"],
    })


@dataclass(frozen=True, repr=False)
class SobolResult(Shown):
    """Sobol indices per proposal and factor, with the sweep of the Saltelli design behind them
    (on disk in ``directory``, or in memory when ``directory`` is None)."""

    directory: Path | None
    plan: Plan
    table: pd.DataFrame  # proposal, factor, S1, S1_conf, ST, ST_conf
    sweep: SweepResult | None = None

    def headline(self) -> str:
        s = self.plan.experiment.sensitivity
        return (f"{self.plan.name}: Sobol indices of P(consensus), {len(self.plan.points)} points "
                f"(N = {s.samples}) × {self.plan.replications:,} replications, seed "
                f"{self.plan.seed}")

    def summary(self) -> pd.DataFrame:
        """One row per proposal and factor: S1 and ST with their bootstrap half-widths."""
        return self.table.copy()

    def plot(self) -> Figure:
        """First-order and total indices per factor (:func:`cicasim.plotting.sobol_figure`)."""
        from cicasim.plotting import sobol_figure

        return sobol_figure(self.table, scenario=self.plan.scenario)


def plan_sensitivity(
    path: str | Path | Mapping[str, Any] | Experiment, *, replications: int | None = None
) -> Plan:
    """The experiment (a file, a mapping in its layout, or an :class:`Experiment`) with its
    design replaced by the Saltelli sample of its factors."""
    exp, _, _ = experiment_source(path)
    if not exp.factors:
        raise InputError(f"{path}: factors: a sensitivity analysis needs at least one factor")
    s = exp.sensitivity
    names = [f.label for f in exp.factors]
    d = len(names)
    points = s.samples * (2 * d + 2 if s.second_order else d + 2)
    if points > MAX_POINTS:
        raise InputError(
            f"{path}: sensitivity.samples: {s.samples} base samples x {d} factors give "
            f"{points:,} design points; allowed: at most {MAX_POINTS:,} (use fewer samples)"
        )
    units = saltelli_points(
        names, samples=s.samples, second_order=s.second_order, seed=exp.experiment.seed
    )
    return plan_experiment(path, replications=replications, unit_points=units)


def factor_ranges(plan: Plan) -> dict[str, list[Any]]:
    """Each factor's range (low, high) as the Saltelli sample spans it, or the values it takes
    when it has no range (for the manifest and the report)."""
    out: dict[str, list[Any]] = {}
    for f in plan.factors:
        spec = getattr(f, "spec", f)
        rng = getattr(spec, "range", None)
        vals = getattr(spec, "values", None)
        if rng is not None:
            out[f.label] = [float(rng[0]), float(rng[1])]
        elif vals is not None:
            out[f.label] = [v if isinstance(v, int | float | str) else str(v) for v in vals]
    return out


def run_sensitivity(
    plan: Plan,
    *,
    out: str | Path | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress=None,
) -> SobolResult:
    """Run the Saltelli design as a sweep, in memory or into ``out`` (then ``sobol.parquet``
    is written there too)."""
    s = plan.experiment.sensitivity
    result = run_sweep(
        plan, out=out, executor=executor, resume=resume, progress=progress, kind="sensitivity",
        manifest_extra={"sensitivity": s.model_dump(), "factor_ranges": factor_ranges(plan)},
    )
    summary = result.summary()
    names = [f.label for f in plan.factors]
    frames = []
    for pid in sorted(plan.proposals):
        y = summary[summary["proposal"] == pid].sort_values("point")["p_consensus"].to_numpy()
        df = sobol_indices(
            names, y, second_order=s.second_order, resamples=s.resamples,
            confidence=s.confidence, seed=plan.seed,
        )
        df.insert(0, "proposal", pid)
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    if result.directory is not None:
        write_parquet(result.directory / SOBOL, table, SOBOL_SCHEMA)
    return SobolResult(directory=result.directory, plan=plan, table=table, sweep=result)
