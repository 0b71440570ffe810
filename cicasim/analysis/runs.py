"""A scenario's run: the ensembles of its proposals with the figures ``cicasim run`` prints.

:func:`run_scenario` runs the Monte Carlo ensemble of each proposal (:mod:`cicasim.engine.ensemble`)
and :class:`RunResult` holds it with what the tables add to the simulated figures: each rule's
passage probability with coin-flip voters ("rule alone", Coleman's (1971) power of a
collectivity to act, :mod:`cicasim.analysis.power`) and, when asked, each member's pivotality
(:mod:`cicasim.analysis.pivotality`).  The command line prints :meth:`RunResult.to_dict`; a notebook
reads :meth:`RunResult.summary`, the same numbers as a DataFrame.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cicasim.display import Shown
from cicasim.engine.ensemble import (
    BLOCK,
    EnsembleResult,
    EnsembleSummary,
    ProposalSummary,
    RunningSummary,
    run_ensemble,
    summarise_ensemble,
    table_columns,
)
from cicasim.engine.table import block_batch
from cicasim.errors import InputError
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cicasim.analysis.pivotality import Pivot
    from cicasim.engine.kernel import Negotiation, Outcome
    from cicasim.results.manifest import Manifest

__all__ = [
    "SUMMARY_COLUMNS", "ReplicationsWriter", "RunResult", "rule_alone", "run_scenario",
    "summary_frame",
]

#: The columns of :meth:`RunResult.summary`, in order.
SUMMARY_COLUMNS = (
    "proposal", "title", "p_consensus", "ci_low", "ci_high", "rule_alone", "median_rounds",
    "mean_dilution", "blockers", "mean_drift", "rule", "passed", "replications",
)


def rule_alone(scenario: Scenario, proposals: Sequence[str]) -> dict[str, float | None]:
    """Coleman's power to act of each proposal's rule alone (coin-flip voters), or None when it
    cannot be computed (e.g. a population criterion without populations).  Closed forms or
    coalition counts only, no power index (:func:`cicasim.analysis.power.passage_probability`)."""
    from cicasim.analysis.power import passage_for_proposal

    out: dict[str, float | None] = {}
    for pid in proposals:
        try:
            out[pid] = passage_for_proposal(scenario, pid)
        except InputError:
            out[pid] = None
    return out


def summary_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The proposals of a run's summary (:meth:`RunResult.to_dict`, or ``summary.json``) as a
    table: one row per proposal, the top blockers as ``{actor: frequency}``."""
    import pandas as pd

    rows = [
        {
            "proposal": r["id"],
            "title": r.get("title", ""),
            "p_consensus": r["p_consensus"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "rule_alone": r.get("a_priori_passage"),
            "median_rounds": r["median_rounds"],
            "mean_dilution": r["mean_dilution"],
            "blockers": {b["actor"]: b["frequency"] for b in r.get("blockers", [])},
            "mean_drift": r.get("mean_drift"),
            "rule": r.get("rule"),
            "passed": r.get("passed"),
            "replications": r.get("replications"),
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for col in ("rule_alone", "mean_dilution", "mean_drift"):
        frame[col] = frame[col].astype(float)  # None (not computable, nothing agreed) -> NaN
    return frame


class ReplicationsWriter:
    """The per-replication table (:func:`cicasim.engine.ensemble.table_columns`) written to a
    Parquet file as the blocks come, in row groups of :attr:`ROW_GROUP` rows, so writing it
    holds one row group in memory whatever the replication count.  The file reads back as the
    table :meth:`cicasim.engine.ensemble.EnsembleResult.table` builds in memory."""

    #: Rows per row group: large enough for a small footer, small enough to stay a few MB.
    ROW_GROUP = 64 * BLOCK

    def __init__(self, path: Path, negotiations: Sequence[Negotiation], *, point: int = 0):
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"point": pa.int64(), "replication": pa.int64(), "rounds": pa.int64(),
                 "passed": pa.bool_()} | {
            c: pa.large_string()
            for c in ("proposal", "reason", "first_blocker", "objectors", "abstainers")}
        self.schema = pa.schema([(c, types.get(c, pa.float64()))
                                 for c in table_columns(negotiations)])
        self.point = point
        self._writer = pq.ParquetWriter(path, self.schema, compression="snappy")
        self._batches: list[Any] = []
        self._rows = 0

    def write(self, neg: Negotiation, first: int, o: Outcome) -> None:
        """Add the rows of one block: replications ``first``, ``first + 1``, ... of ``neg``."""
        self._batches.append(block_batch(neg, o, point=self.point, schema=self.schema,
                                         first=first, nulls=False))
        self._rows += len(o.status)
        if self._rows >= self.ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._batches:
            self._writer.write_table(pa.Table.from_batches(self._batches),
                                     row_group_size=self._rows)
        self._batches, self._rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __enter__(self) -> ReplicationsWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        self._batches, self._rows = [], 0  # failed: release the file, keep the first error
        with contextlib.suppress(Exception):
            self._writer.close()


class RunResult(Shown):
    """The ensembles of a scenario's proposals, with the seed, the scenario's text (for the
    manifest of :meth:`save`) and, when computed, each member's pivotality.

    ``ensemble`` holds every replication's outcome (:class:`EnsembleResult`), or only the
    summaries (:class:`EnsembleSummary`, ``run_scenario(keep=False)``); then the
    per-replication table is the file ``table`` it was streamed to, if any."""

    def __init__(
        self,
        ensemble: EnsembleResult | EnsembleSummary,
        *,
        source: str,
        text: str,
        pivotality: dict[str, list[Pivot]] | None = None,
        threads: int | None = None,
        table: Path | None = None,
    ) -> None:
        self.ensemble = ensemble
        self.threads = threads  # recorded in the manifest; it never changes a number
        self.table = table  # where the per-replication table was written as it was computed
        self.source = source  # the scenario file as given, or "<name>" for a Scenario object
        self.text = text
        self.pivotality = pivotality

    @property
    def scenario(self) -> Scenario:
        return self.ensemble.scenario

    @property
    def seed(self) -> int:
        return self.ensemble.seed

    @property
    def n_replications(self) -> int:
        """Replications per proposal."""
        return self.ensemble.replications

    @property
    def proposals(self) -> list[str]:
        return self.ensemble.proposals

    @functools.cached_property
    def _summaries(self) -> list[ProposalSummary]:
        return self.ensemble.summaries()

    @functools.cached_property
    def rule_alone(self) -> dict[str, float | None]:
        """Each proposal's passage probability under its rule with coin-flip voters."""
        return rule_alone(self.scenario, self.proposals)

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary ``cicasim run --json`` prints: per proposal the simulated figures,
        the rule's a-priori figure and, when computed, the pivotality."""
        proposals = []
        rules = {p.id: p.rule.kind for p in self.scenario.proposals}
        sponsors = {p.id: p.sponsor for p in self.scenario.proposals}
        for s in self._summaries:
            d = s.to_dict()
            d["rule"] = rules[s.id]
            d["sponsor"] = sponsors[s.id]
            d["a_priori_passage"] = self.rule_alone[s.id]
            if self.pivotality is not None:
                # the sponsor is not removable from its own proposal: it has no entry
                d["pivotality"] = [p.to_dict() for p in self.pivotality[s.id]]
            proposals.append(d)
        return {
            "scenario": self.scenario.scenario.name,
            "seed": self.seed,
            "replications": self.n_replications,
            "proposals": proposals,
        }

    def summary(self) -> pd.DataFrame:
        """One row per proposal: P(consensus) with its 95% Wilson interval, the rule alone,
        median rounds, mean dilution of the agreed texts, the three most frequent blockers, the
        texts' mean drift off the line from tabled text to status quo, and the rule."""
        return summary_frame(self.to_dict()["proposals"])

    def replications(self) -> pd.DataFrame:
        """The tidy per-replication table: one row per proposal × replication (read back from
        the file it was streamed to when the outcomes were not kept)."""
        if isinstance(self.ensemble, EnsembleResult):
            return self.ensemble.table()
        if self.table is not None and self.table.is_file():
            from cicasim.results import read_parquet

            return read_parquet(self.table)
        raise InputError(
            "replications: this run kept no per-replication outcomes (run_scenario(keep=False));"
            " run it with keep=True, or read replications.parquet from its results directory"
        )

    def blocking(self) -> pd.DataFrame:
        """Every member's blocking frequency and first-blocker share, one row per proposal ×
        member."""
        import pandas as pd

        rows = [
            {"proposal": s.id, "actor": a, "frequency": f,
             "first_blocker": s.first_blocker.get(a, 0.0)}
            for s in self._summaries for a, f in sorted(s.blocking.items())
        ]
        return pd.DataFrame(rows, columns=["proposal", "actor", "frequency", "first_blocker"])

    def headline(self) -> str:
        return (f"{self.scenario.scenario.name}, seed {self.seed}, "
                f"{self.n_replications:,} replications per proposal")

    def manifest(self) -> Manifest:
        """The provenance :meth:`save` writes (``manifest.json``)."""
        from cicasim.results import manifest

        return manifest(
            kind="run",
            seed=self.seed,
            inputs={_input_name(self.source, self.scenario): self.text},
            scenario=self.source,
            replications=self.n_replications,
            proposals=self.proposals,
            threads=self.threads,
        )

    def write(self, directory: Path, *, plots: bool = False) -> None:
        """Write the per-replication table, ``summary.json`` and the manifest (and with
        ``plots`` the standard figures) into the existing directory ``directory``."""
        from cicasim.results import TABLE

        if self.table != directory / TABLE:
            if not isinstance(self.ensemble, EnsembleResult):
                raise InputError(
                    f"{directory}: this run kept no per-replication outcomes to write; run it "
                    "with keep=True, or with table= in the directory"
                )
            write_replications(directory / TABLE, self.ensemble)
        from cicasim.results import write_json

        write_json(directory / "summary.json", self.to_dict())
        self.manifest().write(directory)
        if plots:
            from cicasim.plotting import write_standard_figures

            write_standard_figures(directory)

    def save(self, directory: str | Path, *, plots: bool = False, force: bool = False) -> Path:
        """:meth:`write` into ``directory`` atomically: it must be new or empty, or hold run
        results to replace with ``force``; nothing is left half-written.  Returns it."""
        from cicasim.results import atomic_directory

        with atomic_directory(directory, kind="run", force=force) as tmp:
            self.write(tmp, plots=plots)
        return Path(directory)

    def plot(self) -> Figure:
        """P(consensus) per proposal with its interval, and the dilution of the agreed texts."""
        from cicasim.plotting import run_summary_figure

        return run_summary_figure(self.summary(), self.replications(), scenario=self.scenario)


def write_replications(path: Path, ensemble: EnsembleResult) -> None:
    """An ensemble kept in memory written as :class:`ReplicationsWriter` streams one, block by
    block (the same file, whether a run was kept or streamed)."""
    with ReplicationsWriter(path, [r.negotiation for r in ensemble.runs],
                            point=ensemble.point) as writer:
        for r in ensemble.runs:
            o = r.outcome
            for lo in range(0, r.replications, BLOCK):
                rows = slice(lo, lo + BLOCK)
                writer.write(r.negotiation, lo, type(o)(
                    **{f: getattr(o, f)[rows] for f in o.__dataclass_fields__}))


def _input_name(source: str, scenario: Scenario) -> str:
    if source.startswith("<"):
        return f"{scenario.scenario.name}.toml"
    return Path(source).name


def scenario_text(scenario: Scenario) -> str:
    """A scenario object as the TOML text of a scenario file (for a manifest's inputs)."""
    import tomlkit

    return tomlkit.dumps(scenario.model_dump(mode="json", exclude_none=True))


def run_scenario(
    scenario: str | Path | Scenario,
    *,
    replications: int = 10_000,
    seed: int,
    proposals: Sequence[str] | None = None,
    pivotality: bool = False,
    pivotality_channels: int | None = 5,
    progress: Callable[[int, int], None] | None = None,
    source: tuple[str, str] | None = None,
    threads: int | None = None,
    keep: bool = True,
    table: str | Path | None = None,
    on_block: Callable[[], None] | None = None,
) -> RunResult:
    """The ensembles of a scenario (a file or a :class:`~cicasim.spec.scenario.Scenario`): every
    proposal, or those named in ``proposals``; with ``pivotality`` also each member's paired
    ΔP(consensus) when it is removed (one more ensemble per member), and for
    ``pivotality_channels`` of them (None: every member) the ΔP by channel
    (:func:`cicasim.analysis.pivotality.pivotality`), reporting ``progress(done, total)`` in
    blocks of the ensembles; without ``pivotality`` and with ``keep=False``, ``progress``
    counts the run's blocks.

    ``source`` is ``(path, text)`` of the file a Scenario object was read from, for the
    manifest; a file given as ``scenario`` is its own source.  The ensembles' blocks run on
    ``threads`` threads (None: every core, :mod:`cicasim.engine.threads`); the numbers are the
    same on any count.

    With ``keep=False`` (``cicasim run``) each block is summarised as it is computed and then
    dropped (:func:`cicasim.engine.ensemble.summarise_ensemble`), so memory does not grow with
    ``replications``; the numbers are those of ``keep=True``, bit for bit.  ``table`` is a
    Parquet file to stream the per-replication table to (:class:`ReplicationsWriter`).  The
    pivotality needs only each counterfactual's 2×2 table of passes against the run's, counted
    block by block beside the run (:func:`cicasim.analysis.pivotality.paired_tables`), so with
    ``keep=False`` it keeps nothing per replication either, and gives the same numbers.
    ``on_block()`` is called after each block of the ensembles (an exception it raises stops
    the run).
    """
    from cicasim.engine.threads import resolve_threads

    scen, label, text = _scenario_source(scenario, source)
    if not scen.proposals:
        raise InputError(
            f"{label}: proposals: the scenario defines no proposals; add a "
            "[[proposals]] table to run it"
        )
    threads = resolve_threads(threads)
    table = None if table is None else Path(table)
    result: EnsembleResult | EnsembleSummary
    pivots = None
    if keep:
        result = run_ensemble(
            scen, proposals=proposals, replications=replications, seed=seed, threads=threads,
            on_block=on_block,
        )
        if table is not None:
            write_replications(table, result)
        if pivotality:
            pivots = _members_pivotality(
                scen, result, replications=replications, seed=seed,
                channels=pivotality_channels, progress=progress, threads=threads,
            )
    else:
        result, pivots = _streamed_ensemble(
            scen, proposals=proposals, replications=replications, seed=seed, threads=threads,
            table=table, progress=progress, on_block=on_block, pivotality=pivotality,
            channels=pivotality_channels,
        )
    return RunResult(result, source=label, text=text, pivotality=pivots, threads=threads,
                     table=table)


def _scenario_source(
    scenario: str | Path | Scenario, source: tuple[str, str] | None
) -> tuple[Scenario, str, str]:
    """The scenario of :func:`run_scenario`, the label its errors and manifest name it by, and
    its TOML text: a file is read and is its own source; a Scenario object is named by
    ``source`` (``(path, text)``) or, without one, by its name and its dumped text."""
    from cicasim.spec.scenario import read_scenario

    if isinstance(scenario, Scenario):
        label, text = source or (f"<{scenario.scenario.name}>", scenario_text(scenario))
        return scenario, label, text
    scen, text = read_scenario(scenario)
    return scen, str(scenario), text


def _streamed_ensemble(
    scen: Scenario,
    *,
    proposals: Sequence[str] | None,
    replications: int,
    seed: int,
    threads: int,
    table: Path | None,
    progress: Callable[[int, int], None] | None,
    on_block: Callable[[], None] | None,
    pivotality: bool = False,
    channels: int | None = None,
) -> tuple[EnsembleSummary, dict[str, list[Pivot]] | None]:
    """The ensembles summarised block by block as they are computed, each block then dropped
    (:func:`cicasim.engine.ensemble.summarise_ensemble`) and, with ``table``, streamed to that
    Parquet file; ``progress(done, total)`` counts the blocks, ``on_block()`` follows each.
    With ``pivotality`` each proposal's run is computed beside its counterfactuals instead
    (:func:`_streamed_pivotality`), and ``progress`` counts their blocks; the members'
    pivotality is returned beside the summaries (None without it)."""
    from cicasim.engine.arrays import negotiation
    from cicasim.engine.ensemble import blocks_for, chosen_proposals

    chosen = chosen_proposals(scen, proposals, replications)
    total, done = len(chosen) * len(blocks_for(replications)), 0

    def each_block(neg: Negotiation, first: int, out: Outcome) -> None:
        nonlocal done
        if writer is not None:
            writer.write(neg, first, out)
        done += 1
        if progress and not pivotality:
            progress(done, total)
        if on_block:
            on_block()

    with (ReplicationsWriter(table, [negotiation(scen, pid) for pid in chosen])
          if table is not None else contextlib.nullcontext()) as writer:
        if pivotality:
            return _streamed_pivotality(
                scen, chosen, replications=replications, seed=seed, threads=threads,
                channels=channels, progress=progress, each_block=each_block,
            )
        return summarise_ensemble(
            scen, proposals=proposals, replications=replications, seed=seed,
            threads=threads, each_block=each_block,
        ), None


def _streamed_pivotality(
    scen: Scenario,
    chosen: Sequence[str],
    *,
    replications: int,
    seed: int,
    threads: int,
    channels: int | None,
    progress: Callable[[int, int], None] | None,
    each_block: Callable[[Negotiation, int, Outcome], None],
) -> tuple[EnsembleSummary, dict[str, list[Pivot]]]:
    """Each proposal's run computed block by block beside its counterfactuals
    (:func:`cicasim.analysis.pivotality.paired_tables`) and summarised as it comes
    (:class:`~cicasim.engine.ensemble.RunningSummary`), ``each_block(negotiation, first
    replication, outcomes)`` seeing its blocks in order: the summaries and the members'
    pivotality, with nothing per replication kept."""
    from cicasim.analysis.pivotality import pivotality as member_pivotality
    from cicasim.engine.arrays import negotiation

    titles = {p.id: p.title for p in scen.proposals}
    summaries, pivots = [], {}
    for j, pid in enumerate(chosen):
        acc = RunningSummary(negotiation(scen, pid))

        def each(out: Outcome, acc: RunningSummary = acc) -> None:
            first = acc.replications
            acc.add(out)
            each_block(acc.negotiation, first, out)

        pivots[pid] = member_pivotality(
            scen, pid, replications=replications, seed=seed, channels=channels,
            threads=threads, each_block=each, progress=_share(progress, j, len(chosen)),
        )
        summaries.append(acc.summary(titles[pid]))
    return EnsembleSummary(scenario=scen, seed=seed, point=0, replications=replications,
                           proposal_summaries=tuple(summaries)), pivots


def _members_pivotality(
    scen: Scenario,
    result: EnsembleResult,
    *,
    replications: int,
    seed: int,
    channels: int | None,
    progress: Callable[[int, int], None] | None,
    threads: int | None = None,
) -> dict[str, list[Pivot]]:
    """Each proposal's members' pivotality (:func:`cicasim.analysis.pivotality.pivotality`),
    paired with the proposal's run in ``result``; ``progress(done, total)`` counts the blocks
    of the ensembles over all the proposals (they take about as long each)."""
    from cicasim.analysis.pivotality import pivotality as member_pivotality

    return {
        r.proposal: member_pivotality(
            scen, r.proposal, replications=replications, seed=seed, base=r,
            channels=channels, threads=threads,
            progress=_share(progress, j, len(result.runs)),
        )
        for j, r in enumerate(result.runs)
    }


def _share(progress: Callable[[int, int], None] | None, j: int,
           k: int) -> Callable[[int, int], None] | None:
    """The progress of the ``j``-th of ``k`` proposals' pivotality as a share of all ``k``
    (the proposals take about as long each)."""
    if progress is None:
        return None

    def tick(done: int, total: int) -> None:
        progress(j * total + done, k * total)

    return tick
