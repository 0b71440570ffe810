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
    """Who blocks: pivotality runs only when asked for, and its table then shows."""
    import ipyvuetify as v

    from cicasim.explore.app import Explorer

    scenario, source = load(None)
    box, rc = solara.render(Explorer(scenario, source, replications=100), handle_error=False)
    rc.find(v.Tabs).widget.v_model = 3  # Who blocks
    label = "Compute pivotality (one more run per member)"
    expect(rc, "<th>first blocker</th>")
    rc.find(v.Btn, children=[label]).wait_for(timeout=30)
    rc.find(v.Btn, children=[label]).widget.click()
    expect(rc, "<th>ΔP if removed</th>", timeout=120)
    rc.close()


def test_a_bad_scenario_stops_the_command_in_one_line(tmp_path, capsys):
    """`cicasim explore BAD.toml` says what is wrong in one line, exit code 2, no server."""
    from cicasim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    assert main(["explore", str(bad), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.toml" in err and "dimensions" in err
