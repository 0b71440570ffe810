"""What a run's figures need of its per-replication table, read a row group at a time.

The summary figure (:func:`cicasim.plotting.run.run_summary_figure`) draws, per proposal, the
share of agreed texts passed as tabled and a box of the dilution of the amended ones (5th, 25th,
50th, 75th and 95th percentiles); the blocking bars (:func:`cicasim.plotting.run.blocking_bars`)
each member's share of replications in which it objected to a failed text.  Both are counts and
order statistics, so :func:`run_table_stats` reads ``replications.parquet`` in row groups,
keeping counts per proposal and, up to :data:`KEPT` amended texts per proposal, their dilutions
(``numpy.percentile`` of them, as over the whole table).  Beyond that it keeps none: the
order statistics ``numpy.percentile`` interpolates between are found exactly by reading the
dilutions again, 16 bits of their order-preserving bit pattern per pass (a radix selection,
Knuth, *The Art of Computer Programming* vol. 3, sec. 5.2.5), four passes in all, and
interpolated with ``numpy.percentile``'s own arithmetic ("linear", Hyndman and Fan 1996,
definition 7).  The figures are the same, byte for byte, whatever the replication count; the
memory is a few row groups and one 65,536-bin histogram per order statistic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cicasim.errors import InputError, os_reason, shown

__all__ = ["KEPT", "QUANTILES", "RunTableStats", "percentiles", "run_table_stats"]

#: The percentiles of the dilution box, in order (whiskers, quartiles, median).
QUANTILES = (5, 25, 50, 75, 95)

#: Amended dilutions kept per proposal (8 MB); beyond, they are selected in passes.
KEPT = 1 << 20

#: The columns the figures read.
COLUMNS = ["proposal", "passed", "dilution", "objectors"]

_SIGN = np.uint64(1 << 63)
_DIGIT = 16  # bits of the bit pattern per pass


@dataclass
class _Proposal:
    replications: int = 0
    passed: int = 0
    amended: int = 0
    nan: bool = False
    objected: Counter[str] = field(default_factory=Counter)
    kept: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class RunTableStats:
    """Per proposal (in the order they first appear): replications, passes, amended texts
    and the dilution box (``boxes``: one row per proposal, :data:`QUANTILES` as ``p5``,
    ``q1``, ``median``, ``q3``, ``p95``, NaN with no amended text), each member's objections to
    failed texts (``objected``), and every actor ever named an objector (``objectors``)."""

    proposals: list[str]
    boxes: pd.DataFrame
    objected: dict[str, Counter[str]]
    objectors: set[str]

    def blocking(self, members: Iterable[str]) -> pd.DataFrame:
        """Each member's blocking frequency per proposal, as
        :func:`cicasim.plotting.run.blocking_frequencies` computes it from the table."""
        n = dict(zip(self.boxes["proposal"], self.boxes["replications"], strict=True))
        rows = [{"proposal": pid, "actor": a,
                 "frequency": int(self.objected[pid].get(a, 0)) / n[pid] if n[pid] else 0.0}
                for pid in self.proposals for a in members]
        return pd.DataFrame(rows, columns=["proposal", "actor", "frequency"])


Chunks = Callable[[], Iterator[pd.DataFrame]]


def parquet_chunks(path: Path) -> Chunks:
    """The :data:`COLUMNS` of a Parquet file a row group at a time, each time called; a
    one-line :class:`InputError` when it is not readable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            f = pq.ParquetFile(path)
            for i in range(f.num_row_groups):
                yield f.read_row_group(i, columns=COLUMNS).to_pandas()
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None
        except (pa.ArrowException, ValueError, KeyError) as exc:
            raise InputError(
                f"{path}: not a readable Parquet table ({shown(str(exc), 120)})"
            ) from None

    return chunks


def frame_chunks(table: pd.DataFrame) -> Chunks:
    """A per-replication table in memory as one chunk."""
    return lambda: iter([table])


def run_table_stats(chunks: Chunks, *, kept: int | None = None) -> RunTableStats:
    """The figures' counts and dilution boxes of a per-replication table read as ``chunks()``
    (a fresh iterator of DataFrames each call; read once, and four more times per proposal
    with more than ``kept`` amended texts, default :data:`KEPT`)."""
    kept = KEPT if kept is None else kept
    acc: dict[str, _Proposal] = {}
    objectors: set[str] = set()
    for chunk in chunks():
        objectors.update(a for s in pd.unique(chunk["objectors"].fillna(""))
                         for a in s.split(";") if a)
        for pid, sub in chunk.groupby("proposal", sort=False):
            p = acc.setdefault(pid, _Proposal())
            passed = sub["passed"].to_numpy(bool)
            p.replications += len(sub)
            p.passed += int(passed.sum())
            failed = sub.loc[~passed, "objectors"].fillna("")
            p.objected.update(failed[failed != ""].str.split(";").explode().tolist())
            d = sub["dilution"].to_numpy(float)[passed]
            amended = d[d != 0]
            p.amended += len(amended)
            p.nan = p.nan or bool(np.isnan(amended).any())
            if p.amended <= kept:
                p.kept.append(amended)
            else:
                p.kept.clear()
    rows = []
    for pid, p in acc.items():
        if not p.amended:
            box = [np.nan] * len(QUANTILES)
        elif p.amended <= kept:
            box = np.percentile(np.concatenate(p.kept), QUANTILES).tolist()
        elif p.nan:
            box = [np.nan] * len(QUANTILES)  # as numpy.percentile gives it
        else:
            box = percentiles(_amended(chunks, pid), p.amended)
        rows.append({"proposal": pid, "replications": p.replications, "passed": p.passed,
                     "amended": p.amended,
                     **dict(zip(("p5", "q1", "median", "q3", "p95"), box, strict=True))})
    boxes = pd.DataFrame(rows, columns=["proposal", "replications", "passed", "amended", "p5",
                                        "q1", "median", "q3", "p95"])
    return RunTableStats(proposals=list(acc), boxes=boxes,
                         objected={pid: p.objected for pid, p in acc.items()},
                         objectors=objectors)


def _amended(chunks: Chunks, pid: str) -> Callable[[], Iterator[np.ndarray]]:
    def values() -> Iterator[np.ndarray]:
        for chunk in chunks():
            sub = chunk[chunk["proposal"] == pid]
            d = sub["dilution"].to_numpy(float)[sub["passed"].to_numpy(bool)]
            yield d[d != 0]

    return values


def _sortable(x: np.ndarray) -> np.ndarray:
    """float64 as uint64 in the same order (no NaN): the sign bit flipped for positive
    numbers, every bit for negative ones."""
    k = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    return np.where(k & _SIGN, ~k, k | _SIGN)


def _float(key: int) -> float:
    k = np.array([key], dtype=np.uint64)
    return float(np.where(k & _SIGN, k & ~_SIGN, ~k).view(np.float64)[0])


def order_statistics(values: Callable[[], Iterator[np.ndarray]], ranks: Iterable[int],
                     ) -> dict[int, float]:
    """The ``r``-th smallest (from 0) of the values ``values()`` yields, for each ``r`` in
    ``ranks``, exactly, in four passes over them (no NaN): each pass narrows every rank to
    the values sharing 16 more leading bits of their order-preserving bit pattern."""
    state = {int(r): (0, int(r)) for r in ranks}  # rank -> (leading bits, rank among them)
    for level in range(64 // _DIGIT):
        shift = np.uint64(64 - _DIGIT * (level + 1))
        heads = sorted({h for h, _ in state.values()})
        hist = {h: np.zeros(1 << _DIGIT, dtype=np.int64) for h in heads}
        for x in values():
            k = _sortable(x)
            for h in heads:
                sel = k if level == 0 else k[(k >> np.uint64(64 - _DIGIT * level)) == h]
                digit = ((sel >> shift) & np.uint64((1 << _DIGIT) - 1)).astype(np.intp)
                hist[h] += np.bincount(digit, minlength=1 << _DIGIT)
        for r, (h, within) in state.items():
            cum = np.cumsum(hist[h])
            if within >= cum[-1]:
                raise ValueError(f"rank {r} is beyond the {int(cum[-1]):,} values")
            d = int(np.searchsorted(cum, within, side="right"))
            state[r] = ((h << _DIGIT) | d, within - (int(cum[d - 1]) if d else 0))
    return {r: _float(h) for r, (h, _) in state.items()}


def percentiles(values: Callable[[], Iterator[np.ndarray]], n: int,
                q: Iterable[float] = QUANTILES) -> list[float]:
    """``numpy.percentile(all values, q)`` (method "linear") of the ``n`` values ``values()``
    yields, without holding them: the order statistics it interpolates between
    (:func:`order_statistics`), interpolated with numpy's arithmetic, so the numbers are the
    same, bit for bit (``tests/test_plotting.py`` checks it)."""
    quantiles = np.true_divide(np.asarray(list(q), dtype=float), 100)
    virtual = (n - 1) * quantiles
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    prev_i, nxt_i = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = np.asanyarray(virtual - prev_i, dtype=virtual.dtype)
    stats = order_statistics(values, set(prev_i.tolist()) | set(nxt_i.tolist()))
    a = np.array([stats[i] for i in prev_i.tolist()])
    b = np.array([stats[i] for i in nxt_i.tolist()])
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out.tolist()
