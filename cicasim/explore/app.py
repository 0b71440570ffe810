"""The explorer's pages, drawn with Solara (``solara run cicasim.explore.app``, or
``cicasim explore``).

:func:`Explorer` is the whole app for one scenario: the controls on the left, the pages in
tabs.  Every control sets a new immutable :class:`~cicasim.explore.settings.Settings`; the runs
behind the pages are Solara tasks keyed on it (``solara.lab.use_task``), so a newer setting
supersedes a running one (its result is dropped, and the membership path stops at its next
step) and no queue builds up.  Errors end in one line in an error panel; the server keeps
running.  The scenario comes from the server (``CICASIM_EXPLORE_SCENARIO``), never from the
browser.
"""

from __future__ import annotations

import functools
import html
import os
import time
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from cicasim.errors import one_line
from cicasim.explore.negotiation import (
    ExploredNegotiation,
    NegotiationPage,
    build,
    network_figure,
    png,
    positions_figure,
)
from cicasim.explore.settings import (
    BEHAVIOUR_SLIDERS,
    PARAMETER_SETS,
    SCALE_RANGE,
    SCALES,
    Settings,
    initial_settings,
    load,
    membership,
    overview,
    pivotality,
    scenario_toml,
    stance,
)
from cicasim.spec.scenario import Scenario

__all__ = ["Explorer", "Page"]

#: The environment variable through which the server names the scenario file.
SCENARIO_ENV = "CICASIM_EXPLORE_SCENARIO"


def _message(exc: BaseException | None) -> str:
    """An exception as the one line the command line would print."""
    if exc is None:
        return ""
    return one_line(str(exc) or type(exc).__name__)


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _overview_table(summary: dict[str, Any], names: dict[str, str]) -> str:
    head = ("<tr><th>proposal</th><th>P(consensus)</th><th>95% CI</th><th>rule alone</th>"
            "<th>median rounds</th><th>mean dilution</th><th>top blockers</th></tr>")
    rows = []
    for p in summary["proposals"]:
        blockers = ", ".join(f"{html.escape(names.get(b['actor'], b['actor']))} "
                             f"{b['frequency']:.2f}" for b in p["blockers"]) or "-"
        pid = html.escape(p["id"])
        rows.append(
            f"<tr><td>{pid}</td>"
            f"<td class='p-consensus' data-proposal='{pid}'>{p['p_consensus']:.3f}</td>"
            f"<td>{p['ci_low']:.3f}-{p['ci_high']:.3f}</td>"
            f"<td>{_cell(p['a_priori_passage'], '.3g')}</td>"
            f"<td>{p['median_rounds']:g}</td><td>{_cell(p['mean_dilution'], '.2f')}</td>"
            f"<td>{blockers}</td></tr>")
    return f"<table class='cicasim-table'>{head}{''.join(rows)}</table>"


_STYLE = """
.cicasim-table { border-collapse: collapse; margin: 8px 0; }
.cicasim-table td, .cicasim-table th { border-bottom: 1px solid #ddd; padding: 4px 10px;
  text-align: right; }
.cicasim-table td:first-child, .cicasim-table th:first-child { text-align: left; }
"""


@solara.component
def Slider(label: str, value: float, low: float, high: float, step: float,
           on_change: Callable[[float], None]) -> None:
    """A float slider that reports only a move: the browser's slider snaps a value off its
    step grid (a position of 41.33, say) and reports the snapped value as if moved, which
    would change the scenario unasked, so a report within half a step of ``value`` is
    ignored."""

    def moved(v: float) -> None:
        if abs(float(v) - value) > step / 2 + 1e-9:
            on_change(round(float(v), 6))

    solara.SliderFloat(label, value=value, min=low, max=high, step=step, on_value=moved)


@solara.component
def Controls(scenario: Scenario, settings: solara.Reactive[Settings],
             editing: solara.Reactive[tuple[str, str] | None] | None = None) -> None:
    """Replications, seed, parameter set, behaviour sliders and uncertainty scales."""
    s = settings.value

    def choose_set(name: str) -> None:
        settings.set(initial_settings(scenario, name, replications=s.replications, seed=s.seed,
                                      scales=s.scales, joins=s.joins, synthetic=s.synthetic,
                                      synthetic_prior=s.synthetic_prior, stances=s.stances))

    with solara.Column(style={"min-width": "300px", "max-width": "340px", "padding": "8px"}):
        solara.InputInt("replications", value=s.replications,
                        on_value=lambda v: settings.set(settings.value.replace(replications=v)))
        solara.InputInt("seed", value=s.seed,
                        on_value=lambda v: settings.set(settings.value.replace(seed=v)))
        solara.Select("parameter set", values=list(PARAMETER_SETS), value=s.parameter_set,
                      on_value=choose_set)
        solara.Markdown("**Behaviour**")
        values = dict(s.behaviour)
        for key, (label, low, high, step) in BEHAVIOUR_SLIDERS.items():
            with solara.Div(classes=[f"slider-{key}"]):
                Slider(f"{label}: {values[key]:g}", values[key], low, high, step,
                       lambda v, key=key: settings.set(settings.value.with_behaviour(key, v)))
        solara.Markdown("**Uncertainty**")
        scales = dict(s.scales)
        for key, label in SCALES.items():
            Slider(f"{label} {scales[key]:g}", scales[key], *SCALE_RANGE,
                   lambda v, key=key: settings.set(settings.value.with_scale(key, v)))
        Stance(scenario, settings, editing)


@solara.component
def Stance(scenario: Scenario, settings: solara.Reactive[Settings],
           editing: solara.Reactive[tuple[str, str] | None] | None = None) -> None:
    """One actor's position and salience on one dimension (say, India caring more about
    corridors), carried into the downloaded scenario file.  ``editing`` keeps the (actor,
    dimension) chosen while the panel is hidden."""
    s = settings.value
    actors = {f"{a.name or a.id} ({a.id})": a.id for a in scenario.actors}
    dims = {d.name or d.id: d.id for d in scenario.dimensions}
    editing = solara.use_reactive(editing)
    actor, dimension = editing.value or (scenario.actors[0].id, scenario.dimensions[0].id)
    who = next(k for k, v in actors.items() if v == actor)
    dim = next(k for k, v in dims.items() if v == dimension)

    def set_who(label: str) -> None:
        editing.set((actors[label], dimension))

    def set_dim(label: str) -> None:
        editing.set((actor, dims[label]))
    position, salience = stance(scenario, s, actor, dimension)

    def put(position: float, salience: float) -> None:
        settings.set(settings.value.with_stance(actor, dimension, position, salience))

    solara.Markdown("**An actor's stance**")
    with solara.Div(classes=["cicasim-stance"]):
        solara.Select("actor", values=list(actors), value=who, on_value=set_who)
        solara.Select("dimension", values=list(dims), value=dim, on_value=set_dim)
        with solara.Div(classes=["stance-salience"]):
            Slider(f"salience: {salience:g}", salience, 0.0, 1.0, 0.01,
                   lambda v: put(position, v))
        with solara.Div(classes=["stance-position"]):
            Slider(f"position: {position:g}", position, 0.0, 100.0, 0.1,
                   lambda v: put(v, salience))
        if s.stances:
            changed = "; ".join(f"{a} on {d}: position {p:g}, salience {w:g}"
                                for a, d, p, w in s.stances)
            solara.Text(f"As set: {changed}.", classes=["cicasim-stances"])
            solara.Button("Scenario's stances", icon_name="mdi-undo", text=True,
                          on_click=lambda: settings.set(settings.value.replace(stances=())))


def _error_panel(task: Any) -> None:
    """The one-line error of a run, if it failed."""
    if task.error:
        solara.Error(_message(task.exception), classes=["cicasim-error"])
    elif task.finished and isinstance(task.value, dict) and "error" in task.value:
        solara.Error(task.value["error"], classes=["cicasim-error"])


def _ok(task: Any) -> dict[str, Any] | None:
    """The task's result when it succeeded (the latest while a newer one runs)."""
    shown = task.value if task.finished else task.latest
    return shown if isinstance(shown, dict) and "error" not in shown else None


def use_run(run: Callable[[Callable[[], bool]], Any], dependencies: list[Any]) -> Any:
    """``run(cancelled)`` as a Solara task keyed on ``dependencies`` (``solara.lab.use_task``):
    a newer value starts a new call and supersedes the running one, whose ``cancelled()`` turns
    True so it stops at its next block; its result is dropped, and no queue builds up.  An
    error comes back as ``{"error": one line}``."""
    current = solara.use_ref(None)

    def compute() -> Any:
        task = current.current
        try:
            return run(lambda: task is not None and not task.is_current())
        except Exception as exc:  # shown as one line; the server keeps running
            return {"error": _message(exc)}

    task = solara.lab.use_task(compute, dependencies=dependencies, prefer_threaded=True)
    current.current = task
    return task


def _overview_task(scenario: Scenario, settings: Settings) -> Any:
    """The Overview's run as a Solara task keyed on the settings (a newer one supersedes it)."""

    def run(cancelled: Callable[[], bool]) -> dict[str, Any] | None:
        start = time.perf_counter()
        result = overview(scenario, settings, cancelled=cancelled)
        if result is None:  # superseded
            return None
        return {"result": result, "summary": result.to_dict(),
                "seconds": time.perf_counter() - start}

    return use_run(run, [settings])


@solara.component
def Overview(scenario: Scenario, task: Any) -> None:
    """Every proposal's P(consensus) with its interval, rule alone, rounds, dilution and
    blockers, re-run whenever a setting changes."""
    names = {a.id: a.name or a.id for a in scenario.actors}
    _error_panel(task)
    shown = _ok(task)
    if task.pending:
        solara.ProgressLinear(True)
    if shown:
        summary = shown["summary"]
        solara.Markdown(
            f"**{html.escape(summary['scenario'])}** · seed {summary['seed']} · "
            f"{summary['replications']:,} replications per proposal · "
            f"{len(scenario.members)} members · computed in {shown['seconds']:.2f} s")
        solara.HTML(tag="div", unsafe_innerHTML=_overview_table(summary, names),
                    classes=["cicasim-overview"])
        if task.finished:
            solara.Text("up to date", classes=["cicasim-status-done"])
        solara.FigureMatplotlib(shown["result"].plot(), format="png")


@solara.component
def Membership(scenario: Scenario, settings: solara.Reactive[Settings]) -> None:
    """Observers who join and synthetic members: paired ΔP against the scenario as it is,
    and P(consensus) along the chosen path."""
    s = settings.value

    with solara.Row(style={"align-items": "flex-start"}):
        with solara.Column(gap="0px"):
            solara.Markdown("**Observers who join** (in the order ticked)")
            for a in scenario.observers:
                with solara.Div(classes=[f"join-{a.id}"]):
                    solara.Checkbox(
                        label=f"{a.name or a.id} ({a.id})", value=a.id in s.joins,
                        on_value=lambda v, aid=a.id: settings.set(
                            settings.value.with_join(aid, bool(v))),
                    )
        with solara.Column():
            solara.SliderInt("synthetic members", value=s.synthetic, min=0, max=20,
                             on_value=lambda v: settings.set(
                                 settings.value.replace(synthetic=int(v))))
            solara.Select("their prior", values=["resample-members", "resample-observers"],
                          value=s.synthetic_prior,
                          on_value=lambda v: settings.set(
                              settings.value.replace(synthetic_prior=v)))

    task = use_run(lambda cancelled: membership(scenario, s, cancelled=cancelled), [s])
    _error_panel(task)
    if not s.joins and not s.synthetic:
        solara.Info("Tick an observer or add synthetic members to see the change in "
                    "P(consensus).")
        return
    if task.pending:
        solara.ProgressLinear(True)
    m = task.value if task.finished else None
    if m is None or isinstance(m, dict):
        return
    solara.HTML(tag="div", unsafe_innerHTML=f"members: {m.members[0]} → {m.members[-1]}",
                classes=["cicasim-members"], style={"font-size": "1.1em"})
    head = ("<tr><th>proposal</th><th>P before</th><th>P after</th><th>ΔP</th>"
            "<th>paired 95% CI</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(r['proposal'])}</td><td>{r['p_before']:.3f}</td>"
        f"<td>{r['p_after']:.3f}</td>"
        f"<td class='delta-p' data-proposal='{html.escape(r['proposal'])}'>{r['delta']:+.3f}</td>"
        f"<td>{r['low']:+.3f} to {r['high']:+.3f}</td></tr>" for r in m.rows())
    solara.HTML(tag="div", unsafe_innerHTML=f"<table class='cicasim-table'>{head}{rows}</table>",
                classes=["cicasim-membership"])
    solara.FigureMatplotlib(_curve(m), format="png")


def _curve(m: Any) -> Any:
    from cicasim.plotting import _figure

    fig = _figure(7.0, 4.0)
    ax = fig.subplots()
    x = list(range(len(m.labels)))
    for pid, ps in m.p.items():
        ax.plot(x, ps, marker="o", label=pid)
    ax.set_xticks(x, [f"{lab}\n({n})" for lab, n in zip(m.labels, m.members, strict=True)],
                  fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(consensus)")
    ax.set_title("Enlargement curve along the chosen path (members in brackets)", loc="left",
                 fontsize=10)
    ax.legend(fontsize=8)
    return fig


def blocking_figure(result: Any, proposal: str) -> Any:
    """Who blocks one proposal (:func:`cicasim.plotting.blocking_bars` of the run)."""
    from cicasim.plotting import blocking_bars

    return blocking_bars(result.blocking(), proposal=proposal, scenario=result.scenario)


@solara.component
def Blocking(result: Any, names: dict[str, str]) -> None:
    """Blocking and first-blocker frequencies of every member, per proposal."""
    table = result.blocking()
    rows = []
    for pid, group in table.groupby("proposal", sort=False):
        group = group.sort_values("frequency", ascending=False).head(5)
        for r in group.itertuples():
            who = html.escape(names.get(r.actor, r.actor))
            rows.append(f"<tr><td>{html.escape(pid)}</td><td>{who}</td>"
                        f"<td>{r.frequency:.3f}</td><td>{r.first_blocker:.3f}</td></tr>")
    solara.HTML(tag="div", unsafe_innerHTML=(
        "<table class='cicasim-table'><tr><th>proposal</th><th>member</th><th>blocking</th>"
        f"<th>first blocker</th></tr>{''.join(rows)}</table>"))


@solara.component
def BlockingFigure(result: Any) -> None:
    """Who blocks one proposal, chosen, as a figure with its PNG download."""
    ids = result.proposals
    chosen, choose = solara.use_state(ids[0])
    pid = chosen if chosen in ids else ids[0]
    with solara.Row(style={"align-items": "center"}):
        solara.Select("figure of", values=ids, value=pid, on_value=choose)
        solara.FileDownload(lambda: png(blocking_figure(result, pid)),
                            filename=f"{result.scenario.scenario.name}-who-blocks-{pid}.png",
                            label="Who blocks figure (PNG)")
    solara.FigureMatplotlib(blocking_figure(result, pid), format="png")


def _interval(d: dict[str, float] | None) -> str:
    if not d:
        return "<td>-</td>"
    return (f"<td title='paired 95% CI {d['low']:+.3f} to {d['high']:+.3f}'>{d['delta']:+.3f}"
            f"<br><small>{d['low']:+.3f} to {d['high']:+.3f}</small></td>")


def pivotality_table(summary: dict[str, Any], names: dict[str, str], top: int = 6) -> str:
    """Per proposal the ``top`` most pivotal members: ΔP(consensus) when removed, and through
    which channel (vote, influence, compromise) where ``cicasim run --pivotality`` decomposed
    it (the members whose removal changes P significantly, largest first)."""
    from cicasim.analysis.pivotality import CHANNELS

    head = ("<tr><th>proposal</th><th>member</th><th>ΔP if removed</th>"
            + "".join(f"<th>ΔP {c} channel</th>" for c in CHANNELS) + "</tr>")
    rows = []
    for p in summary["proposals"]:
        pivots = p.get("pivotality") or []
        shown = pivots[:top] + [v for v in pivots[top:] if v.get("channels")]
        for v in shown:
            channels = v.get("channels") or {}
            rows.append(
                f"<tr><td>{html.escape(p['id'])}</td>"
                f"<td>{html.escape(names.get(v['actor'], v['actor']))}</td>"
                + _interval(v) + "".join(_interval(channels.get(c)) for c in CHANNELS)
                + "</tr>")
    return f"<table class='cicasim-table'>{head}{''.join(rows)}</table>"


@solara.component
def Pivotality(scenario: Scenario, settings: Settings, names: dict[str, str]) -> None:
    """On request: each member's pivotality, the paired ΔP(consensus) when it is removed, and
    for the most pivotal its ΔP by channel (``cicasim run --pivotality``, one more ensemble per
    member and channel).  A newer setting supersedes a running request."""
    from cicasim.analysis.pivotality import CHANNEL_MEANING

    requested = solara.use_reactive(None)  # the settings pivotality was asked for

    def run(cancelled: Callable[[], bool]) -> dict[str, Any] | None:
        if requested.value != settings:
            return None
        result = pivotality(scenario, settings, cancelled=cancelled)
        return None if result is None else {"summary": result.to_dict()}

    task = use_run(run, [settings, requested.value])
    asked = requested.value == settings
    if not asked:
        solara.Button("Compute pivotality (one more run per member)",
                      on_click=lambda: requested.set(settings),
                      classes=["cicasim-pivotality-request"])
        return
    _error_panel(task)
    if task.pending or not task.finished:
        solara.ProgressLinear(True)
        solara.Text(f"pivotality: {len(scenario.members)} more runs per proposal, and three per "
                    "channel for the most pivotal ...")
        return
    shown = _ok(task)
    if not shown:
        return
    solara.HTML(tag="div", unsafe_innerHTML=pivotality_table(shown["summary"], names),
                classes=["cicasim-pivotality-table"])
    solara.Markdown("Channels, each taken away alone with everything else kept: "
                    + "; ".join(f"**{c}**: {m}" for c, m in CHANNEL_MEANING.items())
                    + ". They interact, so they need not add up to the full removal.")


@solara.component
def Downloads(scenario: Scenario, settings: Settings, source: str, task: Any,
              negotiation: Any = None) -> None:
    """The settings as a scenario file, the summary as CSV, and every figure as PNG: the
    Overview's, who blocks each proposal, the enlargement curve, and the negotiation's network
    and text and positions as they stand on the One negotiation page."""
    name = scenario.scenario.name

    def toml() -> bytes:
        return scenario_toml(scenario, settings, source).encode("utf-8")

    solara.Markdown(
        f"The scenario file reproduces the Overview: `cicasim run {name}-explored.toml "
        f"--seed {settings.seed} -n {settings.replications}`"
        + ("; and the Membership page's ΔP: `cicasim compare FILE --enlarge`"
           if settings.joins or settings.synthetic else "") + ".")
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(toml, filename=f"{name}-explored.toml", children=[
            solara.Button("Scenario (TOML)", icon_name="mdi-download",
                          classes=["cicasim-download-toml"])])
        if task.finished and _ok(task):
            result = task.value["result"]
            solara.FileDownload(lambda: result.summary().to_csv(index=False).encode("utf-8"),
                                filename=f"{name}-summary.csv", label="Summary (CSV)")
            solara.FileDownload(lambda: png(result.plot()), filename=f"{name}-overview.png",
                                label="Overview figure (PNG)")
        if settings.joins or settings.synthetic:
            solara.FileDownload(lambda: png(_curve(membership(scenario, settings))),
                                filename=f"{name}-enlargement.png",
                                label="Enlargement curve (PNG)")
    if task.finished and _ok(task):
        result = task.value["result"]
        with solara.Row(style={"flex-wrap": "wrap"}):
            for pid in result.proposals:
                solara.FileDownload(lambda pid=pid: png(blocking_figure(result, pid)),
                                    filename=f"{name}-who-blocks-{pid}.png",
                                    label=f"Who blocks {pid} (PNG)")
    if isinstance(negotiation, ExploredNegotiation):
        m = negotiation
        at = (f"{m.negotiation.proposal}-rep{m.replication}-round{int(m.state.t)}")
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.FileDownload(lambda: png(network_figure(m)),
                                filename=f"{name}-{at}-network.png",
                                label=f"Negotiation network, round {int(m.state.t)} (PNG)")
            if int(m.state.t) >= 1:
                solara.FileDownload(lambda: png(positions_figure(m)),
                                    filename=f"{name}-{at}-positions.png",
                                    label="Negotiation text and positions (PNG)")


def _negotiation_model(scenario: Scenario, settings: Settings) -> solara.Reactive[Any]:
    """The One negotiation page's model, kept across tabs: re-built under every new setting
    with the proposal and replication it had (an exception when the settings are invalid)."""
    model = solara.use_reactive(None)

    def rebuild() -> None:
        old = model.value
        keep = isinstance(old, ExploredNegotiation)
        ids = [p.id for p in scenario.proposals]
        proposal = old.negotiation.proposal if keep else ids[-1]
        replication = old.replication if keep else 0
        try:
            model.value = build(scenario, settings, proposal, replication,
                                old.as_set if keep else None)
        except Exception as exc:  # shown on the page as one line
            model.value = exc

    solara.use_effect(rebuild, [settings])
    return model


@solara.component
def Explorer(scenario: Scenario, source: str = "", replications: int = 4000) -> None:
    """The whole explorer for one scenario, starting from its own parameters."""
    settings = solara.use_reactive(initial_settings(scenario, replications=replications))
    s = settings.value
    names = {a.id: a.name or a.id for a in scenario.actors}
    solara.Style(_STYLE)
    solara.Title(f"cicasim explore: {scenario.scenario.name}")
    task = _overview_task(scenario, s)
    negotiation = _negotiation_model(scenario, s)
    tab = solara.use_reactive(0)
    editing = solara.use_reactive(None)  # the (actor, dimension) whose stance is shown
    pages = ["Overview", "Membership", "One negotiation", "Who blocks", "Downloads"]
    with solara.Row(style={"align-items": "flex-start"}):
        if pages[tab.value] != "One negotiation":  # there SolaraViz's own controls take the side
            Controls(scenario, settings, editing)
        with solara.Column(style={"flex": "1"}):
            with solara.lab.Tabs(value=tab):
                for i, title in enumerate(pages):
                    with solara.lab.Tab(title):
                        if tab.value != i:  # only the page in view is drawn
                            continue
                        if title == "Overview":
                            Overview(scenario, task)
                        elif title == "Membership":
                            Membership(scenario, settings)
                        elif title == "One negotiation":
                            NegotiationPage(negotiation, s)
                        elif title == "Who blocks":
                            _error_panel(task)
                            result = task.value["result"] if _ok(task) else None
                            if task.finished and result is not None:
                                Blocking(result, names)
                            Pivotality(scenario, s, names)
                            if task.finished and result is not None:
                                BlockingFigure(result)
                        else:
                            Downloads(scenario, s, source, task, negotiation.value)


@functools.lru_cache(maxsize=4)
def _load(path: str | None) -> tuple[Scenario, str]:
    return load(path)


@solara.component
def Page() -> None:
    """The page Solara serves: the scenario the server was started with."""
    try:
        scenario, source = _load(os.environ.get(SCENARIO_ENV) or None)
    except Exception as exc:
        solara.Error(_message(exc), classes=["cicasim-error"])
        return
    Explorer(scenario, source)
