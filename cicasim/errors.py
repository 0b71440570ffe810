"""Bad input, read safely and reported in one line.

:class:`InputError` is the one exception the command line turns into a one-line error and exit
code 2.  Every input file goes through :func:`read_text` (regular files only, at most
:data:`MAX_INPUT_BYTES`, never a blocking open) and every TOML file through :func:`parse_toml`
(nesting and number literals bounded), so no input can hang the program, exhaust its memory or
end in a traceback.  :func:`one_line` makes any message a single printable line and
:func:`shown` cuts an echoed value to a readable length; the limits are documented in
``docs/reliability.md``.
"""

from __future__ import annotations

import os
import stat
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_MESSAGE",
    "MAX_NESTING",
    "MAX_SHOWN",
    "InputError",
    "ResultsWarning",
    "one_line",
    "os_reason",
    "parse_toml",
    "read_text",
    "shown",
]

#: Largest input file read, in bytes (64 MiB; the largest shipped data file is under 10 MiB).
MAX_INPUT_BYTES = 64 * 2**20
#: Deepest nesting of tables and arrays accepted in a TOML file (scenarios need about 6).
MAX_NESTING = 32
#: Longest echo of an offending value in an error message, in characters.
MAX_SHOWN = 200
#: Longest error message, in characters (the middle of a longer one is cut).
MAX_MESSAGE = 2000

_CONTROL = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class InputError(ValueError):
    """Bad user input (a file, a field, an option); the message is one line that names the
    source, what was wrong and what is allowed."""


class ResultsWarning(UserWarning):
    """Results that can be read, but lack something a figure or table would show; the command
    line prints it as one line, ``cicasim: warning: <message>``."""


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` as one printable line: control, format and line-separator characters are
    escaped (``\\n``, ``\\x1b``, ``\\u2028``) and the middle of an over-long message is cut."""
    text = "".join(
        _escape(c) if unicodedata.category(c) in _CONTROL else c for c in str(message)
    )
    if len(text) > limit:
        head = limit * 2 // 3
        tail = limit - head - 40
        text = f"{text[:head]} ... [{len(text) - head - tail:,} characters cut] ... {text[-tail:]}"
    return text


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters (escaped later by
    :func:`one_line`)."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text):,} characters)"
    return text


def os_reason(exc: OSError) -> str:
    """The operating system's words for an error (``File name too long``)."""
    if exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_text(path: str | Path, *, what: str = "", limit: int = MAX_INPUT_BYTES) -> str:
    """The text of an input file (UTF-8, a byte-order mark tolerated), read safely.

    The path is examined first (``stat``), so only a regular file is ever opened: a directory,
    a FIFO, a device or a socket is refused without blocking, as is a file over ``limit`` bytes;
    the file is then opened non-blocking and read at most ``limit + 1`` bytes.  A missing file,
    a symlink loop, a path through a regular file, a name too long and any other operating
    system error become one-line :class:`InputError` naming the file and, when given, ``what``
    it should be.
    """
    path = Path(path)
    expected = f" ({what})" if what else ""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found{expected}") from None
    except OSError as exc:  # ELOOP, ENOTDIR, ENAMETOOLONG, EACCES, ...
        raise InputError(f"{path}: cannot be read ({os_reason(exc)}){expected}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise InputError(f"{path}: not a usable file name ({exc}){expected}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory; expected a file{expected}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is {_kind(st.st_mode)}; expected a regular file{expected}")
    too_big = InputError(
        f"{path}: larger than the {limit // 2**20} MiB allowed for an input file{expected}"
    )
    if st.st_size > limit:
        raise too_big
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)}){expected}") from None
    try:
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced since the stat
                raise InputError(f"{path}: is not a regular file; expected a file{expected}")
            data = f.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)}){expected}") from None
    if len(data) > limit:
        raise too_big
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: cannot be read as a UTF-8 text file (byte {exc.start}: {exc.reason})"
            f"{expected}"
        ) from None


def _depth(node: Any) -> int:
    """The nesting depth of parsed TOML (iterative: no recursion limit to reach)."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, d + 1)
        if deepest > MAX_NESTING:
            break
        stack.extend((c, d + 1) for c in children)
    return deepest


def parse_toml(text: str, source: str | Path) -> dict[str, Any]:
    """Parse TOML text; every problem, including nesting deeper than :data:`MAX_NESTING` and
    integer literals beyond Python's conversion limit, is a one-line :class:`InputError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(
            f"{source}: not valid TOML here: tables or arrays nested too deeply; "
            f"allowed: at most {MAX_NESTING} levels"
        ) from None
    except ValueError as exc:  # an integer literal of more than 4,300 digits
        raise InputError(
            f"{source}: a number is too long to read ({exc.args[0].split(';')[0]}); "
            "allowed: integers within 64 bits"
        ) from None
    if _depth(data) > MAX_NESTING:
        raise InputError(
            f"{source}: tables or arrays nested more than {MAX_NESTING} levels deep; "
            f"allowed: at most {MAX_NESTING}"
        )
    return data

