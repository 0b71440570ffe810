"""The Wilson score interval of a binomial proportion, the one interval every table reports.

Wilson, E. B. (1927) "Probable inference, the law of succession, and statistical inference",
*JASA* 22, 209-212.  Brown, Cai & DasGupta (2001, *Statistical Science* 16, 101-133) recommend
it over the Wald interval, notably near 0 and 1.  Newcombe's (1998) paired interval of a
difference (:func:`cicasim.analysis.compare.paired_difference`) combines two of them.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["wilson", "wilson_bounds"]


def wilson_bounds(successes: int, n: int, z: float) -> tuple[float, float]:
    """The closed form of the Wilson score interval for the normal quantile ``z``, unclamped
    (as Newcombe 1998 uses it for method 10)."""
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    den = 1 + z * z / n
    return (centre - half) / den, (centre + half) / den


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``successes`` out of ``n`` at ``confidence``, inside [0, 1] and
    exactly 0 (1) when nothing (everything) succeeded; NaNs when ``n`` is 0."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    low, high = wilson_bounds(successes, n, z)
    return (
        0.0 if successes == 0 else max(0.0, low),
        1.0 if successes == n else min(1.0, high),
    )
