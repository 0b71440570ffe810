"""cicasim: agent-based consensus-decision simulator for international organisations."""

from __future__ import annotations

from cicasim.errors import InputError
from cicasim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["InputError", "Scenario", "ScenarioError", "__version__", "load_scenario"]
