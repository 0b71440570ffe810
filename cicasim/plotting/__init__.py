"""Figures from results on disk: each function takes tables (pandas) or a scenario and returns a
matplotlib :class:`~matplotlib.figure.Figure`.

One module per family of figures: :mod:`~cicasim.plotting.run` (P(consensus), dilution,
blocking), :mod:`~cicasim.plotting.tensions` (the tension matrix and network),
:mod:`~cicasim.plotting.negotiation` (one negotiation round by round),
:mod:`~cicasim.plotting.sweeps` (enlargement curves, factor curves, heatmaps),
:mod:`~cicasim.plotting.comparison` (paired ΔP and Sobol indices), and
:mod:`~cicasim.plotting.standard` (the figures that apply to a results directory), all drawn in
the house style of :mod:`~cicasim.plotting.style`.  :mod:`~cicasim.plotting.report` writes the
HTML report.

Only the plotting modules and the figure modules of :mod:`cicasim.validate` import matplotlib,
and only the command line (``cicasim plot``, ``report``, ``--plots``), the results' ``.plot()``
methods and the explorer import them, lazily, as Mesa's ``app.py`` and SALib's ``plotting/``
keep figures at the edge; nothing in :mod:`cicasim.spec`, :mod:`cicasim.engine`,
:mod:`cicasim.analysis`, :mod:`cicasim.sweep` or :mod:`cicasim.results` imports matplotlib.

:func:`write_standard_figures` writes every figure that applies to a results directory into its
``figures/`` folder; :func:`standard_figures` yields them in memory for the HTML report.
"""

from __future__ import annotations

from cicasim.engine.model import TraceResult as Trace
from cicasim.plotting.comparison import comparison_figure, sobol_figure
from cicasim.plotting.negotiation import (
    negotiation_network,
    negotiation_trace,
    trace_figure,
    vote_figure,
)
from cicasim.plotting.run import (
    blocking_bars,
    blocking_frequencies,
    dilution_stats,
    run_summary_figure,
)
from cicasim.plotting.standard import (
    KINDS,
    figure_kinds,
    figure_names,
    load_results,
    results_probability_name,
    standard_figures,
    write_standard_figures,
)
from cicasim.plotting.standard import _heatmap_axes as _heatmap_axes  # for the tests
from cicasim.plotting.standard import _joined as _joined  # for the tests
from cicasim.plotting.standard import _sweep_joined as _sweep_joined  # for the tests
from cicasim.plotting.style import FORMATS, PALETTE, save_figure
from cicasim.plotting.style import _figure as _figure  # the explorer draws on it
from cicasim.plotting.sweeps import (
    CICA_MILESTONES,
    delta_curve,
    dilution_curve,
    enlargement_curve,
    factor_curve,
    milestones_for,
    sweep_heatmap,
)
from cicasim.plotting.tensions import tension_heatmap, tension_network
from cicasim.results import Results

__all__ = [
    "CICA_MILESTONES",
    "FORMATS",
    "KINDS",
    "PALETTE",
    "Results",
    "Trace",
    "blocking_bars",
    "blocking_frequencies",
    "comparison_figure",
    "dilution_curve",
    "delta_curve",
    "dilution_stats",
    "enlargement_curve",
    "factor_curve",
    "figure_kinds",
    "figure_names",
    "load_results",
    "milestones_for",
    "negotiation_network",
    "negotiation_trace",
    "results_probability_name",
    "run_summary_figure",
    "save_figure",
    "sobol_figure",
    "standard_figures",
    "sweep_heatmap",
    "tension_heatmap",
    "tension_network",
    "trace_figure",
    "vote_figure",
    "write_standard_figures",
]
