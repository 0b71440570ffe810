"""Results on disk: tidy Parquet tables plus a manifest with the provenance, and
:class:`Results`, the one reader of them.

A results directory holds ``replications.parquet`` (one row per design point × proposal ×
replication), ``summary.json`` and ``manifest.json`` (seed, versions, git commit, the scenario
text and its SHA-256).  Directories are written atomically: everything goes to a temporary
sibling that is renamed into place, so an interrupted or failed command leaves nothing
half-written (Axelrod and AgentPy keep results with their provenance in the same way).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cicasim.display import Shown
from cicasim.engine.draws import BLOCK
from cicasim.errors import InputError, os_reason, parse_toml, read_text, shown
from cicasim.spec.scenario import Scenario, ScenarioError, parse_scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "KNOWN_ENTRIES",
    "MANIFEST",
    "TABLE",
    "Results",
    "atomic_directory",
    "check_output_directory",
    "check_output_file",
    "lock_directory",
    "make_directory",
    "path_status",
    "write_text_atomic",
    "git_commit",
    "manifest",
    "open_results",
    "read_json",
    "reading_results",
    "read_manifest",
    "read_parquet",
    "scenario_from_manifest",
    "sha256",
    "versions",
    "write_json",
    "write_table",
]

MANIFEST = "manifest.json"
TABLE = "replications.parquet"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the numbers (numba compiles the
    negotiation kernel; SALib draws the Saltelli sample and estimates the Sobol indices) and
    the figures (matplotlib)."""
    out = {"python": platform.python_version()}
    for pkg in ("cicasim", "numpy", "numba", "scipy", "mesa", "pandas", "pyarrow", "pydantic",
                "SALib", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def git_commit() -> str | None:
    """The commit of the cicasim source tree, when it is a git checkout (else None)."""
    here = Path(__file__).resolve().parents[1]
    try:
        res = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    return res.stdout.strip() + ("-dirty" if dirty else "")


def manifest(*, kind: str, seed: int, inputs: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Provenance of a results directory. ``inputs`` maps file names to their text."""
    return {
        "cicasim_results": kind,
        "seed": seed,
        "block_size": BLOCK,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "versions": versions(),
        "git_commit": git_commit(),
        "inputs": {name: {"sha256": sha256(text), "text": text} for name, text in inputs.items()},
        **extra,
    }


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=_jsonable) + "\n", encoding="utf-8")


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_table(path: Path, table: pd.DataFrame) -> None:
    table.to_parquet(path, index=False)


#: Files and folders cicasim itself writes into a results directory; a directory holding
#: anything else is the user's and is never replaced.
KNOWN_ENTRIES = frozenset({
    MANIFEST, TABLE, "summary.json", "comparison.parquet", "issues.csv",
    "predicted_vs_actual.png", "events.csv", "reliability.png", "figures", "report.html",
})


def path_status(path: Path, what: str) -> os.stat_result | None:
    """``os.lstat`` with every error but "absent" as a one-line :class:`InputError`."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise InputError(f"{path}: cannot be used as {what} ({reason})") from None


def check_output_directory(target: str | Path, *, kind: str, force: bool = False) -> bool:
    """Whether ``target`` can take a ``kind`` results directory written whole (run, compare,
    validation); True when it exists (empty, or ``kind`` results to replace with ``force``).

    Refused, with a one-line error and nothing touched: a path that is not a directory; a
    directory holding anything but cicasim results of the same kind (a user's folder, a
    sweep's results, a results directory with extra files in it); results of the same kind
    unless ``force`` is given.
    """
    target = Path(target)
    st = path_status(target, "an output directory")
    if st is None:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{target}: exists and is not a directory; give a new directory")
    try:
        entries = sorted(p.name for p in target.iterdir())
    except OSError as exc:
        raise InputError(f"{target}: cannot be read ({os_reason(exc)})") from None
    if not entries:
        return True
    if MANIFEST not in entries:
        raise InputError(
            f"{target}: exists and is not a cicasim results directory; give a new or empty one"
        )
    try:
        old = read_manifest(target)
    except InputError:
        raise InputError(
            f"{target}: exists and is not a cicasim results directory; give a new or empty one"
        ) from None
    if old["cicasim_results"] != kind:
        raise InputError(
            f"{target}: holds {shown(old['cicasim_results'])} results, not {kind} results; "
            "give a new directory"
        )
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


def make_directory(path: Path) -> None:
    """``mkdir -p``; any failure (a file in the way, a read-only or special file system, a
    name too long) is a one-line :class:`InputError`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise InputError(f"{path}: cannot create the directory ({reason})") from None
    if not path.is_dir():
        raise InputError(f"{path}: exists and is not a directory; give a new directory")


@contextmanager
def lock_directory(directory: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (``flock`` on the directory itself, released
    when the block ends or the process dies), so a second command writing there stops at once
    with a one-line error instead of mixing its files with the first one's."""
    directory = Path(directory)
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{directory}: cannot be opened ({os_reason(exc)})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{directory}: another cicasim command is writing to this directory; wait for "
                "it to finish or give another directory"
            ) from None
        except OSError:
            pass  # a file system without locks: carry on unlocked
        yield
    finally:
        os.close(fd)  # releases the lock


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def respect_umask(path: str | Path, *, directory: bool) -> None:
    """Give a temporary file or directory (created 0600 / 0700 by :mod:`tempfile`) the mode a
    plain ``open`` or ``mkdir`` would have: 0666 or 0777 less the umask, so results are as
    readable as any other file the user writes."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


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


def check_output_file(path: str | Path, *, folder_must_exist: bool = True) -> Path:
    """A file to write by rename: absent, or a regular file (never a device, a FIFO, a
    directory or a symbolic link, which a rename would replace); a one-line error otherwise."""
    path = Path(path)
    st = path_status(path, "an output file")
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise InputError(f"{path}: exists and is {what}; give a new file name or a regular file")
    if folder_must_exist:
        try:
            folder = stat.S_ISDIR(os.stat(path.parent).st_mode)
        except (OSError, ValueError):
            folder = False
        if not folder:
            raise InputError(f"{path}: the folder {path.parent} does not exist")
    return path


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling renamed into place
    (:func:`check_output_file` first), so no partial file is ever left; a write error (a full
    disk, a read-only folder) is a one-line :class:`InputError` and the temporary file is
    removed."""
    path = check_output_file(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        respect_umask(tmp, directory=False)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot be written ({os_reason(exc)})") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def reading_results(directory: str | Path) -> Iterator[None]:
    """Turn the errors of tables and summaries of an unexpected shape (a results directory
    edited by hand or damaged) into one line naming the directory."""
    try:
        yield
    except InputError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise InputError(
            f"{directory}: the results are malformed ({type(exc).__name__}: "
            f"{shown(str(exc), 120)}); make them again with the command that wrote them"
        ) from None


def read_json(path: str | Path, *, what: str = "JSON") -> Any:
    """A JSON file of a results directory (read bounded, :func:`cicasim.errors.read_text`);
    one-line :class:`InputError` when it is unreadable or not JSON."""
    text = read_text(path, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON here (nested too deeply)") from None


def read_parquet(path: str | Path) -> pd.DataFrame:
    """A Parquet table of a results directory; one-line :class:`InputError` when it is not a
    readable Parquet file."""
    import pyarrow as pa

    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file; expected a Parquet table")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: not a readable Parquet table ({shown(str(exc), 120)})"
        ) from None


def read_manifest(directory: str | Path, *, kinds: tuple[str, ...] | None = None) -> dict:
    """The manifest of a results directory; a one-line error when it is missing, foreign or
    malformed (its ``inputs`` must map names to ``{"sha256", "text"}`` tables, its ``seed``
    be a whole number)."""
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        is_dir = stat.S_ISDIR(os.stat(directory).st_mode)
    except (OSError, ValueError):
        is_dir = False
    if not is_dir:
        raise InputError(f"{directory}: no such results directory")
    try:
        os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{directory}: not a cicasim results directory (no {MANIFEST})") from None
    except OSError:
        pass  # read_text says what is wrong
    text = read_text(path, what="a cicasim manifest, JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: not a cicasim manifest (nested too deeply)") from None
    kind = data.get("cicasim_results") if isinstance(data, dict) else None
    if not isinstance(kind, str) or (kinds and kind not in kinds):
        allowed = ", ".join(kinds) if kinds else "a cicasim results kind"
        raise InputError(f"{path}: results kind {shown(kind)} is not {allowed}")
    inputs = data.get("inputs", {})
    if not isinstance(inputs, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("text", ""), str) for v in inputs.values()
    ):
        raise InputError(f"{path}: inputs: expected a table of file names to {{sha256, text}}")
    seed = data.get("seed", 0)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InputError(f"{path}: seed: expected a whole number (got {shown(seed)})")
    return data


# -- reading results back -------------------------------------------------------------------

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
    manifest: dict
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.manifest["cicasim_results"])

    def has(self, name: str) -> bool:
        """Whether the table ``name`` (``<name>.parquet`` on disk) is there."""
        if name in self._tables:
            return True
        return self.directory is not None and (self.directory / f"{name}.parquet").is_file()

    def table(self, name: str) -> pd.DataFrame:
        """``<name>.parquet``; a one-line error when it is missing."""
        if name not in self._tables:
            if self.directory is None:
                raise InputError(f"{self.kind} results in memory lack the {name} table")
            path = self.directory / f"{name}.parquet"
            if not path.is_file():
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


def scenario_from_manifest(manifest: dict) -> Scenario | None:
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
