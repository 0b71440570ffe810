"""The explorer without a browser: its settings and runs (plain data), and its pages rendered
with ``solara.render`` as Mesa's own SolaraViz tests do."""

from __future__ import annotations

import pytest

from cicasim.errors import InputError
from cicasim.explore.settings import (
    Settings,
    effective_scenario,
    initial_settings,
    load,
    membership,
    overview,
    scenario_toml,
)
from cicasim.spec.scenario import Scenario as _Scenario
from cicasim.spec.scenario import parse_scenario

solara = pytest.importorskip("solara", reason="the explorer needs the explore extra")

REPS = 300


@pytest.fixture(scope="module")
def cica():
    return load(None)


def test_defaults_are_the_scenario_as_it_is(cica):
    scenario, _ = cica
    s = initial_settings(scenario, replications=REPS, seed=3)
    assert effective_scenario(scenario, s) == scenario
    from cicasim.analysis.runs import run_scenario

    page = overview(scenario, s).summary()
    cli = run_scenario(scenario, replications=REPS, seed=3).summary()
    assert page["p_consensus"].tolist() == cli["p_consensus"].tolist()


def test_sliders_and_scales_reach_the_scenario(cica):
    scenario, _ = cica
    s = initial_settings(scenario).with_behaviour("rival_penalty", 0.7).with_scale(
        "position_sd", 2.0)
    e = effective_scenario(scenario, s)
    assert e.behaviour.rival_penalty == 0.7
    assert e.uncertainty.position_sd == 2 * scenario.uncertainty.position_sd
    v = effective_scenario(scenario, initial_settings(scenario, "validation"))
    assert v.behaviour.rival_penalty == 1.0


@pytest.mark.parametrize("bad", [
    Settings(replications=0), Settings(parameter_set="mine"), Settings(seed=-1),
    Settings(scales=(("position_sd", -1.0),)),
])
def test_bad_settings_are_one_line(cica, bad):
    with pytest.raises(InputError) as err:
        effective_scenario(cica[0], bad)
    assert "\n" not in str(err.value)


def test_toml_reproduces_the_page(cica, tmp_path):
    scenario, source = cica
    s = initial_settings(scenario, replications=REPS, seed=5).with_behaviour(
        "vote_noise", 0.1).with_join("TKM", True)
    text = scenario_toml(scenario, s, source)
    import tomllib

    again = parse_scenario(tomllib.loads(text), "explored.toml")
    assert isinstance(again, _Scenario)
    from cicasim.analysis.runs import run_scenario

    assert (run_scenario(again, replications=REPS, seed=5).summary()["p_consensus"].tolist()
            == overview(scenario, s).summary()["p_consensus"].tolist())


def test_membership_matches_compare(cica):
    scenario, _ = cica
    s = initial_settings(scenario, replications=REPS, seed=2).with_join("TKM", True).with_join(
        "JPN", True)
    m = membership(scenario, s)
    assert m.labels == ["base", "TKM joins", "JPN joins"]
    assert m.members == [28, 29, 30]
    from cicasim.analysis.compare import compare

    c = compare(effective_scenario(scenario, s), enlarge=True, replications=REPS, seed=2)
    for row in c.rows:
        assert m.delta[row.proposal] == pytest.approx((row.delta, row.delta_low,
                                                       row.delta_high))
    assert membership(scenario, initial_settings(scenario)) is None
    assert membership(scenario, s, cancelled=lambda: True) is None


def _html(rc, cls: str):
    """The finder of the page's HTML block of class ``cls``."""
    from solara.widgets import HTML

    return rc.find(HTML, attributes={"class": cls})


def expect(rc, snippet: str, timeout: float = 60) -> None:
    """Wait until an HTML block contains ``snippet``."""
    import time

    from solara.widgets import HTML

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(snippet in (w.unsafe_innerHTML or "") for w in rc.find(HTML).widgets):
            return
        time.sleep(0.05)
    raise AssertionError(f"the page never showed {snippet!r}")


def alerts(rc) -> list[str]:
    """The texts of the page's alerts (errors, notes, why a negotiation ended)."""
    import ipyvuetify as v

    return [c for w in rc.find(v.Alert).widgets for c in w.children if isinstance(c, str)]


def expect_alert(rc, snippet: str, timeout: float = 60) -> None:
    """Wait until an alert contains ``snippet``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(snippet in a for a in alerts(rc)):
            return
        time.sleep(0.05)
    raise AssertionError(f"the page never showed an alert with {snippet!r}")


def expect_button(rc, label: str, timeout: float = 60) -> None:
    """Wait until a button (a download's, say) shows ``label``."""
    import time

    import ipyvuetify as v

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(label in b.children for b in rc.find(v.Btn).widgets):
            return
        time.sleep(0.05)
    raise AssertionError(f"the page never showed a button {label!r}")


def test_pages_render_and_respond(cica):
    """The Overview shows P(consensus), a slider re-runs it, a tick shows the member count and
    ΔP, Step advances the negotiation (solara.render, no browser)."""
    import ipyvuetify as v

    from cicasim.explore.app import Explorer

    scenario, source = cica
    # in an AppLayout, as the server shows it: SolaraViz puts its controls in the sidebar
    page = Explorer(scenario, source, replications=REPS)
    box, rc = solara.render(solara.AppLayout(children=[page]), handle_error=False)
    base = initial_settings(scenario, replications=REPS, seed=1)
    for p in overview(scenario, base).to_dict()["proposals"]:
        expect(rc, f"data-proposal='{p['id']}'>{p['p_consensus']:.3f}<")
    rc.find(v.Slider, label="rival penalty β: 0.05").widget.v_model = 1.5
    changed = overview(scenario, base.with_behaviour("rival_penalty", 1.5)).to_dict()
    for p in changed["proposals"]:
        expect(rc, f"data-proposal='{p['id']}'>{p['p_consensus']:.3f}<")
    tabs = rc.find(v.Tabs).widget
    tabs.v_model = 1  # Membership
    rc.find(v.Checkbox, label="Turkmenistan (TKM)").wait_for(timeout=10)
    rc.find(v.Checkbox, label="Turkmenistan (TKM)").widget.v_model = True
    expect(rc, "class='delta-p'")
    expect(rc, "members: 28 → 29")
    tabs.v_model = 2  # One negotiation: Mesa's SolaraViz on the project's model
    expect(rc, "cicasim-round'>0<")
    rc.find(v.Btn, children=["Step"]).wait_for(timeout=10)
    rc.find(v.Btn, children=["Step"]).widget.click()
    expect(rc, "cicasim-round'>1<")
    rc.close()


def test_negotiation_page_is_solaraviz(cica):
    """One negotiation: SolaraViz's Reset re-creates the model with the proposal chosen under
    Model Parameters (Mesa 3.3 and 3.5 alike), Play runs it to its end, and the page says why
    it ended; the traced run is the ensemble's replication."""
    import ipyvuetify as v

    from cicasim.engine.model import TraceResult, run_trace
    from cicasim.explore.negotiation import NegotiationPage, build, why_it_ended

    scenario, _ = cica
    s = initial_settings(scenario, replications=REPS, seed=4).with_behaviour("vote_noise", 0.2)
    ids = [p.id for p in scenario.proposals]
    model = solara.reactive(build(scenario, s, ids[-1], 3))

    @solara.component
    def Page():
        NegotiationPage(model, s)

    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    expect(rc, f"<b>{ids[-1]}</b>")
    rc.find(v.Select, label="proposal").widget.v_model = ids[0]
    rc.find(v.Btn, children=["Reset"]).widget.click()
    expect(rc, f"<b>{ids[0]}</b>")
    assert model.value.negotiation.proposal == ids[0] and model.value.replication == 3
    rc.find(v.Btn, children=["▶"]).widget.click()
    expect_alert(rc, "Ended after")
    assert why_it_ended(model.value) in alerts(rc)
    trace = run_trace(effective_scenario(scenario, s), ids[0], seed=4, replication=3)
    assert TraceResult(model.value.spec, model.value).end() == trace.end()
    rc.close()


def test_negotiation_reset_after_a_new_setting_runs_under_it(cica):
    """A new setting re-builds the negotiation, and SolaraViz's Reset afterwards re-creates it
    under the new setting, not the one the page was opened with."""
    import time

    import ipyvuetify as v

    from cicasim.explore import app
    from cicasim.explore.negotiation import NegotiationPage

    scenario, _ = cica
    first = initial_settings(scenario, replications=REPS, seed=2)
    second = first.with_behaviour("vote_noise", 0.3)
    current = solara.reactive(first)
    shown = {}

    @solara.component
    def Page():
        model = app._negotiation_model(scenario, current.value)
        shown["model"] = model
        NegotiationPage(model, current.value)

    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    expect(rc, "cicasim-round'>0<")
    current.set(second)
    wanted = effective_scenario(scenario, second)
    deadline = time.monotonic() + 30
    while shown["model"].value.spec != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shown["model"].value.spec == wanted
    rc.find(v.Btn, children=["Step"]).widget.click()
    expect(rc, "cicasim-round'>1<")
    rc.find(v.Btn, children=["Reset"]).widget.click()
    expect(rc, "cicasim-round'>0<")
    assert shown["model"].value.spec == wanted
    rc.close()


def test_an_error_is_one_line_in_a_panel(cica):
    """A setting the engine refuses shows the command line's one-line message in a panel."""
    import ipyvuetify as v

    from cicasim.explore.app import Overview, _overview_task

    scenario, _ = cica

    @solara.component
    def Bad():
        Overview(scenario, _overview_task(scenario, Settings(replications=0)))

    box, rc = solara.render(Bad(), handle_error=False)
    alert = rc.find(v.Alert, children=["replications: 0 is outside 1 to 100,000"])
    alert.wait_for(timeout=30)
    assert alert.widget is not None
    rc.close()


def test_pivotality_on_request():
    """Who blocks: pivotality runs only when asked for; its table then shows each member's ΔP
    and, for the most pivotal, the ΔP through each channel, the numbers of
    ``cicasim run --pivotality`` (not recomputed)."""
    import ipyvuetify as v

    from cicasim.analysis.pivotality import CHANNELS
    from cicasim.analysis.runs import run_scenario
    from cicasim.explore.app import Explorer

    scenario, source = load(None)
    box, rc = solara.render(Explorer(scenario, source, replications=100), handle_error=False)
    rc.find(v.Tabs).widget.v_model = 3  # Who blocks
    label = "Compute pivotality (one more run per member)"
    expect(rc, "<th>first blocker</th>")
    rc.find(v.Btn, children=[label]).wait_for(timeout=30)
    rc.find(v.Btn, children=[label]).widget.click()
    expect(rc, "<th>ΔP if removed</th>", timeout=180)
    cli = run_scenario(scenario, replications=100, seed=1, pivotality=True).to_dict()
    decomposed = [(p["id"], v) for p in cli["proposals"] for v in p["pivotality"]
                  if v["channels"]]
    assert decomposed, "no member's pivotality was decomposed by channel"
    for c in CHANNELS:
        expect(rc, f"<th>ΔP {c} channel</th>")
    for _, piv in decomposed:
        for c in CHANNELS:
            expect(rc, f"{piv['channels'][c]['delta']:+.3f}<br>")
    rc.close()


def test_two_quick_settings_only_the_last_runs_to_the_end(cica, monkeypatch):
    """A newer setting supersedes a running one: of three settings in quick succession the
    two earlier runs stop at their next block and only the last runs to completion; the page
    shows its numbers (no queue of stale runs)."""
    import threading
    import time

    from cicasim.explore import app

    scenario, _ = cica
    first = initial_settings(scenario, replications=3000, seed=1)
    second = first.with_behaviour("rival_penalty", 1.0)
    last = first.with_behaviour("rival_penalty", 1.5)
    ran: list[tuple[Settings, str]] = []
    started = {first: threading.Event(), second: threading.Event()}
    newer = threading.Event()
    real = app.overview

    def spy(scenario, settings, *, cancelled):
        if settings in started:  # held until the newest setting has arrived
            started[settings].set()
            assert newer.wait(30)
        out = real(scenario, settings, cancelled=cancelled)
        ran.append((settings, "cancelled" if out is None else "completed"))
        return out

    monkeypatch.setattr(app, "overview", spy)
    current = solara.reactive(first)

    @solara.component
    def Page():
        app.Overview(scenario, app._overview_task(scenario, current.value))

    box, rc = solara.render(Page(), handle_error=False)
    assert started[first].wait(30)
    current.set(second)
    assert started[second].wait(30)
    current.set(last)
    newer.set()
    for p in real(scenario, last).to_dict()["proposals"]:
        expect(rc, f"data-proposal='{p['id']}'>{p['p_consensus']:.3f}<")
    deadline = time.monotonic() + 30
    while len(ran) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    order = [first, second, last]
    assert sorted(ran, key=lambda r: order.index(r[0])) == [
        (first, "cancelled"), (second, "cancelled"), (last, "completed")]
    rc.close()


def test_a_stance_answers_the_mission_question(cica, tmp_path):
    """What if Turkmenistan joins and India cares more about corridors?  India's salience on
    connectivity set on the page reaches the scenario, the Overview and the downloaded
    scenario file, which `cicasim run` and `cicasim compare --enlarge` reproduce."""
    import tomllib

    from cicasim.analysis.compare import compare
    from cicasim.analysis.runs import run_scenario
    from cicasim.explore.settings import stance

    scenario, source = cica
    base = initial_settings(scenario, replications=REPS, seed=6).with_join("TKM", True)
    position, salience = stance(scenario, base, "IND", "connectivity")
    s = base.with_stance("IND", "connectivity", position, 0.95)
    assert stance(scenario, s, "IND", "connectivity") == (position, 0.95)
    e = effective_scenario(scenario, s)
    ind = next(a for a in e.actors if a.id == "IND")
    assert ind.salience["connectivity"] == 0.95 and salience != 0.95
    assert overview(scenario, s).summary()["p_consensus"].tolist() != overview(
        scenario, base).summary()["p_consensus"].tolist()
    again = parse_scenario(tomllib.loads(scenario_toml(scenario, s, source)), "explored.toml")
    assert (run_scenario(again, replications=REPS, seed=6).summary()["p_consensus"].tolist()
            == overview(scenario, s).summary()["p_consensus"].tolist())
    m = membership(scenario, s)
    for row in compare(again, enlarge=True, replications=REPS, seed=6).rows:
        assert m.delta[row.proposal] == pytest.approx((row.delta, row.delta_low,
                                                       row.delta_high))
    with pytest.raises(InputError, match="salience 1.5 is outside 0 to 1"):
        effective_scenario(scenario, s.with_stance("IND", "connectivity", 50, 1.5))
    with pytest.raises(InputError, match="unknown actor 'XXX'"):
        effective_scenario(scenario, s.with_stance("XXX", "connectivity", 50, 0.5))


def test_every_figure_downloads_as_png(cica):
    """Downloads: the Overview, who blocks each proposal and the negotiation's figures are
    offered as PNG, and each makes a PNG file."""
    import ipyvuetify as v

    from cicasim.explore.app import Explorer, blocking_figure
    from cicasim.explore.negotiation import build, network_figure, png, positions_figure

    scenario, source = cica
    s = initial_settings(scenario, replications=REPS, seed=1)
    result = overview(scenario, s)
    model = build(scenario, s, result.proposals[0], 1)
    assert positions_figure(model) is None
    model.step()
    figures = [result.plot(), network_figure(model), positions_figure(model)] + [
        blocking_figure(result, pid) for pid in result.proposals]
    for fig in figures:
        assert png(fig).startswith(b"\x89PNG\r\n")
    box, rc = solara.render(Explorer(scenario, source, replications=REPS), handle_error=False)
    rc.find(v.Tabs).widget.v_model = 4  # Downloads
    labels = [f"Who blocks {pid} (PNG)" for pid in result.proposals] + [
        "Overview figure (PNG)", "Summary (CSV)", "Negotiation network, round 0 (PNG)"]
    for label in labels:
        expect_button(rc, label)
    rc.close()


def test_a_bad_scenario_stops_the_command_in_one_line(tmp_path, capsys):
    """`cicasim explore BAD.toml` says what is wrong in one line, exit code 2, no server."""
    from cicasim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    assert main(["explore", str(bad), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.toml" in err and "dimensions" in err
