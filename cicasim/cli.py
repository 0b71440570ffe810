"""The command line: parse, load, call a library function, print.

Each sub-command lives in its own module of :mod:`cicasim.commands` exposing ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; they are discovered, so adding a command is
adding a module.  :func:`main` is testable in-process and never lets a traceback escape for bad
input: an :class:`~cicasim.errors.InputError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from cicasim import commands
from cicasim.errors import InputError

__all__ = ["main", "entry"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _command_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cicasim",
        description="Consensus-decision simulator for international organisations.",
    )
    from cicasim import __version__

    parser.add_argument("--version", action="version", version=f"cicasim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _command_modules():
        mod = importlib.import_module(f"cicasim.commands.{name}")
        cmd = getattr(mod, "NAME", name)
        p = sub.add_parser(cmd, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args._run(args) or 0)
    except InputError as exc:
        sys.stderr.write(f"cicasim: error: {exc}\n")
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:
        sys.stderr.write("cicasim: interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `cicasim check X | head`: the reader left, nothing to say
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
