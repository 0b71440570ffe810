"""A package that is also the public function of the same name.

``cicasim.sweep`` is both a package (where the sweep's code lives) and a public function
(:func:`cicasim.api.sweep`).  Python binds a package's attribute to a subpackage once that
subpackage is imported, so a plain function of the same name would be replaced by the package as
soon as any code imported it.  Instead the package is made callable: calling it calls the public
function, and ``import cicasim.sweep as m`` still gives the package.  (Setting a module's
``__class__`` to a ``ModuleType`` subclass is supported since Python 3.5; PEP 713 proposed a
``__call__`` for modules for this very case.)
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

__all__ = ["make_callable"]


class CallableModule(types.ModuleType):
    """A module whose call is the public function :func:`cicasim.api.<name>`."""

    def _api(self) -> Any:
        from cicasim import api

        return getattr(api, self.__name__.rsplit(".", 1)[1])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._api()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._api())


def make_callable(name: str) -> None:
    """Make the module ``name`` (``__name__`` of the caller) callable."""
    sys.modules[name].__class__ = CallableModule
