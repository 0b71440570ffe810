"""Sweep benchmarks: what the sweep costs around the engine, what a second worker gains, the
sweep process's memory, the time to read a large sweep's summary, and Dask's cost per task.

Each measurement is repeated (``--repeat``, default 3) and the median printed, with the load
average: on a shared machine wall-clock figures move with the other jobs.

* **scale** - sweeps of ``--points`` tiny design points (default 1,000, 10,000 and 100,000;
  ``tests/data/tiny.toml``, 10 replications of its one proposal per point, a Latin hypercube over
  vote noise and threshold), each in a fresh child process run in this process's executor with
  one thread.  Printed per size: the sweep's seconds (planning apart), the engine's own seconds
  for the same points (a plain loop of :func:`cicasim.engine.ensemble.run_ensemble` over a
  sample of 1,000 of them, scaled), the **overhead per point** (sweep minus engine, over the
  points), the child's **peak RSS** (``ru_maxrss`` of that child alone, from ``os.wait4``), and
  for the largest the **time to read the summary** (``pandas.read_parquet`` and
  ``cicasim.open_results(...).summary()`` in this process).
* **workers** - the 256-point Sobol design on ``scenarios/cica-2022.toml`` (three behaviour and
  uncertainty factors, 3 proposals × 1,000 replications: 768,000 negotiations), run directly
  (a loop of ``run_ensemble`` on one thread in this process, nothing written), then as a sweep
  on a local pool of 1 and of 2 worker processes (started and warmed before the clock).
  Also the **machine's ceiling**: the same direct loop split over 2 worker processes at once
  (in chunks of 8 points, as the sweep's batches, nothing written), which shows what two busy
  cores give here before any sweep work (shared caches, memory bandwidth, the host's clock).
  Printed: seconds, the speed-up over the direct engine, the **2-worker efficiency**
  = direct / (2 × 2-worker time), the ceiling's efficiency = direct / (2 × two-direct time),
  and the sweep's share of the ceiling; every way's files are checked to be identical.
* **dask** - a ``LocalCluster`` of 2 single-threaded worker processes: the wall time of
  ``--tasks`` empty tasks submitted as the sweep submits them (a window of 2 × workers + 2 in
  flight), i.e. the scheduler's and the round trip's **cost per task**, and a model of a
  cluster's sweep time from it (printed, and worked out in ``docs/performance.md``).

Run: ``python benchmarks/bench_sweep.py [scale|workers|dask ...] [--repeat 3] [--json]``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CICA = ROOT / "scenarios" / "cica-2022.toml"
TINY = ROOT / "tests" / "data" / "tiny.toml"


def tiny_experiment(directory: Path, points: int) -> Path:
    exp = directory / f"tiny-{points}.toml"
    exp.write_text(
        '[experiment]\nname = "bench-tiny"\n'
        f'scenario = "{TINY.as_posix()}"\nseed = 1\nreplications = 10\n\n'
        f'[design]\nkind = "latin-hypercube"\nsamples = {points}\n\n'
        '[[factors]]\nkind = "behaviour"\nparameter = "vote_noise"\nrange = [0.0, 0.1]\n\n'
        '[[factors]]\nkind = "behaviour"\nparameter = "threshold"\nrange = [0.0, 0.05]\n',
        encoding="utf-8",
    )
    return exp


def sobol_experiment(directory: Path) -> Path:
    exp = directory / "sobol.toml"
    exp.write_text(
        '[experiment]\nname = "bench-sobol"\n'
        f'scenario = "{CICA.as_posix()}"\nseed = 1\nreplications = 1000\n\n'
        '[design]\nkind = "sobol"\nsamples = 256\n\n'
        '[[factors]]\nkind = "behaviour"\nparameter = "vote_noise"\nrange = [0.0, 0.1]\n\n'
        '[[factors]]\nkind = "behaviour"\nparameter = "abstention_band"\nrange = [0.0, 0.1]\n\n'
        '[[factors]]\nkind = "uncertainty"\nparameter = "position_sd"\nrange = [5.0, 25.0]\n',
        encoding="utf-8",
    )
    return exp


def digest(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.rglob("*.parquet")):
        if p.is_file():
            h.update(p.relative_to(directory).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def median(values: list[float]) -> float:
    return statistics.median(values)


# -- scale: overhead per point, peak RSS, reading the summary --------------------------------


def child_scale(exp: Path, out: Path) -> None:
    """In a fresh process: plan and run the sweep in-process on one thread; print timings."""
    from cicasim.engine.ensemble import run_ensemble
    from cicasim.engine.threads import set_threads
    from cicasim.spec.scenario import load_scenario
    from cicasim.sweep import plan_experiment, run_sweep
    from cicasim.sweep.executors import InProcessExecutor

    set_threads(1)
    run_ensemble(load_scenario(TINY), replications=10, seed=0)  # numba's first call, untimed
    t0, c0 = time.perf_counter(), time.process_time()
    plan = plan_experiment(exp)
    planned, plan_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    run_sweep(plan, out=out, executor=InProcessExecutor())
    swept, sweep_cpu = time.perf_counter() - t0, time.process_time() - c0
    sample = range(0, len(plan.points), max(1, len(plan.points) // 1000))
    t0, c0 = time.perf_counter(), time.process_time()
    for p in sample:
        run_ensemble(plan.scenario_at(p), replications=plan.replications, seed=plan.seed,
                     point=plan.points[p].seed_key, threads=1)
    scale = len(plan.points) / len(sample)
    engine, engine_cpu = (time.perf_counter() - t0) * scale, (time.process_time() - c0) * scale
    print(json.dumps({"plan": planned, "sweep": swept, "engine": engine, "plan_cpu": plan_cpu,
                      "sweep_cpu": sweep_cpu, "engine_cpu": engine_cpu}))


def run_child(args: list[str]) -> tuple[dict, float]:
    """Run this script as a child; its JSON line and its own peak RSS in MB."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child {args} failed ({proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def bench_scale(sizes: list[int], repeat: int, work: Path) -> dict:
    import pandas as pd

    import cicasim

    rows = {}
    for n in sizes:
        exp = tiny_experiment(work, n)
        runs = []
        for r in range(repeat):
            out = work / f"scale-{n}-{r}"
            got, rss = run_child(["--child-scale", str(exp), str(out)])
            got["rss_mb"] = rss
            pd.read_parquet(out / "points.parquet")  # the readers' imports, untimed
            cicasim.open_results(out).table("points")
            t0 = time.perf_counter()
            pd.read_parquet(out / "summary.parquet")
            got["read_summary"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            cicasim.open_results(out).summary()
            got["open_results_summary"] = time.perf_counter() - t0
            runs.append(got)
        row = {k: median([g[k] for g in runs]) for k in runs[0]}
        for what, sweep, engine in (("", "sweep", "engine"), ("_cpu", "sweep_cpu", "engine_cpu")):
            row[f"overhead{what}_ms_per_point"] = median(
                [(g[sweep] - g[engine]) / n * 1000 for g in runs])
        row["runs"] = runs
        rows[n] = row
        print(json.dumps({n: row}), file=sys.stderr, flush=True)  # progress, for long runs
    return rows


# -- workers: 1 against 2 on the Sobol design ------------------------------------------------


def _direct(scenarios: list, keys: list[int], replications: int, seed: int) -> int:
    """The direct engine over some design points (in a worker): nothing built, nothing kept."""
    from cicasim.engine.ensemble import run_ensemble

    for scenario, key in zip(scenarios, keys, strict=True):
        run_ensemble(scenario, replications=replications, seed=seed, point=key, threads=1)
    return len(keys)


def bench_workers(repeat: int, work: Path) -> dict:
    from cicasim.engine.ensemble import run_ensemble
    from cicasim.sweep import plan_experiment, run_sweep
    from cicasim.sweep.executors import LocalProcessExecutor

    plan = plan_experiment(sobol_experiment(work))
    run_ensemble(plan.scenario_at(0), replications=64, seed=0, threads=1)
    runs: dict[str, list[float]] = {"direct": [], "two direct": [], "1 worker": [],
                                    "2 workers": []}
    want = None
    for r in range(repeat):
        t0 = time.perf_counter()
        for dp in plan.points:
            run_ensemble(plan.scenario_at(dp.point), replications=plan.replications,
                         seed=plan.seed, point=dp.seed_key, threads=1)
        runs["direct"].append(time.perf_counter() - t0)
        for n in (1, 2):
            with LocalProcessExecutor(n) as pool:
                warm = functools.partial(run_ensemble, replications=64, seed=0, threads=1)
                list(pool.run([(i, warm, (plan.scenario_at(0),)) for i in range(2 * n)]))
                if n == 2:  # the ceiling: the direct loop in chunks of 8 points, 2 at once
                    chunks = [plan.points[c:c + 8] for c in range(0, len(plan.points), 8)]
                    args = [([plan.scenario_at(dp.point) for dp in pts],
                             [dp.seed_key for dp in pts], plan.replications, plan.seed)
                            for pts in chunks]
                    t0 = time.perf_counter()
                    list(pool.run([(h, _direct, a) for h, a in enumerate(args)]))
                    runs["two direct"].append(time.perf_counter() - t0)
                out = work / f"workers-{n}-{r}"
                t0 = time.perf_counter()
                run_sweep(plan, out=out, executor=pool)
                runs[f"{n} worker{'s' if n > 1 else ''}"].append(time.perf_counter() - t0)
            d = digest(out)
            assert want is None or d == want, f"{n} workers: different files"
            want = d
    seconds = {k: median(v) for k, v in runs.items()}
    return {
        "negotiations": len(plan.points) * plan.replications * len(plan.proposals),
        "seconds": seconds,
        "runs": runs,
        "speedup_1": seconds["direct"] / seconds["1 worker"],
        "speedup_2": seconds["direct"] / seconds["2 workers"],
        "efficiency_2": median([d / (2 * t) for d, t in zip(runs["direct"], runs["2 workers"],
                                                             strict=True)]),
        "ceiling_2": median([d / (2 * t) for d, t in zip(runs["direct"], runs["two direct"],
                                                          strict=True)]),
        "share_of_ceiling": median([c / t for c, t in zip(runs["two direct"], runs["2 workers"],
                                                           strict=True)]),
    }


# -- dask: scheduler cost per task -----------------------------------------------------------


def _noop(i: int) -> int:
    return i


def bench_dask(tasks: int, repeat: int) -> dict:
    import logging

    from distributed import LocalCluster

    from cicasim.sweep.executors import DaskExecutor

    logging.getLogger("distributed").setLevel(logging.ERROR)
    windowed, bulk = [], []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        with DaskExecutor(cluster.scheduler_address) as ex:
            list(ex.run((i, _noop, (i,)) for i in range(50)))  # warm
            client = ex._client  # benchmark only
            for r in range(repeat):
                # as the sweep submits: a window of 2 x workers + 2 tasks in flight
                t0 = time.perf_counter()
                n = sum(1 for _ in ex.run((i, _noop, (i,)) for i in range(tasks)))
                windowed.append((time.perf_counter() - t0) / n)
                # all at once: the scheduler's own throughput
                t0 = time.perf_counter()
                futures = client.map(_noop, range(tasks),
                                     key=[f"bulk-{r}-{i}" for i in range(tasks)])
                client.gather(futures)
                bulk.append((time.perf_counter() - t0) / tasks)
                del futures
    return {"tasks": tasks, "seconds_per_task_windowed": median(windowed),
            "seconds_per_task_bulk": median(bulk), "windowed": windowed, "bulk": bulk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", help="scale, workers and/or dask (default: all)")
    parser.add_argument("--points", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--tasks", type=int, default=2_000, help="empty Dask tasks")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child-scale", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scale:
        child_scale(*args.child_scale)
        return
    args.parts = args.parts or ["scale", "workers", "dask"]
    unknown = set(args.parts) - {"scale", "workers", "dask"}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; allowed: scale, workers, dask")
    result: dict = {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": os.getloadavg()[0], "repeat": args.repeat}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        work = Path(tmp)
        if "scale" in args.parts:
            result["scale"] = bench_scale(args.points, args.repeat, work)
        if "workers" in args.parts:
            result["workers"] = bench_workers(args.repeat, work)
        if "dask" in args.parts:
            result["dask"] = bench_dask(args.tasks, args.repeat)
    result["load_average_after"] = os.getloadavg()[0]
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    report(result)


def report(result: dict) -> None:
    print(f"sweep benchmarks: medians of {result['repeat']} runs on {result['cores']} cores; "
          f"load average {result['load_average_before']:.1f} before, "
          f"{result['load_average_after']:.1f} after")
    if "scale" in result:
        print(f"{'points':>8}{'plan s':>9}{'sweep s':>9}{'engine s':>10}{'ms/point':>10}"
              f"{'CPU ms/point':>14}{'peak RSS':>10}{'read summary':>14}")
        for n, r in result["scale"].items():
            print(f"{n:>8,}{r['plan']:>9.2f}{r['sweep']:>9.2f}{r['engine']:>10.2f}"
                  f"{r['overhead_ms_per_point']:>10.2f}{r['overhead_cpu_ms_per_point']:>14.2f}"
                  f"{r['rss_mb']:>7.0f} MB{r['read_summary'] * 1000:>11.0f} ms")
        print("ms/point: (sweep - engine) / points, wall-clock and CPU; planning apart")
    if "workers" in result:
        w = result["workers"]
        s = w["seconds"]
        print(f"Sobol design, {w['negotiations']:,} negotiations: direct {s['direct']:.1f} s, "
              f"1 worker {s['1 worker']:.1f} s (× {w['speedup_1']:.2f}), 2 workers "
              f"{s['2 workers']:.1f} s (× {w['speedup_2']:.2f}); 2-worker efficiency "
              f"{w['efficiency_2']:.0%} of twice the direct engine; identical files")
        print(f"the machine's ceiling: the direct loop on 2 processes at once "
              f"{s['two direct']:.1f} s, {w['ceiling_2']:.0%} of twice the direct engine; the "
              f"2-worker sweep runs at {w['share_of_ceiling']:.0%} of that ceiling")
    if "dask" in result:
        d = result["dask"]
        print(f"Dask LocalCluster (2 workers), {d['tasks']:,} empty tasks: "
              f"{d['seconds_per_task_bulk'] * 1000:.2f} ms per task submitted at once (the "
              f"scheduler's throughput), {d['seconds_per_task_windowed'] * 1000:.2f} ms per task "
              "through the sweep's window of 2 x workers + 2 (round-trip latency)")


if __name__ == "__main__":
    main()
