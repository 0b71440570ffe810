"""Start-up benchmark: how long ``cicasim --help`` and a command's help take, and what they load.

Each command line runs ``--repeats`` times in a fresh interpreter (what the ``cicasim`` script
runs: ``cicasim.cli.entry``), alternating with a bare ``python -c pass`` so a burst of load
on a shared machine hits both alike; the medians of wall-clock and of CPU time (user and
system, steadier when other jobs share the cores) are printed, with the start-up of the bare
interpreter beside them.  ``python -X importtime`` of ``cicasim --help`` gives the modules it
imports, the slowest first.  Run: ``python benchmarks/bench_startup.py [--repeats 15] [--json]``.
Target (issue 17): ``cicasim --help`` under 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what the ``cicasim`` console script runs
ENTRY = "from cicasim.cli import entry; entry()"
LINES = {
    "python -c pass": ["-c", "pass"],
    "cicasim --help": ["-c", ENTRY, "--help"],
    "cicasim run --help": ["-c", ENTRY, "run", "--help"],
}
HEAVY = ("numpy", "numba", "pydantic", "pandas", "pyarrow", "scipy", "mesa", "rich",
         "matplotlib", "dask")


def timed(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run in a fresh interpreter."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - w
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def imports(args: list[str]) -> tuple[list[tuple[str, float]], list[str]]:
    """The top-level modules by cumulative import time (seconds), and the heavy ones loaded."""
    err = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True,
                         text=True, check=True, cwd=ROOT).stderr
    rows = []
    for line in err.splitlines()[1:]:
        if not line.startswith("import time:"):
            continue
        _, cum, name = line.split("|")
        rows.append((name.strip(), int(cum) / 1e6, len(name) - len(name.lstrip())))
    top = sorted(((n, c) for n, c, depth in rows if depth <= 1), key=lambda x: -x[1])[:8]
    loaded = {n.split(".")[0] for n, _, _ in rows}
    return top, [h for h in HEAVY if h in loaded]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    for a in LINES.values():
        timed(a)  # warm the file cache and the bytecode
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in LINES}
    for _ in range(args.repeats):
        for k, a in LINES.items():
            times[k].append(timed(a))
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    top, heavy = imports(LINES["cicasim --help"])
    result = {
        "median_seconds": med,
        "median_cpu_seconds": cpu,
        "help_seconds": med["cicasim --help"],
        "help_over_bare_python": med["cicasim --help"] - med["python -c pass"],
        "help_imports_top": top,
        "help_loads_heavy": heavy,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "target_seconds": 0.3,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for k, v in med.items():
        print(f"{k:>20}: {v * 1000:6.0f} ms wall-clock, {cpu[k] * 1000:6.0f} ms CPU "
              f"(medians of {args.repeats})")
    print(f"cicasim --help costs {result['help_over_bare_python'] * 1000:.0f} ms over a bare "
          f"interpreter; heavy libraries loaded: {', '.join(heavy) or 'none'}")
    print("slowest imports of cicasim --help: "
          + ", ".join(f"{n} {c * 1000:.0f} ms" for n, c in top[:5]))
    print(f"target: cicasim --help under 0.3 s: "
          f"{'met' if med['cicasim --help'] < 0.3 else 'NOT met'} "
          f"(load average {result['load_average'][0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
