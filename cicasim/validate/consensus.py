"""P(consensus) against real consensus decisions: the event validation.

Each event (:mod:`cicasim.validate.events`) becomes the calibrated scenario of its members in
its year (:func:`cicasim.calibrate.organisation.calibrate_organisation`); the forecast is the
ensemble's P(consensus) on the flagship text.  Its random numbers are drawn once per event and
reused for every behaviour setting (common random numbers, :class:`PreparedIssue`), so the grid
of the fit costs negotiations only.

**Fitting** is leave-one-organisation-out: for each organisation, the amendment protocol and the
behaviour parameters of :data:`GRID` (at most three) are chosen by the Brier score on the other
organisations' events, and so are the baselines' coefficients; the held-out organisation's events
are forecast with them.  Every protocol's own cross-validated scores are reported too.

**Baselines**, on the same events: the base rate of adoption; a logistic model on the number of
members; a logistic model on the largest tension between two members (the calibrated tension,
without noise).

**Frozen scoring** (any other event file): the model and the baselines use the shipped
``consensus-organisations`` parameters and coefficients; nothing is fitted to the file scored.

**The enlargement test** compares, for every enlargement inside the events, the model's paired
ΔP(consensus) (the first meeting after the enlargement, with and without the new members, common
random numbers) with the observed change in the adoption rate over the same number of meetings
before and after.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cicasim.analysis.compare import paired_difference
from cicasim.calibrate.organisation import calibrate_organisation
from cicasim.calibrate.writer import scenario_mapping
from cicasim.engine.ensemble import wilson
from cicasim.spec.scenario import Scenario, parse_scenario
from cicasim.validate.events import Event
from cicasim.validate.predict import prepare_issue
from cicasim.validate.scores import auc, brier, fit_logistic, log_loss, logistic, reliability

__all__ = [
    "GRID",
    "ConsensusReport",
    "enlargements",
    "grid_settings",
    "leave_one_org_out",
    "evaluate_events",
    "validate_consensus",
]

#: the fitted quantities: the amendment protocol and three behaviour parameters (a second grid,
#: with the abstention band in place of the rival penalty and vote noise up to 1, did worse out
#: of sample: docs/validation-consensus.md)
GRID: dict[str, list[Any]] = {
    "amendment": ["compromise", "accommodate"],
    "holdup_rate": [0.0, 0.05, 0.15, 0.4],
    "rival_penalty": [0.0, 0.2, 0.6, 1.5],
    "vote_noise": [0.02, 0.1, 0.3],
}
BASELINES = ("base_rate", "members", "tension")


def grid_settings(grid: dict[str, list[Any]] = GRID) -> list[dict[str, Any]]:
    """Every combination of the grid, in a fixed order."""
    keys = list(grid)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*grid.values())]


def event_scenario(event: Event, data: Path, members: Sequence[str] | None = None) -> Scenario:
    """The calibrated scenario of ``event`` (or of ``members`` in the event's year)."""
    cal = calibrate_organisation(data=data, year=event.year,
                                 members=list(members or event.members), name=event.org)
    return parse_scenario(scenario_mapping(cal), f"<{event.key}>")


def _max_tension(s: Scenario) -> float:
    members = {a.id for a in s.members}
    vals = [t.value for t in s.tensions if t.pair[0] in members and t.pair[1] in members]
    return max(vals, default=0.0)


def _evaluate_event(job: tuple[Event, Path, int, int, list[dict[str, Any]]]
                    ) -> tuple[np.ndarray, float]:
    """One event: calibrate, draw once, P(consensus) under every setting; and its largest
    member tension.  A module-level function, so a process pool can run it."""
    event, data, replications, seed, settings = job
    s = event_scenario(event, data)
    prep = prepare_issue(s, replications=replications, seed=seed)
    return np.array([prep.run(st).passed.mean() for st in settings]), _max_tension(s)


def evaluate_events(events: Sequence[Event], data: Path, settings: Sequence[dict[str, Any]], *,
                    replications: int, seed: int, workers: int = 1,
                    progress: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """P(consensus) of every event (columns) under every setting (rows), and each event's
    largest member tension.  Events run in parallel over ``workers`` processes; each event's
    random numbers depend only on the seed and its actors, so the numbers are the same for
    any number of workers."""
    jobs = [(e, Path(data), replications, seed, list(settings)) for e in events]
    table = np.empty((len(settings), len(events)))
    tension = np.empty(len(events))
    if workers <= 1:
        results = map(_evaluate_event, jobs)
        pool = None
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_evaluate_event, jobs)
    try:
        for j, (col, t) in enumerate(results):
            table[:, j] = col
            tension[j] = t
            if progress:
                progress()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return table, tension


def _baseline_fit(name: str, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if name == "base_rate":
        r = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
        return math.log(r / (1 - r)), 0.0
    return fit_logistic(x, y)


def _covariates(events: Sequence[Event], tension: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "base_rate": np.zeros(len(events)),
        "members": np.array([len(e.members) for e in events], dtype=float),
        "tension": np.asarray(tension, dtype=float),
    }


@dataclass
class CrossValidated:
    """Leave-one-organisation-out forecasts of the model, each protocol and the baselines."""

    model: np.ndarray
    protocols: dict[str, np.ndarray]
    baselines: dict[str, np.ndarray]
    chosen: dict[str, dict[str, Any]]  # held-out organisation -> the setting fitted without it
    train_orgs: dict[str, list[str]]


def _protocol_rows(settings: Sequence[dict[str, Any]]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for k, st in enumerate(settings):
        rows.setdefault(st["amendment"], []).append(k)
    return rows


def _inner_cv_brier(orgs_arr: np.ndarray, train: np.ndarray, sq: np.ndarray,
                    rows: list[int]) -> float:
    """Leave-one-organisation-out Brier score of one protocol *within* the training events:
    each training organisation forecast with the protocol's setting fitted on the others."""
    total, n = 0.0, 0
    for inner in dict.fromkeys(orgs_arr[train]):
        test = train & (orgs_arr == inner)
        fit = train & ~test
        if not fit.any():
            continue
        k = rows[int(np.argmin(sq[rows][:, fit].mean(axis=1)))]
        total += float(sq[k, test].sum())
        n += int(test.sum())
    return total / n if n else float("inf")


def leave_one_org_out(orgs: Sequence[str], y: np.ndarray, table: np.ndarray,
                      settings: Sequence[dict[str, Any]],
                      covariates: dict[str, np.ndarray]) -> CrossValidated:
    """For each organisation, fit on the other organisations' events and forecast its own.

    The fit is nested: the amendment protocol is the one whose leave-one-organisation-out Brier
    score *within* the training events is lowest (the protocols are chosen by cross-validation,
    not by their fit), then its behaviour setting is the one of least Brier score on all the
    training events; the baselines' coefficients are fitted on the training events too.  Each
    protocol's own forecasts (its setting fitted on the training events) are kept as well.
    ``table``: settings × events, as :func:`evaluate_events` returns it."""
    orgs_arr = np.asarray(orgs)
    n = len(orgs)
    model = np.empty(n)
    prot_rows = _protocol_rows(settings)
    per_protocol = {p: np.empty(n) for p in prot_rows}
    base = {b: np.empty(n) for b in BASELINES}
    chosen, train_orgs = {}, {}
    sq = (table - y[None, :]) ** 2
    for org in dict.fromkeys(orgs):
        test = orgs_arr == org
        train = ~test
        if not train.any():
            raise ValueError("leave-one-organisation-out needs at least two organisations")
        train_orgs[org] = sorted(set(orgs_arr[train]))
        loss = sq[:, train].mean(axis=1)
        best_k = {p: rows[int(np.argmin(loss[rows]))] for p, rows in prot_rows.items()}
        for p, out in per_protocol.items():
            out[test] = table[best_k[p], test]
        inner = {p: _inner_cv_brier(orgs_arr, train, sq, rows) for p, rows in prot_rows.items()}
        protocol = min(inner, key=lambda p: (inner[p], p))
        chosen[org] = dict(settings[best_k[protocol]])
        model[test] = table[best_k[protocol], test]
        for b in BASELINES:
            a, c = _baseline_fit(b, covariates[b][train], y[train])
            base[b][test] = logistic(a, c, covariates[b][test])
    return CrossValidated(model, per_protocol, base, chosen, train_orgs)


def full_fit(orgs: Sequence[str], y: np.ndarray, table: np.ndarray,
             settings: Sequence[dict[str, Any]]) -> tuple[int, dict[str, float]]:
    """The shipped fit on all the events, by the same rule as each fold: the protocol of least
    leave-one-organisation-out Brier score, then its setting of least Brier score.  Returns
    the setting's row and every protocol's cross-validated Brier score."""
    orgs_arr = np.asarray(orgs)
    sq = (table - y[None, :]) ** 2
    every = np.ones(len(orgs), dtype=bool)
    prot_rows = _protocol_rows(settings)
    cv = {p: _inner_cv_brier(orgs_arr, every, sq, rows) for p, rows in prot_rows.items()}
    protocol = min(cv, key=lambda p: (cv[p], p))
    rows = prot_rows[protocol]
    return rows[int(np.argmin(sq[rows].mean(axis=1)))], cv


def _scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"brier": brier(p, y), "log_loss": log_loss(p, y), "auc": auc(p, y)}


def _bss_interval(p: np.ndarray, ref: np.ndarray, y: np.ndarray, *, seed: int,
                  draws: int = 2000) -> tuple[float, float]:
    """95% bootstrap interval of the Brier skill score, resampling events."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    n = len(y)
    out = []
    for _ in range(draws):
        i = rng.integers(0, n, n)
        b_ref = np.mean((ref[i] - y[i]) ** 2)
        if b_ref > 0:
            out.append(1 - np.mean((p[i] - y[i]) ** 2) / b_ref)
    lo, hi = np.quantile(out, [0.025, 0.975])
    return float(lo), float(hi)


# -- enlargements -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Enlargement:
    """New members between two consecutive meetings of an organisation."""

    org: str
    index: int  # position (in the event list) of the first meeting with the new members
    joined: tuple[str, ...]
    before: tuple[int, ...]  # positions of the meetings compared before ...
    after: tuple[int, ...]  # ... and after (as many on each side)


def enlargements(events: Sequence[Event], window: int = 5) -> list[Enlargement]:
    """Every enlargement inside the events: per organisation in date order, a meeting whose
    members include states absent from the previous meeting, with up to ``window`` meetings
    on each side (the same number on both, stopping at the neighbouring enlargements)."""
    out = []
    by_org: dict[str, list[int]] = {}
    for k, e in enumerate(events):
        by_org.setdefault(e.org, []).append(k)
    for org, idx in by_org.items():
        idx = sorted(idx, key=lambda k: events[k].date)
        cuts = [j for j in range(1, len(idx))
                if set(events[idx[j]].members) - set(events[idx[j - 1]].members)]
        for c_pos, j in enumerate(cuts):
            lo = cuts[c_pos - 1] if c_pos > 0 else 0
            hi = cuts[c_pos + 1] if c_pos + 1 < len(cuts) else len(idx)
            w = min(window, j - lo, hi - j)
            if w < 1:
                continue
            joined = tuple(sorted(set(events[idx[j]].members) - set(events[idx[j - 1]].members)))
            out.append(Enlargement(org, idx[j], joined, tuple(idx[j - w:j]),
                                   tuple(idx[j:j + w])))
    return out


def _newcombe_independent(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p2 - p1 with Newcombe's (1998b, method 10) hybrid score interval for independent
    proportions."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    return (d, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
            d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))


def enlargement_test(events: Sequence[Event], data: Path, forecast: np.ndarray,
                     settings_for: Callable[[str], dict[str, Any]], *,
                     replications: int, seed: int) -> list[dict[str, Any]]:
    """Per enlargement: the model's paired ΔP at the first meeting after it (with against
    without the new members, common random numbers, Newcombe's paired interval), the
    forecasts' change over the windows, and the observed change in the adoption rate with
    Newcombe's interval for independent proportions."""
    rows = []
    for en in enlargements(events):
        e = events[en.index]
        setting = settings_for(e.org)
        old = [m for m in e.members if m not in en.joined]
        if not old:
            continue
        without = prepare_issue(event_scenario(e, data, old), replications=replications,
                                seed=seed).run(setting).passed
        with_ = prepare_issue(event_scenario(e, data), replications=replications,
                              seed=seed).run(setting).passed
        d, lo, hi = paired_difference(without, with_)
        kb = sum(events[k].adopted for k in en.before)
        ka = sum(events[k].adopted for k in en.after)
        od, olo, ohi = _newcombe_independent(kb, len(en.before), ka, len(en.after))
        fb = float(np.mean(forecast[list(en.before)]))
        fa = float(np.mean(forecast[list(en.after)]))
        verdict = ("about right" if olo <= d <= ohi else
                   "larger" if d < olo else "smaller")
        rows.append({
            "org": e.org, "date": e.date.isoformat(), "joined": list(en.joined),
            "members_before": len(old), "members_after": len(e.members),
            "meetings_each_side": len(en.before),
            "model_delta": d, "model_delta_ci": [lo, hi],
            "forecast_change": fa - fb,
            "observed_delta": od, "observed_delta_ci": [olo, ohi],
            "adopted_before": int(kb), "adopted_after": int(ka),
            "verdict": verdict,
        })
    return rows


def pooled_enlargement(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """All enlargements together: the model's ΔP averaged with the meetings compared as
    weights (its interval from the per-enlargement intervals' standard errors, taken as
    independent), against the pooled adoption rates after and before (Newcombe's interval for
    independent proportions)."""
    if not rows:
        return None
    w = np.array([r["meetings_each_side"] for r in rows], dtype=float)
    d = np.array([r["model_delta"] for r in rows])
    se = np.array([(r["model_delta_ci"][1] - r["model_delta_ci"][0]) / (2 * 1.959964)
                   for r in rows])
    md = float((w * d).sum() / w.sum())
    mse = float(math.sqrt((w * w * se * se).sum()) / w.sum())
    n = int(w.sum())
    kb = sum(r["adopted_before"] for r in rows)
    ka = sum(r["adopted_after"] for r in rows)
    od, olo, ohi = _newcombe_independent(kb, n, ka, n)
    lo, hi = md - 1.959964 * mse, md + 1.959964 * mse
    verdict = ("about right" if olo <= md <= ohi else "larger" if md < olo else "smaller")
    return {"enlargements": len(rows), "meetings_each_side": n,
            "model_delta": md, "model_delta_ci": [lo, hi],
            "observed_delta": od, "observed_delta_ci": [olo, ohi],
            "adopted_before": kb, "adopted_after": ka, "verdict": verdict}


# -- the whole validation -----------------------------------------------------------------------

@dataclass
class ConsensusReport:
    """Everything ``cicasim validate consensus`` prints, writes and plots."""

    mode: str  # "cross-validated" (leave one organisation out) or "frozen"
    events: list[Event]
    model: np.ndarray
    baselines: dict[str, np.ndarray]
    protocols: dict[str, np.ndarray] = field(default_factory=dict)
    chosen: dict[str, dict[str, Any]] = field(default_factory=dict)
    enlargement: list[dict[str, Any]] = field(default_factory=list)
    full_fit: dict[str, Any] = field(default_factory=dict)  # setting and coefficients, all events
    grid: np.ndarray | None = None  # P(consensus), settings × events
    settings: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    replications: int = 0
    events_sha256: str = ""

    @property
    def y(self) -> np.ndarray:
        return np.array([e.adopted for e in self.events], dtype=float)

    def to_json(self) -> dict[str, Any]:
        y = self.y
        ref = self.baselines["base_rate"]
        out: dict[str, Any] = {
            "mode": self.mode,
            "n_events": len(self.events),
            "n_failed": int((y == 0).sum()),
            "n_organisations": len({e.org for e in self.events}),
            **_scores(self.model, y),
            "baselines": {b: _scores(p, y) for b, p in self.baselines.items()},
            "bss": 1 - brier(self.model, y) / brier(ref, y),
            "bss_ci": list(_bss_interval(self.model, ref, y, seed=self.seed)),
            "protocols": {
                p: {**_scores(f, y), "bss": 1 - brier(f, y) / brier(ref, y)}
                for p, f in self.protocols.items()
            },
            "by_organisation": _by_org(self.events, self.model, self.baselines),
            "reliability": reliability(self.model, y),
            "chosen": self.chosen,
            "full_fit": self.full_fit,
            "enlargement": self.enlargement,
            "enlargement_pooled": pooled_enlargement(self.enlargement),
            "seed": self.seed,
            "replications": self.replications,
            "events_sha256": self.events_sha256,
        }
        return out

    def table(self):
        """One row per event: its forecast and the baselines' (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame({
            "org": [e.org for e in self.events],
            "date": [e.date.isoformat() for e in self.events],
            "decision": [e.decision for e in self.events],
            "members": [len(e.members) for e in self.events],
            "outcome": [e.outcome for e in self.events],
            "p_model": self.model,
            **{f"p_{b}": p for b, p in self.baselines.items()},
        })


def _by_org(events: Sequence[Event], model: np.ndarray,
            baselines: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    out = []
    orgs = np.array([e.org for e in events])
    y = np.array([e.adopted for e in events], dtype=float)
    for org in dict.fromkeys(orgs):
        m = orgs == org
        out.append({
            "org": str(org), "n": int(m.sum()), "failed": int((y[m] == 0).sum()),
            "brier": brier(model[m], y[m]),
            "brier_base_rate": brier(baselines["base_rate"][m], y[m]),
            "mean_forecast": float(model[m].mean()), "adoption_rate": float(y[m].mean()),
        })
    return out


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def validate_consensus(
    events: Sequence[Event], data: Path, *, replications: int, seed: int,
    params: dict[str, Any] | None = None, events_sha256: str = "", workers: int = 1,
    progress: Callable[[str, int], Callable[[], None]] | None = None,
    grid: dict[str, list[Any]] = GRID,
) -> ConsensusReport:
    """Cross-validated (``params`` None) or frozen (``params`` the shipped set) validation.
    ``progress(label, total)`` returns a callback to advance a progress bar."""
    events = list(events)
    y = np.array([e.adopted for e in events], dtype=float)
    frozen = params is not None
    settings = [dict(params["behaviour"])] if frozen else grid_settings(grid)
    table, tension = evaluate_events(
        events, data, settings, replications=replications, seed=seed, workers=workers,
        progress=progress("events", len(events)) if progress else None)
    cov = _covariates(events, tension)
    common = {"seed": seed, "replications": replications, "events_sha256": events_sha256}
    if frozen:
        setting = settings[0]
        base = {b: logistic(*params["baselines"][b], cov[b]) for b in BASELINES}
        rep = ConsensusReport("frozen", events, table[0], base, chosen={"all": setting}, **common)
        rep.enlargement = enlargement_test(events, data, table[0], lambda _o: setting,
                                           replications=replications, seed=seed)
        return rep
    orgs = [e.org for e in events]
    cv = leave_one_org_out(orgs, y, table, settings, cov)
    best, protocol_cv = full_fit(orgs, y, table, settings)
    full = {
        "behaviour": dict(settings[best]),
        "baselines": {b: list(_baseline_fit(b, cov[b], y)) for b in BASELINES},
        "brier_in_sample": float(((table[best] - y) ** 2).mean()),
        "protocol_cv_brier": protocol_cv,
    }
    rep = ConsensusReport("cross-validated", events, cv.model, cv.baselines, cv.protocols,
                          cv.chosen, full_fit=full, grid=table, settings=list(settings), **common)
    rep.enlargement = enlargement_test(events, data, cv.model, lambda o: cv.chosen[o],
                                       replications=replications, seed=seed)
    return rep


def params_text(rep: ConsensusReport, grid: dict[str, list[Any]] = GRID) -> str:
    """The ``consensus-organisations`` parameter set from a cross-validated report."""
    j = rep.to_json()
    b = rep.full_fit["behaviour"]
    lines = [
        "# The `consensus-organisations` parameter set: the amendment protocol and behaviour",
        "# parameters fitted to real consensus decisions (data/consensus-events.tsv), and the",
        "# baselines' coefficients. Written by `cicasim validate consensus",
        "# data/consensus-events.tsv --data DIR --write-params FILE`;",
        "# docs/validation-consensus.md tells how and how well.",
        'name = "consensus-organisations"',
        'description = "fitted on the shipped consensus events; scores leave-one-organisation-out"',
        "",
        "[behaviour]",
        "# the protocol of least leave-one-organisation-out Brier score on the shipped events,",
        "# then its setting of least Brier score on all of them (grid in [fit.grid])",
    ]
    for k, v in b.items():
        lines.append(f"{k} = {_toml(v)}")
    lines += ["", "[baselines]", "# logit P(adopted) = a + b x; x = 0 (base rate), the member "
              "count, the largest member tension"]
    for k, (a, c) in rep.full_fit["baselines"].items():
        lines.append(f"{k} = [{a!r}, {c!r}]")
    lines += ["", "[fit]", f"replications = {rep.replications}", f"seed = {rep.seed}",
              f'events_sha256 = "{rep.events_sha256}"', "", "[fit.grid]"]
    for k, v in grid.items():
        lines.append(f"{k} = [{', '.join(_toml(x) for x in v)}]")
    lines += ["", "[fit.result]", "# leave-one-organisation-out scores (a record)",
              f"n_events = {j['n_events']}", f"n_failed = {j['n_failed']}",
              f"brier = {j['brier']:.4f}", f"log_loss = {j['log_loss']:.4f}",
              f"auc = {j['auc']:.4f}", f"bss = {j['bss']:.4f}",
              f"brier_base_rate = {j['baselines']['base_rate']['brier']:.4f}",
              f"brier_members = {j['baselines']['members']['brier']:.4f}",
              f"brier_tension = {j['baselines']['tension']['brier']:.4f}"]
    for p, v in rep.full_fit.get("protocol_cv_brier", {}).items():
        lines.append(f"brier_protocol_{p} = {v:.4f}  # each fold fitted within the protocol")
    lines.append("")
    return "\n".join(lines)


def _toml(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(float(v))
