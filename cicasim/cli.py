"""The command line: parse, load, call a library function, print.

Each sub-command lives in its own module of :mod:`cicasim.commands` exposing ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; they are discovered, so adding a command is
adding a module.  :func:`main` is testable in-process and never lets a traceback escape for bad
input: an :class:`~cicasim.errors.InputError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from cicasim import commands
from cicasim.errors import InputError, ResultsWarning, one_line, os_reason

__all__ = ["main", "entry"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{one_line(f'{self.prog}: error: {message}')}\n")
        raise SystemExit(2)


def _command_modules() -> list[str]:
    """The command modules: the package's ``*.py`` files not starting with ``_`` (listed
    directly; :mod:`pkgutil` would import :mod:`inspect`, a tenth of ``--help``'s time)."""
    import os

    return sorted(
        f[:-3] for d in commands.__path__ for f in os.listdir(d)
        if f.endswith(".py") and not f.startswith("_")
    )


def _constant(source: str, name: str) -> str | None:
    """The string constant ``name = "..."`` at the top level of a module's source, if it is
    a one-line literal."""
    import ast
    import re

    m = re.search(rf"^{name}\s*=\s*(.+)$", source, re.MULTILINE)
    if m is None:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _command_heading(module: str) -> tuple[str, str] | None:
    """``(command, HELP)`` of a command module read from its source without importing it, so
    ``cicasim --help`` loads no command's libraries (None when the source does not say)."""
    spec = importlib.util.find_spec(f"cicasim.commands.{module}")
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            source = f.read()
    except OSError:
        return None
    help_ = _constant(source, "HELP")
    if help_ is None:
        return None
    return _constant(source, "NAME") or module, help_


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (its first argument that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None, *, every: bool = True) -> argparse.ArgumentParser:
    """The command line.  With ``every`` (the default) each command's module is imported and
    adds its options; otherwise only ``command``'s is, and the others are listed by the name
    and ``HELP`` their source gives, so ``cicasim --help`` and each command start without
    loading the libraries of the others."""
    parser = _Parser(
        prog="cicasim",
        description="Consensus-decision simulator for international organisations.",
    )
    from cicasim import __version__

    parser.add_argument("--version", action="version", version=f"cicasim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _command_modules():
        heading = None if every else _command_heading(name)
        if heading is not None and heading[0] != command:
            sub.add_parser(heading[0], help=heading[1])
            continue
        mod = importlib.import_module(f"cicasim.commands.{name}")
        cmd = getattr(mod, "NAME", name)
        p = sub.add_parser(cmd, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush finds nothing to
    fail on (the reader left, or the device is full)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class StdoutError(OSError):
    """Standard output cannot be written (a full device, an I/O error)."""


class _Stdout:
    """Standard output that says so when a write fails, so the error names it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _one_line_warnings(other: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints a :class:`~cicasim.errors.ResultsWarning` as one
    line on stderr, ``cicasim: warning: <message>``, and passes any other warning to ``other``."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if issubclass(category, ResultsWarning):
            sys.stderr.write(f"cicasim: warning: {one_line(str(message))}\n")
        else:
            other(message, category, filename, lineno, file, line)

    return show


def _error(message: str) -> int:
    sys.stderr.write(f"cicasim: error: {one_line(message)}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Bad input (:class:`~cicasim.errors.InputError`) and failed writes (a full disk, a
    read-only folder, a closed or full standard output) end in one line on stderr and exit
    code 2; see docs/reliability.md.
    """
    args_in = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_chosen_command(args_in), every=False)
    stdout = sys.stdout
    sys.stdout = _Stdout(stdout)  # type: ignore[assignment]
    try:
        args = parser.parse_args(args_in)
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(warnings.showwarning)
            code = int(args._run(args) or 0)
        sys.stdout.flush()
        return code
    except InputError as exc:
        return _error(str(exc))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        sys.stderr.write("cicasim: interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `cicasim check X | head`: the reader left, nothing to say
        _silence_stdout()
        return 0
    except StdoutError as exc:
        _silence_stdout()
        return _error(f"standard output: cannot be written ({os_reason(exc)})")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return _error(f"{where}cannot be written or read ({os_reason(exc)})")
    finally:
        sys.stdout = stdout


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
