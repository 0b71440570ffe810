"""Combinations of the models' predictions.

* **Equal-weight combination**: the mean of the member models' point predictions, dimension by
  dimension.  Equal weights are hard to beat out of sample (Clemen 1989, "Combining forecasts:
  a review and annotated bibliography", *Int. J. Forecasting* 5:559-583; the "forecast
  combination puzzle", Smith & Wallis 2009, *Oxford Bull. Econ. Stat.* 71:331-355).
* **Cross-validated combination** (:func:`cv_subset_combination`): the equal-weight mean of the
  subset of models with the lowest mean absolute error on the training folds, chosen afresh in
  every fold of a grouped K-fold over proposals (only the held-out fold is scored with it).
  Choosing among 2^k − 1 equal-weight subsets rather than fitting k free weights keeps the fit
  small for ~240 issues (Clemen 1989).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_MEMBERS", "cv_subset_combination", "equal_weight", "subsets"]

#: The models averaged by the equal-weight combination (every point model of the registry but
#: the combinations themselves).
DEFAULT_MEMBERS = ("compromise", "median", "nbs", "eum", "exchange", "smp", "cicasim")


def equal_weight(predictions: np.ndarray) -> np.ndarray:
    """The mean over the first axis (models) of the predictions, ignoring NaN."""
    p = np.asarray(predictions, float)
    with np.errstate(invalid="ignore"):
        return np.nanmean(p, axis=0)


def subsets(k: int) -> list[tuple[int, ...]]:
    """Every non-empty subset of ``range(k)``, smallest first, in a fixed order."""
    return [s for r in range(1, k + 1) for s in itertools.combinations(range(k), r)]


def cv_subset_combination(
    predictions: np.ndarray, outcomes: np.ndarray, folds: np.ndarray, *,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Out-of-fold predictions of the best equal-weight subset, and the subset chosen per fold.

    ``predictions`` is (models, issues); ``folds`` the fold of each issue.  Ties go to the
    earlier (smaller) subset.
    """
    p = np.asarray(predictions, float)
    y = np.asarray(outcomes, float)
    k = p.shape[0]
    names = list(names) if names is not None else [str(i) for i in range(k)]
    subs = subsets(k)
    combos = np.stack([p[list(s)].mean(axis=0) for s in subs])  # (S, I)
    err = np.abs(combos - y[None, :])
    out = np.empty_like(y)
    chosen: list[tuple[str, ...]] = []
    for f in np.unique(folds):
        test = folds == f
        best = int(np.argmin(err[:, ~test].mean(axis=1)))
        out[test] = combos[best, test]
        chosen.append(tuple(names[i] for i in subs[best]))
    return out, chosen
