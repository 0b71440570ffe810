"""The field's bargaining models in one place, on one input.

Each model reads a :class:`~cicasim.models.bargain.Bargain` (actors, capability, positions,
saliences, status quo; built from a scenario proposal or a DEU issue) and returns a
:class:`~cicasim.models.bargain.Prediction` (an outcome per dimension, and samples where the
model has a predictive distribution).  :data:`REGISTRY` maps a model id to its callable; the
callable's docstring and :attr:`ModelSpec.reference` name the literature.  ``docs/models.md``
gives each model's assumptions, its reference and its cross-check against a peer implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from cicasim.models.bargain import (
    Bargain,
    Prediction,
    from_arrays,
    from_deu_issue,
    from_deu_proposal,
    from_scenario,
)
from cicasim.models.combination import DEFAULT_MEMBERS, equal_weight
from cicasim.models.compromise import compromise_model, median_model
from cicasim.models.eum import eum_model
from cicasim.models.eum_simple import eum_simple_model
from cicasim.models.exchange import exchange_model
from cicasim.models.nbs import nbs_model
from cicasim.models.negotiation import cicasim_model
from cicasim.models.smp import smp_model

__all__ = [
    "Bargain",
    "ModelSpec",
    "Prediction",
    "REGISTRY",
    "from_arrays",
    "from_deu_issue",
    "from_deu_proposal",
    "from_scenario",
    "model_ids",
    "parse_models",
    "predict",
]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its id, a short title, the callable and its reference."""

    id: str
    title: str
    run: Callable[..., Prediction]
    reference: str
    stochastic: bool = False  # takes a seed; has a predictive distribution
    needs_scenario: bool = False  # needs the bargain's scenario (cicasim's own negotiation)


def combination_model(bargain: Bargain, *, seed: int = 0, replications: int = 1000,
                      members: tuple[str, ...] = DEFAULT_MEMBERS) -> Prediction:
    """The equal-weight mean of the member models' predictions (Clemen 1989); members that
    cannot run on the bargain (cicasim's own negotiation without a scenario) are left out."""
    preds, used = [], []
    for m in members:
        spec = REGISTRY[m]
        if spec.needs_scenario and bargain.scenario is None:
            continue
        preds.append(predict(m, bargain, seed=seed, replications=replications).outcome)
        used.append(m)
    return Prediction(outcome=equal_weight(np.stack(preds)), info={"members": used})


REGISTRY: dict[str, ModelSpec] = {
    s.id: s
    for s in (
        ModelSpec("compromise", "compromise model (weighted mean)", compromise_model,
                  "Achen 2006, in Thomson et al. (eds.), The European Union Decides, ch. 4"),
        ModelSpec("median", "weighted median", median_model,
                  "Black 1948; Thomson et al. 2006, The European Union Decides, ch. 2"),
        ModelSpec("nbs", "asymmetric Nash bargaining solution", nbs_model,
                  "Nash 1950, Econometrica 18:155-162; Achen 2006"),
        ModelSpec("eum", "expected-utility model (Bueno de Mesquita)", eum_model,
                  "Bueno de Mesquita 1994; Scholz, Calbert & Smith 2011, JTP 23(4):510-531"),
        ModelSpec("eum-simple", "simplified expected-utility model (blksv)", eum_simple_model,
                  "Bueno de Mesquita 2011, CMPS 28(1):65-87, as simplified in "
                  "github.com/blksv/predictioneers_game", stochastic=True),
        ModelSpec("exchange", "vote-exchange model (Stokman)", exchange_model,
                  "Stokman & van Oosten 1994; van Assen, Stokman & van Oosten 2003"),
        ModelSpec("smp", "Spatial Model of Politics (KTAB), deterministic", smp_model,
                  "Wise et al. 2015, KAPSARC KS-1517-DP018A; KTAB SMP sources"),
        ModelSpec("smp-stochastic", "Spatial Model of Politics (KTAB), stochastic",
                  partial(smp_model, stochastic=True),
                  "Wise et al. 2015, KAPSARC KS-1517-DP018A; KTAB SMP sources", stochastic=True),
        ModelSpec("cicasim", "cicasim negotiation (median policy)", cicasim_model,
                  "docs/model.md", stochastic=True, needs_scenario=True),
        ModelSpec("combination", "equal-weight combination", combination_model,
                  "Clemen 1989, Int. J. Forecasting 5:559-583"),
    )
}


def model_ids() -> list[str]:
    """The registered ids, in registry order."""
    return list(REGISTRY)


def parse_models(text: str, *, allowed: list[str] | None = None) -> list[str]:
    """``all`` or a comma-separated list of ids → ids (ValueError naming the bad id)."""
    allowed = allowed or model_ids()
    if text.strip() == "all":
        return list(allowed)
    ids = [t.strip() for t in text.split(",") if t.strip()]
    for i in ids:
        if i not in allowed:
            raise ValueError(f"unknown model {i!r}; allowed: all, {', '.join(allowed)}")
    if not ids:
        raise ValueError(f"no model named; allowed: all, {', '.join(allowed)}")
    return ids


def predict(model: str, bargain: Bargain, *, seed: int = 0, replications: int = 1000,
            **options: Any) -> Prediction:
    """Run one registered model on ``bargain`` (``seed`` and ``replications`` go to the
    models that take them)."""
    spec = REGISTRY[model]
    if spec.id == "cicasim" or spec.id == "combination":
        options = {"seed": seed, "replications": replications, **options}
    elif spec.stochastic:
        options = {"seed": seed, **options}
    return spec.run(bargain, **options)
