"""cicasim's own negotiation as a bargaining model.

The engine's Monte Carlo ensemble (:func:`cicasim.engine.ensemble.run_proposal`; the rules in
``docs/model.md``) of the bargain's scenario proposal.  The point prediction is the median of the
replications' policy (the agreed text where the proposal passed, the status quo where it
failed), per dimension: the point forecast that minimises expected absolute error (Gneiting
2011, *JASA* 106:746-762), as in the DEU validation.  The policies of the replications are the
predictive distribution.
"""

from __future__ import annotations

import numpy as np

from cicasim.models.bargain import Bargain, Prediction

__all__ = ["cicasim_model"]


def cicasim_model(bargain: Bargain, *, replications: int = 1000, seed: int = 0) -> Prediction:
    """The median policy of ``replications`` replications of the bargain's scenario proposal."""
    from cicasim.engine.ensemble import run_proposal

    if bargain.scenario is None or bargain.proposal is None:
        raise ValueError(
            "the cicasim model needs a bargain built from a scenario (models.from_scenario)"
        )
    run = run_proposal(bargain.scenario, bargain.proposal, replications=replications, seed=seed)
    policy = np.asarray(run.outcome.policy, float)
    return Prediction(
        outcome=np.median(policy, axis=0),
        samples=policy,
        info={"p_passed": float(run.outcome.passed.mean())},
    )
