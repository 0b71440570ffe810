"""Engine benchmark: the vectorised engine against an idiomatic per-agent Mesa model.

Both implementations of the same negotiation model run side by side in this process, on the
same scenario and proposal: the engine (:func:`cicasim.engine.ensemble.run_proposal`, 10,000
replications by default) and the per-agent Mesa reference (``benchmarks/mesa_reference.py``, a
few hundred replications, enough to time it). The figure of merit is the ratio of their
replications per second, at 28 members and at 60 members (the 28-member scenario enlarged by
synthetic members, :func:`cicasim.spec.enlargement.synthetic_members`). The engine's peak memory is
the peak resident set size of a fresh interpreter that imports cicasim and runs the engine's
10,000 replications at 60 members, the larger case.

The 28-member scenario is ``scenarios/cica-2022.toml`` when it is present (its first proposal
unless ``--proposal`` says otherwise), else a generated stand-in of the same shape (28 members,
9 observers, three dimensions, every pair's tension given): see :func:`benchmark_scenario`.

The engine runs on one thread (the rates are per core; ``bench_run.py`` measures the threads).
Beside the reference it is set against a lower bound: the random numbers its replications use,
and only those, drawn in bulk from one generator; the share of its time spent drawing (and the
numbers drawn but never used, which the fixed layout of ``cicasim.engine.draws`` costs) is
printed too.

Run: ``make bench`` or ``python benchmarks/bench_engine.py [--json]``. Targets (issues 2 and 17):
ratio >= 300 at 28 and 60 members, peak memory under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

from cicasim.engine.ensemble import run_proposal  # noqa: E402
from cicasim.spec.enlargement import synthetic_members  # noqa: E402
from cicasim.spec.scenario import Scenario, load_scenario, parse_scenario  # noqa: E402

CICA = ROOT / "scenarios" / "cica-2022.toml"
DIMENSIONS = ("economic_integration", "institutionalisation", "security_cooperation")


def benchmark_scenario(*, members: int = 28, observers: int = 9, seed: int = 2022) -> Scenario:
    """A generated organisation shaped like CICA in 2022 (28 members, 9 observers).

    Three dimensions; capabilities lognormal (a few large powers, many small states);
    positions around a moderate centre with wide spread; every pair's tension drawn from
    Beta(2, 8) (mean 0.2) with a handful of hostile pairs; one proposal on two dimensions under
    consensus. Behaviour switches on every mechanism (noise, rival penalty, hold-up, objector
    weight, bounded confidence) so the benchmark times the whole model.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    n = members + observers
    ids = [f"M{i + 1:02d}" for i in range(members)] + [f"O{i + 1:02d}" for i in range(observers)]
    cap = rng.lognormal(0.0, 1.0, n)
    actors = []
    for i, aid in enumerate(ids):
        actors.append({
            "id": aid,
            "role": "member" if i < members else "observer",
            "capability": float(cap[i] / cap.sum() * 100),
            "position": {d: float(np.clip(rng.normal(60, 15), 0, 100)) for d in DIMENSIONS},
            "salience": {d: float(rng.uniform(0.2, 1.0)) for d in DIMENSIONS},
            "population": float(rng.lognormal(3.0, 1.2)),
        })
    tensions = []
    for i in range(n):
        for j in range(i + 1, n):
            tensions.append({"pair": [ids[i], ids[j]], "value": float(rng.beta(2.0, 8.0))})
    for k in rng.choice(len(tensions), size=6, replace=False):
        tensions[k]["value"] = float(rng.uniform(0.7, 0.9))
    data: dict[str, Any] = {
        "scenario": {"name": f"benchmark-{members}", "default_tension": 0.2},
        "behaviour": {
            "vote_noise": 0.03, "rival_penalty": 0.05, "holdup_rate": 0.02,
            "objector_weight": 0.5, "confidence_bound": 40.0,
        },
        "uncertainty": {"position_sd": 5.0, "capability_sd": 0.2, "tension_sd": 0.05},
        "dimensions": [{"id": d} for d in DIMENSIONS],
        "actors": actors,
        "tensions": tensions,
        "proposals": [{
            "id": "charter", "title": "A charter for deeper cooperation", "sponsor": ids[0],
            "touches": [
                {"dimension": "institutionalisation", "position": 80, "status_quo": 40},
                {"dimension": "economic_integration", "position": 75, "status_quo": 45},
            ],
            "max_rounds": 10,
        }],
    }
    return parse_scenario(data, f"<benchmark scenario, {members} members>")


def scenarios(*, path: Path | None, proposal: str | None, large: int, seed: int):
    """The 28-member scenario, its enlargement to ``large`` members, the proposal and a label
    saying where the scenario came from."""
    if path is None and CICA.exists():
        path = CICA
    if path is not None:
        small, source = load_scenario(path), path.name
    else:
        small, source = benchmark_scenario(), "generated (benchmark_scenario)"
    pid = proposal or small.proposals[0].id
    extra = large - len(small.members)
    if extra < 1:
        raise SystemExit(f"--large {large}: must exceed the {len(small.members)} members")
    big = synthetic_members(small, count=extra, seed=seed)
    return small, big, pid, source


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def time_engine(scenario: Scenario, pid: str, *, replications: int, seed: int):
    """(wall seconds, CPU seconds, outcome) of the engine's replications on one thread (the
    figure is per core; ``benchmarks/bench_run.py`` measures the threads)."""
    w0, c0 = _clock()
    run = run_proposal(scenario, pid, replications=replications, seed=seed, threads=1)
    w1, c1 = _clock()
    return w1 - w0, c1 - c0, run.outcome


def time_reference(scenario: Scenario, pid: str, *, replications: int, seed: int):
    """(wall seconds, CPU seconds, outcomes) of the per-agent Mesa reference."""
    from mesa_reference import run_reference  # Mesa stays out of the memory probe

    w0, c0 = _clock()
    out = run_reference(scenario, pid, replications=replications, seed=seed)
    w1, c1 = _clock()
    return w1 - w0, c1 - c0, out


def draw_counts(neg, outcome) -> dict[str, float]:
    """Random numbers per replication: drawn by the engine's layout (every block draws
    ``BLOCK`` rows, and every voter's numbers for a chunk of rounds while any replication of
    the block runs: rounds 1-2, then 3-10) and used (the start draws, and a vote-noise and a
    hold-up uniform per member and round the replication reaches)."""
    from cicasim.engine.draws import BLOCK, FACTORS, FIRST_DRAW, ROUNDS_PER_DRAW

    n, d, m = neg.n, len(neg.dimensions), int(neg.member.sum())
    start = n * (d + 1 + FACTORS)
    reps = len(outcome.rounds)
    drawn = 0
    for lo in range(0, reps, BLOCK):
        top = int(outcome.rounds[lo:lo + BLOCK].max())
        k = FIRST_DRAW
        while k < min(top, neg.max_rounds):
            k += ROUNDS_PER_DRAW
        drawn += BLOCK * (start + 2 * m * k)
    used = reps * start + 2 * m * int(outcome.rounds.sum())
    return {"drawn_per_replication": drawn / reps, "used_per_replication": used / reps,
            "start_per_replication": start, "members": m}


def time_draws(scenario: Scenario, pid: str, outcome, *, seed: int) -> dict[str, float]:
    """CPU seconds the engine's draws take (the per-actor generators and the numbers of every
    block, as the engine draws them), and the lower bound: the numbers the replications use,
    and only those, drawn in bulk from one generator with the engine's distributions and
    precisions (start draws float32 normals and uniforms, vote noise float64, hold-up
    float32)."""
    from cicasim.engine.arrays import negotiation
    from cicasim.engine.draws import BLOCK, BlockDraws

    neg = negotiation(scenario, pid)
    counts = draw_counts(neg, outcome)
    reps = len(outcome.rounds)
    c0 = time.process_time()
    gens = [BlockDraws.of(neg, seed=seed, point=0, block=b, rows=slice(0, BLOCK))
            for b in range(-(-reps // BLOCK))]
    c1 = time.process_time()
    for b, draws in enumerate(gens):
        draws.start()
        top = int(outcome.rounds[b * BLOCK:(b + 1) * BLOCK].max())
        for chunk in draws.rounds():
            if chunk.first + chunk.noise.shape[2] - 1 >= min(top, neg.max_rounds):
                break
    c2 = time.process_time()
    rng = np.random.Generator(np.random.PCG64(seed))
    n, d, m = neg.n, len(neg.dimensions), counts["members"]
    voted = m * int(outcome.rounds.sum())
    rng.standard_normal(reps * n * (d + 1), dtype=np.float32)
    rng.random(reps * n * 8, dtype=np.float32)
    rng.random(voted)
    rng.random(voted, dtype=np.float32)
    c3 = time.process_time()
    return counts | {"generators_seconds": c1 - c0, "draws_seconds": c2 - c0,
                     "lower_bound_seconds": c3 - c2}


def measure(scenario: Scenario, pid: str, *, engine_reps: int, reference_reps: int,
            repeats: int, seed: int) -> dict[str, Any]:
    """Best-of-``repeats`` rates of both implementations, timed alternately so a burst of load
    on the shared machine hits both alike.

    The headline rate is per CPU second of this process (``time.process_time``, all threads
    counted, so any multithreaded BLAS call counts against the engine): on a machine shared with
    other work, wall-clock time mostly measures the neighbours. Wall-clock rates are kept too.
    """
    time_engine(scenario, pid, replications=64, seed=seed)  # warm-up: imports, caches
    time_reference(scenario, pid, replications=2, seed=seed)
    engine, reference = [], []
    for _ in range(repeats):
        *t, eng = time_engine(scenario, pid, replications=engine_reps, seed=seed)
        engine.append(t)
        *t, ref = time_reference(scenario, pid, replications=reference_reps, seed=seed)
        reference.append(t)
    draws = min((time_draws(scenario, pid, eng, seed=seed) for _ in range(repeats)),
                key=lambda r: r["draws_seconds"])
    rate = {
        (who, clock): reps / min(t[k] for t in times)
        for who, reps, times in (("engine", engine_reps, engine),
                                 ("reference", reference_reps, reference))
        for k, clock in enumerate(("wall", "cpu"))
    }
    return {
        "members": len(scenario.members),
        "actors": len(scenario.actors),
        "engine_replications": engine_reps,
        "reference_replications": reference_reps,
        "engine_rps": rate["engine", "cpu"],
        "reference_rps": rate["reference", "cpu"],
        "ratio": rate["engine", "cpu"] / rate["reference", "cpu"],
        "lower_bound_rps": engine_reps / draws["lower_bound_seconds"],
        "ratio_to_lower_bound": engine_reps / draws["lower_bound_seconds"]
        / rate["engine", "cpu"],
        "draws_share": draws["draws_seconds"] * rate["engine", "cpu"] / engine_reps,
        "generators_share": draws["generators_seconds"] * rate["engine", "cpu"] / engine_reps,
        "draws": draws,
        "engine_rps_wall": rate["engine", "wall"],
        "reference_rps_wall": rate["reference", "wall"],
        "ratio_wall": rate["engine", "wall"] / rate["reference", "wall"],
        "engine_seconds": [[round(w, 3), round(c, 3)] for w, c in engine],
        "reference_seconds": [[round(w, 3), round(c, 3)] for w, c in reference],
        "engine_p_consensus": float(np.mean(eng.status == 1)),
        "reference_p_consensus": float(np.mean([r.status == "passed" for r in ref])),
        "engine_mean_rounds": float(np.mean(eng.rounds)),
        "reference_mean_rounds": float(np.mean([r.rounds for r in ref])),
    }


def memory_probe(args: argparse.Namespace) -> dict[str, float]:
    """Run in a fresh interpreter: the engine's replications on the large scenario, on one
    thread as timed; the peak RSS of the whole process (imports, the compiled loops' loading
    and the run included), or with ``--traced`` tracemalloc's peak of the run alone (numpy
    reports its buffers to tracemalloc; its own book-keeping would inflate the RSS, so the two
    are measured in separate processes)."""
    _, big, pid, _ = scenarios(path=args.scenario, proposal=args.proposal, large=args.large,
                               seed=args.seed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.traced:
        import tracemalloc

        tracemalloc.start()
    run_proposal(big, pid, replications=args.engine_replications, seed=args.seed, threads=1)
    if args.traced:
        _, traced = tracemalloc.get_traced_memory()
        return {"traced_peak_mb": traced / 2**20}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"peak_rss_mb": peak, "baseline_rss_mb": base}


def fresh_memory_probe(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for extra in ([], ["--traced"]):
        cmd = [sys.executable, __file__, "--memory-probe", "--large", str(args.large),
               "--engine-replications", str(args.engine_replications), "--seed",
               str(args.seed), *extra]
        if args.scenario is not None:
            cmd += ["--scenario", str(args.scenario)]
        if args.proposal is not None:
            cmd += ["--proposal", args.proposal]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out |= json.loads(done.stdout)
    return out


def machine() -> dict[str, Any]:
    import mesa

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, help="28-member scenario (default: CICA 2022)")
    ap.add_argument("--proposal", help="proposal id (default: the scenario's first)")
    ap.add_argument("--large", type=int, default=60, help="members of the enlarged case")
    ap.add_argument("--engine-replications", type=int, default=10_000)
    ap.add_argument("--reference-replications", type=int, default=100,
                    help="replications of the per-agent Mesa reference per timing")
    ap.add_argument("--repeats", type=int, default=3, help="timings per case; the best counts")
    ap.add_argument("--seed", type=int, default=20221013)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args)))
        return 0

    small, big, pid, source = scenarios(path=args.scenario, proposal=args.proposal,
                                        large=args.large, seed=args.seed)
    mem = fresh_memory_probe(args)  # first, while this process is still small
    cases = {}
    for label, sc in (("28", small), (str(args.large), big)):
        cases[label] = measure(sc, pid, engine_reps=args.engine_replications,
                               reference_reps=args.reference_replications,
                               repeats=args.repeats, seed=args.seed)
    result = {
        f"ratio_{label}": case["ratio"] for label, case in cases.items()
    } | {
        "peak_mb": mem["peak_rss_mb"],
        "peak_method": "peak RSS (ru_maxrss) of a fresh interpreter running the engine's "
                       f"{args.engine_replications} replications at {args.large} members",
        "engine_traced_peak_mb": mem["traced_peak_mb"],
        "baseline_rss_mb": mem["baseline_rss_mb"],
        "scenario": source,
        "proposal": pid,
        "timing": f"CPU time of the process, best of {args.repeats}, engine and reference "
                  "alternating (wall-clock figures in cases)",
        "cases": cases,
        "machine": machine(),
        "targets": {"ratio": 300, "peak_mb": 200},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    m = result["machine"]
    print(f"engine vs per-agent Mesa reference: {source}, proposal {pid!r}")
    print(f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
          f"Mesa {m['mesa']}; {result['timing']}")
    print(f"{'members':>7} {'actors':>6} {'engine reps/s':>14} {'reference reps/s':>17} "
          f"{'ratio':>7} {'(wall)':>7}  P(consensus) engine / reference")
    for case in cases.values():
        print(f"{case['members']:>7} {case['actors']:>6} {case['engine_rps']:>14,.0f} "
              f"{case['reference_rps']:>17,.1f} {case['ratio']:>7.0f} {case['ratio_wall']:>7.0f}  "
              f"{case['engine_p_consensus']:.3f} / {case['reference_p_consensus']:.3f}")
    print("against the lower bound (only the random numbers the replications use, drawn in "
          "bulk from one generator):")
    for case in cases.values():
        dr = case["draws"]
        print(f"{case['members']:>7} members: lower bound {case['lower_bound_rps']:,.0f} rep/s, "
              f"engine {case['ratio_to_lower_bound']:.1f}x from it; draws take "
              f"{case['draws_share']:.0%} of the engine's time (making the generators "
              f"{case['generators_share']:.0%}); {dr['drawn_per_replication']:.0f} numbers drawn "
              f"per replication, {dr['used_per_replication']:.0f} used")
    print(f"engine peak memory: {result['peak_mb']:.0f} MB peak RSS in a fresh interpreter "
          f"({result['baseline_rss_mb']:.0f} MB after imports; numpy/tracemalloc peak of the "
          f"run {result['engine_traced_peak_mb']:.0f} MB)")
    ok = all(c["ratio"] >= 300 for c in cases.values()) and result["peak_mb"] < 200
    print(f"targets (ratio >= 300 at 28 and {args.large} members, peak < 200 MB): "
          f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
