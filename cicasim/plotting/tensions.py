"""Figures of a scenario's tensions: the clustered tension matrix and the network of hostile
pairs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from cicasim.plotting.style import GREY, MEMBER_COLOUR, _figure, _label, _scenario_name, _styled
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap


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
    T = _tension(scenario)
    n = len(T)
    actors = list(scenario.actors)
    floor, how = _arc_floor(scenario, T, min_tension)
    order, by = _line_order(scenario, T)
    slot = np.empty(n, dtype=int)
    slot[order] = np.arange(n)
    pairs = sorted(((i, j) for i in range(n) for j in range(i + 1, n) if T[i, j] > floor),
                   key=lambda ij: T[ij])  # the most tense drawn last, on top
    fig = _figure(max(7.5, 0.3 * n + 2.5), 6.4)
    ax = fig.subplots()
    norm, cmap, height = _draw_arcs(ax, T, pairs, slot, floor)
    _draw_actors_on_line(ax, scenario, slot)
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


def _arc_floor(
    scenario: Scenario, T: np.ndarray, min_tension: float | None
) -> tuple[float, str]:
    """The tension above which :func:`tension_network` draws an arc, and how its title says
    so: ``min_tension`` when given, else the scenario's default tension, raised to the 90th
    percentile of the pairs' tensions when more than 2.5 pairs per actor are above it."""
    n = len(T)
    off = T[np.triu_indices(n, 1)]
    if min_tension is not None:
        return min_tension, f"tension > {min_tension:g}"
    floor = scenario.scenario.default_tension
    how = f"tension > {floor:g}"
    if (off > floor).sum() > 2.5 * n:
        floor = max(floor, float(np.quantile(off, 0.9)))
        how = f"the 10% most tense pairs, tension > {floor:.2f}"
    return floor, how


def _line_order(scenario: Scenario, T: np.ndarray) -> tuple[np.ndarray, str]:
    """The actors' order on the line of :func:`tension_network` and how its title says so: by
    position on the first dimension (ties by list order), or by clustering of the tensions
    when there is no dimension."""
    if scenario.dimensions:
        dim = scenario.dimensions[0]
        key = [a.position.get(dim.id, 50.0) for a in scenario.actors]
        order = np.lexsort((np.arange(len(T)), np.asarray(key, dtype=float)))
        return order, f"ordered by {(dim.name or dim.id).lower()}, low to high"
    order, _ = _cluster_order(T)
    return order, "ordered by clustering of the tensions"


def _draw_arcs(
    ax: Axes, T: np.ndarray, pairs: list[tuple[int, int]], slot: np.ndarray, floor: float
) -> tuple[Normalize, Colormap, float]:
    """An arc over the line between the slots of each pair, coloured and thickened by its
    tension from ``floor`` up; returns the colour scale, the colour map and the highest arc."""
    from matplotlib.patches import Arc

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
    return norm, cmap, height


def _draw_actors_on_line(ax: Axes, scenario: Scenario, slot: np.ndarray) -> None:
    """The actors at their slots on the line, members as circles and observers as grey
    squares sized by capability, with their names below (observers' in grey italics)."""
    actors = list(scenario.actors)
    n = len(actors)
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
