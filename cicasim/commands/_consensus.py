"""``cicasim validate consensus``: P(consensus) against real consensus decisions.

Each event of the file becomes the calibrated scenario of its members in its year; the forecast
is P(consensus) on the flagship text.  On the shipped event file the amendment protocol and the
behaviour parameters are fitted leave-one-organisation-out and the cross-validated scores are
reported; any other file is scored with the shipped `consensus-organisations` parameters and
baseline coefficients, fitting nothing to it (--refit fits it instead).  See
docs/validation-consensus.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cicasim.commands._common import (
    count,
    positive_int,
    progress_bar,
    replications_int,
    seed_int,
)
from cicasim.errors import InputError

DEFAULT_SEED = 20241013


def add_consensus_parser(sub: Any) -> None:
    p = sub.add_parser("consensus", help="consensus decisions of real organisations: an event "
                       "file (data/consensus-events.tsv)", description=__doc__)
    p.add_argument("file", type=Path, help="event file (tab-separated; docs/validation-"
                   "consensus.md)")
    p.add_argument("--data", required=True, type=Path, metavar="DIR",
                   help="folder holding the public data sets (see docs/calibration.md)")
    p.add_argument("--replications", "-n", type=replications_int, default=200,
                   help="replications per event and setting (default 200)")
    p.add_argument("--seed", type=seed_int, default=DEFAULT_SEED,
                   help=f"master seed (default {DEFAULT_SEED})")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--refit", action="store_true",
                      help="fit leave-one-organisation-out on this file, whatever it is")
    mode.add_argument("--frozen", action="store_true",
                      help="score with the shipped parameters, even the shipped events")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes evaluating events in parallel (default: the machine's cores)")
    p.add_argument("--write-params", type=Path, metavar="FILE",
                   help="write the parameter set of a cross-validated run to FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write events.csv, summary.json, reliability.png and a manifest here")


def run_consensus(args: argparse.Namespace) -> int:
    from cicasim.sweep.executors import available_cores
    from cicasim.validate.consensus import params_text, sha256_of, validate_consensus
    from cicasim.validate.consensus_params import load_consensus_params
    from cicasim.validate.events import read_events

    events = read_events(args.file)
    if not args.data.is_dir():
        raise InputError(f"{args.data}: data directory not found; expected the public data sets")
    if args.out is not None:
        from cicasim.results import check_output_directory

        check_output_directory(args.out, kind="validation", force=True)
    digest = sha256_of(args.file)
    params = load_consensus_params()
    shipped = bool(params) and params.get("fit", {}).get("events_sha256") == digest
    frozen = args.frozen or (not args.refit and params is not None and not shipped)
    if frozen and params is None:
        raise InputError("--frozen: the consensus-organisations parameter set is not installed; "
                         "use --refit")
    if len({e.org for e in events}) < 2 and not frozen:
        raise InputError(f"{args.file}: fitting leaves one organisation out, so it needs events "
                         "of at least two organisations")
    if args.write_params is not None and frozen:
        raise InputError("--write-params: only a cross-validated run writes a parameter set")
    with progress_bar("events", unit="events") as update:

        def start(label: str, total: int):
            done = [0]
            update(0, total, description=label)

            def tick() -> None:
                done[0] += 1
                update(done[0], total)
            return tick

        rep = validate_consensus(
            events, args.data, replications=args.replications, seed=args.seed,
            params=params if frozen else None, events_sha256=digest,
            workers=args.workers or available_cores(), progress=start)
    summary = rep.to_json()
    if args.write_params is not None:
        from cicasim.calibrate.writer import write_atomic

        write_atomic(args.write_params, params_text(rep))
    if args.out is not None:
        _write(rep, summary, args)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print(summary)
    return 0


def _write(rep, summary: dict, args: argparse.Namespace) -> None:
    from cicasim.results import atomic_directory, manifest, write_json
    from cicasim.validate.consensus_figures import reliability_figure

    fig = reliability_figure(summary)
    with atomic_directory(args.out, kind="validation", force=True) as tmp:
        rep.table().to_csv(tmp / "events.csv", index=False)
        if rep.grid is not None:
            import pandas as pd

            grid = pd.DataFrame(rep.grid.T, columns=[
                ";".join(f"{k}={v}" for k, v in st.items()) for st in rep.settings])
            grid.insert(0, "event", [e.key for e in rep.events])
            grid.to_csv(tmp / "grid.csv", index=False)
        write_json(tmp / "summary.json", summary)
        fig.savefig(tmp / "reliability.png", dpi=130)
        manifest(
            kind="validation", seed=rep.seed, inputs={},
            data_sha256={str(args.file): rep.events_sha256}, replications=rep.replications,
        ).write(tmp)


def _print(s: dict) -> None:
    print(f"consensus validation ({s['mode']}): {count(s['n_events'], 'meeting')} of "
          f"{count(s['n_organisations'], 'organisation')}, {s['n_failed']} failed; "
          f"{count(s['replications'], 'replication')} per event, seed {s['seed']}")
    print(f"  {'forecast':<30} {'Brier':>7} {'log loss':>9} {'AUC':>6}")
    rows = [("cicasim", s)] + [(f"baseline: {k.replace('_', ' ')}", v)
                               for k, v in s["baselines"].items()]
    rows += [(f"cicasim, protocol {k}", v) for k, v in s["protocols"].items()]
    for name, v in rows:
        print(f"  {name:<30} {v['brier']:7.4f} {v['log_loss']:9.4f} {v['auc']:6.3f}")
    lo, hi = s["bss_ci"]
    print(f"Brier skill score vs the base rate: {s['bss']:+.3f} (95% bootstrap {lo:+.3f} to "
          f"{hi:+.3f})")
    print("by organisation (Brier: cicasim / base rate):")
    for o in s["by_organisation"]:
        print(f"  {o['org']:<8} {o['n']:>3} meetings, {o['failed']:>2} failed: "
              f"{o['brier']:.3f} / {o['brier_base_rate']:.3f}; mean forecast "
              f"{o['mean_forecast']:.2f}, adopted {o['adoption_rate']:.2f}")
    if s["enlargement"]:
        print("enlargements: model ΔP (paired 95%) against the observed change in the adoption "
              "rate:")
        for e in s["enlargement"]:
            lo, hi = e["model_delta_ci"]
            olo, ohi = e["observed_delta_ci"]
            print(f"  {e['org']:<6} {e['date']} +{','.join(e['joined'])} "
                  f"({e['members_before']}->{e['members_after']}): model {e['model_delta']:+.3f} "
                  f"[{lo:+.3f}, {hi:+.3f}]; observed {e['observed_delta']:+.2f} "
                  f"[{olo:+.2f}, {ohi:+.2f}] over {e['meetings_each_side']} meetings each side: "
                  f"{e['verdict']}")
        pool = s["enlargement_pooled"]
        lo, hi = pool["model_delta_ci"]
        olo, ohi = pool["observed_delta_ci"]
        print(f"  pooled, {pool['enlargements']} enlargements, {pool['meetings_each_side']} "
              f"meetings each side: model {pool['model_delta']:+.3f} [{lo:+.3f}, {hi:+.3f}]; "
              f"observed {pool['observed_delta']:+.3f} [{olo:+.3f}, {ohi:+.3f}]: "
              f"{pool['verdict']}")
