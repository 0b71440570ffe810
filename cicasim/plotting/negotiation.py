"""Figures of one negotiation, round by round: the Mesa model's trace, the text and positions by
round, the votes of one round, and the negotiation network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke

from cicasim.engine.model import TraceResult as Trace
from cicasim.plotting.style import (
    GREY,
    OBJECTION_COLOUR,
    OBSERVER_COLOUR,
    PALETTE,
    _figure,
    _label,
    _legend_title,
    _scenario_name,
    _spread,
    _styled,
    _wrapped_title,
)
from cicasim.plotting.tensions import _tension, _tension_layout
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

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
    k = len(dims)
    fig = _figure(7.6, 1.4 + 3.4 * k)
    axes = np.atleast_1d(fig.subplots(k, 1, sharex=True, squeeze=False)[:, 0])
    pos = trace.positions
    colours = _highlight_colours(pos, prop.sponsor)
    for ax, d in zip(axes, dims, strict=True):
        _draw_positions(ax, pos[pos["dimension"] == d], scenario, colours,
                        few=pos["actor"].nunique() <= 12)
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
    fig.legend(handles=_trace_handles(scenario, prop.sponsor, colours, set(pos["actor"])),
               loc="outside lower center", ncols=3)
    return fig


def _highlight_colours(pos: pd.DataFrame, sponsor: str) -> dict[str, str]:
    """The actors that stand out in :func:`trace_figure`, in colours no other mark uses: the
    sponsor, then the most persistent objectors (most rounds with an objection, then by id)."""
    objections = pos.loc[pos["vote"] == "object"].drop_duplicates(["round", "actor"])
    persistent = objections["actor"].value_counts()
    persistent = sorted(persistent.index, key=lambda a: (-persistent[a], a))
    spare = [PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[5]]
    highlight = ([sponsor] + [a for a in persistent if a != sponsor])[: len(spare)]
    return dict(zip(highlight, spare, strict=False))


def _draw_positions(
    ax: Axes, sub: pd.DataFrame, scenario: Scenario, colours: Mapping[str, str], *, few: bool
) -> None:
    """Every actor's position on one dimension by round (``sub``: the trace's positions on it),
    with its objections and abstentions marked, and end labels for the highlighted actors
    (``colours``), or for every actor when there are ``few``."""
    roles = {a.id: a.role for a in scenario.actors}
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
        if mine or few:
            ends.append((float(x[-1]), float(y[-1]), _label(scenario, actor, width=14), col))
        obj = (rows["vote"] == "object").to_numpy()
        ax.scatter(x[obj], y[obj], marker="x", color=OBJECTION_COLOUR, s=34, zorder=4,
                   linewidths=1.5)
        ab = (rows["vote"] == "abstain").to_numpy()
        ax.scatter(x[ab], y[ab], marker="o", facecolors="none",
                   edgecolors=OBJECTION_COLOUR, s=34, zorder=4)
    _draw_end_labels(ax, ends)


def _draw_end_labels(ax: Axes, ends: list[tuple[float, float, str, str]]) -> None:
    """Labels ``(x, y, text, colour)`` right of the lines' ends, nudged apart so they do not
    overprint each other."""
    heights = _spread([e[1] for e in ends], gap=4.0)
    for (x_end, y_end, text, col), y_lab in zip(ends, heights, strict=True):
        # a white box keeps a label readable where it sits on a line (the status quo, say)
        ax.annotate(text, (x_end, y_end), xytext=(6, y_lab),
                    textcoords=("offset points", "data"), va="center", fontsize=7.5,
                    color=col, annotation_clip=False, zorder=5,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})


def _trace_handles(
    scenario: Scenario, sponsor: str, colours: Mapping[str, str], present: set[str]
) -> list[Line2D]:
    """The legend of :func:`trace_figure`: the text, the status quo, objections and
    abstentions, then the sponsor, members and observers among the ``present`` actors."""
    roles = {a.id: a.role for a in scenario.actors}
    handles = [
        Line2D([], [], color="black", lw=2.6, marker="o", ms=4, label="text on the table"),
        Line2D([], [], color="black", ls=":", lw=1.0, label="status quo"),
        Line2D([], [], color=OBJECTION_COLOUR, marker="x", ls="", label="objection"),
        Line2D([], [], color=OBJECTION_COLOUR, marker="o", mfc="none", ls="",
               label="abstention"),
    ]
    if sponsor in colours:
        handles.append(Line2D([], [], color=colours[sponsor], lw=1.6,
                              label=f"sponsor ({_label(scenario, sponsor, width=14)})"))
    if any(roles.get(a) == "member" and a not in colours for a in present):
        handles.append(Line2D([], [], color=GREY, lw=0.9, label="member"))
    if any(roles.get(a) == "observer" for a in present):
        handles.append(Line2D([], [], color=OBSERVER_COLOUR, lw=0.9, ls="--", label="observer"))
    return handles


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
