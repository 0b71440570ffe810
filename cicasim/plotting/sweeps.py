"""Figures of a sweep: P(consensus), dilution and paired differences against the number of
members (with CICA's real enlargement milestones), one factor's curve, and two-factor heatmaps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import MaxNLocator

from cicasim.plotting.style import (
    GREY,
    _colours,
    _factor_columns,
    _figure,
    _frame_probability_name,
    _legend_title,
    _probability_label,
    _proposals,
    _scenario_name,
    _styled,
    _varying,
)
from cicasim.spec.scenario import Scenario

#: CICA's membership at its summits and ministerial meetings: (year, members).
#: Source: CICA_FACTS.md in the project's shared data sets ("Enlargement history"), which cites
#: english.pravda.ru (16 founding members, 2002), s-cica.org (Thailand 2004), chinadaily
#: 2014-05-20 (2006-2011), allmedialink.com and cicabc.cccme.org.cn (2014), adaderana.lk (2018)
#: and inform.kz (Kuwait, 28th member, 13 Oct 2022).
CICA_MILESTONES: tuple[tuple[int, int], ...] = (
    (2002, 16), (2004, 17), (2006, 18), (2008, 20), (2010, 22),
    (2011, 24), (2014, 26), (2018, 27), (2022, 28),
)


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


def milestones_for(scenario: Scenario | None) -> tuple[tuple[int, int], ...]:
    """CICA's real membership milestones when the scenario is about CICA, else none."""
    if scenario is None:
        return ()
    text = f"{scenario.scenario.name} {scenario.scenario.description}".lower()
    return CICA_MILESTONES if "cica" in text else ()


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
