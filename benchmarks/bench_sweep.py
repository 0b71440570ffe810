"""Sweep benchmark: what the sweep machinery costs and what local workers gain.

The same design points run four ways in this process, one after the other:

* **direct** - a plain loop of :func:`cicasim.engine.ensemble.run_ensemble` over the points, nothing
  written: the reference;
* **in-process** - :func:`cicasim.sweep.run_sweep` with the in-process executor (work units,
  per-point Parquet parts, the merged tables and the manifest);
* **1 worker**, **2 workers** - the same with a local process pool
  (:class:`cicasim.sweep.executors.LocalProcessExecutor`).  The pool's start (forkserver, one
  import of
  cicasim) is timed apart and reported as a fixed cost; the throughput is that of a started
  pool.

Printed: replications per second (replications × proposals) of wall-clock time, each way's
ratio to direct, the CPU seconds each way used (this process and its workers, from
``/proc/PID/stat`` on Linux), the overhead per design point of the in-process sweep over direct,
and the pool start.  Every process runs one small ensemble before it is timed, so numba's
first-call cost (loading the compiled loops, about a second) counts in the pool start, not in
the throughput.  On a machine shared with other jobs the wall-clock gain of a second worker
is capped by the scheduler's fair share (Linux autogroups share CPU time per session, not per
process), so the CPU seconds are the steadier figure: with idle cores the wall-clock time of N
workers is about their CPU seconds / N.  Every way's tables are checked to be identical, bit for
bit.

The design: the first ``--points`` steps of ``scenarios/cica-2022.toml``'s enlargement path
(28, 29, ... members), its first proposal, ``--replications`` per point.  Run:
``python benchmarks/bench_sweep.py [--points 6] [--replications 2048] [--json]``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CICA = ROOT / "scenarios" / "cica-2022.toml"
TINY = ROOT / "tests" / "data" / "tiny.toml"


def write_experiment(directory: Path, scenario: Path, *, points: int, replications: int,
                     proposal: str) -> Path:
    exp = directory / "bench.toml"
    exp.write_text(
        "[experiment]\n"
        'name = "bench-sweep"\n'
        f'scenario = "{scenario.as_posix()}"\n'
        "seed = 1\n"
        f"replications = {replications}\n"
        f'proposals = ["{proposal}"]\n'
        "common_random_numbers = false\n\n"
        "[[factors]]\n"
        'kind = "enlargement"\n'
        f"values = {list(range(points))}\n",
        encoding="utf-8",
    )
    return exp


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of live processes (Linux ``/proc``; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def digest(directory: Path) -> str:
    h = hashlib.sha256()
    for name in ("replications", "summary", "blocking", "points"):
        h.update((directory / f"{name}.parquet").read_bytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=6, help="design points (default 6)")
    parser.add_argument("--replications", type=int, default=2048, help="per point (default 2048)")
    parser.add_argument("--scenario", type=Path, help="base scenario (default cica-2022)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from cicasim.engine.ensemble import run_ensemble
    from cicasim.spec.scenario import load_scenario
    from cicasim.sweep import plan_experiment, run_sweep
    from cicasim.sweep.executors import InProcessExecutor, LocalProcessExecutor

    scenario_path = args.scenario or (CICA if CICA.exists() else TINY)
    base = load_scenario(scenario_path)
    points = min(args.points, len(base.enlargement) + 1)
    proposal = base.proposals[0].id
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        exp = write_experiment(work, scenario_path.resolve(), points=points,
                               replications=args.replications, proposal=proposal)
        plan = plan_experiment(exp)
        reps = points * args.replications
        rows: dict[str, dict] = {}
        # numba's first call loads the compiled loops (about a second): pay it before timing
        warm = functools.partial(run_ensemble, proposals=[proposal], replications=64, seed=0)
        warm(base)

        # direct: the ensembles alone, same seeds as the sweep
        t0, c0 = time.perf_counter(), time.process_time()
        for p in range(points):
            run_ensemble(plan.scenario_at(p), proposals=[proposal],
                         replications=args.replications, seed=plan.seed,
                         point=plan.points[p].seed_key)
        rows["direct"] = {"seconds": time.perf_counter() - t0,
                          "cpu_seconds": time.process_time() - c0}

        t0, c0 = time.perf_counter(), time.process_time()
        run_sweep(plan, out=work / "inproc", executor=InProcessExecutor())
        rows["in-process"] = {"seconds": time.perf_counter() - t0,
                              "cpu_seconds": time.process_time() - c0}
        want = digest(work / "inproc")

        for n in (1, 2):
            t0 = time.perf_counter()
            pool = LocalProcessExecutor(n)
            list(pool.run([(i, warm, (base,)) for i in range(n)]))  # start and warm every worker
            start = time.perf_counter() - t0
            pids = list(pool._pool._processes)  # the worker processes (benchmark only)
            w0, t0, c0 = cpu_seconds(pids), time.perf_counter(), time.process_time()
            run_sweep(plan, out=work / f"pool{n}", executor=pool)
            took = time.perf_counter() - t0
            cpu = time.process_time() - c0 + cpu_seconds(pids) - w0
            pool.close()
            assert digest(work / f"pool{n}") == want, f"{n} workers: different tables"
            rows[f"{n} worker{'s' if n > 1 else ''}"] = {
                "seconds": took, "cpu_seconds": cpu, "pool_start": start,
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    direct = rows["direct"]["seconds"]
    for r in rows.values():
        r["replications_per_second"] = reps / r["seconds"]
        r["ratio_to_direct"] = direct / r["seconds"]
    overhead = (rows["in-process"]["seconds"] - direct) / points
    result = {
        "scenario": str(scenario_path.relative_to(ROOT) if scenario_path.is_relative_to(ROOT)
                        else scenario_path),
        "proposal": proposal,
        "points": points,
        "members": [dp.n_members for dp in plan.points],
        "replications_per_point": args.replications,
        "overhead_per_point_seconds": overhead,
        "rows": rows,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(f"sweep benchmark: {result['scenario']}, proposal {proposal}, {points} design points "
          f"({result['members'][0]}-{result['members'][-1]} members) × "
          f"{args.replications:,} replications; load average {result['load_average']:.1f} "
          f"on {result['cores']} cores")
    print(f"{'way':<12}{'seconds':>10}{'replications/s':>16}{'× direct':>10}"
          f"{'CPU s':>8}{'CPU × direct':>14}{'pool start':>12}")
    for name, r in rows.items():
        start = f"{r['pool_start']:.1f} s" if "pool_start" in r else "-"
        print(f"{name:<12}{r['seconds']:>10.2f}{r['replications_per_second']:>16,.0f}"
              f"{r['ratio_to_direct']:>10.2f}{r['cpu_seconds']:>8.2f}"
              f"{r['cpu_seconds'] / rows['direct']['cpu_seconds']:>14.2f}{start:>12}")
    print(f"overhead of the in-process sweep over direct: {overhead * 1000:.0f} ms per design "
          "point (units, parts, merge, manifest); all four ways gave identical tables")


if __name__ == "__main__":
    main()
