"""The static benchmarks of EU bargaining: the compromise model and the weighted median.

Both weigh every coded actor (member states, Commission, Parliament) by capability × salience,
as in Achen (2006) and Thomson, Stokman, Achen & König (2006, *The European Union Decides*),
where the compromise model was the most accurate of the models compared.
"""

from __future__ import annotations

import numpy as np

from cicasim.validate.deu import DeuData, DeuIssue

__all__ = ["baselines", "compromise", "issue_weights", "weighted_median"]


def issue_weights(issue: DeuIssue, capability: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Positions and capability × salience weights of the actors coded on ``issue``.

    When every coded actor has salience 0 the weights fall back to capability alone, so the
    benchmarks stay defined.
    """
    actors = list(issue.positions)
    x = np.array([issue.positions[a] for a in actors], dtype=float)
    w = np.array([capability[a] * issue.saliences[a] for a in actors], dtype=float)
    if w.sum() <= 0:
        w = np.array([capability[a] for a in actors], dtype=float)
    return x, w


def compromise(issue: DeuIssue, capability: dict[str, float]) -> float:
    """Achen's (2006) compromise model: the capability × salience weighted mean position."""
    x, w = issue_weights(issue, capability)
    return float((w * x).sum() / w.sum())


def weighted_median(issue: DeuIssue, capability: dict[str, float]) -> float:
    """The capability × salience weighted median: the smallest coded position at which the
    cumulative weight reaches half the total (the position of the pivotal actor when weights
    are votes; Black 1948, Thomson et al. 2006 ch. 2)."""
    x, w = issue_weights(issue, capability)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, cum[-1] / 2.0 - 1e-12 * cum[-1]))
    return float(x[order][k])


def baselines(data: DeuData, issues: list[DeuIssue] | None = None) -> dict[str, np.ndarray]:
    """Both benchmarks for ``issues`` (default: those with an outcome), as arrays."""
    issues = data.with_outcome() if issues is None else issues
    return {
        "compromise": np.array([compromise(i, data.capability) for i in issues]),
        "median": np.array([weighted_median(i, data.capability) for i in issues]),
    }
