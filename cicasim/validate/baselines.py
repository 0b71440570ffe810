"""The static benchmarks of EU bargaining on DEU issues: the compromise model and the median.

Both weigh every coded actor (member states, Commission, Parliament) by capability × salience,
as in Achen (2006) and Thomson, Stokman, Achen & König (2006, *The European Union Decides*),
where the compromise model was the most accurate of the models compared.  The models are those
of :mod:`cicasim.models.compromise`, on the issue's bargain (:func:`cicasim.models.from_deu_issue`)
with the DEU salience fallback: when every coded actor has salience 0, capability alone.
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import from_deu_issue
from cicasim.models.compromise import compromise_model, median_model
from cicasim.validate.deu import DeuData, DeuIssue

__all__ = ["baselines", "issue_compromise", "issue_weighted_median", "issue_weights"]


def issue_weights(issue: DeuIssue, capability: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Positions and capability × salience weights of the actors coded on ``issue``
    (capability alone when every coded actor has salience 0)."""
    actors = list(issue.positions)
    x = np.array([issue.positions[a] for a in actors], dtype=float)
    w = np.array([capability[a] * issue.saliences[a] for a in actors], dtype=float)
    if w.sum() <= 0:
        w = np.array([capability[a] for a in actors], dtype=float)
    return x, w


def issue_compromise(issue: DeuIssue, capability: dict[str, float]) -> float:
    """Achen's (2006) compromise model on a DEU issue: the capability × salience weighted mean
    position (:func:`cicasim.models.compromise.compromise` on the issue's bargain)."""
    b = from_deu_issue(issue, capability)
    return float(compromise_model(b, salience_fallback=True).outcome[0])


def issue_weighted_median(issue: DeuIssue, capability: dict[str, float]) -> float:
    """The capability × salience weighted median on a DEU issue: the smallest coded position at
    which the cumulative weight reaches half the total (Black 1948, Thomson et al. 2006 ch. 2;
    :func:`cicasim.models.compromise.weighted_median` on the issue's bargain)."""
    b = from_deu_issue(issue, capability)
    return float(median_model(b, salience_fallback=True).outcome[0])


def baselines(data: DeuData, issues: list[DeuIssue] | None = None) -> dict[str, np.ndarray]:
    """Both benchmarks for ``issues`` (default: those with an outcome), as arrays."""
    issues = data.with_outcome() if issues is None else issues
    return {
        "compromise": np.array([issue_compromise(i, data.capability) for i in issues]),
        "median": np.array([issue_weighted_median(i, data.capability) for i in issues]),
    }
