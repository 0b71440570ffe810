"""cicasim: agent-based consensus-decision simulator for international organisations."""

from __future__ import annotations

from cicasim.enlargement import enlargement_path
from cicasim.ensemble import EnsembleResult, run_ensemble, run_proposal
from cicasim.errors import InputError
from cicasim.power import PowerResult, power_for_proposal, power_indices
from cicasim.rules import RULES
from cicasim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"


def __getattr__(name: str):
    # Mesa is imported only when the Mesa driver is asked for, so workers and the CLI start fast.
    if name == "NegotiationModel":
        from cicasim.model import NegotiationModel

        return NegotiationModel
    raise AttributeError(f"module 'cicasim' has no attribute {name!r}")


__all__ = [
    "RULES",
    "EnsembleResult",
    "InputError",
    "NegotiationModel",
    "PowerResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "enlargement_path",
    "load_scenario",
    "power_for_proposal",
    "power_indices",
    "run_ensemble",
    "run_proposal",
]
