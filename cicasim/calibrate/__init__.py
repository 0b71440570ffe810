"""Calibration from public data sets, and import from peer tools (KTAB, DEU).

:func:`calibrate` reads the raw public files (UNGA votes and ideal points, Correlates of War
capabilities, disputes and rivalries, IGO memberships, World Bank) and returns a scenario with a
note beside every value; :func:`render` writes it as commented TOML.  See ``docs/calibration.md``.
"""

from cicasim.calibrate.pipeline import Calibrated, calibrate, default_assumptions, load_assumptions
from cicasim.calibrate.writer import render, write_atomic

__all__ = [
    "Calibrated",
    "calibrate",
    "default_assumptions",
    "load_assumptions",
    "render",
    "write_atomic",
]
