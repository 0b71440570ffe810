"""Honest fitting: a few behaviour parameters chosen by grouped K-fold cross-validation.

Issues of one legislative proposal were negotiated together by the same people, so they are not
independent: folds hold out whole proposals (grouped K-fold; Roberts et al. 2017, "Cross-validation
strategies for data with temporal, spatial, hierarchical, or phylogenetic structure", Ecography
40:913-929), never single issues.  Every grid point is run once on every issue with the same
random numbers (common random numbers), then each fold picks the grid point with the lowest
mean absolute error on the other folds and is scored with it.  The cross-validated error is the
mean absolute error of these out-of-fold predictions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cicasim.validate.predict import PreparedIssue

__all__ = ["CrossValidation", "cross_validate", "evaluate_grid", "grid_points", "grouped_folds"]

#: Spawn key of the fold assignment's random stream (distinct from the negotiation streams).
FOLD_KEY = 0xF01D


def grid_points(grid: dict[str, Sequence[float]]) -> list[dict[str, float]]:
    """The full factorial of the grid, in a fixed order (first key slowest)."""
    keys = list(grid)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*grid.values())]


def grouped_folds(groups: Sequence[str], *, k: int, seed: int) -> np.ndarray:
    """Fold index (0..k-1) of each item, whole groups to one fold, folds of similar size.

    Groups are shuffled with a seeded generator, then placed largest first into the fold with
    the fewest items so far (as scikit-learn's GroupKFold, with a seeded order among equals).
    """
    names = sorted(set(groups))
    if k > len(names):
        raise ValueError(f"{k} folds need at least {k} groups, got {len(names)}")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(FOLD_KEY,))))
    order = [names[i] for i in rng.permutation(len(names))]
    size = {g: 0 for g in names}
    for g in groups:
        size[g] += 1
    order.sort(key=lambda g: -size[g])  # stable: shuffled order among equal sizes
    load = np.zeros(k, dtype=int)
    fold_of: dict[str, int] = {}
    for g in order:
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += size[g]
    return np.array([fold_of[g] for g in groups], dtype=int)


def evaluate_grid(
    prepared: Sequence[PreparedIssue],
    points: Sequence[dict[str, float]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and P(passed), shape ``(len(points), len(prepared))``."""
    pred = np.empty((len(points), len(prepared)))
    passed = np.empty_like(pred)
    for g, point in enumerate(points):
        for i, prep in enumerate(prepared):
            pred[g, i], passed[g, i] = prep.predict(point)
        if progress is not None:
            progress(g + 1, len(points))
    return pred, passed


@dataclass(frozen=True)
class CrossValidation:
    """The outcome of a grouped K-fold cross-validation over a grid."""

    points: list[dict[str, float]]
    predictions: np.ndarray  # (G, I)
    passed: np.ndarray  # (G, I)
    folds: np.ndarray  # (I,)
    chosen: list[int]  # grid index chosen in each fold
    cv_predictions: np.ndarray  # (I,) out-of-fold
    best: int  # grid index with the lowest error on all issues
    mae_grid: np.ndarray  # (G,) in-sample error of every grid point

    @property
    def best_point(self) -> dict[str, float]:
        return dict(self.points[self.best])

    def chosen_points(self) -> list[dict[str, Any]]:
        return [dict(self.points[g]) for g in self.chosen]


def cross_validate(
    predictions: np.ndarray,
    passed: np.ndarray,
    outcomes: np.ndarray,
    groups: Sequence[str],
    *,
    points: Sequence[dict[str, float]],
    k: int,
    seed: int,
) -> CrossValidation:
    """Grouped K-fold selection of a grid point (ties go to the earlier grid point)."""
    err = np.abs(predictions - outcomes[None, :])
    folds = grouped_folds(groups, k=k, seed=seed)
    cv = np.empty(len(outcomes))
    chosen = []
    for f in range(k):
        test = folds == f
        g = int(np.argmin(err[:, ~test].mean(axis=1)))
        chosen.append(g)
        cv[test] = predictions[g, test]
    mae_grid = err.mean(axis=1)
    return CrossValidation(
        points=[dict(p) for p in points],
        predictions=predictions,
        passed=passed,
        folds=folds,
        chosen=chosen,
        cv_predictions=cv,
        best=int(np.argmin(mae_grid)),
        mae_grid=mae_grid,
    )
