"""A results directory: :class:`Results`, the one reader of results used by the command line,
the figures (:mod:`cicasim.plotting`) and the report (:mod:`cicasim.plotting.report`), and the
atomic writing of a whole directory.

A results directory holds ``replications.parquet`` (one row per design point × proposal ×
replication), ``summary.json`` and ``manifest.json`` (:mod:`cicasim.results.manifest`).
Directories are written atomically: everything goes to a temporary sibling that is renamed into
place, so an interrupted or failed command leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cicasim.display import Shown
from cicasim.errors import InputError, os_reason, parse_toml, shown
from cicasim.results.files import (
    lock_directory,
    make_directory,
    path_status,
    read_json,
    read_parquet,
    reading_results,
    respect_umask,
)
from cicasim.results.manifest import MANIFEST, Manifest, read_manifest
from cicasim.spec.scenario import Scenario, ScenarioError, parse_scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["KNOWN_ENTRIES", "TABLE", "Results", "atomic_directory", "check_output_directory",
           "directory_entries", "existing_results",
           "open_results", "scenario_from_manifest"]


TABLE = "replications.parquet"


#: Files and folders cicasim itself writes into a results directory; a directory holding
#: anything else is the user's and is never replaced.
KNOWN_ENTRIES = frozenset({
    MANIFEST, TABLE, "summary.json", "comparison.parquet", "issues.csv",
    "predicted_vs_actual.png", "events.csv", "reliability.png", "figures", "report.html",
})


def directory_entries(target: Path) -> list[str] | None:
    """The names in an output directory ``target``, sorted; None when it does not exist.  A
    path that is not a directory, or cannot be read, is refused in one line."""
    st = path_status(target, "an output directory")
    if st is None:
        return None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{target}: exists and is not a directory; give a new directory")
    try:
        return sorted(p.name for p in target.iterdir())
    except OSError as exc:
        raise InputError(f"{target}: cannot be read ({os_reason(exc)})") from None


def existing_results(target: Path, entries: Sequence[str], *, kind: str, instead: str,
                     reasons: bool = False) -> Manifest:
    """The manifest of the existing, non-empty output directory ``target`` (its ``entries``,
    :func:`directory_entries`), which must hold ``kind`` results: the one check of an existing
    output directory, for results written whole (:func:`check_output_directory`) and for a
    sweep's (:func:`cicasim.sweep.store.check_directory`).

    One-line errors: a directory without a manifest, or with one that cannot be read, "is not a
    cicasim results directory" (give ``instead``); with ``reasons``, a manifest that cannot be
    read says what is wrong with it (:meth:`Manifest.read`); results of another kind.
    """
    not_results = (f"{target}: exists and is not a cicasim results directory; "
                   f"give {instead}")
    if MANIFEST not in entries:
        raise InputError(not_results)
    try:
        old = read_manifest(target)
    except InputError:
        if reasons:
            raise
        raise InputError(not_results) from None
    if old.kind != kind:
        raise InputError(
            f"{target}: holds {shown(old.kind)} results, not {kind} results; "
            "give a new directory"
        )
    return old


def check_output_directory(target: str | Path, *, kind: str, force: bool = False) -> bool:
    """Whether ``target`` can take a ``kind`` results directory written whole (run, compare,
    validation); True when it exists (empty, or ``kind`` results to replace with ``force``).

    Refused, with a one-line error and nothing touched: a path that is not a directory; a
    directory holding anything but cicasim results of the same kind (a user's folder, a
    sweep's results, a results directory with extra files in it); results of the same kind
    unless ``force`` is given.
    """
    target = Path(target)
    entries = directory_entries(target)
    if entries is None:
        return False
    if not entries:
        return True
    existing_results(target, entries, kind=kind, instead="a new or empty one")
    foreign = [e for e in entries if e not in KNOWN_ENTRIES]
    if foreign:
        listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise InputError(
            f"{target}: holds files cicasim did not write ({shown(listed)}); give a new directory"
        )
    if not force:
        raise InputError(
            f"{target}: already holds {kind} results; pass --force to replace them or give a "
            "new directory"
        )
    return True


@contextmanager
def atomic_directory(
    target: str | Path, *, kind: str, force: bool = False
) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` only if the block succeeds.

    ``target`` is checked first (:func:`check_output_directory`: absent, empty, or ``kind``
    results replaced only with ``force``), created and locked (:func:`lock_directory`) for the
    whole block, so enter this before computing: a path that cannot be written fails at once.
    On any error the temporary directory (and ``target`` when this created it) is removed and
    a write error becomes a one-line :class:`InputError`; nothing is half-written.
    """
    target = Path(target)
    existed = check_output_directory(target, kind=kind, force=force)
    make_directory(target)
    created = not existed
    try:
        with lock_directory(target):
            check_output_directory(target, kind=kind, force=force)  # again, under the lock
            try:
                tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
                respect_umask(tmp, directory=True)
            except OSError as exc:
                raise InputError(
                    f"{target.parent}: cannot write here ({os_reason(exc)})"
                ) from None
            try:
                yield tmp
                if any(target.iterdir()):
                    old = target.with_name(f".{target.name}.old-{os.getpid()}")
                    target.rename(old)
                    tmp.rename(target)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(tmp, target)  # onto the empty directory, in one step
                created = False
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise InputError(
                    f"{target}: cannot write the results ({os_reason(exc)}); nothing was written"
                ) from None
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    finally:
        if created:
            with contextlib.suppress(OSError):
                target.rmdir()


#: What a kind of results summarises itself with (a table name, or summary.json for a run).
_SUMMARY_TABLE = {"sweep": "summary", "sensitivity": "sobol", "compare": "comparison"}


@dataclass(repr=False)
class Results(Shown):
    """A set of results: its manifest, its tables (read on demand) and its scenario.

    On disk it is a results directory (:func:`open_results`); a sweep run in memory gives one
    without a directory (``directory`` None) whose tables are all at hand.  The command line,
    the figures (:mod:`cicasim.plotting`) and the report (:mod:`cicasim.plotting.report`) read
    results
    through it.
    """

    directory: Path | None
    manifest: Manifest
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.manifest, Manifest):  # a sweep in memory passes its JSON object
            self.manifest = Manifest(self.manifest)

    @property
    def kind(self) -> str:
        return self.manifest.kind

    def has(self, name: str) -> bool:
        """Whether the table ``name`` (``<name>.parquet`` on disk) is there."""
        if name in self._tables:
            return True
        # a sweep's replications are a partitioned dataset: a folder of Parquet files
        return self.directory is not None and (self.directory / f"{name}.parquet").exists()

    def table(self, name: str) -> pd.DataFrame:
        """``<name>.parquet``; a one-line error when it is missing."""
        if name not in self._tables:
            if self.directory is None:
                raise InputError(f"{self.kind} results in memory lack the {name} table")
            path = self.directory / f"{name}.parquet"
            if not path.exists():
                raise InputError(f"{self.directory}: {self.kind} results lack {path.name}")
            self._tables[name] = read_parquet(path)
        return self._tables[name]

    @functools.cached_property
    def scenario(self) -> Scenario | None:
        """The scenario recorded in the manifest (None when the manifest holds none)."""
        return scenario_from_manifest(self.manifest)

    @property
    def title(self) -> str:
        s = self.scenario
        return s.scenario.name if s is not None else str(self.manifest.get("name", "results"))

    def headline(self) -> str:
        where = f"in {self.directory}" if self.directory is not None else "in memory"
        return f"{self.kind} results {where}, seed {self.manifest.get('seed')}"

    def summary(self) -> pd.DataFrame:
        """The headline table of the results: a run's proposals (as
        :meth:`cicasim.analysis.runs.RunResult.summary`), a sweep's summary, a comparison's ΔP per
        proposal, or a sensitivity analysis's Sobol indices."""
        if self.kind == "run":
            from cicasim.analysis.runs import summary_frame

            if self.directory is None or not (self.directory / "summary.json").is_file():
                raise InputError(f"{self.directory}: run results lack summary.json")
            data = read_json(self.directory / "summary.json", what="a run's summary, JSON")
            with reading_results(self.directory):
                return summary_frame(data.get("proposals", []))
        name = _SUMMARY_TABLE.get(self.kind)
        if name is None:
            raise InputError(f"{self.directory}: {self.kind} results have no summary table")
        return self.table(name)

    def replications(self) -> pd.DataFrame:
        """The per-replication table (runs and sweeps)."""
        return self.table("replications")

    def figures(self) -> list[str]:
        """The names of the standard figures that apply (:mod:`cicasim.plotting`)."""
        from cicasim.plotting import figure_names

        return figure_names(self)

    def plot(self, name: str | None = None) -> Figure:
        """The standard figure ``name`` (see :meth:`figures`; default the first)."""
        from cicasim.plotting import standard_figures

        for _stem, _caption, fig in standard_figures(self, only=name):
            return fig
        raise InputError(
            f"plot: no figure {name!r} for these {self.kind} results; allowed: "
            + ", ".join(self.figures())
        )


def open_results(directory: str | Path, *, kinds: tuple[str, ...] | None = None) -> Results:
    """Open a results directory (of one of ``kinds``, default any); a one-line error when it is
    missing or not a cicasim results directory."""
    directory = Path(directory)
    return Results(directory=directory, manifest=read_manifest(directory, kinds=kinds))


def scenario_from_manifest(manifest: Mapping[str, Any]) -> Scenario | None:
    """Rebuild the scenario from the text the manifest recorded (run: the scenario file; sweep:
    the base scenario).  Prefers the input named like ``manifest["scenario"]``."""
    inputs = manifest.get("inputs") or {}
    if not isinstance(inputs, dict):
        return None
    given = [str(manifest.get(k) or "") for k in ("scenario", "scenario_file", "a")]
    preferred = {g for g in given if g} | {Path(g).name for g in given if g}
    names = sorted(inputs, key=lambda n: (n not in preferred, n))
    for name in names:
        entry = inputs[name]
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(text, str):
            continue
        try:
            data = parse_toml(text, name)
        except InputError:
            continue
        if "actors" in data and "scenario" in data:
            try:
                return parse_scenario(data, name)
            except ScenarioError:
                continue
    return None
