"""Files of a results directory, written whole or not at all: JSON, Parquet tables and text
written through a temporary sibling renamed into place, directories created and locked, and the
readers that turn an unreadable or malformed file into one line naming it."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from cicasim.errors import InputError, os_reason, read_text, shown

__all__ = ["check_output_file", "lock_directory", "make_directory", "path_status",
           "read_json", "read_parquet", "reading_results", "respect_umask", "write_json",
           "write_table", "write_text_atomic"]


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=_jsonable) + "\n", encoding="utf-8")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):  # a Manifest
        return dict(obj)
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_table(path: Path, table: pd.DataFrame) -> None:
    table.to_parquet(path, index=False)


def path_status(path: Path, what: str) -> os.stat_result | None:
    """``os.lstat`` with every error but "absent" as a one-line :class:`InputError`."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise InputError(f"{path}: cannot be used as {what} ({reason})") from None


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
    """A Parquet table of a results directory (a file, or a folder of Parquet files read as one
    dataset in file-name order); one-line :class:`InputError` when it is not readable."""
    import pyarrow as pa

    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise InputError(f"{path}: is not a regular file; expected a Parquet table")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: not a readable Parquet table ({shown(str(exc), 120)})"
        ) from None
