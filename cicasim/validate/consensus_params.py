"""The ``consensus-organisations`` parameter set: behaviour fitted to real consensus decisions.

``consensus-organisations.toml`` beside this module is written by
``cicasim validate consensus data/consensus-events.tsv --data DIR --write-params FILE`` and
shipped as package data.  It holds

* ``[behaviour]``: the fitted amendment protocol and behaviour parameters (copy the table into a
  scenario to reuse them; ``cicasim calibrate --members`` writes them into its scenarios);
* ``[baselines]``: the baselines' coefficients fitted on the shipped events (base rate, and the
  logistic models on the member count and on the largest tension), used unchanged when another
  event file is scored;
* ``[fit]``: how the fit was made (grid, replications, seed, the events file's SHA-256) and the
  cross-validated scores it gave (a record; every run recomputes them).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from cicasim.errors import parse_toml

__all__ = ["FILE", "load_consensus_params", "shipped_behaviour"]

FILE = "consensus-organisations.toml"


def load_consensus_params() -> dict[str, Any] | None:
    """The shipped set as a mapping, or None when it is not installed."""
    res = resources.files("cicasim.validate").joinpath(FILE)
    if not res.is_file():
        return None
    return parse_toml(res.read_text(encoding="utf-8"), FILE)


def shipped_behaviour() -> dict[str, Any]:
    """The fitted ``[behaviour]`` table ({} when the set is not installed)."""
    data = load_consensus_params()
    return dict(data.get("behaviour", {})) if data else {}
