"""Figures of a validation report (matplotlib is imported here only, lazily, headless)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["predicted_vs_actual"]


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
