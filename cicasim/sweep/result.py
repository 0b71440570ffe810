"""A sweep's result: its tables on disk or in memory, and what ran."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cicasim.display import Shown
from cicasim.errors import InputError
from cicasim.sweep.plan import Plan
from cicasim.sweep.tables import TABLES

__all__ = ["SweepResult", "records"]


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class SweepResult(Shown):
    """A sweep's tables, on disk (``directory``) or in memory (``tables``), and what ran."""

    directory: Path | None
    points: int
    computed: int  # points computed by this call (the rest were on disk)
    n_replications: int  # per point and proposal
    proposals: tuple[str, ...]
    plan: Plan | None = None
    tables: dict[str, pd.DataFrame] | None = None  # in memory: short name -> table

    def has(self, name: str) -> bool:
        """Whether the sweep has the table ``name`` (``deltas`` only with common random
        numbers and more than one point, ``steps`` only with an enlargement factor)."""
        if self.tables is not None:
            return name in self.tables
        return (self.directory / TABLES[name]).exists()  # replications: a folder

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables (:data:`TABLES`): ``summary``, ``replications``, ``blocking``,
        ``points``, ``deltas`` or ``steps``."""
        if name not in TABLES:
            raise InputError(f"table: {name!r} is unknown; allowed: {', '.join(TABLES)}")
        if not self.has(name):
            raise InputError(f"table: this sweep has no {name} table")
        if self.tables is not None:
            return self.tables[name].copy()
        return pd.read_parquet(self.directory / TABLES[name])

    def summary(self) -> pd.DataFrame:
        """One row per design point and proposal: the factor values, the number of members,
        P(consensus) with its Wilson interval, median rounds and mean dilution."""
        return self.table("summary")

    def replications(self) -> pd.DataFrame:
        """One row per design point × proposal × replication."""
        return self.table("replications")

    def headline(self) -> str:
        name = f"{self.plan.name}, " if self.plan is not None else ""
        where = f"in {self.directory}" if self.directory is not None else "in memory"
        return (f"{name}{self.points} design points × {len(self.proposals)} proposals × "
                f"{self.n_replications:,} replications, {where}")

    def results(self) -> Any:
        """The tables as a :class:`cicasim.results.Results` (what the figures and the report
        read)."""
        from cicasim.results import Results, open_results

        if self.tables is None:
            return open_results(self.directory)
        return Results(directory=None, manifest=self._manifest(),
                       _tables=dict(self.tables))

    def _manifest(self) -> dict[str, Any]:
        plan = self.plan
        return {"cicasim_results": "sweep", "seed": plan.seed, "experiment": plan.name,
                "inputs": {plan.scenario_path.name: {"text": plan.scenario_text}},
                "scenario_file": plan.scenario_path.name}

    def plot(self, name: str | None = None) -> Any:
        """The first standard figure of the sweep (``name``: e.g. ``enlargement``, ``delta``,
        ``dilution`` or ``heatmap``)."""
        return self.results().plot(name)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready records (NaN becomes None), as the command line prints them."""
    return json.loads(table.to_json(orient="records"))
