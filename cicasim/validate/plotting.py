"""Figures of a validation report: predicted against actual outcomes, and the league of models.

matplotlib is imported lazily inside each function and drawn headless (Agg); like
:mod:`cicasim.plotting` and :mod:`cicasim.validate.consensus_figures`, this is one of the figure
modules allowed to import it (the rule is stated in :mod:`cicasim.plotting`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["league_figure", "predicted_vs_actual"]


def predicted_vs_actual(table: pd.DataFrame, summary: dict[str, Any]) -> Any:
    """One panel per predictor: predicted against actual outcome, with the diagonal.

    Points are jittered by up to ±1 scale point (deterministically, by row) because DEU
    positions pile up at 0, 50 and 100.  Returns a matplotlib ``Figure``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    panels = [("cicasim", f"cicasim ({summary.get('params', '')})", summary["mae"])]
    if "cicasim_cv" in table:
        panels.append(("cicasim_cv", "cicasim, cross-validated", summary["mae_cv"]))
    panels += [
        ("compromise", "compromise model", summary["mae_compromise"]),
        ("median", "weighted median", summary["mae_median"]),
    ]
    fig = Figure(figsize=(3.2 * len(panels), 4.2), layout="constrained")
    axes = fig.subplots(1, len(panels), sharex=True, sharey=True)
    n = len(table)
    jitter = ((np.arange(n) * 0.618034) % 1.0 - 0.5) * 2.0
    actual = table["outcome"].to_numpy(float)
    for ax, (col, title, mae) in zip(axes, panels, strict=True):
        ax.plot([0, 100], [0, 100], color="0.6", lw=1, zorder=1)
        ax.scatter(actual + jitter, table[col].to_numpy(float) + jitter[::-1], s=9, alpha=0.5,
                   color="tab:blue", zorder=2)
        ax.set_title(f"{title}\nMAE {mae:.2f}", fontsize=9)
        ax.set_xlim(-4, 104)
        ax.set_ylim(-4, 104)
        ax.set_xlabel("actual outcome")
        ax.set_aspect("equal")
    axes[0].set_ylabel("predicted")
    fig.suptitle(f"DEU issues with an outcome (n = {n})", fontsize=10)
    return fig


def league_figure(rows: list[dict[str, Any]], *, n_issues: int) -> Any:
    """Two panels: each model's MAE with its 95% interval, and its paired difference from the
    compromise model with its interval (negative: better).  Returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    rows = sorted(rows, key=lambda r: r["mae"], reverse=True)
    names = [r["id"] for r in rows]
    yy = np.arange(len(rows))
    fig = Figure(figsize=(9.5, 0.42 * len(rows) + 1.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    mae = np.array([r["mae"] for r in rows])
    lo = np.array([r["mae_ci_low"] for r in rows])
    hi = np.array([r["mae_ci_high"] for r in rows])
    colors = ["tab:red" if n == "compromise" else "tab:blue" for n in names]
    ax1.errorbar(mae, yy, xerr=[mae - lo, hi - mae], fmt="none", ecolor="0.55", capsize=3)
    ax1.scatter(mae, yy, color=colors, zorder=3)
    ref = next(r["mae"] for r in rows if r["id"] == "compromise")
    ax1.axvline(ref, color="tab:red", lw=0.8, ls=":")
    ax1.set_yticks(yy, names)
    ax1.set_xlabel("mean absolute error (0-100)\nwith its 95% interval")
    d = np.array([r["diff_compromise"] for r in rows])
    dlo = np.array([r["diff_compromise_ci"][0] for r in rows])
    dhi = np.array([r["diff_compromise_ci"][1] for r in rows])
    ax2.errorbar(d, yy, xerr=[d - dlo, dhi - d], fmt="none", ecolor="0.55", capsize=3)
    ax2.scatter(d, yy, color=colors, zorder=3)
    ax2.axvline(0.0, color="tab:red", lw=0.8, ls=":")
    ax2.set_xlabel("paired difference from the compromise model\n(< 0: better)")
    for ax in (ax1, ax2):
        ax.grid(axis="x", color="0.9")
    fig.suptitle(f"Models on DEU issues with an outcome (n = {n_issues}); intervals: cluster "
                 "bootstrap over proposals", fontsize=10)
    return fig
