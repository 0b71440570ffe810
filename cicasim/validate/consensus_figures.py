"""Figures of the event validation: the reliability diagram.

matplotlib is imported lazily inside the function and drawn headless (Agg); like
:mod:`cicasim.plotting` and :mod:`cicasim.validate.plotting`, this is one of the figure modules
allowed to import it (the rule is stated in :mod:`cicasim.plotting`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["reliability_figure"]


def reliability_figure(summary: dict[str, Any]) -> Any:
    """The reliability diagram (Murphy & Winkler 1977) of the cross-validated forecasts: per
    bin, the mean forecast P(consensus) against the observed share adopted, marker area by the
    number of events, with the diagonal of perfect calibration and the base rate.  Beside it
    the Brier scores of the model and the baselines.  Returns a matplotlib ``Figure``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.6, 4.4), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=[1.1, 1])
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, zorder=1, label="perfect calibration")
    rel = summary["reliability"]
    xs = [r["forecast"] for r in rel]
    ys = [r["observed"] for r in rel]
    ax.plot(xs, ys, color="tab:blue", lw=1.2, zorder=2)
    ax.scatter(xs, ys, s=[12 + 4 * r["n"] for r in rel], color="tab:blue", zorder=3,
               label="cicasim, cross-validated")
    for r in rel:
        ax.annotate(f"n={r['n']}", (r["forecast"], r["observed"]), textcoords="offset points",
                    xytext=(6, -10), fontsize=8, color="0.3")
    rate = 1 - summary["n_failed"] / summary["n_events"]
    ax.axhline(rate, color="tab:orange", lw=1, ls="--", label=f"base rate {rate:.2f}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("forecast P(consensus), bin mean")
    ax.set_ylabel("share of meetings that adopted the text")
    ax.set_title(f"Reliability, {summary['n_events']} meetings of "
                 f"{summary['n_organisations']} organisations", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False, markerscale=0.3)

    names = ["cicasim (protocol chosen\nby nested cross-validation)", "base rate",
             "logistic: members", "logistic: largest tension"]
    keys = [None, "base_rate", "members", "tension"]
    vals = [summary["brier"] if k is None else summary["baselines"][k]["brier"] for k in keys]
    colours = ["tab:blue", "tab:orange", "0.55", "0.55"]
    for p, v in summary.get("protocols", {}).items():
        names.append(f"cicasim, protocol {p}")
        vals.append(v["brier"])
        colours.append("lightsteelblue")
    bx.barh(names[::-1], vals[::-1], color=colours[::-1])
    for i, v in enumerate(vals[::-1]):
        bx.text(v, i, f" {v:.3f}", va="center", fontsize=9)
    bx.set_xlabel("Brier score, leave one organisation out\n(lower is better)")
    bx.set_xlim(0, max(vals) * 1.25)
    bx.set_title(f"Brier skill score vs base rate: {summary['bss']:+.3f}", fontsize=10)
    return fig
