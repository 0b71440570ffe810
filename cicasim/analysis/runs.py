"""A scenario's run: the ensembles of its proposals with the figures ``cicasim run`` prints.

:func:`run_scenario` runs the Monte Carlo ensemble of each proposal (:mod:`cicasim.engine.ensemble`)
and :class:`RunResult` holds it with what the tables add to the simulated figures: each rule's
passage probability with coin-flip voters ("rule alone", Coleman's (1971) power of a
collectivity to act, :mod:`cicasim.analysis.power`) and, when asked, each member's pivotality
(:mod:`cicasim.analysis.pivotality`).  The command line prints :meth:`RunResult.to_dict`; a notebook
reads :meth:`RunResult.summary`, the same numbers as a DataFrame.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cicasim.display import Shown
from cicasim.engine.ensemble import EnsembleResult, ProposalSummary, run_ensemble
from cicasim.errors import InputError
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cicasim.analysis.pivotality import Pivot

__all__ = ["SUMMARY_COLUMNS", "RunResult", "rule_alone", "run_scenario", "summary_frame"]

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


class RunResult(Shown):
    """The ensembles of a scenario's proposals, with the seed, the scenario's text (for the
    manifest of :meth:`save`) and, when computed, each member's pivotality."""

    def __init__(
        self,
        ensemble: EnsembleResult,
        *,
        source: str,
        text: str,
        pivotality: dict[str, list[Pivot]] | None = None,
        threads: int | None = None,
    ) -> None:
        self.ensemble = ensemble
        self.threads = threads  # recorded in the manifest; it never changes a number
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
        return [r.proposal for r in self.ensemble.runs]

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
        """The tidy per-replication table: one row per proposal × replication."""
        return self.ensemble.table()

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

    def manifest(self) -> dict[str, Any]:
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
        from cicasim.results import MANIFEST, TABLE, write_json, write_table

        write_table(directory / TABLE, self.replications())
        write_json(directory / "summary.json", self.to_dict())
        write_json(directory / MANIFEST, self.manifest())
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
) -> RunResult:
    """The ensembles of a scenario (a file or a :class:`~cicasim.spec.scenario.Scenario`): every
    proposal, or those named in ``proposals``; with ``pivotality`` also each member's paired
    ΔP(consensus) when it is removed (one more ensemble per member), and for
    ``pivotality_channels`` of them (None: every member) the ΔP by channel
    (:func:`cicasim.pivotality.pivotality`), reporting ``progress(done, total)`` in ensembles.

    ``source`` is ``(path, text)`` of the file a Scenario object was read from, for the
    manifest; a file given as ``scenario`` is its own source.  The ensembles' blocks run on
    ``threads`` threads (None: every core, :mod:`cicasim.engine.threads`); the numbers are the
    same on any count.
    """
    from cicasim.engine.threads import resolve_threads
    from cicasim.spec.scenario import read_scenario

    if isinstance(scenario, Scenario):
        scen = scenario
        label, text = source or (f"<{scenario.scenario.name}>", scenario_text(scenario))
    else:
        scen, text = read_scenario(scenario)
        label = str(scenario)
    if not scen.proposals:
        raise InputError(
            f"{label}: proposals: the scenario defines no proposals; add a "
            "[[proposals]] table to run it"
        )
    threads = resolve_threads(threads)
    result = run_ensemble(
        scen, proposals=proposals, replications=replications, seed=seed, threads=threads
    )
    pivots = None
    if pivotality:
        from cicasim.analysis.pivotality import pivotality as member_pivotality

        pivots = {}
        k = len(result.runs)
        for j, r in enumerate(result.runs):
            def tick(done: int, total: int, j: int = j) -> None:
                if progress:
                    progress(j * total + done, k * total)  # proposals take about as long each

            pivots[r.proposal] = member_pivotality(
                scen, r.proposal, replications=replications, seed=seed, base=r,
                channels=pivotality_channels, progress=tick,
            )
    return RunResult(result, source=label, text=text, pivotality=pivots, threads=threads)
