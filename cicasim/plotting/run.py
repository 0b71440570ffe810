"""Figures of one run: P(consensus) per proposal with the dilution of the agreed texts, and how
often each member blocks."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cicasim.plotting.style import (
    GREY,
    MEMBER_COLOUR,
    PALETTE,
    _figure,
    _label,
    _probability_name,
    _proposals,
    _scenario_name,
    _styled,
    _wrapped_title,
)
from cicasim.spec.scenario import Scenario


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


def _dilution_boxes(replications: pd.DataFrame | None,
                    boxes: pd.DataFrame | None) -> pd.DataFrame:
    """``boxes`` when given, else those of the per-replication table ``replications``."""
    if boxes is not None:
        return boxes
    if replications is None:
        raise ValueError("run_summary_figure needs the replications or their boxes")
    from cicasim.plotting.runstats import frame_chunks, run_table_stats

    return run_table_stats(frame_chunks(replications)).boxes


@_styled
def run_summary_figure(
    summary: pd.DataFrame, replications: pd.DataFrame | None = None, *,
    scenario: Scenario | None = None, boxes: pd.DataFrame | None = None,
) -> Figure:
    """Left: P(consensus) per proposal with its 95% Wilson interval.  Right: how far the agreed
    texts were watered down (dilution of the passed replications, box and whiskers).

    The right panel needs only ``boxes`` (:attr:`cicasim.plotting.runstats.RunTableStats.boxes`:
    per proposal the replications, passes, amended texts and the box's percentiles), computed
    from ``replications``, the per-replication table, when not given."""
    boxes = _dilution_boxes(replications, boxes)
    box = {r["proposal"]: r for r in boxes.to_dict("records")}
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
        r = box.get(pid, {"passed": 0})
        if not r["passed"]:
            ax_d.text(0.02, yi, "never agreed", va="center", fontsize=8, color=GREY,
                      style="italic", transform=ax_d.get_yaxis_transform())
            continue
        amended = r["amended"]
        as_tabled = 1 - amended / r["passed"]
        note = f"{as_tabled:.0%} as tabled"
        if amended:
            # box: quartiles; whiskers: 5th to 95th percentile; tick: median
            p5, q1, med, q3, p95 = (r[k] for k in ("p5", "q1", "median", "q3", "p95"))
            ax_d.hlines(yi, p5, p95, color="black", lw=1.0)
            ax_d.barh(yi, max(q3 - q1, 1e-3), left=q1, height=0.45, color=PALETTE[5],
                      edgecolor="black", lw=0.8)
            ax_d.vlines(med, yi - 0.22, yi + 0.22, color="black", lw=2.0)
            spans += [p5, p95]
            note += f"; {amended:,} amended (box)"
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
    n = int(boxes["replications"].max()) if len(boxes) else 0
    what = "consensus" if pname == "P(consensus)" else "adoption"
    fig.suptitle(f"{_scenario_name(scenario)}: {what} and dilution per proposal "
                 f"({n:,} replications each)")
    return fig
