"""Results on disk: tidy Parquet tables plus a manifest with the provenance.

A results directory holds ``replications.parquet`` (one row per design point × proposal ×
replication), ``summary.json`` and ``manifest.json`` (seed, versions, git commit, the scenario
text and its SHA-256).  Directories are written atomically: everything goes to a temporary
sibling that is renamed into place, so an interrupted or failed command leaves nothing
half-written (Axelrod and AgentPy keep results with their provenance in the same way).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from cicasim.draws import BLOCK
from cicasim.errors import InputError

__all__ = [
    "MANIFEST",
    "TABLE",
    "atomic_directory",
    "git_commit",
    "manifest",
    "read_manifest",
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
    negotiation kernel)."""
    out = {"python": platform.python_version()}
    for pkg in ("cicasim", "numpy", "numba", "scipy", "mesa", "pandas", "pyarrow", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def git_commit() -> str | None:
    """The commit of the cicasim source tree, when it is a git checkout (else None)."""
    here = Path(__file__).resolve().parent
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


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` only if the block succeeds.

    ``target`` must be absent or an existing results directory (with a manifest) or empty, so a
    user's unrelated folder is never overwritten.
    """
    target = Path(target)
    if target.exists():
        if not target.is_dir():
            raise InputError(f"{target}: exists and is not a directory; give a new directory")
        if any(target.iterdir()) and not (target / MANIFEST).exists():
            raise InputError(
                f"{target}: exists and is not a cicasim results directory; give a new or empty one"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)


def read_manifest(directory: str | Path, *, kinds: tuple[str, ...] | None = None) -> dict:
    """The manifest of a results directory; a one-line error when it is missing or foreign."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not directory.is_dir():
        raise InputError(f"{directory}: no such results directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{directory}: not a cicasim results directory (no {MANIFEST})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
    kind = data.get("cicasim_results") if isinstance(data, dict) else None
    if kind is None or (kinds and kind not in kinds):
        allowed = ", ".join(kinds) if kinds else "a cicasim results kind"
        raise InputError(f"{path}: results kind {kind!r} is not {allowed}")
    return data
