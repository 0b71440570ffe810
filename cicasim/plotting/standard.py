"""The standard figures of a results directory: which figures apply to a run, sweep, comparison
or sensitivity analysis, drawn in memory (for the HTML report) or written to ``figures/``."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from cicasim.errors import InputError, ResultsWarning, os_reason
from cicasim.plotting.comparison import comparison_figure, sobol_figure
from cicasim.plotting.negotiation import negotiation_trace, trace_figure
from cicasim.plotting.run import blocking_bars, dilution_stats, run_summary_figure
from cicasim.plotting.runstats import (
    RunTableStats,
    frame_chunks,
    parquet_chunks,
    run_table_stats,
)
from cicasim.plotting.style import (
    FORMATS,
    _factor_columns,
    _frame_probability_name,
    _probability_name,
    _proposal_title,
    _proposals,
    _varying,
    save_figure,
)
from cicasim.plotting.sweeps import (
    _factor_label,
    _membership_factor,
    _with_members,
    delta_curve,
    dilution_curve,
    enlargement_curve,
    factor_curve,
    milestones_for,
    sweep_heatmap,
)
from cicasim.plotting.tensions import tension_heatmap, tension_network
from cicasim.results import (
    Results,
    check_output_file,
    make_directory,
    open_results,
    read_json,
)

#: Results kinds that have figures.
KINDS = ("run", "sweep", "compare", "sensitivity")


def load_results(directory: str | Path) -> Results:
    """Open a results directory of a kind that has figures; one-line error otherwise."""
    return open_results(directory, kinds=KINDS)


def results_probability_name(results: Results) -> str:
    """The probability's name for a results directory (its figures and its report): the
    rules of the proposals it holds, or its rule factor's values."""
    proposals = results.manifest.get("proposals")
    if results.kind == "run" and proposals:  # not the replications: they can be 10^7 rows
        return _probability_name(results.scenario, list(proposals))
    table = {"run": "replications", "sweep": "summary", "compare": "comparison",
             "sensitivity": "sobol"}.get(results.kind)
    if table is None or not results.has(table):
        return _probability_name(results.scenario, [])
    return _frame_probability_name(results.table(table), results.scenario)


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


def _run_summary_table(results: Results, stats: RunTableStats) -> pd.DataFrame:
    """summary.json's proposals as a table; recomputed from the replications when absent."""

    path = results.directory / "summary.json"
    if path.is_file():
        data = read_json(path, what="a run's summary, JSON")
        rows = [{"proposal": p["id"], "p_consensus": p["p_consensus"], "ci_low": p["ci_low"],
                 "ci_high": p["ci_high"]} for p in data.get("proposals", [])]
        return pd.DataFrame(rows, columns=["proposal", "p_consensus", "ci_low", "ci_high"])
    from cicasim.engine.ensemble import wilson

    rows = []
    for r in stats.boxes.to_dict("records"):
        k, n = int(r["passed"]), int(r["replications"])
        lo, hi = wilson(k, n)
        rows.append({"proposal": r["proposal"], "p_consensus": k / n, "ci_low": lo,
                     "ci_high": hi})
    return pd.DataFrame(rows, columns=["proposal", "p_consensus", "ci_low", "ci_high"])


def run_stats(results: Results) -> RunTableStats:
    """What a run's figures need of its per-replication table (:mod:`cicasim.plotting.runstats`),
    read from ``replications.parquet`` a row group at a time, so drawing them holds memory that
    does not grow with the replications; read once per :class:`Results`."""
    cached = results.__dict__.get("_run_stats")
    if cached is None:
        path = None if results.directory is None else results.directory / "replications.parquet"
        if path is not None and path.is_file() and "replications" not in results._tables:
            chunks = parquet_chunks(path)
        else:
            chunks = frame_chunks(results.table("replications"))
        cached = results.__dict__["_run_stats"] = run_table_stats(chunks)
    return cached


def _run_figures(results: Results, trace_replication: int) -> Iterator[Maker]:
    scen = results.scenario
    stats = run_stats(results)
    pids = stats.proposals
    yield ("summary", f"{_probability_name(scen, pids)} per proposal and dilution of the "
           "agreed texts",
           lambda: run_summary_figure(_run_summary_table(results, stats), scenario=scen,
                                      boxes=stats.boxes))
    if scen is not None:
        members = [a.id for a in scen.members]
    else:
        members = sorted(stats.objectors)
    blocking = functools.cache(lambda: stats.blocking(members))
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
    # read, or rebuilt, only when a figure against the number of members is drawn
    joined = functools.cache(lambda: _sweep_joined(results))
    pname = _frame_probability_name(summary, scen)
    if "n_members" in summary.columns and summary["n_members"].nunique() > 1:
        yield ("enlargement", f"{pname} against the number of members",
               lambda: enlargement_curve(summary, scenario=scen, milestones=miles,
                                         joined=joined()))
        if results.has("replications"):
            def dilution() -> Figure:
                dil = dilution_stats(results.table("replications"))
                extra = [c for c in summary.columns if c in _factor_columns(summary)]
                keys = summary[["point", "proposal", "n_members", *extra]].drop_duplicates()
                dil = dil.merge(keys, on=["point", "proposal"], how="inner")
                return dilution_curve(dil, scenario=scen, milestones=miles, joined=joined())

            yield ("dilution", "Mean dilution of agreed texts against the number of members",
                   dilution)
    if results.has("deltas") and "n_members" in summary.columns:
        def deltas() -> Figure:
            keys = summary[["point", "proposal", "n_members",
                            *_factor_columns(summary)]].drop_duplicates()
            table = results.table("deltas").merge(keys, on=["point", "proposal"], how="inner")
            return delta_curve(table, scenario=scen, milestones=miles, joined=joined())

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


def _sweep_joined(results: Results) -> dict[int, str] | None:
    """Members -> who joined at that enlargement step (:func:`_joined`), from the sweep's
    ``steps.parquet``; for a folder written before that table existed, from the experiment its
    manifest records, planned again (:func:`cicasim.sweep.recorded.recorded_steps`).  When that
    cannot be done either, the figures go without the top axis and a
    :class:`~cicasim.errors.ResultsWarning` says so, once."""
    if results.has("steps"):
        return _joined(results.table("steps"))
    if results.directory is None:  # a sweep in memory holds every table it has
        return None
    from cicasim.sweep.recorded import recorded_steps

    try:
        steps = recorded_steps(results.manifest)
    except InputError as exc:
        warnings.warn(
            f"{results.directory}: no steps.parquet (written before it existed), and {exc}; "
            "the figures against the number of members do not say who joins at each step",
            ResultsWarning, stacklevel=2,
        )
        return None
    return None if steps is None else _joined(steps)


def _joined(steps: pd.DataFrame) -> dict[int, str] | None:
    """Members -> who joined at that enlargement step, from a sweep's steps table: the ids of
    the actors who join, or "+k" for a step of k synthetic members."""
    out: dict[int, str] = {}
    for n, kind, ids in zip(steps["n_members"], steps["kind"], steps["joined"], strict=True):
        if len(ids):
            out[int(n)] = f"+{len(ids)}" if kind == "synthetic" else ", ".join(ids)
    return out or None


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
