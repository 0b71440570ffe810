"""Figures from results on disk: each function takes tables (pandas) or a scenario and returns a
matplotlib :class:`~matplotlib.figure.Figure`.

This is the only module that imports matplotlib, and only the command line (``cicasim plot``,
``report``, ``--plots``) imports it, lazily, as Mesa's ``app.py`` and SALib's ``plotting/`` keep
figures at the edge.  Figures are built as
plain ``Figure`` objects on the Agg canvas, never through ``pyplot``: rendering is headless, no
global figure registry fills up, and the caller's backend is left alone.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
with the common colour-vision deficiencies; heatmaps use the perceptually uniform ``viridis``
(probabilities) and ``magma_r`` (tensions) maps (van der Walt & Smith 2015), which stay ordered
in grey scale.

:func:`write_standard_figures` writes every figure that applies to a results directory into its
``figures/`` folder; :func:`standard_figures` yields them in memory for the HTML report.
"""

from __future__ import annotations

import functools
import math
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import MaxNLocator

from cicasim.engine.model import TraceResult as Trace
from cicasim.errors import InputError, os_reason
from cicasim.results import (
    Results,
    check_output_file,
    make_directory,
    open_results,
    read_json,
)
from cicasim.spec.rules import RULES, probability_name
from cicasim.spec.scenario import Scenario

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
    "negotiation_trace",
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

#: CICA's membership at its summits and ministerial meetings: (year, members).
#: Source: CICA_FACTS.md in the project's shared data sets ("Enlargement history"), which cites
#: english.pravda.ru (16 founding members, 2002), s-cica.org (Thailand 2004), chinadaily
#: 2014-05-20 (2006-2011), allmedialink.com and cicabc.cccme.org.cn (2014), adaderana.lk (2018)
#: and inform.kz (Kuwait, 28th member, 13 Oct 2022).
CICA_MILESTONES: tuple[tuple[int, int], ...] = (
    (2002, 16), (2004, 17), (2006, 18), (2008, 20), (2010, 22),
    (2011, 24), (2014, 26), (2018, 27), (2022, 28),
)

#: Results kinds that have figures.
KINDS = ("run", "sweep", "compare", "sensitivity")
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


# -- results on disk ---------------------------------------------------------------------------


def load_results(directory: str | Path) -> Results:
    """Open a results directory of a kind that has figures; one-line error otherwise."""
    return open_results(directory, kinds=KINDS)


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


def results_probability_name(results: Results) -> str:
    """The probability's name for a results directory (its figures and its report): the
    rules of the proposals it holds, or its rule factor's values."""
    table = {"run": "replications", "sweep": "summary", "compare": "comparison",
             "sensitivity": "sobol"}.get(results.kind)
    if table is None or not results.has(table):
        return _probability_name(results.scenario, [])
    return _frame_probability_name(results.table(table), results.scenario)


def _probability_label(pname: str) -> str:
    """The y- or x-label of a probability axis."""
    return f"{pname}\nprobability, 95% interval"


def _proposals(table: pd.DataFrame) -> list[str]:
    """Proposals in the order they first appear (the scenario's order)."""
    return list(dict.fromkeys(table["proposal"].tolist()))


def _colours(n: int) -> list[str]:
    cols = [c for c in PALETTE if c != "#F0E442"]  # yellow is too pale for thin lines
    return [cols[i % len(cols)] for i in range(n)]


# -- run: P(consensus), dilution and blocking ---------------------------------------------------


def blocking_frequencies(replications: pd.DataFrame, *, members: Sequence[str]) -> pd.DataFrame:
    """Per proposal, each member's blocking frequency: the share of replications in which it
    objected in the last round and the proposal failed (as ``cicasim run`` summarises it)."""
    rows = []
    for pid in _proposals(replications):
        sub = replications[replications["proposal"] == pid]
        n = len(sub)
        failed = sub.loc[~sub["passed"].to_numpy(bool), "objectors"].fillna("")
        counts = failed[failed != ""].str.split(";").explode().value_counts()
        for a in members:
            rows.append({"proposal": pid, "actor": a,
                         "frequency": int(counts.get(a, 0)) / n if n else 0.0})
    return pd.DataFrame(rows, columns=["proposal", "actor", "frequency"])


@_styled
def blocking_bars(
    blocking: pd.DataFrame, *, proposal: str, scenario: Scenario | None = None
) -> Figure:
    """Blocking frequency of each member for one proposal, sorted, with the observers apart.

    ``blocking`` has columns proposal, actor, frequency (``blocking.parquet`` of a sweep point,
    or :func:`blocking_frequencies` of a run).  Observers never vote, so they never block; they
    are named apart, in a note under the bars, so a reader does not take their absence for an
    oversight.
    """
    sub = blocking[blocking["proposal"] == proposal].sort_values(
        ["frequency", "actor"], ascending=[True, False]
    )
    observers = [a.id for a in scenario.observers] if scenario is not None else []
    n = len(sub)
    note = ""
    if observers:
        names = ", ".join(_label(scenario, a) for a in observers)
        note = textwrap.fill(
            f"Observers, in the talks but without a vote, so never blocking: {names}.", 95
        )
    lines = note.count("\n") + 1 if note else 0
    fig = _figure(6.4, max(2.6, 1.5 + 0.24 * n + 0.16 * lines))
    if note:
        # the observers, apart: a note under the axis, in the observers' colour
        ax, ax_note = fig.subplots(2, 1, height_ratios=[max(n, 1) * 0.24 + 0.9, 0.16 * lines])
        ax_note.axis("off")
        ax_note.text(0.0, 1.0, note, ha="left", va="top", fontsize=7.5, color="#9A6A00",
                     style="italic", transform=ax_note.transAxes)
    else:
        ax = fig.subplots()
    labels = [_label(scenario, a) for a in sub["actor"]]
    ax.barh(labels, sub["frequency"], color=MEMBER_COLOUR, height=0.7, label="members")
    for y, f in enumerate(sub["frequency"]):
        ax.annotate(f"{f:.2f}", (f, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    # the 0-1 scale, zoomed in when every member blocks rarely (the numbers are printed)
    peak = float(sub["frequency"].max()) if n else 0.0
    ax.set_xlim(0, 1.08 if peak > 0.7 else max(0.3, round(1.25 * peak + 0.05, 1)))
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_ylabel("Member")
    ax.set_xlabel("Blocking frequency (share of replications: objected, proposal failed)")
    ax.set_title("Who blocks: " + _wrapped_title(scenario, proposal, width=52), loc="left")
    return fig


def dilution_stats(replications: pd.DataFrame) -> pd.DataFrame:
    """Mean dilution of the agreed texts per point and proposal with a 95% normal interval of the
    mean (passed replications only; dilution is undefined for failed ones)."""
    rows = []
    for (point, pid), sub in replications.groupby(["point", "proposal"], sort=False):
        d = sub.loc[sub["passed"].to_numpy(bool), "dilution"].to_numpy(float)
        n = len(d)
        mean = float(d.mean()) if n else math.nan
        half = 1.96 * float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        # dilution is signed (docs/model.md): the interval is not clipped
        rows.append({"point": point, "proposal": pid, "n_passed": n, "mean_dilution": mean,
                     "low": mean - half, "high": mean + half})
    return pd.DataFrame(
        rows, columns=["point", "proposal", "n_passed", "mean_dilution", "low", "high"]
    )


@_styled
def run_summary_figure(
    summary: pd.DataFrame, replications: pd.DataFrame, *, scenario: Scenario | None = None
) -> Figure:
    """Left: P(consensus) per proposal with its 95% Wilson interval.  Right: how far the agreed
    texts were watered down (dilution of the passed replications, box and whiskers)."""
    pids = list(summary["proposal"])
    k = len(pids)
    fig = _figure(9.6, max(3.0, 1.9 + 0.7 * k))
    ax_p, ax_d = fig.subplots(1, 2, sharey=True)
    y = np.arange(k)[::-1]
    p = summary["p_consensus"].to_numpy(float)
    lo, hi = summary["ci_low"].to_numpy(float), summary["ci_high"].to_numpy(float)
    pname = _probability_name(scenario, pids)
    ax_p.errorbar(p, y, xerr=[p - lo, hi - p], fmt="o", color=MEMBER_COLOUR, capsize=3,
                  label=pname)
    for yi, pi, l_, h_ in zip(y, p, lo, hi, strict=True):
        ax_p.annotate(f"{pi:.3f} ({l_:.3f}-{h_:.3f})", (pi, yi), xytext=(0, 7),
                      textcoords="offset points", ha="left" if pi < 0.5 else "right",
                      fontsize=8)
    ax_p.set_xlim(-0.03, 1.03)
    ax_p.set_yticks(y, [_wrapped_title(scenario, pid) for pid in pids])
    ax_p.set_ylim(-0.7, k - 0.3)
    ax_p.set_xlabel(f"{pname}\nprobability, 95% Wilson interval")
    ax_p.set_title("Probability of consensus" if pname == "P(consensus)"
                   else "Probability of adoption under the rule", loc="left", fontsize=10)
    # most agreements often pass as tabled (dilution exactly 0): a box over all of them would
    # collapse onto 0, so the share agreed as tabled is written out and the box shows the
    # amended texts only
    spans = [0.0, 1.0]
    for yi, pid in zip(y, pids, strict=True):
        sub = replications[(replications["proposal"] == pid) & replications["passed"]]
        d = sub["dilution"].to_numpy(float)
        if not len(d):
            ax_d.text(0.02, yi, "never agreed", va="center", fontsize=8, color=GREY,
                      style="italic", transform=ax_d.get_yaxis_transform())
            continue
        amended = d[d != 0]
        as_tabled = 1 - len(amended) / len(d)
        note = f"{as_tabled:.0%} as tabled"
        if len(amended):
            # box: quartiles; whiskers: 5th to 95th percentile; tick: median
            p5, q1, med, q3, p95 = np.percentile(amended, [5, 25, 50, 75, 95])
            ax_d.hlines(yi, p5, p95, color="black", lw=1.0)
            ax_d.barh(yi, max(q3 - q1, 1e-3), left=q1, height=0.45, color=PALETTE[5],
                      edgecolor="black", lw=0.8)
            ax_d.vlines(med, yi - 0.22, yi + 0.22, color="black", lw=2.0)
            spans += [p5, p95]
            note += f"; {len(amended):,} amended (box)"
        if as_tabled > 0:
            ax_d.plot([0], [yi], marker="D", color=PALETTE[1], ms=5, zorder=3)
        ax_d.annotate(note, (0, yi), xytext=(2, -12), textcoords="offset points",
                      xycoords=("axes fraction", "data"), va="top", fontsize=7.5, color="#555555",
                      bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
                      zorder=4)
    lo, hi = min(spans), max(spans)
    pad = 0.05 * (hi - lo)
    ax_d.set_xlim(lo - pad, hi + pad)
    ax_d.xaxis.set_major_locator(MaxNLocator(nbins=6))
    for x, what in ((0.0, "as tabled"), (1.0, "status quo")):
        ax_d.axvline(x, color="black", lw=0.8, ls="--" if x else "-", zorder=0)
        ax_d.annotate(what, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                      textcoords="offset points", va="top", fontsize=7, color="#555555")
    ax_d.set_xlabel("Dilution of agreed texts\n(0 = as tabled, 1 = status quo, < 0 = more "
                    "ambitious)")
    fig.supxlabel("Right: box = quartiles and whiskers = 5th-95th percentile of the amended "
                  "texts; diamond = texts agreed as tabled (dilution 0).", fontsize=8,
                  color="#555555")
    ax_d.set_title("How watered down the agreed texts are", loc="left", fontsize=10)
    ax_d.tick_params(axis="y", left=False)
    n = int(replications.groupby("proposal").size().max()) if len(replications) else 0
    what = "consensus" if pname == "P(consensus)" else "adoption"
    fig.suptitle(f"{_scenario_name(scenario)}: {what} and dilution per proposal "
                 f"({n:,} replications each)")
    return fig


def _scenario_name(scenario: Scenario | None) -> str:
    return scenario.scenario.name if scenario is not None else "cicasim"


# -- tensions -----------------------------------------------------------------------------------


def _tension(scenario: Scenario) -> np.ndarray:
    from cicasim.engine.arrays import tension_matrix

    return tension_matrix(scenario)[0]


def _cluster_order(T: np.ndarray) -> tuple[np.ndarray, Any]:
    """Leaf order of average-linkage clustering with tension as the distance (UPGMA)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    n = len(T)
    if n < 3:
        return np.arange(n), None
    Z = linkage(squareform(T, checks=False), method="average", optimal_ordering=True)
    return leaves_list(Z), Z


@_styled
def tension_heatmap(scenario: Scenario) -> Figure:
    """The tension matrix with actors ordered by hierarchical clustering (average linkage on
    tension as a distance), so groups of mutually friendly actors sit in blocks along the
    diagonal and hostile pairs stand out; the dendrogram on top shows the grouping."""
    from mpl_toolkits.axes_grid1 import make_axes_locatable
    from scipy.cluster.hierarchy import dendrogram

    T = _tension(scenario)
    n = len(T)
    order, Z = _cluster_order(T)
    actors = [scenario.actors[i] for i in order]
    labels = [_label(scenario, a.id, width=22) + (" (obs.)" if a.role == "observer" else "")
              for a in actors]
    size = min(11.0, max(5.0, 2.4 + 0.2 * n))
    fig = _figure(size + 1.0, size + 0.8)
    fig.set_layout_engine("none")
    ax_h = fig.add_subplot()
    # the dendrogram and colour bar share the heatmap's edges, so leaves sit over their columns
    divider = make_axes_locatable(ax_h)
    ax_d = divider.append_axes("top", size="16%", pad=0.05)
    cax = divider.append_axes("right", size="3%", pad=0.12)
    img = ax_h.imshow(T[np.ix_(order, order)], cmap="magma_r", vmin=0, vmax=1,
                      interpolation="nearest")
    font = 9 if n <= 20 else (7 if n <= 40 else 5)
    ax_h.set_xticks(range(n), labels, rotation=90, fontsize=font)
    ax_h.set_yticks(range(n), labels, fontsize=font)
    for tick_x, tick_y, a in zip(ax_h.get_xticklabels(), ax_h.get_yticklabels(), actors,
                                 strict=True):
        if a.role == "observer":
            for t in (tick_x, tick_y):
                t.set_color(GREY)
                t.set_style("italic")
    ax_h.grid(False)
    ax_h.tick_params(length=0)
    for side in ("top", "right"):
        ax_h.spines[side].set_visible(True)
    fig.colorbar(img, cax=cax, label="Tension (0 = none, 1 = hostile)")
    if Z is not None:
        dendrogram(Z, ax=ax_d, no_labels=True, color_threshold=0, above_threshold_color=GREY,
                   link_color_func=lambda _k: GREY)
    ax_d.axis("off")
    ax_d.set_title(f"{_scenario_name(scenario)}: tensions between actors, clustered",
                   loc="left")
    # the dendrogram's leaves sit at 5, 15, 25...; align them with the heatmap columns
    ax_d.set_xlim(0, 10 * n)
    return fig


@_styled
def tension_network(scenario: Scenario, *, min_tension: float | None = None) -> Figure:
    """Who is hostile to whom, as an arc diagram: the actors on a line, ordered by their
    position on the first dimension (geopolitical alignment in the CICA scenarios; by
    hierarchical clustering of the tensions when there is no dimension), members as circles,
    observers as grey squares; every tension above ``min_tension`` is an arc between the two,
    coloured and thickened by its value, so an actor's hostile ties fan out from it and
    crossing camps stand out.  By default the arcs are the pairs above the scenario's default
    tension, or only the 10% most tense pairs when more than 2.5 per actor are above it (a
    calibrated matrix lists every pair).  Labels sit one per slot under the line and never
    overlap."""
    from matplotlib.patches import Arc

    T = _tension(scenario)
    n = len(T)
    actors = list(scenario.actors)
    off = T[np.triu_indices(n, 1)]
    if min_tension is not None:
        floor, how = min_tension, f"tension > {min_tension:g}"
    else:
        floor = scenario.scenario.default_tension
        how = f"tension > {floor:g}"
        if (off > floor).sum() > 2.5 * n:
            floor = max(floor, float(np.quantile(off, 0.9)))
            how = f"the 10% most tense pairs, tension > {floor:.2f}"
    if scenario.dimensions:
        dim = scenario.dimensions[0]
        key = [a.position.get(dim.id, 50.0) for a in actors]
        order = np.lexsort((np.arange(n), np.asarray(key, dtype=float)))
        by = f"ordered by {(dim.name or dim.id).lower()}, low to high"
    else:
        order, _ = _cluster_order(T)
        by = "ordered by clustering of the tensions"
    slot = np.empty(n, dtype=int)
    slot[order] = np.arange(n)
    pairs = sorted(((i, j) for i in range(n) for j in range(i + 1, n) if T[i, j] > floor),
                   key=lambda ij: T[ij])  # the most tense drawn last, on top
    fig = _figure(max(7.5, 0.3 * n + 2.5), 6.4)
    ax = fig.subplots()
    vals = np.array([T[i, j] for i, j in pairs]) if pairs else np.array([floor, 1.0])
    top = float(vals.max()) if pairs else 1.0
    norm = Normalize(floor, max(top, floor + 1e-6))
    cmap = matplotlib.colormaps["magma_r"]
    height = 0.0
    for (i, j), v in zip(pairs, vals, strict=False):
        a, b = sorted((slot[i], slot[j]))
        w = b - a
        height = max(height, w / 2)
        ax.add_patch(Arc(((a + b) / 2, 0), w, w, theta1=0, theta2=180,
                         color=cmap(0.25 + 0.75 * norm(v)), lw=0.6 + 2.6 * norm(v),
                         alpha=0.85, zorder=1))
    member = np.array([a.role == "member" for a in actors])
    cap = np.array([a.capability for a in actors], dtype=float)
    sizes = 25 + 180 * np.sqrt(cap / cap.max())
    for mask, colour, marker, label in (
        (member, MEMBER_COLOUR, "o", "member"), (~member, GREY, "s", "observer")
    ):
        if mask.any():
            ax.scatter(slot[mask], np.zeros(mask.sum()), s=sizes[mask], c=colour,
                       marker=marker, edgecolors="white", linewidths=0.8, zorder=3,
                       label=label)
    font = 8 if n <= 30 else 7
    for i, a in enumerate(actors):
        t = ax.annotate(_label(scenario, a.id, width=16), (slot[i], 0), xytext=(0, -9),
                        textcoords="offset points", rotation=90, ha="center", va="top",
                        fontsize=font, color="black" if member[i] else "#555555")
        if not member[i]:
            t.set_style("italic")
    ax.set_xlim(-0.8, n - 0.2)
    ax.set_ylim(-0.02 * max(height, 1), max(height, 1) * 1.05)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=matplotlib.colors.ListedColormap(
        cmap(np.linspace(0.25, 1.0, 256))))
    fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01, label="Tension (arc colour and width)")
    ax.legend(loc="upper left", markerscale=0.7, title="marker size: capability",
              title_fontsize=8)
    hot = sorted(pairs, key=lambda ij: -T[ij])[:3]
    most = ", ".join(f"{_label(scenario, actors[i].id, width=12)}–"
                     f"{_label(scenario, actors[j].id, width=12)} {T[i, j]:.2f}"
                     for i, j in hot)
    ax.set_title(f"{_scenario_name(scenario)}: who is hostile to whom\narcs: {how}; actors "
                 f"{by}" + (f"\nmost tense: {most}" if most else ""), loc="left")
    return fig


# -- a negotiation, round by round ---------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _tension_layout(matrix: bytes, n: int) -> np.ndarray:
    """Positions by classical multidimensional scaling (Torgerson 1952) with 0.3 + tension as
    the distance, so hostile pairs sit apart and friendly groups close together (kept: a
    stepped negotiation redraws the same network every round)."""
    if n < 2:
        return np.zeros((n, 2))
    T = np.frombuffer(matrix).reshape(n, n)
    D = 0.3 + T
    np.fill_diagonal(D, 0.0)
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (D**2) @ J
    vals, vecs = np.linalg.eigh(B)
    top = np.argsort(vals)[::-1][:2]
    return vecs[:, top] * np.sqrt(np.clip(vals[top], 0.0, None))


#: Colours of the votes in the negotiation network (Okabe-Ito: bluish green, orange, vermillion).
VOTE_COLOURS = {"accept": "#009E73", "abstain": "#E69F00", "object": "#D55E00"}


def negotiation_network(
    scenario: Scenario, votes: Mapping[str, str | None], capability: Mapping[str, float],
    *, title: str = "", top: float = 0.1,
) -> Figure:
    """One round of a negotiation as a network: node size is the actor's capability in that
    replication, colour its last vote (accept, abstain, object; grey before the first vote and
    for observers), edges the ``top`` share of the most tense pairs, placed by classical
    multidimensional scaling of the tensions (:func:`_tension_layout`)."""

    T = _tension(scenario)
    n = len(T)
    ids = [a.id for a in scenario.actors]
    off = T[np.triu_indices(n, 1)]
    floor = float(np.quantile(off, 1 - top)) if off.size else 0.0
    xy = _tension_layout(T.tobytes(), n)
    fig = _figure(7.0, 6.0)
    ax = fig.subplots()
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if T[i, j] > floor]
    if pairs:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection([[xy[i], xy[j]] for i, j in pairs], colors="0.6",
                                         linewidths=[0.5 + 2.5 * T[i, j] for i, j in pairs],
                                         zorder=1))
    cap = np.array([capability.get(a, 0.0) for a in ids], dtype=float)
    sizes = 60 + 540 * np.sqrt(cap / cap.max()) if cap.max() > 0 else np.full(n, 100.0)
    colours = [VOTE_COLOURS.get(votes.get(a) or "", "#BBBBBB") for a in ids]
    member = np.array([a.role == "member" for a in scenario.actors])
    for mask, marker in ((member, "o"), (~member, "s")):
        idx = np.flatnonzero(mask)
        if idx.size:
            ax.scatter(xy[idx, 0], xy[idx, 1], s=sizes[idx], c=[colours[i] for i in idx],
                       marker=marker, edgecolors="white", linewidths=1.0, zorder=2)
    for i, a in enumerate(ids):
        ax.annotate(a, xy[i], xytext=(0, np.sqrt(sizes[i]) / 2 + 2), textcoords="offset points",
                    ha="center", fontsize=7, zorder=3,
                    path_effects=[withStroke(linewidth=2.5, foreground="white")])
    handles = [Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in VOTE_COLOURS.items()]
    handles.append(Line2D([], [], marker="s", ls="", color="#BBBBBB", label="observer / no vote"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, title="vote; size: capability",
              title_fontsize=8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.08)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title or f"{_scenario_name(scenario)}: votes and the "
                 f"{top:.0%} most tense pairs", loc="left", fontsize=10)
    return fig




def negotiation_trace(
    scenario: Scenario, *, proposal: str, seed: int, replication: int = 0
) -> Trace:
    """Run replication ``replication`` of ``proposal`` through the Mesa model (the same numbers
    as ``cicasim run --seed seed``) and return its rounds as tidy tables
    (:func:`cicasim.engine.model.run_trace`)."""
    from cicasim.engine.model import run_trace

    return run_trace(scenario, proposal, seed=seed, replication=replication)


@_styled
def trace_figure(trace: Trace, *, scenario: Scenario) -> Figure:
    """The text on the table (black) and every actor's position (members solid, observers
    dashed) by round, one panel per dimension the proposal touches; objections are marked with
    a vermillion cross at the objector's position, abstentions with an open circle.

    Each round shows the text voted on and the positions the actors held when they voted.  A
    negotiation decided in round 1 has no path to draw: the figure shows that vote instead
    (:func:`vote_figure`).
    """
    if trace.rounds <= 1:
        return vote_figure(trace, scenario=scenario)
    prop = scenario.proposal(trace.proposal)
    touches = {t.dimension: t for t in prop.touches}
    dims = list(dict.fromkeys(trace.texts["dimension"]))
    dim_names = {d.id: d.name or d.id for d in scenario.dimensions}
    roles = {a.id: a.role for a in scenario.actors}
    k = len(dims)
    fig = _figure(7.6, 1.4 + 3.4 * k)
    axes = np.atleast_1d(fig.subplots(k, 1, sharex=True, squeeze=False)[:, 0])
    pos = trace.positions
    # the sponsor and the most persistent objectors stand out, in colours no other mark uses
    objections = pos.loc[pos["vote"] == "object"].drop_duplicates(["round", "actor"])
    persistent = objections["actor"].value_counts()
    persistent = sorted(persistent.index, key=lambda a: (-persistent[a], a))
    spare = [PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[5]]
    highlight = ([prop.sponsor] + [a for a in persistent if a != prop.sponsor])[: len(spare)]
    colours = dict(zip(highlight, spare, strict=False))
    n_actors = pos["actor"].nunique()
    for ax, d in zip(axes, dims, strict=True):
        sub = pos[pos["dimension"] == d]
        ends: list[tuple[float, float, str, str]] = []
        for actor, rows in sub.groupby("actor", sort=False):
            x = rows["round"].to_numpy()
            y = rows["position"].to_numpy()
            is_obs = roles.get(actor) == "observer"
            col = colours.get(actor, GREY if not is_obs else OBSERVER_COLOUR)
            mine = actor in colours
            # a single round has no line to draw: mark the position instead
            ax.plot(x, y, ls="--" if is_obs else "-", color=col, lw=1.7 if mine else 0.8,
                    marker="_" if len(x) == 1 else None, ms=10,
                    alpha=1.0 if mine else (0.45 if is_obs else 0.6), zorder=3 if mine else 2)
            if mine or n_actors <= 12:
                ends.append((float(x[-1]), float(y[-1]), _label(scenario, actor, width=14), col))
            obj = (rows["vote"] == "object").to_numpy()
            ax.scatter(x[obj], y[obj], marker="x", color=OBJECTION_COLOUR, s=34, zorder=4,
                       linewidths=1.5)
            ab = (rows["vote"] == "abstain").to_numpy()
            ax.scatter(x[ab], y[ab], marker="o", facecolors="none",
                       edgecolors=OBJECTION_COLOUR, s=34, zorder=4)
        # end labels, nudged apart so they do not overprint each other
        heights = _spread([e[1] for e in ends], gap=4.0)
        for (x_end, y_end, text, col), y_lab in zip(ends, heights, strict=True):
            # a white box keeps a label readable where it sits on a line (the status quo, say)
            ax.annotate(text, (x_end, y_end), xytext=(6, y_lab),
                        textcoords=("offset points", "data"), va="center", fontsize=7.5,
                        color=col, annotation_clip=False, zorder=5,
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
        tx = trace.texts[trace.texts["dimension"] == d]
        ax.plot(tx["round"], tx["text"], color="black", lw=2.6, marker="o", ms=4,
                zorder=3)
        if d in touches:
            ax.axhline(touches[d].status_quo, color="black", ls=":", lw=1.0, zorder=1)
        ax.set_ylim(-2, 102)
        ax.set_ylabel(f"{dim_names.get(d, d)}\n(position, 0-100)")
    axes[-1].set_xlabel("Round (text and positions when the round's vote was cast)")
    last = int(pos["round"].max()) if len(pos) else 1
    step = 1 if last <= 15 else max(1, last // 10)
    axes[-1].set_xticks(range(1, last + 1, step))
    axes[-1].set_xlim(0.6, last + 0.4)
    end = {"passed": f"passed in round {trace.rounds}",
           "deadlock": f"deadlock after {trace.rounds} rounds",
           "withdrawn": f"withdrawn after round {trace.rounds}"}.get(trace.status, trace.status)
    axes[0].set_title(
        f"{_legend_title(scenario, trace.proposal, width=64)}\n{end} "
        f"(replication {trace.replication}, seed {trace.seed})", loc="left",
    )
    present = set(pos["actor"])
    handles = [
        Line2D([], [], color="black", lw=2.6, marker="o", ms=4, label="text on the table"),
        Line2D([], [], color="black", ls=":", lw=1.0, label="status quo"),
        Line2D([], [], color=OBJECTION_COLOUR, marker="x", ls="", label="objection"),
        Line2D([], [], color=OBJECTION_COLOUR, marker="o", mfc="none", ls="",
               label="abstention"),
    ]
    if prop.sponsor in colours:
        handles.append(Line2D([], [], color=colours[prop.sponsor], lw=1.6,
                              label=f"sponsor ({_label(scenario, prop.sponsor, width=14)})"))
    if any(roles.get(a) == "member" and a not in colours for a in present):
        handles.append(Line2D([], [], color=GREY, lw=0.9, label="member"))
    if any(roles.get(a) == "observer" for a in present):
        handles.append(Line2D([], [], color=OBSERVER_COLOUR, lw=0.9, ls="--", label="observer"))
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return fig


@_styled
def vote_figure(trace: Trace, *, scenario: Scenario, round_: int | None = None) -> Figure:
    """One round's vote (default: the last): each member's margin u - θ (the utility of the
    text over the status quo, less the rival penalty, plus the vote noise, less the threshold),
    sorted, coloured by its vote."""
    prop = scenario.proposal(trace.proposal)
    t = trace.rounds if round_ is None else round_
    pos = trace.positions
    votes = (pos[(pos["round"] == t) & pos["vote"].notna()]
             .drop_duplicates("actor").sort_values(["margin", "actor"]))
    n = len(votes)
    fig = _figure(7.2, max(3.2, 1.8 + 0.2 * n))
    ax = fig.subplots()
    colour = {"accept": PALETTE[0], "abstain": PALETTE[1], "object": OBJECTION_COLOUR}
    labels = [_label(scenario, a, width=18) for a in votes["actor"]]
    ax.barh(range(n), votes["margin"], color=[colour[v] for v in votes["vote"]], height=0.7)
    ax.set_yticks(range(n), labels, fontsize=8 if n <= 30 else 6.5)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Margin of the vote, u - θ (utility gain over the status quo, less the rival "
                  "penalty,\nplus the vote noise, less the threshold: accept at 0 or above)")
    text = trace.texts[trace.texts["round"] == t]
    shown = ", ".join(f"{v:.1f}" for v in text["text"])
    ax.set_title(
        f"{_wrapped_title(scenario, trace.proposal, width=60, lines=2)}\n"
        f"round {t}, {trace.status}: the vote on the text ({shown})\n"
        f"replication {trace.replication}, seed {trace.seed}; sponsor "
        f"{_label(scenario, prop.sponsor, width=18)} accepts its own text",
        loc="left", fontsize=10,
    )
    handles = [Patch(color=c, label={"accept": "accepted", "abstain": "abstained",
                                     "object": "objected"}[v])
               for v, c in colour.items() if (votes["vote"] == v).any()]
    ax.legend(handles=handles, loc="lower right")
    return fig


# -- sweeps: enlargement, dilution, heatmaps -----------------------------------------------------


def _spread(values: Sequence[float], *, gap: float) -> list[float]:
    """Label heights at least ``gap`` apart, each as close to its value as that allows."""
    order = np.argsort(values, kind="stable")
    out = np.asarray(values, dtype=float).copy()
    for k in range(1, len(order)):
        lo = out[order[k - 1]] + gap
        if out[order[k]] < lo:
            out[order[k]] = lo
    return [float(v) for v in out]


def _milestone_axis(
    ax: Any, milestones: Sequence[tuple[int, int]], lo: float, hi: float,
    values: Mapping[float, Sequence[float]] | None = None,
) -> bool:
    """Dotted lines at the real membership counts within ``lo``-``hi`` (the members the data
    cover), each labelled with its year beside the line, at the top or the bottom of the panel,
    whichever is further from the data there (``values``: the plotted values at each member
    count); True if any was drawn."""
    by_members: dict[int, int] = {}
    for year, m in milestones:
        if lo <= m <= hi:
            by_members[m] = year  # the latest year at that size
    y0, y1 = ax.get_ylim()
    for m, year in by_members.items():
        ax.axvline(m, color=GREY, ls=":", lw=0.9, zorder=0)
        here = [(v - y0) / (y1 - y0) for v in (values or {}).get(float(m), ())
                if np.isfinite(v)]
        # the top, unless data reach up there and the bottom is free
        top = not (here and max(here) >= 0.7 and min(here) > 0.3)
        ax.annotate(f"{year}", (m, 0.98 if top else 0.02), xycoords=ax.get_xaxis_transform(),
                    xytext=(3, 0), textcoords="offset points", rotation=90,
                    ha="left", va="top" if top else "bottom", fontsize=7, color="#555555",
                    path_effects=[withStroke(linewidth=2, foreground="white")])
    return bool(by_members)


def _factor_columns(summary: pd.DataFrame) -> list[str]:
    known = {"point", "proposal", "label", "n_members", "p_consensus", "ci_low", "ci_high",
             "median_rounds", "mean_dilution", "mean_drift", "passed", "replications",
             "n_passed", "low",
             "high", "reasons", "title", "seed_key", "delta", "delta_low", "delta_high"}
    return [c for c in summary.columns if c not in known]


def _varying(frame: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    return [c for c in cols if frame[c].nunique(dropna=False) > 1]


def _facets(frame: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    if not by:
        return [("", frame)]
    out = []
    for key, sub in frame.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append((", ".join(f"{_factor_label(c)} = {_tick(v)}"
                              for c, v in zip(by, key, strict=True)), sub))
    return out


def _curve_figure(
    frame: pd.DataFrame, *, value: str, low: str, high: str, ylabel: str, title: str,
    milestones: Sequence[tuple[int, int]], scenario: Scenario | None, ylim: tuple[float, float],
    zero_line: bool = False, joined: Mapping[int, str] | None = None,
) -> Figure:
    other = _varying(frame, [c for c in _factor_columns(frame) if c != "n_members"])
    # a factor that only relabels the membership (the enlargement step, the scenario of a
    # year) is not a facet
    other = [c for c in other if not _membership_factor(frame, c)]
    facets = _facets(frame, other)[:9]
    cols = min(3, len(facets))
    rows = -(-len(facets) // cols)
    fig = _figure(6.4 if cols == 1 else 4.2 * cols, 4.6 if rows == 1 else 3.4 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))
    pids = _proposals(frame)
    colours = dict(zip(pids, _colours(len(pids)), strict=True))
    markers = "osD^vP*X"
    marked = False
    widest = 0.0
    for ax, (name, sub) in zip(axes.flat, facets, strict=False):
        for i, pid in enumerate(pids):
            s = sub[sub["proposal"] == pid].sort_values("n_members")
            if not len(s):
                continue
            x = s["n_members"].to_numpy(float)
            y = s[value].to_numpy(float)
            lo_, hi_ = s[low].to_numpy(float), s[high].to_numpy(float)
            ax.fill_between(x, lo_, hi_, color=colours[pid], alpha=0.25, lw=0)
            widest = max(widest, float(np.nanmax(hi_ - lo_, initial=0.0)))
            label = _legend_title(scenario, pid)
            if np.isnan(y).all():
                label += " (no value: never agreed)"
            ax.plot(x, y, color=colours[pid], marker=markers[i % len(markers)], ms=4, lw=1.8,
                    label=label)
        ax.set_ylim(*ylim)
        if zero_line:
            ax.axhline(0, color="black", lw=0.8, zorder=1)
        if name:
            ax.set_title(name, fontsize=9, loc="left")
        span = (frame["n_members"].min(), frame["n_members"].max())
        at = sub.groupby("n_members")[value].apply(list)
        marked = _milestone_axis(
            ax, milestones, *span, values={float(k): v for k, v in at.items()}
        ) or marked
        if joined:
            # who joined at each step, on a top axis
            top = ax.secondary_xaxis("top")
            top.set_xticks(list(joined), list(joined.values()), rotation=90, fontsize=7)
            top.tick_params(length=2, pad=1)
            top.set_xlabel("who joins (+k: k synthetic members)", fontsize=8)
    for ax in axes.flat[len(facets):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("Number of members")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    # a band narrower than about a line's width cannot be seen: say so rather than let the
    # reader think there is no interval
    thin = widest < 0.03 * (ylim[1] - ylim[0])
    handles.append(Patch(color=GREY, alpha=0.25, lw=0))
    labels.append("95% interval" + (" (here narrower than the lines)" if thin else ""))
    if marked:
        handles.append(Line2D([], [], color=GREY, ls=":", lw=0.9))
        labels.append("real membership (year reached)")
    if len(handles) > 1 or other:
        wide = max(len(t) for t in labels) > 30
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=min(1 if wide and cols == 1 else 2 if wide else 3, len(handles)))
    fig.suptitle(title)
    return fig


def _with_members(summary: pd.DataFrame, points: pd.DataFrame | None) -> pd.DataFrame:
    if "n_members" in summary.columns or points is None:
        return summary
    return summary.merge(points[["point", "n_members"]], on="point", how="left")


@_styled
def enlargement_curve(
    summary: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    milestones: Sequence[tuple[int, int]] = (),
    joined: Mapping[int, str] | None = None,
) -> Figure:
    """P(consensus) per proposal against the number of members, with the 95% interval as a
    band; ``milestones`` ((year, members) pairs) are marked as dotted lines with their year;
    ``joined`` (members -> who joined at that step) labels the steps on a top axis.

    ``summary`` is a sweep's ``summary.parquet`` (point, proposal, n_members, p_consensus,
    ci_low, ci_high and the factor columns); other factors that vary become panels.
    """
    name = _scenario_name(scenario)
    # the full 0-1 scale unless every interval stays low: then zoom in, so the curve can be read
    peak = float(np.nanmax(summary["ci_high"].to_numpy(float), initial=0.0))
    top = 1.02 if peak > 0.6 else max(0.05, round(1.25 * peak, 2))
    pname = _frame_probability_name(summary, scenario)
    what = "consensus" if pname == "P(consensus)" else "adoption"
    return _curve_figure(
        summary, value="p_consensus", low="ci_low", high="ci_high",
        ylabel=_probability_label(pname),
        title=f"{name}: probability of {what} as the organisation enlarges",
        milestones=milestones, scenario=scenario, ylim=(-0.02 * top, top), joined=joined,
    )


@_styled
def dilution_curve(
    dilution: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    milestones: Sequence[tuple[int, int]] = (),
    joined: Mapping[int, str] | None = None,
) -> Figure:
    """Mean dilution of the agreed text per proposal against the number of members, with a 95%
    interval band; ``joined`` labels the steps on a top axis, as on the other curves.
    ``dilution`` is :func:`dilution_stats` joined with the points' n_members (and factor
    columns).  Dilution is signed (``docs/model.md``): negative means more ambitious than
    tabled, so the axis spans the data and always shows 0 (as tabled)."""
    name = _scenario_name(scenario)
    vals = dilution[["mean_dilution", "low", "high"]].to_numpy(float)
    lo = min(0.0, float(np.nanmin(vals, initial=0.0)))
    hi = max(0.0, float(np.nanmax(vals, initial=0.0)))
    pad = max(0.02, 0.12 * (hi - lo))
    return _curve_figure(
        dilution, value="mean_dilution", low="low", high="high",
        ylabel="Mean dilution of agreed texts\n(0 = as tabled, 1 = status quo,\n"
        "< 0 = more ambitious)",
        title=f"{name}: how watered down agreements get as membership grows",
        milestones=milestones, scenario=scenario, ylim=(lo - pad, hi + pad), zero_line=True,
        joined=joined,
    )


@_styled
def delta_curve(
    deltas: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    milestones: Sequence[tuple[int, int]] = (),
    joined: Mapping[int, str] | None = None,
) -> Figure:
    """ΔP(consensus) of each design point against the first (point 0), per proposal, against
    the number of members, with the paired 95% interval as a band (``deltas.parquet`` of a
    sweep with common random numbers, joined with the points' n_members)."""
    name = _scenario_name(scenario)
    bounds = deltas[["delta_low", "delta_high"]].to_numpy(float)
    lo = min(0.0, float(np.nanmin(bounds, initial=0.0)))
    hi = max(0.0, float(np.nanmax(bounds, initial=0.0)))
    pad = max(0.005, 0.12 * (hi - lo))
    first = deltas.loc[deltas["point"] == deltas["point"].min(), "n_members"]
    start = f"the {int(first.iloc[0])}-member start" if len(first) else "the first point"
    pname = _frame_probability_name(deltas, scenario)
    return _curve_figure(
        deltas, value="delta", low="delta_low", high="delta_high",
        ylabel=f"Δ{pname} against {start}\n(probability, paired 95% interval)",
        title=f"{name}: change in {pname} as members join",
        milestones=milestones, scenario=scenario, ylim=(lo - pad, hi + pad), zero_line=True,
        joined=joined,
    )


@_styled
def factor_curve(
    summary: pd.DataFrame, *, x: str, scenario: Scenario | None = None,
    deltas: pd.DataFrame | None = None,
) -> Figure:
    """P(consensus) per proposal against one factor of a sweep (the one-factor sensitivity
    check), with the 95% Wilson interval as a band; a factor with text values (a rule, say) is
    drawn as points with error bars at evenly spaced positions.  With ``deltas`` (a sweep's
    ``deltas.parquet``), a second panel shows ΔP against the first design point with its
    paired 95% interval (common random numbers)."""
    pids = _proposals(summary)
    colours = dict(zip(pids, _colours(len(pids)), strict=True))
    numeric = pd.api.types.is_numeric_dtype(summary[x])
    levels = list(dict.fromkeys(summary.sort_values("point")[x]))
    panels = 2 if deltas is not None and len(deltas) else 1
    fig = _figure(6.8, 3.6 * panels + 1.2)
    axes = np.atleast_1d(fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0])
    markers = "osD^vP*X"

    def where(values: pd.Series) -> np.ndarray:
        if numeric:
            return values.to_numpy(float)
        return np.array([levels.index(v) for v in values], dtype=float)

    frames = [(summary, "p_consensus", "ci_low", "ci_high")]
    if panels == 2:
        keys = summary[["point", "proposal", x]].drop_duplicates()
        frames.append((deltas.merge(keys, on=["point", "proposal"], how="inner"), "delta",
                       "delta_low", "delta_high"))
    narrow = True
    for ax, (frame, value, low, high) in zip(axes, frames, strict=True):
        for i, pid in enumerate(pids):
            sub = frame[frame["proposal"] == pid].sort_values(x if numeric else "point")
            xs, ys = where(sub[x]), sub[value].to_numpy(float)
            lo, hi = sub[low].to_numpy(float), sub[high].to_numpy(float)
            label = _legend_title(scenario, pid)
            if numeric:
                ax.fill_between(xs, lo, hi, color=colours[pid], alpha=0.22, lw=0)
                ax.plot(xs, ys, color=colours[pid], marker=markers[i % len(markers)], ms=4,
                        lw=1.8, label=label)
            else:
                off = (i - (len(pids) - 1) / 2) * 0.08
                ax.errorbar(xs + off, ys, yerr=[ys - lo, hi - ys], fmt=markers[i % len(markers)],
                            color=colours[pid], capsize=3, ms=5, label=label)
            narrow = narrow and bool(np.nanmax(hi - lo, initial=0.0) < 0.01)
    pname = _frame_probability_name(summary, scenario)
    axes[0].set_ylabel(_probability_label(pname))
    peak = float(np.nanmax(summary["ci_high"].to_numpy(float), initial=0.0))
    axes[0].set_ylim(-0.02, 1.02 if peak > 0.6 else max(0.05, round(1.25 * peak, 2)))
    if panels == 2:
        axes[1].axhline(0, color="black", lw=0.8, zorder=1)
        axes[1].set_ylabel("ΔP against the first point\n(paired 95% interval)")
    axes[-1].set_xlabel(_factor_label(x))
    if not numeric:
        axes[-1].set_xticks(range(len(levels)), [_tick(v) for v in levels])
    note = " (the 95% bands are narrower than the lines)" if narrow else ""
    handles, labels = axes[0].get_legend_handles_labels()
    wide = max((len(t) for t in labels), default=0) > 30
    fig.legend(handles, labels, loc="outside lower center", ncols=1 if wide else 3)
    fig.suptitle(f"{_scenario_name(scenario)}: {pname} by {_factor_label(x).lower()}"
                 f"{note}")
    return fig


@_styled
def sweep_heatmap(
    summary: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str = "p_consensus",
    scenario: Scenario | None = None,
) -> Figure:
    """``value`` (default P(consensus)) over two factors, one panel per proposal, on a shared
    0-1 colour scale.  A grid design is drawn as cells annotated with their value; a scattered
    design (Latin hypercube, Sobol) as points coloured by the value.  Rows that differ in other
    factors are averaged (the colour-bar label says so)."""
    pids = _proposals(summary)
    k = len(pids)
    cols = min(3, k)
    rows = -(-k // cols)
    fig = _figure(4.4 * cols + 0.8, 3.8 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False))
    others = [c for c in _varying(summary, [c for c in _factor_columns(summary)
                                            if c not in (x, y)])
              if summary.groupby([x, y])[c].nunique().max() > 1]  # averaged within a cell
    pname = _frame_probability_name(summary, scenario)
    label = {"p_consensus": f"{pname}: probability",
             "mean_dilution": "Mean dilution: 0 = as tabled, 1 = status quo"}.get(value, value)
    if others:
        label += "\nmean over " + ", ".join(others)
    norm = Normalize(0, 1)
    mappable = None
    for ax, pid in zip(axes.flat, pids, strict=False):
        sub = summary[summary["proposal"] == pid]
        grid = sub.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
        full = grid.notna().all().all() and grid.size == sub[[x, y]].drop_duplicates().shape[0]
        if full and grid.size <= 400:
            mappable = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto",
                                 cmap="viridis", norm=norm, interpolation="nearest")
            ticks = [_tick(v) for v in grid.columns]
            long = grid.shape[1] > 6 and max(len(t) for t in ticks) > 3
            ax.set_xticks(range(grid.shape[1]), ticks, rotation=45 if long else 0)
            ax.set_yticks(range(grid.shape[0]), [_tick(v) for v in grid.index])
            if grid.size <= 80:
                # as large as the cells allow, so the numbers can be read at print size
                cols_, rows_ = grid.shape[1], grid.shape[0]
                size = float(np.clip(min(4.4 * 72 / cols_ / 3.2, 3.8 * 72 / rows_ / 1.6), 7, 11))
                for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=size,
                            fontweight="bold", color="white" if v < 0.55 else "black")
            ax.grid(False)
        else:
            mappable = ax.scatter(sub[x], sub[y], c=sub[value], cmap="viridis", norm=norm,
                                  s=28, edgecolors="none")
        ax.set_title(_legend_title(scenario, pid, width=34), fontsize=9, loc="left")
        ax.set_xlabel(_factor_label(x))
        ax.set_ylabel(_factor_label(y))
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.8, label=label)
    what = label.splitlines()[0].split(":")[0]
    fig.suptitle(f"{_scenario_name(scenario)}: {what} by {_factor_label(x).lower()} and "
                 f"{_factor_label(y).lower()}")
    return fig


def _tick(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:g}"
    return str(v)


def _factor_label(name: str) -> str:
    units = {"n_members": "Number of members"}
    return units.get(name, name.replace("_", " "))


# -- comparisons and sensitivity -----------------------------------------------------------------


@_styled
def comparison_figure(
    comparison: pd.DataFrame, *, names: tuple[str, str] = ("A", "B"),
    scenario: Scenario | None = None,
) -> Figure:
    """Left: each side's P(consensus) per proposal with its own 95% interval.  Right: the
    difference ΔP = P(B) - P(A) with its paired interval from common random numbers, which is
    much narrower than the two separate intervals suggest.

    ``comparison`` is ``comparison.parquet`` of ``cicasim compare``; ``names`` describe sides A
    and B in the legend (with their member counts when the table has them)."""
    c = comparison.reset_index(drop=True)
    k = len(c)
    pname = _probability_name(scenario, list(c["proposal"]))
    y = np.arange(k)[::-1]
    fig = _figure(8.4, max(3.0, 1.9 + 0.6 * k))
    ax_p, ax_d = fig.subplots(1, 2, sharey=True, width_ratios=[1.1, 1])
    for side, off, colour, name in (("a", 0.12, PALETTE[0], names[0]),
                                    ("b", -0.12, PALETTE[1], names[1])):
        p = c[f"p_{side}"].to_numpy(float)
        lo, hi = c[f"ci_{side}_low"].to_numpy(float), c[f"ci_{side}_high"].to_numpy(float)
        members = f"n_members_{side}"
        size = f", {int(c[members].iloc[0])} members" if members in c and k else ""
        ax_p.errorbar(p, y + off, xerr=[p - lo, hi - p], fmt="o", color=colour, capsize=3,
                      ms=5, label=f"{side.upper()}: {_shorten(name, 48)}{size}")
    ax_p.set_xlim(-0.03, 1.03)
    ax_p.set_yticks(y, [_wrapped_title(scenario, pid) for pid in c["proposal"]])
    ax_p.set_ylim(-0.7, k - 0.3)
    ax_p.set_xlabel(_probability_label(pname))
    ax_p.set_title("Each side", loc="left")
    d = c["delta"].to_numpy(float)
    dlo, dhi = c["delta_low"].to_numpy(float), c["delta_high"].to_numpy(float)
    ax_d.axvline(0, color="black", lw=0.8)
    colour = [OBJECTION_COLOUR if h < 0 else (PALETTE[2] if lo_ > 0 else GREY)
              for lo_, h in zip(dlo, dhi, strict=True)]
    for yi, di, lo_, hi_, col in zip(y, d, dlo, dhi, colour, strict=True):
        ax_d.errorbar([di], [yi], xerr=[[di - lo_], [hi_ - di]], fmt="D", color=col,
                      capsize=3, ms=5)
        ax_d.annotate(f"{di:+.3f}", (di, yi), xytext=(0, 7), textcoords="offset points",
                      ha="center", fontsize=8)
    span = max(0.05, float(np.nanmax(np.abs(np.r_[dlo, dhi]))) * 1.15) if k else 0.05
    ax_d.set_xlim(-span, span)
    ax_d.set_xlabel(f"Δ{pname} = P(B) - P(A)\n(probability, paired 95% interval)")
    ax_d.set_title("Difference (common random numbers)", loc="left")
    ax_d.tick_params(axis="y", left=False)
    handles, labels = ax_p.get_legend_handles_labels()
    for col, text in ((PALETTE[2], "B higher"), (OBJECTION_COLOUR, "B lower"),
                      (GREY, "no clear difference")):
        handles.append(Line2D([], [], color=col, marker="D", ls="", ms=5))
        labels.append(f"ΔP: {text}")
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    fig.suptitle(f"{_scenario_name(scenario)}: how {pname} changes from A to B")
    return fig


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


@_styled
def sobol_figure(sobol: pd.DataFrame, *, scenario: Scenario | None = None) -> Figure:
    """First-order (S1) and total (ST) Sobol indices of P(consensus) for each factor, one panel
    per proposal, with their 95% confidence intervals (Saltelli et al. 2010, as SALib reports
    them).  ST much larger than S1 means the factor acts through interactions."""
    pids = _proposals(sobol)
    pname = _probability_name(scenario, pids)
    factors = list(dict.fromkeys(sobol["factor"]))
    k, f = len(pids), len(factors)
    cols = min(3, k)
    rows = -(-k // cols)
    fig = _figure(4.0 * cols + 1.4, (1.2 + 0.45 * f) * rows + 0.9)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))
    y = np.arange(f)[::-1]
    h = 0.36
    for ax, pid in zip(axes.flat, pids, strict=False):
        sub = sobol[sobol["proposal"] == pid].set_index("factor").reindex(factors)
        for idx, conf, off, colour, name in (("S1", "S1_conf", h / 2, PALETTE[0], "first order S1"),
                                             ("ST", "ST_conf", -h / 2, PALETTE[1], "total ST")):
            ax.barh(y + off, sub[idx].to_numpy(float), height=h, color=colour, label=name,
                    xerr=sub[conf].to_numpy(float), error_kw={"elinewidth": 0.9, "capsize": 2})
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [_factor_label(x) for x in factors])
        ax.set_title(_legend_title(scenario, pid, width=34), fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(f"Sobol index\n(share of the variance of {pname})")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle(f"{_scenario_name(scenario)}: which assumptions drive {pname}")
    return fig


# -- standard figures of a results directory ----------------------------------------------------


def milestones_for(scenario: Scenario | None) -> tuple[tuple[int, int], ...]:
    """CICA's real membership milestones when the scenario is about CICA, else none."""
    if scenario is None:
        return ()
    text = f"{scenario.scenario.name} {scenario.scenario.description}".lower()
    return CICA_MILESTONES if "cica" in text else ()


Maker = tuple[str, str, Callable[[], Figure]]


def standard_figures(
    results: Results, *, only: str | None = None, trace_replication: int = 0
) -> Iterator[tuple[str, str, Figure]]:
    """Every figure that applies to ``results``: (file stem, caption, figure) triples.

    ``only`` keeps the figures named ``only`` or ``only-...`` (``blocking`` gives every
    ``blocking-<proposal>``); the others are never drawn.
    """
    for stem, caption, make in _makers(results, trace_replication):
        if only is None or stem == only or stem.startswith(f"{only}-"):
            yield stem, caption, make()


def figure_names(results: Results) -> list[str]:
    """The file stems of the standard figures of ``results``, without drawing them."""
    return [stem for stem, _caption, _make in _makers(results, 0)]


def _makers(results: Results, trace_replication: int) -> Iterator[Maker]:
    kind = results.kind
    if kind == "run":
        return _run_figures(results, trace_replication)
    if kind == "sweep":
        return _sweep_figures(results)
    if kind == "compare":
        return _compare_figures(results)
    return _sensitivity_figures(results)


def _compare_figures(results: Results) -> Iterator[Maker]:
    m = results.manifest
    names = (str(m.get("a") or "A"), str(m.get("b") or "B"))
    table = results.table("comparison")
    pname = _probability_name(results.scenario, list(table["proposal"]))
    yield ("comparison", f"Δ{pname} per proposal, B - A with paired 95% intervals "
           f"(A: {names[0]}; B: {names[1]})",
           lambda: comparison_figure(table, names=names,
                                     scenario=results.scenario))


def _sensitivity_figures(results: Results) -> Iterator[Maker]:
    table = results.table("sobol")
    pname = _probability_name(results.scenario, _proposals(table))
    yield ("sobol", f"First-order and total Sobol indices of {pname}",
           lambda: sobol_figure(table, scenario=results.scenario))


def _run_summary_table(results: Results, reps: pd.DataFrame) -> pd.DataFrame:
    """summary.json's proposals as a table; recomputed from the replications when absent."""

    path = results.directory / "summary.json"
    if path.is_file():
        data = read_json(path, what="a run's summary, JSON")
        rows = [{"proposal": p["id"], "p_consensus": p["p_consensus"], "ci_low": p["ci_low"],
                 "ci_high": p["ci_high"]} for p in data.get("proposals", [])]
        return pd.DataFrame(rows, columns=["proposal", "p_consensus", "ci_low", "ci_high"])
    from cicasim.engine.ensemble import wilson

    rows = []
    for pid in _proposals(reps):
        passed = reps.loc[reps["proposal"] == pid, "passed"].to_numpy(bool)
        lo, hi = wilson(int(passed.sum()), len(passed))
        rows.append({"proposal": pid, "p_consensus": passed.mean(), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["proposal", "p_consensus", "ci_low", "ci_high"])


def _run_figures(results: Results, trace_replication: int) -> Iterator[Maker]:
    scen = results.scenario
    reps = results.table("replications")
    pids = _proposals(reps)
    yield ("summary", f"{_probability_name(scen, pids)} per proposal and dilution of the "
           "agreed texts",
           lambda: run_summary_figure(_run_summary_table(results, reps), reps, scenario=scen))
    if scen is not None:
        members = [a.id for a in scen.members]
    else:
        members = sorted({a for s in reps["objectors"] for a in s.split(";") if a})
    blocking = functools.cache(lambda: blocking_frequencies(reps, members=members))
    for pid in pids:
        yield (f"blocking-{pid}",
               f"Blocking frequency by member: {_proposal_title(scen, pid, width=200)}",
               lambda pid=pid: blocking_bars(blocking(), proposal=pid, scenario=scen))
    if scen is None:
        return
    yield ("tension-heatmap", "Tension matrix, actors ordered by hierarchical clustering",
           lambda: tension_heatmap(scen))
    yield ("tension-network",
           "Who is hostile to whom: tensions as arcs, actors ordered by alignment",
           lambda: tension_network(scen))
    seed = int(results.manifest["seed"])
    # replication 0's traces are trace-<proposal>; another replication's carry its number, so
    # asking for one never overwrites the files of another
    suffix = f"-replication-{trace_replication}" if trace_replication else ""
    for pid in pids:
        yield (f"trace-{pid}{suffix}",
               f"Negotiation trace: {_proposal_title(scen, pid, width=200)}, replication "
               f"{trace_replication}, seed {seed}",
               lambda pid=pid: trace_figure(
                   negotiation_trace(scen, proposal=pid, seed=seed,
                                     replication=trace_replication), scenario=scen))


def _sweep_figures(results: Results) -> Iterator[Maker]:
    scen = results.scenario
    points = results.table("points") if results.has("points") else None
    summary = _with_members(results.table("summary"), points)
    miles = milestones_for(scen)
    joined = _joined(points) if points is not None else None
    pname = _frame_probability_name(summary, scen)
    if "n_members" in summary.columns and summary["n_members"].nunique() > 1:
        yield ("enlargement", f"{pname} against the number of members",
               lambda: enlargement_curve(summary, scenario=scen, milestones=miles,
                                         joined=joined))
        if results.has("replications"):
            def dilution() -> Figure:
                dil = dilution_stats(results.table("replications"))
                extra = [c for c in summary.columns if c in _factor_columns(summary)]
                keys = summary[["point", "proposal", "n_members", *extra]].drop_duplicates()
                dil = dil.merge(keys, on=["point", "proposal"], how="inner")
                return dilution_curve(dil, scenario=scen, milestones=miles, joined=joined)

            yield ("dilution", "Mean dilution of agreed texts against the number of members",
                   dilution)
    if results.has("deltas") and "n_members" in summary.columns:
        def deltas() -> Figure:
            keys = summary[["point", "proposal", "n_members",
                            *_factor_columns(summary)]].drop_duplicates()
            table = results.table("deltas").merge(keys, on=["point", "proposal"], how="inner")
            return delta_curve(table, scenario=scen, milestones=miles, joined=joined)

        if summary["n_members"].nunique() > 1:
            yield ("delta",
                   f"Δ{pname} against the first design point, paired 95% intervals",
                   deltas)
    axes_ = _heatmap_axes(summary)
    if axes_ is not None:
        x, y = axes_
        yield ("heatmap", f"{pname} over {_factor_label(x)} and {_factor_label(y)}",
               lambda: sweep_heatmap(summary, x=x, y=y, scenario=scen))
        return
    varying = [c for c in _varying(summary, _factor_columns(summary))
               if not _membership_factor(summary, c)]
    members_vary = "n_members" in summary.columns and summary["n_members"].nunique() > 1
    if len(varying) == 1 and not members_vary:
        (x,) = varying
        yield ("factor", f"{pname} against {_factor_label(x)}, 95% intervals",
               lambda: factor_curve(
                   summary, x=x, scenario=scen,
                   deltas=results.table("deltas") if results.has("deltas") else None))


def _joined(points: pd.DataFrame) -> dict[int, str] | None:
    """Members -> the id of the actor who joined at that enlargement step, read from the
    points' labels ("IDN joins (29 members)"); synthetic steps are marked "+k"."""
    import re

    out: dict[int, str] = {}
    rows = points.sort_values("n_members").drop_duplicates("n_members")
    previous = None
    for n, label in zip(rows["n_members"], rows["label"].astype(str), strict=True):
        named = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*) joins\b", label)
        if named:
            out[int(n)] = named.group(1)
        elif "synthetic" in label and previous is not None:
            out[int(n)] = f"+{int(n) - previous}"
        previous = int(n)
    return out or None


def _membership_factor(frame: pd.DataFrame, column: str) -> bool:
    """Whether a factor column stands for the membership: the member count fixes its value
    (an enlargement step), or its value fixes a member count that differs between its values
    (a scenario per year)."""
    if "n_members" not in frame.columns or frame["n_members"].nunique() < 2:
        return False
    if frame.groupby("n_members")[column].nunique().max() == 1:
        return True
    per_value = frame.groupby(column)["n_members"]
    return per_value.nunique().max() == 1 and per_value.first().nunique() > 1


def _heatmap_axes(summary: pd.DataFrame) -> tuple[str, str] | None:
    """The first two factors that vary; a factor that the membership determines (the
    enlargement step) is replaced by n_members, so that axis is ordered and numeric."""
    cand = _varying(summary, _factor_columns(summary))
    if "n_members" in summary.columns and summary["n_members"].nunique() > 1:
        relabel = [c for c in cand if _membership_factor(summary, c)]
        cand = [c for c in cand if c not in relabel]
        if relabel or "n_members" not in cand:
            cand = ["n_members", *cand]
    cand = [c for c in cand if pd.api.types.is_numeric_dtype(summary[c])
            or summary[c].nunique() <= 20]
    return (cand[0], cand[1]) if len(cand) >= 2 else None


def save_figure(fig: Figure, target: Any, *, fmt: str, dpi: int = 150) -> Any:
    """Write ``fig`` to a path or binary file without timestamps, so the same results give the
    same bytes; returns ``target``."""
    meta = {"png": {"Software": None}, "svg": {"Date": None},
            "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    with matplotlib.rc_context(STYLE):
        fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
    return target


def write_standard_figures(
    results_dir: str | Path, *, formats: Sequence[str] = ("png",), kind: str | None = None,
    out: str | Path | None = None, trace_replication: int = 0, dpi: int = 150,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write every figure that applies to a results directory into ``results_dir/figures/``
    (or ``out``), one file per figure and format; returns the paths written.

    ``kind`` keeps only the figures of that kind (:func:`figure_kinds`; e.g. ``blocking``).
    ``progress(done, total)`` is called after each figure.
    """
    for f in formats:
        if f not in FORMATS:
            raise InputError(f"--format: {f!r} is not one of {', '.join(FORMATS)}")
    results = load_results(results_dir)
    allowed = figure_kinds(results.kind)
    if kind is not None and kind not in allowed:
        raise InputError(
            f"--kind: {kind!r} is not a figure of {results.kind} results; allowed: "
            + ", ".join(allowed)
        )
    applies = [s for s in figure_names(results)
               if kind is None or s == kind or s.startswith(f"{kind}-")]
    if not applies:  # before anything is written
        what = f"no {kind!r} figure" if kind else "no figure"
        raise InputError(
            f"{results.directory}: {what} applies to these {results.kind} results"
            + ("" if kind else " (a sweep needs the membership or one or two factors to vary)")
        )
    target = Path(out) if out is not None else results.directory / "figures"
    written: list[Path] = []
    for done, (stem, _caption, fig) in enumerate(standard_figures(
        results, only=kind, trace_replication=trace_replication
    ), start=1):
        make_directory(target)  # once a figure is drawn: damaged results leave nothing behind
        for f in formats:
            path = check_output_file(target / f"{stem}.{f}")
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:  # a whole file or none: through a temporary sibling
                save_figure(fig, tmp, fmt=f, dpi=dpi)
                os.replace(tmp, path)
            except OSError as exc:
                raise InputError(f"{path}: cannot be written ({os_reason(exc)})") from None
            finally:
                tmp.unlink(missing_ok=True)
            written.append(path)
        if progress:
            progress(done, len(applies))
    return written


def figure_kinds(kind: str) -> tuple[str, ...]:
    """The figure names (``--kind`` values) a results kind can produce."""
    return {
        "run": ("summary", "blocking", "tension", "tension-heatmap", "tension-network", "trace"),
        "sweep": ("enlargement", "delta", "dilution", "heatmap", "factor"),
        "compare": ("comparison",),
        "sensitivity": ("sobol",),
    }.get(kind, ())
