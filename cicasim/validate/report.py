"""The validation report: cicasim's predictions of real EU outcomes beside the benchmarks.

:func:`validate_deu` converts every issue with an outcome, predicts it with the negotiation
engine under a parameter set, computes the compromise model and the weighted median, and (unless
asked not to) cross-validates the fitted behaviour parameters over proposals.  Errors come with
95% intervals from a **cluster bootstrap over proposals** (issues of one proposal are negotiated
together and are not independent; Field & Welsh 2007, "Bootstrapping clustered data", JRSS B
69:369-390): proposals are resampled with replacement, percentile intervals.  The interval of
the cross-validated error treats the out-of-fold predictions as fixed (the refit is not
repeated inside the bootstrap).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cicasim.errors import InputError
from cicasim.spec.scenario import Scenario
from cicasim.validate.baselines import issue_compromise, issue_weighted_median
from cicasim.validate.convert import issue_scenario, status_quo, tabled_text
from cicasim.validate.council import Council, CouncilData, council_at
from cicasim.validate.deu import DeuData, DeuIssue
from cicasim.validate.fit import CrossValidation, cross_validate, evaluate_grid, grid_points
from cicasim.validate.params import ParamSet
from cicasim.validate.predict import predict_issue, prepare_issue

__all__ = ["ValidationReport", "bootstrap_mae", "breakdown", "validate_deu"]

#: Spawn key of the bootstrap's random stream.
BOOT_KEY = 0xB007


def bootstrap_mae(
    errors: dict[str, np.ndarray],
    groups: np.ndarray,
    *,
    resamples: int,
    seed: int,
    pairs: tuple[tuple[str, str], ...] = (),
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the mean absolute error of each error vector, resampling whole
    groups (proposals) with replacement.  The same resamples serve every vector, so the
    intervals of the differences named in ``pairs`` (keys ``"a - b"``) are paired."""
    names, inverse = np.unique(np.asarray(groups), return_inverse=True)
    g = len(names)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(BOOT_KEY,))))
    draws = rng.integers(0, g, size=(resamples, g))
    counts = np.zeros((resamples, g))
    np.add.at(counts, (np.repeat(np.arange(resamples), g), draws.ravel()), 1.0)
    size = np.bincount(inverse, minlength=g).astype(float)
    n = counts @ size  # issues per resample
    series = {k: np.abs(np.asarray(v, float)) for k, v in errors.items()}
    for a, b in pairs:
        series[f"{a} - {b}"] = series[a] - series[b]
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for k, e in series.items():
        sums = np.bincount(inverse, weights=e, minlength=g)
        stat = (counts @ sums) / n
        lo, hi = np.quantile(stat, [alpha, 1.0 - alpha])
        out[k] = (float(lo), float(hi))
    return out


def breakdown(table: pd.DataFrame, by: str, columns: list[str]) -> list[dict[str, Any]]:
    """Mean absolute errors of ``columns`` per value of ``by`` (with the issue count)."""
    rows = []
    for value, part in table.groupby(by, sort=True, observed=True):
        row: dict[str, Any] = {by: str(value), "n_issues": int(len(part))}
        for c in columns:
            row[c] = float(part[c].mean())
        rows.append(row)
    return rows


@dataclass
class ValidationReport:
    """Everything a validation run produced (numbers, table and provenance)."""

    source: str
    params: ParamSet
    seed: int
    replications: int
    table: pd.DataFrame  # one row per issue with an outcome
    summary: dict[str, Any]
    cv: CrossValidation | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _terciles(values: pd.Series) -> pd.Series:
    """Low / middle / high thirds by rank (ties split by order), for breakdowns."""
    if len(values) < 3:
        return pd.Series(["all"] * len(values), index=values.index)
    ranks = values.rank(method="first")
    return pd.qcut(ranks, 3, labels=["1 low", "2 middle", "3 high"]).astype(str)


def _salience_spread(issue: DeuIssue) -> float:
    """Standard deviation of the coded actors' saliences (0-100) on the issue."""
    return float(np.std(list(issue.saliences.values())))


def _conditions(issue: DeuIssue, council: Council, capability: dict[str, float]) -> dict:
    coded = [a for a in council.members if a in issue.positions]
    return {
        "proposal": issue.proposal,
        "issue": issue.issue,
        "name": issue.name,
        "procedure": issue.procedure,
        "rule": issue.rule,
        "period": council.period,
        "date": issue.date.isoformat(),
        "members": len(council.members),
        "members_coded": len(coded),
        "status_quo": status_quo(issue),
        "status_quo_imputed": issue.reference is None,
        "tabled_text": tabled_text(issue, capability, council),
        "salience_spread": _salience_spread(issue),
        "outcome": issue.outcome,
    }


@dataclass
class _Steps:
    """Work done and to do, reported to a ``steps(done, total)`` callback as it advances."""

    callback: Callable[[int, int], None] | None
    total: int = 0
    done: int = 0

    def advance(self, k: int = 1) -> None:
        """Count ``k`` more units of work done."""
        self.done += k
        if self.callback is not None:
            self.callback(self.done, self.total)


def _issue_scenario(
    issue: DeuIssue, data: DeuData, council: Council, behaviour: dict[str, Any], params: ParamSet
) -> Scenario:
    """The issue's negotiation under the parameter set's conversion settings."""
    return issue_scenario(
        issue, capability=data.capability, council=council, behaviour=behaviour,
        source=data.path, max_rounds=params.max_rounds,
        commission_tension=params.commission_tension, uncertainty=params.uncertainty,
    )


def _issue_table(
    issues: list[DeuIssue], councils: dict[str, Council], capability: dict[str, float]
) -> pd.DataFrame:
    """One row per issue: its conditions, its outcome and the two static benchmarks."""
    rows = [_conditions(i, councils[i.issue], capability) for i in issues]
    table = pd.DataFrame(rows)
    table["compromise"] = [issue_compromise(i, capability) for i in issues]
    table["median"] = [issue_weighted_median(i, capability) for i in issues]
    return table


def _predict_issues(
    issues: list[DeuIssue], councils: dict[str, Council], data: DeuData, params: ParamSet,
    *, replications: int, seed: int, steps: _Steps,
) -> tuple[list[float], list[float]]:
    """cicasim's prediction of every issue under the parameter set, and the share of
    replications in which the text passed."""
    preds, passed = [], []
    for i in issues:
        sc = _issue_scenario(i, data, councils[i.issue], params.behaviour, params)
        p, ok = predict_issue(sc, replications=replications, seed=seed)
        preds.append(p)
        passed.append(ok)
        steps.advance()
    return preds, passed


def _cross_validate_issues(
    issues: list[DeuIssue], councils: dict[str, Council], data: DeuData, params: ParamSet,
    outcomes: np.ndarray, groups: np.ndarray,
    *, seed: int, fit_replications: int | None, folds: int | None,
    say: Callable[[str], None], steps: _Steps,
) -> CrossValidation:
    """Evaluate the fit grid on every issue and cross-validate it over proposals."""
    k = folds or params.fit.folds
    r_fit = fit_replications or params.fit.replications
    points = grid_points(params.fit.grid)
    say(f"cross-validating {len(points)} grid points x {len(issues)} issues "
        f"x {r_fit} replications, {k} folds over proposals")
    base = {**params.behaviour}
    prepared = []
    for i in issues:
        prepared.append(prepare_issue(
            _issue_scenario(i, data, councils[i.issue], base, params),
            replications=r_fit,
            seed=seed,
        ))
        steps.advance()
    pred_grid, pass_grid = evaluate_grid(
        prepared, points, progress=lambda _g, _n: steps.advance(len(issues))
    )
    return cross_validate(pred_grid, pass_grid, outcomes, list(groups), points=points, k=k,
                          seed=seed)


def _error_columns(table: pd.DataFrame, cv: CrossValidation | None) -> dict[str, np.ndarray]:
    """Add the absolute error of every prediction to ``table`` (``err_*`` columns) and return
    the error vectors the bootstrap resamples."""
    for c in ("cicasim", "cicasim_cv", "compromise", "median"):
        if c in table:
            table[f"err_{c}"] = (table[c] - table["outcome"]).abs()
    errors = {"cicasim": table["err_cicasim"].to_numpy()}
    if cv is not None:
        errors["cicasim_cv"] = table["err_cicasim_cv"].to_numpy()
    errors["compromise"] = table["err_compromise"].to_numpy()
    errors["median"] = table["err_median"].to_numpy()
    return errors


def validate_deu(
    *,
    data: DeuData,
    council: CouncilData,
    params: ParamSet,
    replications: int,
    seed: int,
    cross_validation: bool = True,
    fit_replications: int | None = None,
    folds: int | None = None,
    resamples: int = 2000,
    progress: Callable[[str], None] | None = None,
    steps: Callable[[int, int], None] | None = None,
) -> ValidationReport:
    """Predict every issue with an outcome; compare with the benchmarks; cross-validate.

    ``progress`` gets a message as each stage starts; ``steps(done, total)`` is called as the
    work advances (issues predicted, issues prepared and grid points × issues evaluated)."""
    say = progress or (lambda _msg: None)
    work = _Steps(steps)
    t0 = time.perf_counter()
    issues = data.with_outcome()
    if not issues:
        _raise_empty(data)
    councils = {i.issue: council_at(council, i.date) for i in issues}
    table = _issue_table(issues, councils, data.capability)
    out = table["outcome"].to_numpy(float)
    groups = table["proposal"].to_numpy(str)
    timings: dict[str, float] = {}

    cv_on = bool(cross_validation and params.fit.grid)
    n_points = len(grid_points(params.fit.grid)) if cv_on else 0
    work.total = len(issues) * (1 + (1 + n_points if cv_on else 0))
    say(f"predicting {len(issues)} issues x {replications} replications")
    t = time.perf_counter()
    table["cicasim"], table["p_passed"] = _predict_issues(
        issues, councils, data, params, replications=replications, seed=seed, steps=work)
    timings["predict"] = time.perf_counter() - t

    cv = None
    if cv_on:
        t = time.perf_counter()
        cv = _cross_validate_issues(
            issues, councils, data, params, out, groups, seed=seed,
            fit_replications=fit_replications, folds=folds, say=say, steps=work)
        table["fold"] = cv.folds
        table["cicasim_cv"] = cv.cv_predictions
        timings["cross_validation"] = time.perf_counter() - t

    errors = _error_columns(table, cv)
    t = time.perf_counter()
    pairs = [("cicasim", "compromise")] + ([("cicasim_cv", "compromise")] if cv else [])
    ci = bootstrap_mae(errors, groups, resamples=resamples, seed=seed, pairs=tuple(pairs))
    timings["bootstrap"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    summary = _summary(table, ci, cv, params, seed, replications, resamples, data, timings)
    return ValidationReport(
        source=data.path, params=params, seed=seed, replications=replications, table=table,
        summary=summary, cv=cv, timings=timings,
    )


def _raise_empty(data: DeuData) -> None:
    raise InputError(f"{data.path}: no issue has an outcome (column 'out'); nothing to score")


def _summary(
    table: pd.DataFrame,
    ci: dict[str, tuple[float, float]],
    cv: CrossValidation | None,
    params: ParamSet,
    seed: int,
    replications: int,
    resamples: int,
    data: DeuData,
    timings: dict[str, float],
) -> dict[str, Any]:
    s: dict[str, Any] = {
        "source": data.path,
        "n_issues": int(len(table)),
        "n_proposals": int(table["proposal"].nunique()),
        "statistic": "median of policy over replications",
        "params": params.name,
        "behaviour": params.behaviour,
        "seed": seed,
        "replications": replications,
        "bootstrap": {"resamples": resamples, "unit": "proposal", "interval": "percentile 95%"},
        "mae": float(table["err_cicasim"].mean()),
        "mae_ci_low": ci["cicasim"][0],
        "mae_ci_high": ci["cicasim"][1],
        "mae_compromise": float(table["err_compromise"].mean()),
        "mae_compromise_ci_low": ci["compromise"][0],
        "mae_compromise_ci_high": ci["compromise"][1],
        "mae_median": float(table["err_median"].mean()),
        "mae_median_ci_low": ci["median"][0],
        "mae_median_ci_high": ci["median"][1],
        "diff_compromise": float((table["err_cicasim"] - table["err_compromise"]).mean()),
        "diff_compromise_ci": list(ci["cicasim - compromise"]),
        "p_passed_mean": float(table["p_passed"].mean()),
    }
    if cv is not None:
        s.update({
            "mae_cv": float(table["err_cicasim_cv"].mean()),
            "mae_cv_ci_low": ci["cicasim_cv"][0],
            "mae_cv_ci_high": ci["cicasim_cv"][1],
            "diff_cv_compromise": float(
                (table["err_cicasim_cv"] - table["err_compromise"]).mean()
            ),
            "diff_cv_compromise_ci": list(ci["cicasim_cv - compromise"]),
            "cv": {
                "folds": int(cv.folds.max() + 1),
                "grid": {k: sorted({p[k] for p in cv.points}) for k in cv.points[0]},
                "chosen_per_fold": cv.chosen_points(),
                "best_all_issues": cv.best_point,
                "best_all_issues_mae": float(cv.mae_grid[cv.best]),
            },
        })
    cols = [c for c in ("err_cicasim", "err_cicasim_cv", "err_compromise", "err_median")
            if c in table]
    spread = _terciles(table["salience_spread"])
    s["breakdown"] = {
        "rule": breakdown(table, "rule", cols),
        "procedure": breakdown(table, "procedure", cols),
        "period": breakdown(table, "period", cols),
        "status_quo_imputed": breakdown(table, "status_quo_imputed", cols),
        "salience_spread": breakdown(table.assign(spread=spread), "spread", cols),
    }
    s["timings_seconds"] = {k: round(v, 2) for k, v in timings.items()}
    return s
