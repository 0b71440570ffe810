"""Run benchmark: `cicasim run` on one thread against all threads, and its peak memory against
the number of replications.

* **Threads.** :func:`cicasim.analysis.runs.run_scenario` as ``cicasim run`` calls it (every
  block summarised as it comes, nothing per replication kept) on ``scenarios/cica-2022.toml``,
  its three proposals, ``--replications`` each, with 1 thread and with every core, alternately,
  ``--repeats`` times; the medians of the wall-clock times give the speed-up.  The summaries of
  every timing are checked to be identical, bit for bit.  The machine's ceiling: the 1-thread
  run in one process per core, all at once, shows what the cores give together before any
  thread shares anything (the speed-up of doing that work in the time measured).
* **Memory.** ``cicasim run``, ``cicasim run --out`` and ``cicasim run --out --plots`` at
  10^4, 10^5, 10^6 (and with ``--largest 7`` 10^7) replications of one proposal
  (``--proposal``, the first by default), and ``cicasim run --pivotality --pivotality-top 1``
  at 10^4 to 10^``--pivotality-largest`` (default 6; about 30 ensembles each, one per member
  removed and three for the channels of the most pivotal one), each in a fresh interpreter
  that runs the command in-process and reports its own peak resident set size
  (``ru_maxrss``): imports, the run, the summary, the Parquet file, the figures.

On a machine shared with other jobs the speed-up is capped by the share of the cores the
others leave; the script prints the load average beside it.  Run:
``python benchmarks/bench_run.py [--replications 100000] [--repeats 3] [--largest 6]
[--pivotality-largest 6] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CICA = ROOT / "scenarios" / "cica-2022.toml"

PROBE = """
import contextlib, io, json, resource, sys
from cicasim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


ONE_THREAD = """
import sys
from cicasim.analysis.runs import run_scenario
run_scenario(sys.argv[1], replications=2048, seed=1, keep=False, threads=1)  # warm-up
sys.stdin.readline()  # start together
run_scenario(sys.argv[1], replications=int(sys.argv[2]), seed=1, keep=False, threads=1)
"""


def together(replications: int, copies: int) -> float:
    """Wall-clock seconds of ``copies`` processes each running the 1-thread run at once
    (started, warmed, then released together): the time the machine needs for ``copies``
    times the work when nothing is shared but the hardware."""
    procs = [subprocess.Popen([sys.executable, "-c", ONE_THREAD, str(CICA), str(replications)],
                              stdin=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(copies)]
    time.sleep(8)  # imports and warm-up
    w = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a 1-thread copy failed")
    return time.perf_counter() - w


def threads_scaling(replications: int, repeats: int) -> dict:
    """Median wall-clock seconds of the run on 1 thread and on every core, and of the
    1-thread run in as many processes at once (the machine's ceiling for the speed-up)."""
    from cicasim.analysis.runs import run_scenario
    from cicasim.engine.threads import available_cores

    cores = available_cores()
    run_scenario(CICA, replications=2048, seed=1, keep=False, threads=cores)  # warm-up
    times: dict[int, list[float]] = {1: [], cores: []}
    first = None
    for _ in range(repeats):
        for t in (1, cores):
            w = time.perf_counter()
            res = run_scenario(CICA, replications=replications, seed=1, keep=False, threads=t)
            times[t].append(time.perf_counter() - w)
            summary = res.to_dict()
            first = first or summary
            if summary != first:
                raise SystemExit("the thread count changed the numbers")
    apart = [together(replications, cores) for _ in range(repeats)] if cores > 1 else []
    one, many = statistics.median(times[1]), statistics.median(times[cores])
    ceiling = cores * one / statistics.median(apart) if apart else 1.0
    return {
        "cores": cores,
        "replications": replications,
        "proposals": 3,
        "seconds_1_thread": [round(x, 3) for x in times[1]],
        f"seconds_{cores}_threads": [round(x, 3) for x in times[cores]],
        "median_1_thread": one,
        "median_all_threads": many,
        "speedup": one / many,
        "efficiency": one / many / cores,
        "seconds_processes_at_once": [round(x, 3) for x in apart],
        "ceiling_speedup": ceiling,
        "share_of_ceiling": one / many / ceiling,
        "identical": True,
    }


def peak_rss(args: list[str]) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if out["code"] != 0:
        raise SystemExit(f"cicasim {' '.join(args)} failed: {done.stderr}")
    return out["peak_mb"]


def timed_rss(args: list[str]) -> tuple[float, float]:
    """Peak RSS in MB and wall-clock seconds of ``cicasim args`` in a fresh interpreter."""
    w = time.perf_counter()
    mb = peak_rss(args)
    return mb, time.perf_counter() - w


def memory_curve(proposal: str, largest: int) -> list[dict]:
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-run-"))
    try:
        for e in range(4, largest + 1):
            n = 10**e
            base = ["run", str(CICA), "-n", str(n), "--seed", "1", "--proposal", proposal,
                    "--json"]
            run, run_s = timed_rss(base)
            out, out_s = timed_rss([*base, "--out", str(tmp / f"r{e}")])
            size = (tmp / f"r{e}" / "replications.parquet").stat().st_size / 2**20
            shutil.rmtree(tmp / f"r{e}")
            plots, plots_s = timed_rss([*base, "--out", str(tmp / f"p{e}"), "--plots"])
            shutil.rmtree(tmp / f"p{e}")
            rows.append({"replications": n, "run_mb": run, "run_seconds": run_s,
                         "out_mb": out, "out_seconds": out_s, "table_mb": size,
                         "plots_mb": plots, "plots_seconds": plots_s})
            print(f"  10^{e}: run {run:.0f} MB ({run_s:.1f} s), run --out {out:.0f} MB "
                  f"({out_s:.1f} s, table {size:.0f} MB), run --out --plots {plots:.0f} MB "
                  f"({plots_s:.1f} s)", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def pivotality_curve(proposal: str, largest: int) -> list[dict]:
    """Peak RSS of ``run --pivotality --pivotality-top 1`` of one proposal."""
    rows = []
    for e in range(4, largest + 1):
        n = 10**e
        mb, s = timed_rss(["run", str(CICA), "-n", str(n), "--seed", "1", "--proposal",
                           proposal, "--json", "--pivotality", "--pivotality-top", "1"])
        rows.append({"replications": n, "pivotality_mb": mb, "pivotality_seconds": s})
        print(f"  10^{e}: run --pivotality {mb:.0f} MB ({s:.1f} s)", file=sys.stderr,
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=100_000,
                    help="replications per proposal of the thread timing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--largest", type=int, default=6, help="largest power of ten of the memory "
                    "curve (7: 10^7 replications, a few minutes)")
    ap.add_argument("--proposal", default="financial-summit",
                    help="the proposal of the memory curve")
    ap.add_argument("--pivotality-largest", type=int, default=6, help="largest power of ten "
                    "of the pivotality's memory curve (3 or less: none)")
    ap.add_argument("--skip-threads", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result: dict = {"load_average_before": os.getloadavg()}
    if not args.skip_threads:
        result["threads"] = threads_scaling(args.replications, args.repeats)
    if not args.skip_memory:
        result["memory"] = memory_curve(args.proposal, args.largest)
        result["pivotality"] = pivotality_curve(args.proposal, args.pivotality_largest)
    result["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "threads" in result:
        t = result["threads"]
        print(f"run, CICA 2022, 3 proposals x {t['replications']:,} replications, "
              f"medians of {args.repeats}: 1 thread {t['median_1_thread']:.2f} s, "
              f"{t['cores']} threads {t['median_all_threads']:.2f} s: speed-up "
              f"{t['speedup']:.2f}x ({t['efficiency']:.0%} of {t['cores']} cores), "
              "numbers identical")
        print(f"the machine's ceiling: {t['cores']} processes each running the 1-thread run "
              f"at once give a speed-up of {t['ceiling_speedup']:.2f}x; the threads reach "
              f"{t['share_of_ceiling']:.0%} of it")
    if "memory" in result:
        print(f"peak RSS, one proposal ({args.proposal}):")
        print(f"{'replications':>12} {'run':>8} {'run --out':>10} {'--plots':>10} "
              f"{'table':>8}")
        for r in result["memory"]:
            print(f"{r['replications']:>12,} {r['run_mb']:>6.0f} MB {r['out_mb']:>8.0f} MB "
                  f"{r['plots_mb']:>7.0f} MB {r['table_mb']:>6.0f} MB")
    if result.get("pivotality"):
        print(f"peak RSS of run --pivotality --pivotality-top 1, {args.proposal}:")
        print(f"{'replications':>12} {'peak RSS':>9} {'seconds':>8}")
        for r in result["pivotality"]:
            print(f"{r['replications']:>12,} {r['pivotality_mb']:>6.0f} MB "
                  f"{r['pivotality_seconds']:>8.0f}")
    la = result["load_average_before"]
    print(f"load average before: {la[0]:.1f}, after: {result['load_average_after'][0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
