"""The league table: every bargaining model of :mod:`cicasim.models` scored alike on DEU issues.

For the issues of a validation report (:func:`cicasim.validate.report.validate_deu`), every model
predicts each issue from the same bargain (:func:`cicasim.models.from_deu_issue`: every coded
actor, the capability row, salience / 100, the conversion's status quo; the DEU salience fallback
on), and is scored with the same functions (:mod:`.scoring`) and the same cluster-bootstrap
resamples over proposals as the report (:func:`cicasim.validate.report.bootstrap_mae`):

* MAE with its 95% interval, and the paired difference from the compromise model with its
  interval (same resamples for every model);
* hit rates within 5 and 10 points;
* CRPS for the models with a predictive distribution (cicasim's replications, the stochastic
  SMP's runs);
* MAE by Council rule and by procedure.

The exchange model runs on each proposal's scored issues together
(:func:`cicasim.models.from_deu_proposal`), since votes are exchanged across the issues of one
proposal; every other model predicts one issue at a time.

cicasim enters twice: ``cicasim``, the report's prediction with the parameter set (fitted on
this file: in-sample), and ``cicasim-cv``, the report's cross-validated prediction.  The
**equal-weight combination** averages compromise, median, nbs, eum, exchange, smp and cicasim
(its cross-validated prediction when there is one).  The **cross-validated combination** is the
equal-weight mean of the subset of those members with the lowest MAE on the other folds, chosen
for each fold of the report's grouped folds over proposals
(:func:`cicasim.models.combination.cv_subset_combination`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cicasim.models import REGISTRY, Bargain, from_deu_issue, from_deu_proposal, predict
from cicasim.models.combination import DEFAULT_MEMBERS, cv_subset_combination, equal_weight
from cicasim.validate.convert import issue_scenario
from cicasim.validate.council import CouncilData, council_at
from cicasim.validate.deu import DeuData, DeuIssue
from cicasim.validate.fit import grouped_folds
from cicasim.validate.report import ValidationReport, bootstrap_mae
from cicasim.validate.scoring import crps_samples, hit_rate

__all__ = ["LEAGUE_IDS", "league", "parse_league_models"]

#: Ids of the league, in table order.
LEAGUE_IDS = (
    "compromise", "median", "nbs", "eum", "eum-simple", "exchange", "smp", "smp-stochastic",
    "cicasim",
    "cicasim-cv", "combination", "combination-cv",
)
#: Stochastic SMP runs per issue in the league (each run is a full SMP to its stopping rule).
SMP_RUNS = 8
#: The deterministic models, each predicted once per issue (and members of the combinations).
_STATIC_MODELS = ("compromise", "median", "nbs", "eum", "exchange", "smp")
#: The stochastic models, each run ``smp_runs`` times per issue.
_STOCHASTIC_MODELS = ("eum-simple", "smp-stochastic")


def parse_league_models(text: str) -> list[str]:
    """``all`` or a comma-separated list of league ids (ValueError naming a bad id); the
    compromise model, the reference of the paired differences, is always included."""
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if ids == ["all"]:
        return list(LEAGUE_IDS)
    bad = [i for i in ids if i not in LEAGUE_IDS]
    if bad or not ids:
        raise ValueError(
            f"unknown model {bad[0]!r}" if bad else "no model named"
        )
    chosen = set(ids) | {"compromise"}
    return [i for i in LEAGUE_IDS if i in chosen]


def _exchange_by_proposal(issues: list, data: DeuData) -> np.ndarray:
    """The exchange model on each proposal's scored issues together (vote exchange happens
    across the issues of one proposal; Stokman & van Oosten 1994)."""
    out = np.empty(len(issues))
    by_prop: dict[str, list[int]] = {}
    for k, i in enumerate(issues):
        by_prop.setdefault(i.proposal, []).append(k)
    for ks in by_prop.values():
        b = from_deu_proposal([issues[k] for k in ks], data.capability)
        out[ks] = predict("exchange", b, salience_fallback=True).outcome
    return out


def _best_subset_in_sample(
    member_preds: np.ndarray, names: list[str], y: np.ndarray, groups: np.ndarray,
    err_compromise: np.ndarray, *, resamples: int, seed: int,
) -> dict[str, Any]:
    """The equal-weight subset with the lowest MAE on *all* issues, and its paired difference
    from the compromise model: a ceiling for any combination of these members chosen honestly
    (it is chosen on the issues it is scored on, so it is not a prediction)."""
    from cicasim.models.combination import subsets

    subs = subsets(member_preds.shape[0])
    errs = np.stack([np.abs(member_preds[list(s)].mean(axis=0) - y) for s in subs])
    best = int(np.argmin(errs.mean(axis=1)))
    e = errs[best]
    ci = bootstrap_mae({"best": e, "compromise": err_compromise}, groups, resamples=resamples,
                       seed=seed, pairs=(("best", "compromise"),))
    return {
        "members": [names[i] for i in subs[best]],
        "mae": float(e.mean()),
        "diff_compromise": float((e - err_compromise).mean()),
        "diff_compromise_ci": list(ci["best - compromise"]),
    }


def _cicasim_samples(report: ValidationReport, data: DeuData, council: CouncilData,
                     issues: list) -> list[np.ndarray]:
    """The policy of every replication of cicasim's reported prediction (same seed and
    replications as the report, so its median is the report's prediction)."""
    from cicasim.engine.ensemble import run_proposal

    p = report.params
    out = []
    for i in issues:
        sc = issue_scenario(
            i, capability=data.capability, council=council_at(council, i.date),
            behaviour=p.behaviour, source=data.path, max_rounds=p.max_rounds,
            commission_tension=p.commission_tension, uncertainty=p.uncertainty,
        )
        run = run_proposal(sc, sc.proposals[0].id, replications=report.replications,
                           seed=report.seed)
        out.append(np.asarray(run.outcome.policy[:, 0], float))
    return out


def _wants_combination(models: list[str]) -> bool:
    """Whether ``models`` asks for either combination (which needs every member's prediction)."""
    return "combination" in models or "combination-cv" in models


def _static_predictions(
    models: list[str], issues: list[DeuIssue], bargains: list[Bargain], data: DeuData,
    *, say: Callable[[str], None], timings: dict[str, float],
) -> dict[str, np.ndarray]:
    """The deterministic models' predictions: those in ``models``, and all of them when a
    combination is asked for.  Each model's run time goes into ``timings``."""
    preds: dict[str, np.ndarray] = {}
    for m in [m for m in _STATIC_MODELS if m in models or _wants_combination(models)]:
        t = time.perf_counter()
        say(f"model {m}: {len(issues)} issues")
        if m == "exchange":
            preds[m] = _exchange_by_proposal(issues, data)
        else:
            preds[m] = np.array([predict(m, b, salience_fallback=True).outcome[0]
                                 for b in bargains])
        timings[m] = time.perf_counter() - t
    return preds


def _stochastic_predictions(
    models: list[str], bargains: list[Bargain], *, seed: int, runs: int,
    say: Callable[[str], None], timings: dict[str, float],
) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    """The stochastic models in ``models``: their predictions and each issue's ``runs``
    outcomes (the predictive distribution scored by the CRPS)."""
    preds: dict[str, np.ndarray] = {}
    samples: dict[str, list[np.ndarray]] = {}
    for m in [m for m in _STOCHASTIC_MODELS if m in models]:
        t = time.perf_counter()
        say(f"model {m}: {len(bargains)} issues x {runs} runs")
        outs = [predict(m, b, seed=seed, runs=runs, salience_fallback=True) for b in bargains]
        preds[m] = np.array([o.outcome[0] for o in outs])
        samples[m] = [o.samples[:, 0] for o in outs]
        timings[m] = time.perf_counter() - t
    return preds, samples


def _combinations(
    report: ValidationReport, models: list[str], preds: dict[str, np.ndarray], y: np.ndarray,
    groups: np.ndarray, *, folds: int | None, resamples: int,
) -> dict[str, Any]:
    """Add the combinations asked for to ``preds``; return what the summary records of them
    (the members; for the cross-validated one the subset chosen per fold and the in-sample
    ceiling)."""
    meta: dict[str, Any] = {}
    if not _wants_combination(models):
        return meta
    cic = preds.get("cicasim-cv", preds["cicasim"])
    members = [m for m in DEFAULT_MEMBERS if m != "cicasim"]
    member_preds = np.stack([preds[m] for m in members] + [cic])
    member_names = [*members, "cicasim-cv" if "cicasim-cv" in preds else "cicasim"]
    meta["combination_members"] = member_names
    if "combination" in models:
        preds["combination"] = equal_weight(member_preds)
    if "combination-cv" in models:
        table = report.table
        if "fold" in table:
            fold = table["fold"].to_numpy(int)
        else:
            fold = grouped_folds(list(groups), k=folds or report.params.fit.folds,
                                 seed=report.seed)
        preds["combination-cv"], chosen = cv_subset_combination(
            member_preds, y, fold, names=member_names)
        meta["combination_cv_chosen_per_fold"] = [list(c) for c in chosen]
        meta["best_subset_in_sample"] = _best_subset_in_sample(
            member_preds, member_names, y, groups, np.abs(preds["compromise"] - y),
            resamples=resamples, seed=report.seed)
    return meta


def _league_row(
    m: str, errors: dict[str, np.ndarray], ci: dict[str, tuple[float, float]],
    pred: np.ndarray, samples: list[np.ndarray] | None, y: np.ndarray, table: pd.DataFrame,
) -> dict[str, Any]:
    """Model ``m``'s row of the league: MAE and its interval, the paired difference from the
    compromise model, hit rates, CRPS (with ``samples``) and MAE by rule and procedure."""
    e = errors[m]
    row: dict[str, Any] = {
        "id": m,
        "title": _title(m),
        "mae": float(e.mean()),
        "mae_ci_low": ci[m][0],
        "mae_ci_high": ci[m][1],
        "diff_compromise": float((e - errors["compromise"]).mean()),
        "diff_compromise_ci": [0.0, 0.0] if m == "compromise"
        else list(ci[f"{m} - compromise"]),
        "hit5": hit_rate(pred, y, 5.0),
        "hit10": hit_rate(pred, y, 10.0),
        "crps": (float(np.mean([crps_samples(s, o) for s, o in zip(samples, y, strict=True)]))
                 if samples is not None else None),
        "in_sample": m == "cicasim",
    }
    frame = table.assign(_e=e)
    for by in ("rule", "procedure"):
        row[f"mae_by_{by}"] = {
            str(k): float(v) for k, v in frame.groupby(by, sort=True)["_e"].mean().items()
        }
    return row


def league(
    report: ValidationReport,
    *,
    data: DeuData,
    council: CouncilData,
    models: list[str],
    resamples: int = 2000,
    smp_runs: int = SMP_RUNS,
    folds: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Score ``models`` on the report's issues; adds a prediction and an error column per
    model to ``report.table``, and ``models`` (the list returned) and ``models_meta`` to
    ``report.summary``."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    table = report.table
    by_id = {i.issue: i for i in data.issues}
    issues = [by_id[i] for i in table["issue"]]
    y = table["outcome"].to_numpy(float)
    groups = table["proposal"].to_numpy(str)
    bargains = [from_deu_issue(i, data.capability) for i in issues]
    timings: dict[str, float] = {}
    preds = _static_predictions(models, issues, bargains, data, say=say, timings=timings)
    stochastic, samples = _stochastic_predictions(models, bargains, seed=report.seed,
                                                  runs=smp_runs, say=say, timings=timings)
    preds.update(stochastic)
    preds["cicasim"] = table["cicasim"].to_numpy(float)
    if "cicasim" in models:
        t = time.perf_counter()
        say(f"model cicasim: predictive distributions of {len(issues)} issues")
        samples["cicasim"] = _cicasim_samples(report, data, council, issues)
        timings["cicasim_samples"] = time.perf_counter() - t
    if "cicasim_cv" in table:
        preds["cicasim-cv"] = table["cicasim_cv"].to_numpy(float)
    meta = _combinations(report, models, preds, y, groups, folds=folds, resamples=resamples)
    ids = [m for m in models if m in preds]
    for m in ids:
        table[f"model_{m}"] = preds[m]
        table[f"err_model_{m}"] = np.abs(preds[m] - y)
    errors = {m: np.abs(preds[m] - y) for m in ids}
    pairs = tuple((m, "compromise") for m in ids if m != "compromise")
    ci = bootstrap_mae(errors, groups, resamples=resamples, seed=report.seed, pairs=pairs)
    rows = [_league_row(m, errors, ci, preds[m], samples.get(m), y, table) for m in ids]
    meta["bootstrap"] = {"resamples": resamples, "unit": "proposal",
                         "interval": "percentile 95%", "seed": report.seed}
    meta["smp_runs"] = smp_runs
    meta["timings_seconds"] = {k: round(v, 2) for k, v in timings.items()}
    meta["timings_seconds"]["total"] = round(time.perf_counter() - t0, 2)
    report.summary["models"] = rows
    report.summary["models_meta"] = meta
    return rows


def _title(m: str) -> str:
    extra = {
        "cicasim": "cicasim negotiation, parameter set (in-sample)",
        "cicasim-cv": "cicasim negotiation, cross-validated",
        "combination-cv": "combination, best subset by cross-validation",
    }
    return extra.get(m) or REGISTRY[m].title



def league_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The league as a table (one row per model)."""
    return pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("mae_by")}
                         for r in rows])
