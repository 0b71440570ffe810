"""A self-contained HTML report of a results directory.

One file, no external resources: the figures are embedded as base64 PNG (``data:`` URIs) and
the style sheet is inline, so the report opens offline and can be mailed or archived as it is.
It holds the scenario summary, the headline numbers with their intervals, every standard figure
(:func:`cicasim.plotting.standard_figures`), a short method section and the provenance recorded
in the manifest (seed, versions, git commit, input hashes).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from cicasim.display import count
from cicasim.errors import InputError
from cicasim.plotting import Results, load_results, results_probability_name, standard_figures
from cicasim.results import make_directory, read_json, write_text_atomic
from cicasim.spec.scenario import Scenario

__all__ = ["render_report", "write_report"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.8em; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.3em; }
code { font-size: 0.92em; background: #f5f5f5; padding: 0 0.2em; }
.note { color: #555; font-size: 0.9em; }
"""

METHOD = {
    "common": (
        "Each replication runs the negotiation of one proposal round by round: members evaluate "
        "the text against the status quo with a salience-weighted loss, vote to accept, abstain "
        "or object (with a rival penalty, possible hold-up and vote noise), the decision rule "
        "decides, the sponsor amends the text toward the capability- and salience-weighted "
        "compromise (Achen 2006), and positions move by anchored social influence (Friedkin &amp;"
        " Johnsen 1999). Uncertain inputs (positions, capabilities, tensions) are drawn afresh in"
        " every replication from a seeded random stream, so the same seed gives the same numbers "
        "on any machine. {pname} is the share of replications that passed{rule}, with a 95% "
        "Wilson interval (Brown, Cai &amp; DasGupta 2001). Dilution is the signed share of the "
        "way the agreed text moved from the tabled text toward the status quo: its projection on "
        "the line from the tabled text to the status quo, 0 = as tabled, 1 = at the status quo, "
        "negative = more ambitious than tabled; drift is its distance off that line on the same "
        "scale. The model is specified in <code>docs/model.md</code>."
    ),
    "run": (
        "This run is a Monte Carlo ensemble of one scenario. A member's blocking frequency is "
        "the share of replications in which it objected in the last round and the proposal "
        "failed. The negotiation traces show replication 0 run through the Mesa model, which "
        "uses the same random numbers as the ensemble."
    ),
    "sweep": (
        "This sweep runs the ensemble at every point of an experimental design (factors such as "
        "enlargement steps or behaviour parameters). With common random numbers all points "
        "share their random streams, so the curves are smooth and the change against the first "
        "point has a paired interval (Newcombe 1998)."
    ),
    "compare": (
        "This comparison runs two scenarios with the same seed: the actors they share draw the "
        "same random numbers (common random numbers), so the difference ΔP = P(B) - P(A) has a "
        "paired 95% interval (Newcombe 1998, method 10), narrower than the two sides' own "
        "intervals suggest."
    ),
    "sensitivity": (
        "This sensitivity analysis runs the ensemble over a Saltelli sample of the factors and "
        "estimates first-order (S1) and total (ST) Sobol indices of {pname} with bootstrap "
        "confidence intervals (Saltelli et al. 2010, as implemented in SALib). S1 is the share "
        "of the variance a factor explains alone; ST adds its interactions."
    ),
}


def _method(kind: str, pname: str) -> str:
    """The method text of ``kind``, naming the probability as the results' rules do."""
    rule = "" if pname == "P(consensus)" else " (met the proposal's decision rule)"
    return METHOD[kind].replace("{pname}", pname).replace("{rule}", rule)


# -- small HTML helpers -------------------------------------------------------------------------


def _num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return escape(str(v))
    if math.isnan(f):
        return "–"
    return f"{f:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] = frozenset()
           ) -> str:
    """An HTML table; cells are HTML already (escape text before passing it)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _name(scenario: Scenario | None, actor: str) -> str:
    if scenario is not None:
        for a in scenario.actors:
            if a.id == actor:
                return escape(a.name or a.id)
    return escape(actor)


def _interval(p: Any, lo: Any, hi: Any) -> str:
    return f"{_num(p)} ({_num(lo)}–{_num(hi)})"


# -- sections ------------------------------------------------------------------------------------


def _scenario_section(scenario: Scenario | None, manifest: dict) -> str:
    if scenario is None:
        return "<h2>Scenario</h2><p>The manifest holds no scenario text.</p>"
    info = scenario.scenario
    parts = ["<h2>Scenario</h2>"]
    lead = f"<strong>{escape(info.name)}</strong>"
    if info.year:
        lead += f" ({info.year})"
    if info.description:
        lead += f": {escape(info.description)}"
    parts.append(f"<p>{lead}</p>")
    members, observers = scenario.members, scenario.observers
    parts.append(
        f"<p>{count(len(members), 'member')}, {count(len(observers), 'observer')}; "
        f"{count(len(scenario.dimensions), 'policy dimension')}: "
        + ", ".join(escape(d.name or d.id) for d in scenario.dimensions) + ".</p>"
    )
    parts.append(
        "<p class=\"note\">Members: " + ", ".join(_name(scenario, a.id) for a in members)
        + ("." if not observers else
           ". Observers: " + ", ".join(_name(scenario, a.id) for a in observers) + ".")
        + "</p>"
    )
    rows = []
    for p in scenario.proposals:
        touches = "; ".join(
            f"{escape(t.dimension)}: {t.status_quo:g} → {t.position:g}" for t in p.touches
        )
        rows.append([escape(p.id), escape(p.title), _name(scenario, p.sponsor),
                     escape(p.rule.kind), touches, str(p.max_rounds)])
    if rows:
        parts.append(_table(
            ["proposal", "title", "sponsor", "rule", "status quo → text (0-100)", "max rounds"],
            rows, numeric={5},
        ))
    return "".join(parts)


def _run_headline(results: Results) -> str:
    path = results.directory / "summary.json"
    if not path.is_file():
        return "<p>No summary.json in this run.</p>"
    data = read_json(path, what="a run's summary, JSON")
    scen = results.scenario
    proposals = data.get("proposals", [])
    # the rule's a-priori passage probability, when the run recorded it
    prior = all("a_priori_passage" in p for p in proposals) and bool(proposals)
    rows = []
    for p in proposals:
        blockers = ", ".join(
            f"{_name(scen, b['actor'])} {b['frequency']:.2f}" for b in p.get("blockers", [])
        ) or "–"
        row = [escape(p.get("title") or p["id"]),
               _interval(p["p_consensus"], p["ci_low"], p["ci_high"])]
        if prior:
            row.append(f"{float(p['a_priori_passage']):.3g}")
        row += [_num(p.get("median_rounds"), 1), _num(p.get("mean_dilution"), 2), blockers]
        rows.append(row)
    header = ["proposal", f"{results_probability_name(results)} (95% interval)"]
    if prior:
        header.append("rule alone (coin-flip voters)")
    header += ["median rounds", "mean dilution", "top blockers (frequency)"]
    n = data.get("replications")
    return (
        f"<p>{int(n):,} replications per proposal, seed {escape(str(data.get('seed')))}.</p>"
        if n else ""
    ) + _table(header, rows, numeric=set(range(1, len(header) - 1)))


def _sweep_headline(results: Results) -> str:
    """The design points as rows and the proposals as columns: P(consensus) with its 95%
    interval, and below it ΔP against point 0 with its paired interval; then the mean
    dilution in the same layout."""
    summary = results.table("summary")
    scen = results.scenario
    titles = {p.id: p.title for p in scen.proposals} if scen is not None else {}
    if results.has("points"):
        pts = results.table("points")
        labels = dict(zip(pts["point"], pts["label"], strict=True))
    else:
        labels = {}
    deltas = None
    if results.has("deltas"):
        d = results.table("deltas")
        deltas = {(r.point, r.proposal): r for r in d.itertuples()}
    pids = list(dict.fromkeys(summary["proposal"]))
    cells = {(r.point, r.proposal): r for r in summary.itertuples()}
    points = sorted(set(summary["point"]))[:200]
    members = dict(zip(summary["point"], summary.get("n_members", summary["point"]),
                       strict=True))
    head = ["point", "design point", "members"]
    ptable, dtable = [], []
    for pt in points:
        row = [str(pt), escape(str(labels.get(pt, ""))), escape(str(members.get(pt, "")))]
        prow, drow = list(row), list(row)
        for pid in pids:
            r = cells.get((pt, pid))
            if r is None:
                prow.append("–")
                drow.append("–")
                continue
            cell = _interval(r.p_consensus, r.ci_low, r.ci_high)
            dd = deltas.get((pt, pid)) if deltas else None
            if dd is not None and pt != points[0]:
                cell += (f'<br><span class="note">ΔP {dd.delta:+.3f} ({dd.delta_low:+.3f} to '
                         f"{dd.delta_high:+.3f})</span>")
            prow.append(cell)
            drow.append(_num(r.mean_dilution, 2))
        ptable.append(prow)
        dtable.append(drow)
    cols = [escape(titles.get(pid) or pid) for pid in pids]
    more = len(set(summary["point"])) - len(points)
    note = f"<p class=\"note\">… {more} more design points in summary.parquet.</p>" if more else ""
    m = results.manifest
    lead = (f"<p>Experiment <strong>{escape(str(m.get('experiment', '')))}</strong>: "
            f"{escape(str(m.get('design', '')))} design, {m.get('points', '?')} points, "
            f"{int(m.get('replications') or 0):,} replications per point and proposal; "
            f"factors: {escape(', '.join(m.get('factors') or []) or 'none')}.</p>"
            f"<p>{results_probability_name(results)} with its 95% Wilson interval"
            + ("; below it ΔP against the first design point with its paired 95% interval "
               "(common random numbers)" if deltas else "") + ".</p>")
    numeric = set(range(3, 3 + len(pids))) | {0, 2}
    dil = ("<p>Mean dilution of the agreed texts (the signed share of the way from the tabled "
           "text to the status quo: 0 = as tabled, 1 = at the status quo, negative = more "
           "ambitious than tabled; – where none passed):</p>"
           + _table(head + [f"{c}" for c in cols], dtable, numeric=numeric))
    return lead + _table(head + cols, ptable, numeric=numeric) + note + dil


def _compare_headline(results: Results) -> str:
    c = results.table("comparison")
    scen = results.scenario
    titles = {p.id: p.title for p in scen.proposals} if scen is not None else {}
    m = results.manifest
    rows = [[
        escape(titles.get(r.proposal) or r.proposal),
        _interval(r.p_a, r.ci_a_low, r.ci_a_high),
        _interval(r.p_b, r.ci_b_low, r.ci_b_high),
        f"{r.delta:+.3f} ({r.delta_low:+.3f} to {r.delta_high:+.3f})",
    ] for r in c.itertuples()]
    return (
        f"<p>A: <code>{escape(str(m.get('a', 'A')))}</code><br>"
        f"B: <code>{escape(str(m.get('b', 'B')))}</code></p>"
        + _table(["proposal", "P(A) (95% interval)", "P(B) (95% interval)",
                  "ΔP = P(B) − P(A) (paired 95% interval)"], rows, numeric={1, 2, 3})
    )


def _sensitivity_headline(results: Results) -> str:
    s = results.table("sobol")
    rows = [[escape(str(r.proposal)), escape(str(r.factor)),
             f"{r.S1:.3f} ± {r.S1_conf:.3f}", f"{r.ST:.3f} ± {r.ST_conf:.3f}"]
            for r in s.itertuples()]
    ranges = results.manifest.get("factor_ranges") or {}
    lead = ""
    if ranges:
        def shown(v: list) -> str:
            if len(v) == 2 and all(isinstance(x, int | float) for x in v):
                return f"{v[0]:g} to {v[1]:g}"
            return ", ".join(escape(str(x)) for x in v)

        lead = ("<p>Factors and the ranges the Saltelli sample spans (uniformly):</p>"
                + _table(["factor", "range"],
                         [[escape(k), shown(v)] for k, v in ranges.items()], numeric={1}))
    return lead + _table(
        ["proposal", "factor", "S1 (± 95% half-width)", "ST (± 95% half-width)"],
        rows, numeric={2, 3},
    )


HEADLINES = {
    "run": _run_headline,
    "sweep": _sweep_headline,
    "compare": _compare_headline,
    "sensitivity": _sensitivity_headline,
}


def _figures_section(
    results: Results, *, dpi: int, progress: Callable[[int, int], None] | None = None
) -> str:
    from cicasim.plotting import figure_names, save_figure

    parts = ["<h2>Figures</h2>"]
    total = len(figure_names(results)) if progress else 0
    for done, (stem, caption, fig) in enumerate(standard_figures(results), start=1):
        buf = io.BytesIO()
        save_figure(fig, buf, fmt="png", dpi=dpi)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts.append(
            f'<figure id="fig-{escape(stem)}"><img alt="{escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{escape(caption)} '
            f"(<code>{escape(stem)}</code>)</figcaption></figure>"
        )
        if progress:
            progress(done, total)
    if len(parts) == 1:
        parts.append("<p>No figures apply to these results.</p>")
    return "".join(parts)


def _provenance_section(manifest: dict) -> str:
    rows = [
        ["results kind", escape(str(manifest.get("cicasim_results")))],
        ["seed", escape(str(manifest.get("seed")))],
        ["created", escape(str(manifest.get("created", "–")))],
        ["git commit", f"<code>{escape(str(manifest.get('git_commit') or 'unknown'))}</code>"],
        ["command", f"<code>{escape(' '.join(map(str, manifest.get('command') or [])))}</code>"],
    ]
    if manifest.get("block_size"):
        rows.append(["replication block size", escape(str(manifest["block_size"]))])
    for name, info in (manifest.get("inputs") or {}).items():
        digest = (info or {}).get("sha256", "–")
        rows.append([f"input {escape(name)} (SHA-256)", f"<code>{escape(str(digest))}</code>"])
    versions = manifest.get("versions") or {}
    if versions:
        rows.append(["versions", escape(", ".join(f"{k} {v}" for k, v in versions.items()))])
    return "<h2>Provenance</h2>" + _table(["item", "value"], rows)


def render_report(
    results_dir: str | Path, *, dpi: int = 110,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """The HTML text of the report of a results directory; ``progress(done, total)`` is
    called after each figure drawn."""
    results = load_results(results_dir)
    m, scen = results.manifest, results.scenario
    kind = results.kind
    pname = results_probability_name(results)
    title = f"cicasim {kind}: {results.title}"
    if kind in ("sweep", "sensitivity") and m.get("experiment"):
        title = f"cicasim {kind}: {m['experiment']} (scenario {results.title})"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class=\"lead\">Results directory <code>{escape(results.directory.name)}</code>, "
        f"seed {escape(str(m.get('seed')))}, created {escape(str(m.get('created', '–')))}.</p>",
        _scenario_section(scen, m),
        "<h2>Headline numbers</h2>",
        HEADLINES[kind](results),
        _figures_section(results, dpi=dpi, progress=progress),
        "<h2>Method</h2>",
        f"<p>{_method('common', pname)}</p><p>{_method(kind, pname)}</p>",
        _provenance_section(m),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_report(
    results_dir: str | Path, *, out: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the report (default ``results_dir/report.html``) atomically; returns its path
    (``progress`` as in :func:`render_report`)."""
    html = render_report(results_dir, progress=progress)
    target = Path(out) if out is not None else Path(results_dir) / "report.html"
    if target.is_dir():
        raise InputError(f"--out: {target} is a directory; give a file name ending in .html")
    make_directory(target.parent)
    write_text_atomic(target, html)
    return target
