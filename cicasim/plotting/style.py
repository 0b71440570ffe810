"""The house style of the figures: colours, the matplotlib settings every figure is drawn under,
the Agg-backed figure factory, labels taken from the scenario and the tables, and writing a figure
to a file.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
with the common colour-vision deficiencies; heatmaps use the perceptually uniform ``viridis``
(probabilities) and ``magma_r`` (tensions) maps (van der Walt & Smith 2015), which stay ordered
in grey scale.  Figures are built as plain ``Figure`` objects on the Agg canvas, never through
``pyplot``: rendering is headless, no global figure registry fills up, and the caller's backend
is left alone.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cicasim.spec.rules import RULES, probability_name
from cicasim.spec.scenario import Scenario

#: Okabe-Ito colours, in the order lines take them (black last: kept for the text on the table).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)


MEMBER_COLOUR = PALETTE[0]


OBSERVER_COLOUR = PALETTE[1]


OBJECTION_COLOUR = PALETTE[3]


GREY = "#8C8C8C"


FORMATS = ("png", "svg", "pdf")


STYLE: dict[str, Any] = {
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "image.cmap": "viridis",
    "svg.hashsalt": "cicasim",
}


def _styled(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the figure inside the house style, without touching global settings."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


def _figure(width: float = 6.4, height: float = 4.8) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _label(scenario: Scenario | None, actor_id: str, *, width: int = 20) -> str:
    """The actor's name where it fits in ``width`` characters, else its id."""
    if scenario is not None:
        for a in scenario.actors:
            if a.id == actor_id:
                return a.name if a.name and len(a.name) <= width else a.id
    return actor_id


def _proposal_title(scenario: Scenario | None, proposal_id: str, *, width: int = 40) -> str:
    if scenario is not None:
        for p in scenario.proposals:
            if p.id == proposal_id and p.title:
                t = p.title if len(p.title) <= width else p.title[: width - 1] + "…"
                return t
    return proposal_id


def _wrapped_title(
    scenario: Scenario | None, proposal_id: str, *, width: int = 30, lines: int = 3
) -> str:
    """The proposal's title on at most ``lines`` lines of ``width`` characters (for tick
    labels); only a title longer than that is shortened."""
    out = textwrap.wrap(_proposal_title(scenario, proposal_id, width=1000), width)
    if len(out) > lines:
        out = out[: lines - 1] + [
            textwrap.shorten(" ".join(out[lines - 1:]), width, placeholder=" …")
        ]
    return "\n".join(out) or proposal_id


def _legend_title(scenario: Scenario | None, proposal_id: str, *, width: int = 44) -> str:
    """The proposal's full title, wrapped on lines of ``width`` characters (legend entries:
    nothing is cut)."""
    return textwrap.fill(_proposal_title(scenario, proposal_id, width=1000), width)


def _probability_name(scenario: Scenario | None, pids: Sequence[str]) -> str:
    """"P(consensus)" when every proposal shown is decided by consensus, else "P(adopted)"."""
    if scenario is None:
        return "P(consensus)"
    kinds = {p.id: p.rule.kind for p in scenario.proposals}
    return probability_name(kinds.get(pid, "consensus") for pid in pids)


def _frame_probability_name(frame: pd.DataFrame, scenario: Scenario | None) -> str:
    """The probability's name for a table of results: by the values of its rule factor where
    it has one (a column of rule labels, "qualified-majority(quota=12)"), else by the rules of
    its proposals in the scenario."""
    for c in _factor_columns(frame):
        kinds = [str(v).split("(")[0] for v in frame[c].dropna().unique()]
        if kinds and all(k in RULES for k in kinds):
            return probability_name(kinds)
    return _probability_name(scenario, _proposals(frame))


def _probability_label(pname: str) -> str:
    """The y- or x-label of a probability axis."""
    return f"{pname}\nprobability, 95% interval"


def _proposals(table: pd.DataFrame) -> list[str]:
    """Proposals in the order they first appear (the scenario's order)."""
    return list(dict.fromkeys(table["proposal"].tolist()))


def _colours(n: int) -> list[str]:
    cols = [c for c in PALETTE if c != "#F0E442"]  # yellow is too pale for thin lines
    return [cols[i % len(cols)] for i in range(n)]


def _scenario_name(scenario: Scenario | None) -> str:
    return scenario.scenario.name if scenario is not None else "cicasim"


def _spread(values: Sequence[float], *, gap: float) -> list[float]:
    """Label heights at least ``gap`` apart, each as close to its value as that allows."""
    order = np.argsort(values, kind="stable")
    out = np.asarray(values, dtype=float).copy()
    for k in range(1, len(order)):
        lo = out[order[k - 1]] + gap
        if out[order[k]] < lo:
            out[order[k]] = lo
    return [float(v) for v in out]


def _factor_columns(summary: pd.DataFrame) -> list[str]:
    known = {"point", "proposal", "label", "n_members", "p_consensus", "ci_low", "ci_high",
             "median_rounds", "mean_dilution", "mean_drift", "passed", "replications",
             "n_passed", "low",
             "high", "reasons", "title", "seed_key", "delta", "delta_low", "delta_high"}
    return [c for c in summary.columns if c not in known]


def _varying(frame: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    return [c for c in cols if frame[c].nunique(dropna=False) > 1]


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def save_figure(fig: Figure, target: Any, *, fmt: str, dpi: int = 150) -> Any:
    """Write ``fig`` to a path or binary file without timestamps, so the same results give the
    same bytes; returns ``target``."""
    meta = {"png": {"Software": None}, "svg": {"Date": None},
            "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    with matplotlib.rc_context(STYLE):
        fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
    return target
