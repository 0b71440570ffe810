"""Validate the model against real negotiations.

``cicasim validate deu FILE`` runs every issue of a DEU III file that has a recorded outcome as
a one-dimensional negotiation (member states, the Commission as sponsor, the Parliament as a
veto player under codecision, the Council rule in force on the proposal's date) and compares
the predicted outcome with the real one, beside the compromise model and the weighted median.
It also cross-validates the fitted behaviour parameters over proposals.  See docs/validation.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cicasim.commands._common import (
    bounded_int,
    count,
    progress_bar,
    replications_int,
    seed_int,
)
from cicasim.commands._consensus import add_consensus_parser, run_consensus
from cicasim.errors import InputError

HELP = "validate the model against real negotiations (DEU III) and consensus decisions"

DEFAULT_COUNCIL = Path("..") / "eu_council" / "council_weights.csv"
DEFAULT_POPULATION = Path("..") / "worldbank" / "wb_population.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    p = sub.add_parser(
        "deu",
        help="EU legislative negotiations: a DEU III issue file (tab-separated)",
        description=__doc__,
    )
    p.add_argument("file", type=Path, help="DEU III issue file (e.g. deu3/deu3_dev.tsv)")
    p.add_argument(
        "--council", type=Path, metavar="CSV",
        help="Council weights table (default: eu_council/council_weights.csv beside the "
        "file's folder)",
    )
    p.add_argument(
        "--population", type=Path, metavar="CSV",
        help="World Bank population table (default: worldbank/wb_population.csv beside the "
        "file's folder)",
    )
    p.add_argument(
        "--params", default="validation", metavar="FILE",
        help="parameter set (TOML); default: the shipped 'validation' set",
    )
    p.add_argument(
        "--replications", "-n", type=replications_int, default=1000,
        help="replications per issue for the reported prediction (default 1000)",
    )
    p.add_argument("--seed", type=seed_int, help="master seed (default: the parameter set's)")
    p.add_argument(
        "--fit-replications", type=replications_int,
        help="replications per issue and grid point in the cross-validation "
        "(default: the parameter set's)",
    )
    p.add_argument("--folds", type=bounded_int(1, 1000),
                   help="folds over proposals (default: 5)")
    p.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    p.add_argument(
        "--bootstrap", type=bounded_int(1, 100_000), default=2000,
        help="bootstrap resamples for the intervals (default 2000)",
    )
    p.add_argument(
        "--models", metavar="LIST",
        help="also score the bargaining models alike: 'all' or a comma-separated list of "
        "compromise, median, nbs, eum, eum-simple, exchange, smp, smp-stochastic, cicasim, "
        "cicasim-cv, combination, combination-cv (see docs/models.md)",
    )
    p.add_argument(
        "--smp-runs", type=bounded_int(1, 1000), default=8,
        help="runs per issue of the stochastic models (smp-stochastic, eum-simple) with "
        "--models (default 8)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help="write issues.csv, summary.json, predicted_vs_actual.png and a manifest here "
        "(and models.csv, models.png with --models)",
    )
    add_consensus_parser(sub)


def _beside(file: Path, rel: Path) -> Path:
    return (file.resolve().parent / rel).resolve()


def _league_models(spec: str | None) -> list[str] | None:
    """The models of ``--models`` (None: no league table), or a one-line error."""
    if spec is None:
        return None
    from cicasim.validate.league import parse_league_models

    try:
        return parse_league_models(spec)
    except ValueError as exc:
        raise InputError(
            f"--models: {exc}; allowed: all or a comma-separated list of compromise, "
            "median, nbs, eum, eum-simple, exchange, smp, smp-stochastic, cicasim, "
            "cicasim-cv, combination, combination-cv"
        ) from None


def _council(args: argparse.Namespace) -> tuple[Any, Path, Path | None]:
    """The Council weights (``--council``, else the file beside the DEU file) with the
    population table when there is one, and the paths read."""
    from cicasim.validate.council import read_council

    council_path = args.council or _beside(args.file, DEFAULT_COUNCIL)
    population_path = args.population or _beside(args.file, DEFAULT_POPULATION)
    if args.council is None and not council_path.exists():
        raise InputError(
            f"{council_path}: file not found (the Council weights table); pass --council CSV"
        )
    if args.population is None and not population_path.exists():
        population_path = None
    return read_council(council_path, population=population_path), council_path, population_path


def run(args: argparse.Namespace) -> int:
    if args.dataset == "consensus":
        return run_consensus(args)
    from cicasim.validate.deu import read_deu
    from cicasim.validate.params import load_params
    from cicasim.validate.report import validate_deu

    models = _league_models(args.models)
    if args.folds is not None and args.folds < 2:
        raise InputError(f"--folds: must be at least 2 (got {args.folds})")
    params = load_params(args.params)
    data = read_deu(args.file)
    council, council_path, population_path = _council(args)
    seed = params.fit.seed if args.seed is None else args.seed
    n_props = len({i.proposal for i in data.with_outcome()})
    folds = args.folds or params.fit.folds
    folded = not args.no_cv or "combination-cv" in (models or ())  # both split into folds
    if folded and folds > n_props:
        raise InputError(
            f"--folds: {folds} folds need at least {folds} proposals with an outcome; "
            f"{args.file} has {n_props}"
        )
    if args.out is not None:
        _check_out(args.out)
    with progress_bar("validate", unit="steps") as update:
        state = {"message": "validate"}

        def say(message: str) -> None:
            state["message"] = message

        report = validate_deu(
            data=data,
            council=council,
            params=params,
            replications=args.replications,
            seed=seed,
            cross_validation=not args.no_cv,
            fit_replications=args.fit_replications,
            folds=args.folds,
            resamples=args.bootstrap,
            progress=say,
            steps=lambda done, total: update(done, total, state["message"]),
        )
    if models is not None:
        from cicasim.validate.league import league

        tty = sys.stderr.isatty()
        league(
            report, data=data, council=council, models=models, resamples=args.bootstrap,
            smp_runs=args.smp_runs, folds=args.folds,
            progress=(lambda m: print(f"cicasim: {m}", file=sys.stderr)) if tty else None,
        )
    if args.out is not None:
        _write(report, args.out, [args.file, council_path, population_path])
    if args.json:
        print(json.dumps(report.summary, indent=2))
    else:
        _print(report, args.out)
        if models is not None:
            _print_league(report.summary)
    return 0


def _print_league(s: dict) -> None:
    """The league table of ``--models``."""
    print("models scored alike (MAE and paired difference from the compromise model with 95% "
          "cluster-bootstrap intervals; hit rates within 5 and 10 points; CRPS where the model "
          "has a predictive distribution):")
    print(f"  {'model':<16} {'MAE':>6} {'interval':>15} {'- compromise':>13} {'interval':>17}"
          f" {'hit5':>5} {'hit10':>6} {'CRPS':>6}")
    for r in sorted(s["models"], key=lambda r: r["mae"]):
        lo, hi = r["diff_compromise_ci"]
        crps = "" if r["crps"] is None else f"{r['crps']:6.2f}"
        tag = " (in-sample)" if r.get("in_sample") else ""
        print(f"  {r['id']:<16} {r['mae']:6.2f} [{r['mae_ci_low']:5.2f}, {r['mae_ci_high']:5.2f}]"
              f" {r['diff_compromise']:+13.2f} [{lo:+6.2f}, {hi:+6.2f}] {r['hit5']:5.2f}"
              f" {r['hit10']:6.2f} {crps:>6}{tag}")
    meta = s.get("models_meta", {})
    if "combination_cv_chosen_per_fold" in meta:
        chosen = "; ".join("+".join(c) for c in meta["combination_cv_chosen_per_fold"])
        print(f"cross-validated combination, subset chosen per fold: {chosen}")
    if "best_subset_in_sample" in meta:
        b = meta["best_subset_in_sample"]
        lo, hi = b["diff_compromise_ci"]
        print(f"ceiling (subset chosen on all issues, not a prediction): {'+'.join(b['members'])}"
              f", MAE {b['mae']:.2f}, - compromise {b['diff_compromise']:+.2f} "
              f"[{lo:+.2f}, {hi:+.2f}]")


def _check_out(out: Path) -> None:
    """Refuse an unusable --out before the computation (the same rule as the writer's: absent,
    empty, or validation results, which are replaced)."""
    from cicasim.results import check_output_directory

    check_output_directory(out, kind="validation", force=True)


def _write(report, out: Path, inputs: list[Path | None]) -> None:
    from cicasim.results import atomic_directory, manifest, write_json
    from cicasim.validate.plotting import predicted_vs_actual

    files = {}
    for f in inputs:
        if f is not None:
            files[str(f)] = hashlib.sha256(Path(f).read_bytes()).hexdigest()
    fig = predicted_vs_actual(report.table, report.summary)
    league_fig = None
    if "models" in report.summary:
        from cicasim.validate.plotting import league_figure

        league_fig = league_figure(report.summary["models"], n_issues=len(report.table))
    with atomic_directory(out, kind="validation", force=True) as tmp:
        report.table.to_csv(tmp / "issues.csv", index=False)
        write_json(tmp / "summary.json", report.summary)
        fig.savefig(tmp / "predicted_vs_actual.png", dpi=120)
        if league_fig is not None:
            from cicasim.validate.league import league_frame

            league_frame(report.summary["models"]).to_csv(tmp / "models.csv", index=False)
            league_fig.savefig(tmp / "models.png", dpi=120)
        manifest(
            kind="validation",
            seed=report.seed,
            inputs={"params.toml": report.params.text},
            data_sha256=files,
            replications=report.replications,
        ).write(tmp)


def _print(report, out: Path | None) -> None:
    s = report.summary
    print(f"DEU validation: {count(s['n_issues'], 'issue')} with an outcome, "
          f"{count(s['n_proposals'], 'proposal')}  ({s['source']})")
    print(f"parameter set {s['params']!r}; seed {s['seed']}; "
          f"{count(s['replications'], 'replication')}; "
          f"prediction = {s['statistic']}")
    print("mean absolute error (0-100), 95% cluster-bootstrap interval over proposals:")
    rows = [("cicasim (parameter set, in-sample)", s["mae"], s["mae_ci_low"], s["mae_ci_high"])]
    if "mae_cv" in s:
        rows.append(("cicasim (cross-validated)", s["mae_cv"], s["mae_cv_ci_low"],
                     s["mae_cv_ci_high"]))
    rows += [
        ("compromise model", s["mae_compromise"], s["mae_compromise_ci_low"],
         s["mae_compromise_ci_high"]),
        ("weighted median", s["mae_median"], s["mae_median_ci_low"], s["mae_median_ci_high"]),
    ]
    for name, m, lo, hi in rows:
        print(f"  {name:<36} {m:6.2f}  [{lo:5.2f}, {hi:5.2f}]")
    d, (lo, hi) = s["diff_compromise"], s["diff_compromise_ci"]
    print(f"  {'cicasim - compromise (in-sample)':<36} {d:+6.2f}  [{lo:+5.2f}, {hi:+5.2f}]")
    if "mae_cv" in s:
        d, (lo, hi) = s["diff_cv_compromise"], s["diff_cv_compromise_ci"]
        print(f"  {'cicasim - compromise (cross-valid.)':<36} {d:+6.2f}  [{lo:+5.2f}, {hi:+5.2f}]")
        cv = s["cv"]
        print(f"cross-validation: {cv['folds']} folds over proposals; best on all issues "
              f"{cv['best_all_issues']} (MAE {cv['best_all_issues_mae']:.2f})")
    print(f"runtime {s['timings_seconds']['total']:.0f} s"
          + (f"; results in {out}" if out is not None else ""))
