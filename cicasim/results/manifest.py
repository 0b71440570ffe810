"""The manifest of a results directory: its provenance (seed, versions, git commit, the input
files' text and SHA-256), as a typed :class:`Manifest` read, checked and written in one place.
Results keep their provenance beside them, as Axelrod and AgentPy do."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cicasim.engine.draws import BLOCK
from cicasim.errors import InputError, read_text, shown
from cicasim.results.files import write_json

__all__ = ["KIND", "MANIFEST", "Manifest", "git_commit", "manifest", "read_manifest", "sha256",
           "versions"]

MANIFEST = "manifest.json"


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


#: The key naming a manifest's results kind (run, sweep, compare, sensitivity, validation...).
KIND = "cicasim_results"


class Manifest(Mapping[str, Any]):
    """The provenance of a results directory (``manifest.json``), read and written here only.

    Every manifest has a results :attr:`kind`, a :attr:`seed` and its :attr:`inputs` (file name
    -> ``{"sha256", "text"}``); :func:`manifest` adds the block size, the time, the command, the
    versions and the git commit, and each kind its own fields.  It reads as the JSON object it
    is (``m["seed"]``, ``m.get("a")``), in the file's key order, so the same manifest gives the
    same bytes; :meth:`parse` is the one rule for what a manifest is.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Manifest(kind={self.kind!r}, seed={self.seed!r}, inputs={sorted(self.inputs)!r})"

    @property
    def kind(self) -> str:
        return str(self._data[KIND])

    @property
    def seed(self) -> int | None:
        seed = self._data.get("seed")
        return None if seed is None else int(seed)

    @property
    def fingerprint(self) -> dict[str, Any] | None:
        """What a resumed sweep must share with the original one
        (:meth:`cicasim.sweep.plan.Plan.fingerprint`); None when it records none."""
        return self._data.get("fingerprint")

    @property
    def inputs(self) -> dict[str, dict[str, str]]:
        """File name -> ``{"sha256", "text"}`` of every input the results were made from."""
        return dict(self._data.get("inputs") or {})

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    @classmethod
    def parse(cls, data: Any, path: str | Path, *,
              kinds: tuple[str, ...] | None = None) -> Manifest:
        """Check a manifest's JSON object; a one-line error naming ``path`` when it is foreign
        or malformed (a kind not among ``kinds``; ``inputs`` that do not map names to
        ``{"sha256", "text"}`` tables; a ``seed`` that is not a whole number)."""
        kind = data.get(KIND) if isinstance(data, dict) else None
        if not isinstance(kind, str) or (kinds and kind not in kinds):
            allowed = ", ".join(kinds) if kinds else "a cicasim results kind"
            raise InputError(f"{path}: results kind {shown(kind)} is not {allowed}")
        inputs = data.get("inputs", {})
        if not isinstance(inputs, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("text", ""), str) for v in inputs.values()
        ):
            raise InputError(
                f"{path}: inputs: expected a table of file names to {{sha256, text}}"
            )
        seed = data.get("seed", 0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InputError(f"{path}: seed: expected a whole number (got {shown(seed)})")
        return cls(data)

    @classmethod
    def read(cls, directory: str | Path, *, kinds: tuple[str, ...] | None = None) -> Manifest:
        """The manifest of a results directory: the rule for "is this a cicasim results
        directory" (a directory holding a valid ``manifest.json``); a one-line error when it is
        missing, foreign or malformed."""
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
            raise InputError(
                f"{directory}: not a cicasim results directory (no {MANIFEST})"
            ) from None
        except OSError:
            pass  # read_text says what is wrong
        text = read_text(path, what="a cicasim manifest, JSON")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise InputError(f"{path}: not a cicasim manifest (nested too deeply)") from None
        return cls.parse(data, path, kinds=kinds)

    def write(self, directory: str | Path) -> Path:
        """Write ``manifest.json`` into the existing directory ``directory``; returns its path."""
        path = Path(directory) / MANIFEST
        write_json(path, self._data)
        return path


def manifest(*, kind: str, seed: int, inputs: dict[str, str], **extra: Any) -> Manifest:
    """A new manifest: the provenance of a results directory. ``inputs`` maps file names to
    their text."""
    return Manifest({
        KIND: kind,
        "seed": seed,
        "block_size": BLOCK,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "versions": versions(),
        "git_commit": git_commit(),
        "inputs": {name: {"sha256": sha256(text), "text": text} for name, text in inputs.items()},
        **extra,
    })


def read_manifest(directory: str | Path, *, kinds: tuple[str, ...] | None = None) -> Manifest:
    """The manifest of a results directory (:meth:`Manifest.read`)."""
    return Manifest.read(directory, kinds=kinds)
