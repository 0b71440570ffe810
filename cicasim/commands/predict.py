"""Predict each proposal's outcome with the field's bargaining models, beside cicasim.

``cicasim predict SCENARIO`` prints, per proposal and dimension, the outcome predicted by each
model of :mod:`cicasim.models` (compromise model, weighted median, Nash bargaining solution,
expected-utility model, exchange model, KTAB's Spatial Model of Politics deterministic and
stochastic, cicasim's own negotiation and their equal-weight combination) beside cicasim's
P(passed) and the distribution of its policy (the agreed text, or the status quo where the
proposal fails).  The static models read the members' capabilities, positions and saliences
and the proposal's status quo; cicasim runs the whole scenario.  See docs/models.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from cicasim.commands._common import (
    bounded_int,
    progress_bar,
    replications_int,
    resolve_seed,
    seed_int,
)
from cicasim.errors import InputError

HELP = "predict each proposal's outcome with the field's bargaining models beside cicasim"

#: Models of ``--models all``, in table order.
PREDICT_IDS = ("compromise", "median", "nbs", "eum", "eum-simple", "exchange", "smp",
               "smp-stochastic", "cicasim", "combination")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument(
        "--models", default="all", metavar="LIST",
        help=f"'all' (default) or a comma-separated list of {', '.join(PREDICT_IDS)}",
    )
    parser.add_argument(
        "--proposal", action="append", metavar="ID", help="only this proposal (repeatable)"
    )
    parser.add_argument(
        "--replications", "-n", type=replications_int, default=1000,
        help="cicasim replications per proposal (default 1000)",
    )
    parser.add_argument("--seed", type=seed_int,
                        help="master seed (drawn and printed when absent)")
    parser.add_argument(
        "--smp-runs", type=bounded_int(1, 1000), default=16,
        help="runs of the stochastic models, smp-stochastic and eum-simple (default 16)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _parse_models(text: str) -> list[str]:
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if ids == ["all"]:
        return list(PREDICT_IDS)
    bad = [i for i in ids if i not in PREDICT_IDS]
    if bad or not ids:
        what = f"unknown model {bad[0]!r}" if bad else "no model named"
        raise InputError(f"--models: {what}; allowed: all, {', '.join(PREDICT_IDS)}")
    return [i for i in PREDICT_IDS if i in ids]


def predict_proposal(scenario: Any, pid: str, models: list[str], *, seed: int,
                     replications: int, smp_runs: int) -> dict[str, Any]:
    """Every chosen model's prediction of one proposal, and cicasim's P(passed) and policy."""
    from cicasim.models import from_scenario, predict
    from cicasim.models.combination import DEFAULT_MEMBERS, equal_weight

    full = from_scenario(scenario, pid)
    static = full.members()
    prop = scenario.proposal(pid)
    preds: dict[str, list[float]] = {}
    entry: dict[str, Any] = {
        "id": pid, "title": prop.title, "dimensions": list(full.dimensions),
        "status_quo": full.status_quo.tolist(),
        "text": [t.position for t in prop.touches],
        "rule": prop.rule.kind,
    }
    need_cic = "cicasim" in models or "combination" in models
    for m in models:
        if m in ("cicasim", "combination"):
            continue
        opts: dict[str, Any] = {"salience_fallback": True}
        if m in ("smp-stochastic", "eum-simple"):
            opts.update(seed=seed, runs=smp_runs)
        preds[m] = predict(m, static, **opts).outcome.tolist()
    if need_cic:
        cic = predict("cicasim", full, seed=seed, replications=replications)
        policy = cic.samples
        entry["p_passed"] = cic.info["p_passed"]
        entry["policy"] = {
            "mean": policy.mean(axis=0).tolist(),
            "q10": np.quantile(policy, 0.1, axis=0).tolist(),
            "q50": np.quantile(policy, 0.5, axis=0).tolist(),
            "q90": np.quantile(policy, 0.9, axis=0).tolist(),
        }
        if "cicasim" in models:
            preds["cicasim"] = cic.outcome.tolist()
    if "combination" in models:
        members = [m for m in DEFAULT_MEMBERS if m != "cicasim"]
        rows = [np.asarray(preds[m]) if m in preds
                else predict(m, static, salience_fallback=True).outcome for m in members]
        rows.append(np.asarray(preds["cicasim"]) if "cicasim" in preds else cic.outcome)
        preds["combination"] = equal_weight(np.stack(rows)).tolist()
    entry["models"] = {m: preds[m] for m in models}
    return entry


def run(args: argparse.Namespace) -> int:
    from cicasim.spec.scenario import read_scenario

    models = _parse_models(args.models)
    scenario, _text = read_scenario(args.scenario)
    known = [p.id for p in scenario.proposals]
    chosen = args.proposal or known
    for pid in chosen:
        if pid not in known:
            raise InputError(f"--proposal: unknown id {pid!r}; allowed: {', '.join(known)}")
    seed, drawn = resolve_seed(args.seed)
    predictions = []
    with progress_bar("predict", unit="proposals") as update:
        for done, pid in enumerate(chosen, start=1):
            predictions.append(predict_proposal(
                scenario, pid, models, seed=seed, replications=args.replications,
                smp_runs=args.smp_runs))
            update(done, len(chosen))
    out = {
        "scenario": scenario.scenario.name,
        "seed": seed,
        "replications": args.replications,
        "proposals": predictions,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    _print(out, args.scenario, drawn)
    return 0


def _print(out: dict[str, Any], path: str, drawn: bool) -> None:
    note = " (drawn at random; pass --seed to repeat it)" if drawn else ""
    print(f"{out['scenario']}  ({path})")
    print(f"seed {out['seed']}{note}; cicasim {out['replications']:,} replications per proposal;"
          " positions on each dimension's 0-100 scale")
    for p in out["proposals"]:
        dims = p["dimensions"]
        print()
        print(f"{p['id']}: {p['title']}  (rule {p['rule']})")
        head = "".join(f"{d[:22]:>24}" for d in dims)
        print(f"  {'':<16}{head}")
        print(f"  {'status quo':<16}" + "".join(f"{v:24.1f}" for v in p["status_quo"]))
        print(f"  {'tabled text':<16}" + "".join(f"{v:24.1f}" for v in p["text"]))
        for m, vals in p["models"].items():
            print(f"  {m:<16}" + "".join(f"{v:24.1f}" for v in vals))
        if "p_passed" in p:
            pol = p["policy"]
            spread = "".join(
                f"{f'{lo:.1f} / {mid:.1f} / {hi:.1f}':>24}"
                for lo, mid, hi in zip(pol["q10"], pol["q50"], pol["q90"], strict=True)
            )
            print(f"  {'cicasim policy':<16}{spread}   (10% / median / 90%)")
            print(f"  cicasim P(passed) {p['p_passed']:.3f}")
    sys.stdout.flush()
