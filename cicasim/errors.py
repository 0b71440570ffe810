"""The one exception type the command line turns into a one-line error and exit code 2."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input (a file, a field, an option); the message is one line that names the
    source, what was wrong and what is allowed."""
