"""Figures: each one drawn from real results of small runs and checked through its matplotlib
objects (labels, titles and the plotted numbers against the tables), plus `cicasim plot`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT
from numpy.testing import assert_allclose

from cicasim.cli import main
from cicasim.errors import ResultsWarning
from cicasim.spec.scenario import load_scenario, parse_scenario

plotting = pytest.importorskip("cicasim.plotting")

TINY = str(DATA / "tiny.toml")

# tiny.toml with a second, milder proposal, so that curves have one line per proposal and some
# agreements pass (dilution is defined for passed replications only)
MILD = """
[[proposals]]
id = "mild"
title = "A modest step"
sponsor = "BBB"
touches = [{ dimension = "integration", position = 45, status_quo = 30 }]
max_rounds = 6
"""


def _two_proposals(tmp) -> str:
    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    head, tail = text.split("[[enlargement]]", 1)
    path = tmp / "tiny2.toml"
    path.write_text(head + MILD + "\n[[enlargement]]" + tail, encoding="utf-8")
    return str(path)


def _experiment(tmp, scenario: str, *, sensitivity: bool = False) -> str:
    if sensitivity:
        body = """
[[factors]]
kind = "behaviour"
parameter = "vote_noise"
range = [0.0, 0.2]

[[factors]]
kind = "behaviour"
parameter = "threshold"
range = [-0.1, 0.1]

[sensitivity]
samples = 2
resamples = 20
"""
    else:
        body = """
[[factors]]
kind = "enlargement"

[[factors]]
kind = "behaviour"
parameter = "vote_noise"
values = [0.05, 0.2]
"""
    path = tmp / ("sens.toml" if sensitivity else "grid.toml")
    path.write_text(
        f'[experiment]\nname = "test"\nscenario = {json.dumps(scenario)}\nseed = 3\n'
        f"replications = 60\ncommon_random_numbers = true\n{body}",
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "res"
    assert main(["run", TINY, "-n", "300", "--seed", "1", "--out", str(out), "--plots"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    exp = _experiment(tmp, _two_proposals(tmp))
    out = tmp / "res"
    assert main(["sweep", exp, "--out", str(out), "-j", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "res"
    tiny2 = _two_proposals(out.parent)
    args = ["compare", tiny2, "--enlarge", "-n", "200", "--seed", "2", "-j", "1", "--out", str(out)]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def sensitivity_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sens")
    exp = _experiment(tmp, TINY, sensitivity=True)
    out = tmp / "res"
    assert main(["sensitivity", exp, "--out", str(out), "-j", "1"]) == 0
    return out


def _results(directory):
    return plotting.load_results(directory)


def _title(ax) -> str:
    return " ".join(t for t in (ax.get_title(loc=w) for w in ("left", "center", "right")) if t)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


# -- matplotlib stays at the edge ----------------------------------------------------------------


def test_the_command_line_does_not_import_matplotlib():
    code = (
        "import sys\nfrom cicasim.cli import build_parser\nbuild_parser()\n"
        "import cicasim.commands.plot, cicasim.commands.report\n"
        "print('matplotlib' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert res.stdout.strip() == "False"


def test_palette_is_okabe_ito():
    assert plotting.PALETTE[:4] == ("#0072B2", "#E69F00", "#009E73", "#D55E00")


# -- run figures ---------------------------------------------------------------------------------


def test_run_plots_writes_every_run_figure(run_dir):
    names = sorted(p.name for p in (run_dir / "figures").iterdir())
    assert names == ["blocking-deal.png", "summary.png", "tension-heatmap.png",
                     "tension-network.png", "trace-deal.png"]
    for p in (run_dir / "figures").iterdir():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_figure_plots_the_summary(run_dir):
    res = _results(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())["proposals"]
    reps = res.table("replications")
    table = pd.DataFrame([{"proposal": p["id"], "p_consensus": p["p_consensus"],
                           "ci_low": p["ci_low"], "ci_high": p["ci_high"]} for p in summary])
    fig = plotting.run_summary_figure(table, reps, scenario=res.scenario)
    ax_p, ax_d = fig.axes
    assert "P(consensus)" in ax_p.get_xlabel() and "95%" in ax_p.get_xlabel()
    assert "Dilution" in ax_d.get_xlabel()
    assert _texts(ax_p) == ["A deeper deal"]  # the title, not the id
    assert_allclose(ax_p.lines[0].get_xdata(), [p["p_consensus"] for p in summary])
    assert "300 replications" in fig.get_suptitle()
    # tiny's deal never passes: the dilution panel says so instead of drawing a box
    assert any("never agreed" in t.get_text() for t in ax_d.texts)


def test_blocking_bars_are_the_blocking_frequencies(run_dir):
    res = _results(run_dir)
    scen = res.scenario
    reps = res.table("replications")
    blocking = plotting.blocking_frequencies(reps, members=[a.id for a in scen.members])
    fig = plotting.blocking_bars(blocking, proposal="deal", scenario=scen)
    ax = fig.axes[0]
    widths = {t.get_text(): bar.get_width() for t, bar in zip(ax.get_yticklabels(), ax.patches,
                                                               strict=True)}
    # names, not codes; members only; sorted with the most frequent blocker on top
    assert set(widths) == {"Alpha", "Beta", "Gamma"}
    heights = [bar.get_width() for bar in ax.patches]
    assert heights == sorted(heights)
    # the bars equal the run's own summary (summary.json, computed by the ensemble)
    top = json.loads((run_dir / "summary.json").read_text())["proposals"][0]["blockers"]
    names = {a.id: a.name for a in scen.actors}
    for b in top:
        assert_allclose(widths[names[b["actor"]]], b["frequency"])
    failed = ~reps["passed"]
    expected = (reps["objectors"].str.split(";").apply(lambda s: "CCC" in s) & failed).mean()
    assert_allclose(widths["Gamma"], expected)
    assert "Blocking frequency" in ax.get_xlabel() and "Who blocks" in _title(ax)
    # observers apart, named, in their own note
    note = " ".join(t.get_text() for a in fig.axes[1:] for t in a.texts)
    assert "Observer" in note and "never block" in note


def test_tension_heatmap_shows_the_matrix_in_cluster_order(run_dir):
    from cicasim.engine.arrays import tension_matrix

    scen = _results(run_dir).scenario
    fig = plotting.tension_heatmap(scen)
    ax = next(a for a in fig.axes if a.images and a.get_yticklabels())
    img = ax.images[0].get_array()
    labels = [t.replace(" (obs.)", "") for t in _texts(ax)]
    names = {a.name: i for i, a in enumerate(scen.actors)}
    order = [names[n] for n in labels]
    T, _ = tension_matrix(scen)
    assert sorted(order) == list(range(len(scen.actors)))
    assert_allclose(np.asarray(img), T[np.ix_(order, order)])
    assert "tension" in ax.images[0].colorbar.ax.get_ylabel().lower()
    assert "clustered" in " ".join(_title(a) for a in fig.axes)
    # the observer is marked apart in the labels
    assert "Observer (obs.)" in _texts(ax)


def test_tension_network_draws_actors_and_tense_pairs(run_dir):
    from matplotlib.patches import Arc

    scen = _results(run_dir).scenario
    fig = plotting.tension_network(scen)
    ax = fig.axes[0]
    # tiny lists one pair above its default tension of 0.1: Alpha-Gamma at 0.6, one arc
    arcs = [p for p in ax.patches if isinstance(p, Arc)]
    assert len(arcs) == 1
    # ordered by position: Gamma 20, Beta 50, Observer 60, Alpha 80: the arc spans slots 0-3
    assert arcs[0].center[0] == 1.5 and arcs[0].width == 3
    points = ax.collections
    assert sorted(len(c.get_offsets()) for c in points) == [1, 3]  # 1 observer, 3 members
    labels = {t.get_text(): t.xy[0] for t in ax.texts}
    assert labels == {"Gamma": 0, "Beta": 1, "Observer": 2, "Alpha": 3}
    assert "hostile" in _title(ax) and "Alpha–Gamma 0.60" in _title(ax)


def test_trace_figure_plots_the_mesa_run(run_dir):
    from cicasim.engine.model import NegotiationModel

    res = _results(run_dir)
    scen = res.scenario
    model = NegotiationModel(scen, "deal", seed=1, replication=0)
    out = model.run()
    rounds = int(out.rounds[0])
    mv = model.datacollector.get_model_vars_dataframe()
    av = model.datacollector.get_agent_vars_dataframe()
    trace = plotting.negotiation_trace(scen, proposal="deal", seed=1)
    assert trace.rounds == rounds and trace.status == "deadlock"
    fig = plotting.trace_figure(trace, scenario=scen)
    ax = fig.axes[0]
    text = [ln for ln in ax.lines if ln.get_color() == "black" and ln.get_linewidth() > 2]
    (text,) = text
    # row t of the DataCollector is round t: the text voted on in round t
    assert_allclose(text.get_xdata(), np.arange(1, rounds + 1))
    assert_allclose(text.get_ydata(), [mv["text"].iloc[t][0] for t in range(1, rounds + 1)])
    marks = sum(len(c.get_offsets()) for c in ax.collections
                if c.get_offsets().size and c.get_facecolor().size
                and np.allclose(c.get_facecolor()[0][:3], (0.835, 0.369, 0.0), atol=0.01))
    votes = av["vote"].to_numpy()
    assert marks == int((votes == "object").sum())
    assert "position" in ax.get_ylabel() and "Round" in ax.get_xlabel()
    assert "deadlock after 8 rounds" in _title(ax)
    # one line per actor plus the text
    assert len([ln for ln in ax.lines if np.size(ln.get_xdata()) == rounds]) == 4 + 1


# -- sweep figures -------------------------------------------------------------------------------


def test_sweep_figures_and_their_names(sweep_dir, tmp_path):
    res = _results(sweep_dir)
    assert plotting.figure_names(res) == ["enlargement", "dilution", "delta", "heatmap"]
    paths = plotting.write_standard_figures(sweep_dir, formats=("png", "svg"), kind="heatmap",
                                            out=tmp_path)
    assert sorted(p.name for p in paths) == ["heatmap.png", "heatmap.svg"]


def test_enlargement_curve_has_one_line_per_proposal_per_panel(sweep_dir):
    res = _results(sweep_dir)
    summary = res.table("summary")
    fig = plotting.enlargement_curve(summary, scenario=res.scenario)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == summary["vote_noise"].nunique()  # the other factor becomes panels
    for ax, (noise, sub) in zip(panels, summary.groupby("vote_noise"), strict=True):
        assert _title(ax) == f"vote noise = {noise:g}"
        lines = [ln for ln in ax.lines if ln.get_label() and not ln.get_label().startswith("_")]
        assert len(lines) == summary["proposal"].nunique() == 2
        for ln, pid in zip(lines, ["deal", "mild"], strict=True):
            s = sub[sub["proposal"] == pid].sort_values("n_members")
            assert_allclose(ln.get_xdata(), s["n_members"])
            assert_allclose(ln.get_ydata(), s["p_consensus"])
        assert len(ax.collections) == 2  # an interval band per proposal
    assert panels[0].get_ylabel().startswith("P(consensus)")
    assert all(ax.get_xlabel() == "Number of members" for ax in panels)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["A deeper deal", "A modest step"]
    assert labels[2].startswith("95% interval")


def test_enlargement_curve_marks_the_real_cica_milestones():
    summary = pd.DataFrame({
        "point": [0, 1, 2] * 2, "proposal": ["p"] * 3 + ["q"] * 3,
        "n_members": [16, 22, 28] * 2, "p_consensus": [0.9, 0.8, 0.7, 0.5, 0.4, 0.3],
        "ci_low": [0.85, 0.75, 0.65, 0.45, 0.35, 0.25],
        "ci_high": [0.95, 0.85, 0.75, 0.55, 0.45, 0.35],
    })
    fig = plotting.enlargement_curve(summary, milestones=plotting.CICA_MILESTONES)
    (ax,) = fig.axes
    marks = {t.get_text().strip() for t in ax.texts}
    # CICA: 16 members in 2002 ... 22 in 2010 ... 28 in 2022; all nine fall in 16-28
    assert marks == {"2002", "2004", "2006", "2008", "2010", "2011", "2014", "2018", "2022"}
    vlines = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert sorted(ln.get_xdata()[0] for ln in vlines) == [16, 17, 18, 20, 22, 24, 26, 27, 28]
    assert len([ln for ln in ax.lines if ln.get_linestyle() == "-"]) == 2


def test_milestones_only_for_cica_scenarios(run_dir):
    assert plotting.milestones_for(_results(run_dir).scenario) == ()
    data = {"scenario": {"name": "cica-2022"}, "dimensions": [{"id": "x"}],
            "actors": [{"id": "A", "role": "member", "capability": 1, "position": {"x": 1},
                        "salience": {"x": 1}}]}
    assert plotting.milestones_for(parse_scenario(data)) == plotting.CICA_MILESTONES


def test_dilution_curve_plots_the_mean_dilution_of_passed_runs(sweep_dir):
    res = _results(sweep_dir)
    summary = res.table("summary")
    stats = plotting.dilution_stats(res.table("replications"))
    keys = summary[["point", "proposal", "n_members", "enlargement", "vote_noise"]]
    merged = stats.merge(keys, on=["point", "proposal"])
    fig = plotting.dilution_curve(merged, scenario=res.scenario)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert "dilution" in panels[0].get_ylabel().lower()
    for ax, (_, sub) in zip(panels, summary.groupby("vote_noise"), strict=True):
        lines = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
        assert len(lines) == 2
        for ln, pid in zip(lines, ["deal", "mild"], strict=True):
            s = sub[sub["proposal"] == pid].sort_values("n_members")
            # the sweep's own mean_dilution (NaN where nothing passed)
            assert_allclose(ln.get_ydata(), s["mean_dilution"], equal_nan=True)


def test_delta_curve_plots_the_paired_differences(sweep_dir):
    res = _results(sweep_dir)
    summary = res.table("summary")
    deltas = res.table("deltas").merge(
        summary[["point", "proposal", "n_members", "enlargement", "vote_noise"]],
        on=["point", "proposal"],
    )
    fig = plotting.delta_curve(deltas, scenario=res.scenario)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    first = panels[0]
    assert "ΔP" in first.get_ylabel() and "paired" in first.get_ylabel()
    s = deltas[(deltas["proposal"] == "mild")
               & (deltas["vote_noise"] == deltas["vote_noise"].min())].sort_values("n_members")
    (line,) = [ln for ln in first.lines if ln.get_label() == "A modest step"]
    assert_allclose(line.get_ydata(), s["delta"])
    assert any(ln.get_ydata()[0] == 0 and ln.get_linestyle() == "-" and ln.get_color() == "black"
               for ln in first.lines)  # the zero line


def test_sweep_heatmap_cells_are_the_probabilities(sweep_dir):
    res = _results(sweep_dir)
    summary = res.table("summary")
    assert plotting._heatmap_axes(summary) == ("n_members", "vote_noise")
    fig = plotting.sweep_heatmap(summary, x="n_members", y="vote_noise", scenario=res.scenario)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2  # one per proposal
    for ax, pid in zip(panels, ["deal", "mild"], strict=True):
        grid = summary[summary["proposal"] == pid].pivot_table(
            index="vote_noise", columns="n_members", values="p_consensus")
        assert_allclose(np.asarray(ax.images[0].get_array()), grid.to_numpy())
        assert ax.get_xlabel() == "Number of members" and ax.get_ylabel() == "vote noise"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "4"]
    assert "P(consensus)" in fig.get_suptitle()


def test_scattered_designs_are_drawn_as_points():
    rng = np.random.default_rng(0)
    summary = pd.DataFrame({
        "point": range(12), "proposal": "p", "a": rng.uniform(size=12),
        "b": rng.uniform(size=12), "n_members": 5, "p_consensus": rng.uniform(size=12),
        "ci_low": 0.0, "ci_high": 1.0,
    })
    fig = plotting.sweep_heatmap(summary, x="a", y="b")
    ax = fig.axes[0]
    assert not ax.images
    assert_allclose(ax.collections[0].get_array(), summary["p_consensus"])


# -- comparisons and sensitivity -----------------------------------------------------------------


def test_comparison_figure_plots_each_side_and_the_paired_difference(compare_dir):
    res = _results(compare_dir)
    cmp = res.table("comparison")
    (fig_name, _cap, fig), = plotting.standard_figures(res)
    assert fig_name == "comparison"
    ax_p, ax_d = fig.axes[:2]
    side_a, side_b = ax_p.containers  # one errorbar per side
    assert side_a.get_label().startswith("A: ") and side_b.get_label().startswith("B: ")
    assert_allclose(side_a.lines[0].get_xdata(), cmp["p_a"])
    assert_allclose(side_b.lines[0].get_xdata(), cmp["p_b"])
    deltas = [ln.get_xdata()[0] for ln in ax_d.lines if ln.get_marker() == "D"]
    assert_allclose(deltas, cmp["delta"])
    assert "ΔP" in ax_d.get_xlabel() and "paired" in ax_d.get_xlabel()
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "3 members" in legend and "4 members" in legend  # before and after OBS joins


def test_sobol_figure_bars_are_the_indices(sensitivity_dir):
    res = _results(sensitivity_dir)
    sobol = res.table("sobol")
    fig = plotting.sobol_figure(sobol, scenario=res.scenario)
    ax = fig.axes[0]
    bars = ax.patches
    s1 = [b.get_width() for b in bars[: len(sobol)]]
    st = [b.get_width() for b in bars[len(sobol):]]
    assert_allclose(s1, sobol["S1"])
    assert_allclose(st, sobol["ST"])
    assert _texts(ax) == ["vote noise", "threshold"]
    assert "Sobol" in ax.get_xlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["first order S1", "total ST"]


# -- `cicasim plot` ------------------------------------------------------------------------------


def test_cli_plot_kind_and_format(run_dir, tmp_path, capsys):
    out = tmp_path / "figs"
    args = ["plot", str(run_dir), "--kind", "tension", "--format", "svg", "--out", str(out)]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tension-heatmap.svg",
                                                      "tension-network.svg"]
    assert (out / "tension-heatmap.svg").read_text().lstrip().startswith("<?xml")
    assert str(out / "tension-heatmap.svg") in capsys.readouterr().out


def test_cli_plot_pdf(sensitivity_dir, tmp_path):
    assert main(["plot", str(sensitivity_dir), "--format", "pdf", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "sobol.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("case", ["missing", "empty", "foreign", "other-kind", "bad-json"])
def test_cli_plot_bad_directory_is_a_one_line_error(case, tmp_path, capsys):
    d = tmp_path / "d"
    if case != "missing":
        d.mkdir()
    if case == "foreign":
        (d / "notes.txt").write_text("not results")
    elif case == "other-kind":
        (d / "manifest.json").write_text(json.dumps({"cicasim_results": "calibration"}))
    elif case == "bad-json":
        (d / "manifest.json").write_text("{")
    assert main(["plot", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cicasim: error: ") and err.count("\n") == 1
    assert not (d / "figures").exists()


def test_cli_plot_unknown_kind_is_a_one_line_error(run_dir, capsys):
    assert main(["plot", str(run_dir), "--kind", "heatmap"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "heatmap" in err and "blocking" in err


def test_figure_kinds_cover_every_standard_figure(run_dir, sweep_dir, compare_dir,
                                                 sensitivity_dir):
    for d in (run_dir, sweep_dir, compare_dir, sensitivity_dir):
        res = _results(d)
        kinds = plotting.figure_kinds(res.kind)
        names = plotting.figure_names(res)
        assert names
        for stem in names:
            assert any(stem == k or stem.startswith(f"{k}-") for k in kinds)


def test_scenario_is_rebuilt_from_the_manifest(run_dir):
    scen = _results(run_dir).scenario
    assert scen == load_scenario(TINY)


def test_who_joins_is_read_from_the_steps_table_and_shown_on_top():
    steps = pd.DataFrame({
        "step": [0, 1, 2, 3], "label": ["base", "IDN joins", "TKM joins", "+3 synthetic"],
        "kind": ["base", "observer-joins", "observer-joins", "synthetic"],
        "joined": [[], ["IDN"], ["TKM"], ["SYN01", "SYN02", "SYN03"]],
        "n_members": [28, 29, 30, 33],
    })
    points = steps.drop(columns=["kind", "joined"]).rename(columns={"step": "point"})
    joined = plotting._joined(steps)
    assert joined == {29: "IDN", 30: "TKM", 33: "+3"}
    summary = points.assign(proposal="p", p_consensus=[0.4, 0.3, 0.2, 0.1], ci_low=0.0,
                            ci_high=0.5)
    fig = plotting.enlargement_curve(summary, joined=joined)
    (top,) = fig.axes[0].child_axes
    assert [t.get_text() for t in top.get_xticklabels()] == ["IDN", "TKM", "+3"]
    assert_allclose(top.get_xticks(), [29, 30, 33])


def test_same_results_give_the_same_files(run_dir, tmp_path):
    for fmt in ("png", "svg", "pdf"):
        a = plotting.write_standard_figures(run_dir, kind="summary", formats=(fmt,),
                                            out=tmp_path / "a")
        b = plotting.write_standard_figures(run_dir, kind="summary", formats=(fmt,),
                                            out=tmp_path / "b")
        assert a[0].read_bytes() == b[0].read_bytes()


def _one_factor_sweep(tmp, values: str, *, parameter: str = "vote_noise") -> Path:
    exp = tmp / "one.toml"
    exp.write_text(
        f'[experiment]\nname = "noise"\nscenario = {json.dumps(_two_proposals(tmp))}\nseed = 3\n'
        "replications = 80\ncommon_random_numbers = true\n\n[[factors]]\nkind = \"behaviour\"\n"
        f'parameter = "{parameter}"\nvalues = {values}\n',
        encoding="utf-8",
    )
    out = tmp / "res"
    assert main(["sweep", str(exp), "--out", str(out), "-j", "1"]) == 0
    return out


def test_a_one_factor_sweep_gets_a_curve_with_bands(tmp_path, capsys):
    out = _one_factor_sweep(tmp_path, "[0.0, 0.05, 0.1, 0.2]")
    res = _results(out)
    assert plotting.figure_names(res) == ["factor"]
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "factor.png").is_file()
    summary = res.table("summary")
    fig = plotting.factor_curve(summary, x="vote_noise", scenario=res.scenario,
                                deltas=res.table("deltas"))
    ax_p, ax_d = fig.axes[:2]
    assert "vote noise" in ax_d.get_xlabel()
    for pid in ("deal", "mild"):
        s = summary[summary["proposal"] == pid].sort_values("vote_noise")
        lines = [ln for ln in ax_p.lines if np.array_equal(ln.get_xdata(), s["vote_noise"])
                 and np.allclose(ln.get_ydata(), s["p_consensus"])]
        assert len(lines) == 1
    assert len(ax_p.collections) == 2  # one band per proposal


def test_no_figure_that_applies_is_an_error(tmp_path, capsys):
    out = _one_factor_sweep(tmp_path, "[0.05]")  # one design point: nothing varies
    capsys.readouterr()
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no figure applies" in err
    assert not (out / "figures").exists()


def test_a_trace_of_another_replication_keeps_the_other_files(run_dir, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", str(run_dir), "--kind", "trace", "--out", str(out)]) == 0
    first = (out / "trace-deal.png").read_bytes()
    assert main(["plot", str(run_dir), "--kind", "trace", "--replication", "13",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["trace-deal-replication-13.png",
                                                     "trace-deal.png"]
    assert (out / "trace-deal.png").read_bytes() == first


def test_sensitivity_manifest_and_report_give_versions_and_factor_ranges(sensitivity_dir):
    from cicasim.plotting.report import render_report

    m = json.loads((sensitivity_dir / "manifest.json").read_text())
    assert {"SALib", "matplotlib"} <= set(m["versions"])
    assert m["factor_ranges"] == {"vote_noise": [0.0, 0.2], "threshold": [-0.1, 0.1]}
    html = render_report(sensitivity_dir)
    assert "0 to 0.2" in html and "-0.1 to 0.1" in html and "SALib" in html


def test_a_round_one_pass_shows_the_vote_sorted_by_margin():
    from conftest import make_scenario

    s = make_scenario([80, 55, 70, 60], saliences=[1, 1, 1, 1], max_rounds=3,
                      behaviour={"vote_noise": 0.0, "rival_penalty": 0.0})
    trace = plotting.negotiation_trace(s, proposal="p", seed=1)
    assert trace.rounds == 1 and trace.status == "passed"
    fig = plotting.trace_figure(trace, scenario=s)
    ax = fig.axes[0]
    widths = [b.get_width() for b in ax.patches]
    margins = trace.positions.drop_duplicates("actor")["margin"].to_numpy(float)
    assert_allclose(widths, np.sort(margins))
    assert "round 1, passed" in _title(ax)


def test_the_summary_dilution_panel_does_not_collapse_onto_zero(run_dir):
    res = _results(run_dir)
    reps = res.table("replications").copy()
    reps["passed"] = True
    reps["dilution"] = 0.0
    reps.loc[reps.index[:20], "dilution"] = np.linspace(-0.5, 0.4, 20)
    summary = pd.DataFrame({"proposal": ["deal"], "p_consensus": [1.0], "ci_low": [0.99],
                            "ci_high": [1.0]})
    fig = plotting.run_summary_figure(summary, reps, scenario=res.scenario)
    ax_d = fig.axes[1]
    lo, hi = ax_d.get_xlim()
    assert lo < -0.5 and hi > 1.0  # the amended texts and the status quo are in view
    notes = [t.get_text() for t in ax_d.texts]
    assert any("as tabled; 20 amended" in t for t in notes)


def test_the_sweep_report_is_pivoted_and_titled_by_the_experiment(sweep_dir):
    import re

    from cicasim.plotting.report import render_report

    html = render_report(sweep_dir)
    assert "<h1>cicasim sweep: test (scenario tiny)</h1>" in html
    i = html.index("Headline numbers")
    first = re.search(r"<table>.*?</table>", html[i:], re.S).group(0)
    header = re.findall(r"<th>(.*?)</th>", first)
    assert header == ["point", "design point", "members", "A deeper deal", "A modest step"]
    points = pd.read_parquet(sweep_dir / "points.parquet")
    assert first.count("<tr>") - 1 == len(points)  # one row per design point
    assert "negative = more ambitious than tabled" in html


def test_a_proposal_under_a_majority_rule_is_headed_p_adopted(run_dir):
    res = _results(run_dir)
    data = res.scenario.model_dump()
    data["proposals"][0]["rule"] = {"kind": "simple-majority"}
    scen = parse_scenario(data, "<qmv>")
    summary = pd.DataFrame({"proposal": ["deal"], "p_consensus": [0.5], "ci_low": [0.4],
                            "ci_high": [0.6]})
    fig = plotting.run_summary_figure(summary, res.table("replications"), scenario=scen)
    assert fig.axes[0].get_xlabel().startswith("P(adopted)")


def test_under_a_majority_rule_every_figure_and_the_report_say_p_adopted(tmp_path):
    """The sweep's, the comparison's and the run's figures and reports name the probability
    by the rules of the proposals they hold (P(consensus) appears in none of them)."""
    from cicasim.plotting.report import render_report

    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    majority = tmp_path / "majority.toml"
    majority.write_text(text.replace('rule = { kind = "consensus" }',
                                     'rule = { kind = "simple-majority" }'), encoding="utf-8")
    exp = tmp_path / "e.toml"
    exp.write_text('[experiment]\nname = "m"\nscenario = "majority.toml"\nseed = 1\n'
                   'replications = 60\n[[factors]]\nkind = "enlargement"\n', encoding="utf-8")
    outs = {k: tmp_path / k for k in ("sweep", "compare", "run")}
    assert main(["sweep", str(exp), "--out", str(outs["sweep"]), "-j", "1"]) == 0
    assert main(["compare", str(majority), "--enlarge", "-n", "60", "--seed", "1", "-j", "1",
                 "--out", str(outs["compare"])]) == 0
    assert main(["run", str(majority), "-n", "60", "--seed", "1", "--out",
                 str(outs["run"])]) == 0
    for kind, out in outs.items():
        res = _results(out)
        assert plotting.results_probability_name(res) == "P(adopted)"
        labels = []
        for _stem, caption, fig in plotting.standard_figures(res):
            labels.append(caption)
            if fig._suptitle is not None:
                labels.append(fig.get_suptitle())
            for ax in fig.axes:
                labels += [ax.get_xlabel(), ax.get_ylabel(), _title(ax)]
        shown = " ".join(labels)
        assert "P(adopted)" in shown and "P(consensus)" not in shown, (kind, shown)
        html = render_report(out)
        head = html[html.index("Headline numbers"):html.index("<h2>Figures")]
        method = html[html.index("<h2>Method"):html.index("<h2>Provenance")]
        if kind != "compare":
            assert "P(adopted)" in head, kind
        assert "P(consensus)" not in head + method, kind


def test_long_proposal_titles_are_wrapped_never_cut():
    """Panel titles of the heatmap and the Sobol figure hold the whole title (CICA's
    transformation has 79 characters)."""
    scen = load_scenario(ROOT / "scenarios" / "cica-2022.toml")
    pid = "transformation"
    full = scen.proposal(pid).title
    assert len(full) > 64
    rows = [{"point": i, "proposal": pid, "a": a, "b": b, "p_consensus": 0.5, "ci_low": 0.4,
             "ci_high": 0.6} for i, (a, b) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)])]
    heat = plotting.sweep_heatmap(pd.DataFrame(rows), x="a", y="b", scenario=scen)
    sobol = plotting.sobol_figure(pd.DataFrame({
        "proposal": [pid], "factor": ["a"], "S1": [0.2], "S1_conf": [0.1], "ST": [0.3],
        "ST_conf": [0.1]}), scenario=scen)
    for fig in (heat, sobol):
        titles = [" ".join(_title(ax).split()) for ax in fig.axes]
        assert full in titles and not any("…" in t for t in titles)


def test_plot_and_report_report_progress_per_figure(run_dir, tmp_path):
    from cicasim.plotting.report import write_report

    for write in (
        lambda seen: plotting.write_standard_figures(run_dir, out=tmp_path / "f", dpi=20,
                                                     progress=lambda *a: seen.append(a)),
        lambda seen: write_report(run_dir, out=tmp_path / "r.html",
                                  progress=lambda *a: seen.append(a)),
    ):
        seen: list[tuple[int, int]] = []
        write(seen)
        total = len(plotting.figure_names(_results(run_dir)))
        assert seen == [(k, total) for k in range(1, total + 1)]


# -- sweep folders written before steps.parquet ---------------------------------------------------


def _enlargement_sweep(tmp: Path, scenario: str, *, extra: str = "") -> Path:
    """A small enlargement sweep of the experiment ``tmp/experiments/old.toml`` (``scenario``
    as its experiment.scenario field), then steps.parquet removed, as in a folder written
    before that table existed; returns the folder."""
    exp = tmp / "experiments" / "old.toml"
    exp.parent.mkdir(exist_ok=True)
    exp.write_text(
        f'[experiment]\nname = "old"\nscenario = {json.dumps(scenario)}\nseed = 3\n'
        f'replications = 30\n{extra}\n[[factors]]\nkind = "enlargement"\n',
        encoding="utf-8",
    )
    out = tmp / "res"
    assert main(["sweep", str(exp), "--out", str(out), "-j", "1", "--json"]) == 0
    (out / "steps.parquet").rename(tmp / "steps.parquet")
    return out


def test_an_old_sweep_folder_gets_who_joins_from_the_experiment_its_manifest_records(
    sweep_dir, tmp_path
):
    old = tmp_path / "old"
    shutil.copytree(sweep_dir, old, ignore=shutil.ignore_patterns("figures"))
    (old / "steps.parquet").unlink()
    assert not _results(old).has("steps")
    joined = plotting._joined(pd.read_parquet(sweep_dir / "steps.parquet"))
    assert joined and plotting._sweep_joined(_results(old)) == joined
    for kind in ("enlargement", "dilution", "delta"):
        (a,) = plotting.write_standard_figures(sweep_dir, kind=kind, out=tmp_path / "new")
        (b,) = plotting.write_standard_figures(old, kind=kind, out=tmp_path / "old-figures")
        assert a.read_bytes() == b.read_bytes(), kind


def test_who_joins_is_rebuilt_from_inputs_recorded_by_relative_paths(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(TINY, scenarios / "tiny.toml")
    out = _enlargement_sweep(tmp_path, "../scenarios/tiny.toml")
    assert "../scenarios/tiny.toml" in _results(out).manifest.inputs
    shutil.rmtree(scenarios)  # the rebuild reads the manifest, not the files
    joined = plotting._joined(pd.read_parquet(tmp_path / "steps.parquet"))
    assert joined and plotting._sweep_joined(_results(out)) == joined


def test_an_old_sweep_folder_that_cannot_be_planned_again_says_so_once(tmp_path, capsys):
    # the parameter-set file the experiment reads is not among the manifest's inputs
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "params.toml").write_text("[behaviour]\nvote_noise = 0.05\n",
                                                          encoding="utf-8")
    out = _enlargement_sweep(tmp_path, TINY, extra='params = "params.toml"')
    capsys.readouterr()
    with pytest.warns(ResultsWarning, match="no steps.parquet") as caught:
        paths = plotting.write_standard_figures(out, out=tmp_path / "figures")
    assert len(caught) == 1
    assert "params.toml" in str(caught[0].message)
    assert {p.stem for p in paths} >= {"enlargement", "dilution"}
    with pytest.warns(ResultsWarning):
        fig = _results(out).plot("enlargement")
    assert not fig.axes[0].child_axes  # no top axis naming who joins
    with warnings.catch_warnings():
        warnings.simplefilter("always", ResultsWarning)
        assert main(["plot", str(out), "--kind", "enlargement"]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("cicasim: warning:")]
    assert len(lines) == 1 and "do not say who joins" in lines[0]


def test_a_runs_probability_name_comes_from_its_manifest_not_its_replications(run_dir,
                                                                           monkeypatch):
    """Naming the probability of a run reads the proposals its manifest records: the
    replications table can hold millions of rows."""
    res = _results(run_dir)
    read = []
    original = type(res).table
    monkeypatch.setattr(type(res), "table",
                        lambda self, name: read.append(name) or original(self, name))
    assert plotting.results_probability_name(res) == "P(consensus)"
    assert read == []
