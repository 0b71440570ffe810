"""The explorer's "One negotiation" page: the project's Mesa model in Mesa's SolaraViz.

:class:`ExploredNegotiation` is :class:`~cicasim.engine.model.NegotiationModel` (one
replication of one proposal, stepped round by round through the same compiled kernel as the
ensemble) with the keyword-only constructor SolaraViz re-creates a model with on Reset: its
``model_params`` are the scenario and seed as set on the page (fixed, :class:`AsSet`), and the
proposal and replication (inputs).  SolaraViz draws the Reset / play / Step controls and the model
parameters in the sidebar; the page's own components, redrawn after every step, show the round
and why the negotiation ended, the tension network (node size capability, colour the vote,
edges the stronger tensions) and the text against the status quo with the members' positions by
round, each figure with its PNG download.

Mesa's SolaraViz API as in ``mesa/visualization/solara_viz.py`` of Mesa 3.3 and 3.5:
``SolaraViz(model, components=[(fn(model) -> element, page)], model_params=..., name=...)``;
``ModelController`` re-creates the model as ``type(model)(**model_parameters)``.
"""

from __future__ import annotations

import html
import io
import warnings
from typing import Any

import solara

from cicasim.engine.model import NegotiationModel, TraceResult
from cicasim.errors import one_line
from cicasim.explore.settings import Settings, effective_scenario
from cicasim.spec.scenario import Scenario

with warnings.catch_warnings():
    # Mesa 3.3's ComponentsView calls a hook after an early return, which Solara's hook check
    # reports as a UserWarning when the module is imported (Mesa 3.5 reorders it); harmless.
    warnings.filterwarnings("ignore", message=".*ComponentsView: `use_state` found despite",
                            category=UserWarning)
    from mesa.visualization import SolaraViz

__all__ = ["AsSet", "ExploredNegotiation", "NegotiationPage", "model_params", "network_figure",
           "png", "positions_figure", "why_it_ended"]

#: Why a negotiation ends, in words (the kernel's reasons, docs/model.md).
WHY = {
    "passed": "every member accepted or abstained, and the decision rule was met",
    "deadlock": "the round limit was reached without agreement",
    "withdrawn": "the sponsor withdrew the text",
}


class AsSet:
    """The scenario and seed as the page has them set.  It is SolaraViz's fixed model
    parameter, read each time SolaraViz re-creates the model (Reset), so a Reset after a new
    setting runs under that setting: SolaraViz keeps the model parameters it started with, and
    its controls live in the app's sidebar, which keeps their state even when SolaraViz is
    mounted afresh."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed


class ExploredNegotiation(NegotiationModel):
    """:class:`~cicasim.engine.model.NegotiationModel` with keyword arguments only, as
    SolaraViz re-creates a model on Reset: the scenario and seed as set (:class:`AsSet`), the
    proposal and the replication."""

    def __init__(self, *, as_set: AsSet, proposal_id: str, replication: int = 0) -> None:
        super().__init__(as_set.scenario, proposal_id, seed=as_set.seed, replication=replication)
        self.as_set = as_set


def build(scenario: Scenario, settings: Settings, proposal: str, replication: int,
          as_set: AsSet | None = None) -> ExploredNegotiation:
    """Replication ``replication`` of ``proposal`` under the page's settings, the same numbers
    as that replication of the Overview's run; ``as_set`` (when given) is updated to them."""
    scen = effective_scenario(scenario, settings)
    if as_set is None:
        as_set = AsSet(scen, settings.seed)
    as_set.scenario, as_set.seed = scen, settings.seed
    return ExploredNegotiation(as_set=as_set, proposal_id=proposal, replication=replication)


def model_params(model: ExploredNegotiation, replications: int) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the scenario and seed as set (fixed), the proposal and the
    replication (one of the Overview's ``replications``) as inputs, starting at the model's."""
    ids = [p.id for p in model.spec.proposals]
    return {
        "as_set": model.as_set,
        "proposal_id": {"type": "Select", "value": model.negotiation.proposal, "values": ids,
                        "label": "proposal"},
        "replication": {"type": "SliderInt", "value": model.replication, "min": 0,
                        "max": max(0, min(replications, 1000) - 1), "step": 1,
                        "label": "replication"},
    }


def network_figure(model: NegotiationModel) -> Any:
    """The tension network as it stands: node size capability, colour the last vote, edges the
    most tense pairs (:func:`cicasim.plotting.negotiation_network`)."""
    from cicasim.plotting import negotiation_network

    votes = {a.actor_id: a.vote for a in model.agents}
    caps = {a.actor_id: a.capability for a in model.agents}
    return negotiation_network(model.spec, votes, caps, title=(
        f"{model.negotiation.proposal}: votes in round {int(model.state.t)}"))


def positions_figure(model: NegotiationModel) -> Any:
    """The text against the status quo and every actor's position by round
    (:func:`cicasim.plotting.trace_figure`); None before the first round."""
    if int(model.state.t) < 1:
        return None
    return TraceResult(model.spec, model).plot()


def why_it_ended(model: NegotiationModel) -> str | None:
    """One sentence: how and why the negotiation ended; None while it runs."""
    if model.running:
        return None
    end = TraceResult(model.spec, model).end()
    why = WHY.get(end["reason"], end["reason"])
    return (f"Ended after {end['rounds']} round(s): {end['reason']} ({why}); final text "
            f"{', '.join(f'{v:.1f}' for v in end['final_text'])}, dilution "
            f"{end['dilution']:.2f}.")


def png(fig: Any) -> bytes:
    """A figure as the bytes of a PNG file (:func:`cicasim.plotting.save_figure`)."""
    from cicasim.plotting import save_figure

    return save_figure(fig, io.BytesIO(), fmt="png").getvalue()


def _name(model: NegotiationModel) -> str:
    return (f"{model.spec.scenario.name}-{model.negotiation.proposal}-rep{model.replication}"
            f"-round{int(model.state.t)}")


def Status(model: NegotiationModel) -> None:
    """The round, the status and, once over, why it ended."""
    t = int(model.state.t)
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"round <b class='cicasim-round'>{t}</b> of at most {model.negotiation.max_rounds} · "
        f"status: <b>{html.escape(model.reason)}</b><br>proposal "
        f"<b>{html.escape(model.negotiation.proposal)}</b>, seed {model.seed_value}, "
        f"replication {model.replication}: the same numbers as that replication of the "
        "Overview's run"), classes=["cicasim-negotiation-status"])
    why = why_it_ended(model)
    if why:
        solara.Success(why, classes=["cicasim-ended"])
    else:
        solara.Text("Step or play it with the controls in the sidebar; choose another proposal "
                    "or replication there under Model Parameters, then Reset.  The settings of "
                    "the other pages apply (change them there).")


def Network(model: NegotiationModel) -> None:
    """The tension network with its PNG download."""
    solara.FigureMatplotlib(network_figure(model), format="png")
    solara.FileDownload(lambda: png(network_figure(model)),
                        filename=f"{_name(model)}-network.png", label="Network (PNG)")


def Positions(model: NegotiationModel) -> None:
    """The text against the status quo and the positions by round, with its PNG download."""
    fig = positions_figure(model)
    if fig is None:
        solara.Info("The text and the members' positions appear after the first round.")
        return
    solara.FigureMatplotlib(fig, format="png")
    solara.FileDownload(lambda: png(positions_figure(model)),
                        filename=f"{_name(model)}-positions.png", label="Text and positions (PNG)")


@solara.component
def NegotiationPage(model: solara.Reactive[Any], settings: Settings) -> None:
    """SolaraViz on the page's negotiation model (an exception: its one-line message)."""
    m = model.value
    if m is None:
        solara.ProgressLinear(True)
        return
    if isinstance(m, Exception):
        solara.Error(one_line(str(m) or type(m).__name__), classes=["cicasim-error"])
        return
    SolaraViz(model, components=[(Status, 0), (Network, 0), (Positions, 0)],
              model_params=model_params(m, settings.replications), name="One negotiation",
              play_interval=400)
