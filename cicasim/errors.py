"""The one exception type the command line turns into a one-line error and exit code 2."""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError", "read_text"]


class InputError(ValueError):
    """Bad user input (a file, a field, an option); the message is one line that names the
    source, what was wrong and what is allowed."""


def read_text(path: str | Path, *, what: str = "") -> str:
    """The text of an input file (UTF-8, a byte-order mark tolerated); a missing or unreadable
    file becomes a one-line :class:`InputError` naming the file and, when given, ``what`` it
    should be."""
    path = Path(path)
    expected = f" ({what})" if what else ""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found{expected}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"{path}: cannot be read as a UTF-8 text file ({reason})") from None
