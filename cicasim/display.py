"""How a result shows itself: a short ``repr`` for the console and an HTML table for notebooks.

Every result the public API returns (:mod:`cicasim.api`) derives from :class:`Shown`: it gives a
headline and its :meth:`~Shown.summary` table, and gets a ``repr`` of at most
:data:`REPR_LIMIT` characters (a result may hold millions of replications; printing it must not
print them) and a ``_repr_html_`` that Jupyter renders as a table (IPython's rich display
protocol).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REPR_LIMIT", "Shown", "count"]

#: The longest ``repr`` a result may have, in characters.
REPR_LIMIT = 2_000

_ROWS = 12  # rows of the summary shown in a repr
_HTML_ROWS = 30
_CELL = 28  # characters of a text cell in a repr


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun, singular for one: "1 proposal", "3 proposals" (every count a table,
    report, label or message shows)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 2].rstrip() + " …"


class Shown:
    """Mixin: ``repr`` and ``_repr_html_`` from :meth:`headline` and :meth:`summary`."""

    def headline(self) -> str:
        """One or two lines: what this result is (name, seed, counts)."""
        raise NotImplementedError

    def summary(self) -> pd.DataFrame:
        """The result as a table."""
        raise NotImplementedError

    def to_frame(self) -> pd.DataFrame:
        """The same as :meth:`summary` (the name pandas users look for)."""
        return self.summary()

    def _table_text(self) -> str:
        from pandas.api.types import is_numeric_dtype

        frame = self.summary()
        shown = frame.head(_ROWS).copy() if len(frame) > _ROWS else frame.copy()
        for col in shown.columns:
            if not is_numeric_dtype(shown[col]):  # titles, blockers: clipped to a cell's width
                shown[col] = [_clip(str(v), _CELL) for v in shown[col]]
        text = shown.to_string(max_cols=9, index=False, float_format=lambda x: f"{x:.4g}")
        if len(frame) > len(shown):
            text += f"\n... {len(frame) - len(shown)} more rows"
        return f"{text}\n[{len(frame)} rows x {frame.shape[1]} columns]"

    def __repr__(self) -> str:
        head = f"<{type(self).__name__}: {self.headline()}>"
        return _clip(f"{head}\n{self._table_text()}", REPR_LIMIT)

    def _repr_html_(self) -> str:
        table = self.summary().to_html(
            max_rows=_HTML_ROWS, max_cols=16, index=False, float_format=lambda x: f"{x:.4g}",
            border=0,
        )
        head = html.escape(f"{type(self).__name__}: {self.headline()}")
        return f"<div><p><strong>{head}</strong></p>{table}</div>"
