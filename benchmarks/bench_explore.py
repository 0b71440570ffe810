"""Explorer benchmark: how long the Overview takes to re-run after a slider move.

The explorer re-runs every proposal's ensemble whenever a control changes
(:func:`cicasim.explore.settings.overview`, the same :func:`cicasim.analysis.runs.run_scenario` as
``cicasim run``).  This times that call at the issue's size - the bundled CICA 2022 scenario (28
members, 3 proposals), 4,000 replications - for a sequence of slider positions, after one
warm-up run that compiles the kernel (the server does the same at start).  Printed: the median
and the range of the seconds per re-run, and the replications per second.  The browser test
(``tests/test_explore_browser.py``) prints the time as a user sees it, from the slider move to
the new number on the page.  Run: ``python benchmarks/bench_explore.py [--replications 4000]
[--moves 8]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cicasim.explore.settings import initial_settings, load, overview


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4000)
    parser.add_argument("--moves", type=int, default=8)
    args = parser.parse_args()
    scenario, _ = load(None)
    base = initial_settings(scenario, replications=args.replications, seed=1)
    overview(scenario, base.replace(replications=64))  # compile the kernel
    times = []
    for k in range(args.moves):
        moved = base.with_behaviour("rival_penalty", 0.05 + 0.01 * k)
        start = time.perf_counter()
        overview(scenario, moved)
        times.append(time.perf_counter() - start)
    n = len(scenario.proposals)
    med = statistics.median(times)
    print(f"explorer re-run after a slider move: {len(scenario.members)} members, {n} proposals "
          f"x {args.replications:,} replications")
    print(f"  median {med:.2f} s (range {min(times):.2f}-{max(times):.2f} s over {args.moves} "
          f"moves), {n * args.replications / med:,.0f} replications/s")


if __name__ == "__main__":
    main()
