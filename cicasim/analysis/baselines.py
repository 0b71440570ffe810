"""Static baselines the dynamic model is compared with (kept for existing imports).

The implementations live in :mod:`cicasim.models.compromise`, with the other bargaining models.
"""

from __future__ import annotations

from cicasim.models.compromise import compromise, weighted_median

__all__ = ["compromise", "weighted_median"]
