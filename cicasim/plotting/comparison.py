"""Figures of a comparison (paired ΔP per proposal) and of a sensitivity analysis (Sobol
indices)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cicasim.plotting.style import (
    GREY,
    OBJECTION_COLOUR,
    PALETTE,
    _figure,
    _legend_title,
    _probability_label,
    _probability_name,
    _proposals,
    _scenario_name,
    _shorten,
    _styled,
    _wrapped_title,
)
from cicasim.plotting.sweeps import _factor_label
from cicasim.spec.scenario import Scenario


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
