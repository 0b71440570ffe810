"""Named parameter sets: behaviour fitted elsewhere, applied to any scenario.

* ``validation``: fitted to EU legislative bargaining (DEU III; ``cicasim/validate/params.toml``,
  ``docs/validation.md``);
* ``consensus-organisations``: fitted to real consensus decisions of several organisations
  (``cicasim/validate/consensus-organisations.toml``, ``docs/validation-consensus.md``);
* or the path of any TOML file with a ``[behaviour]`` table.

:func:`with_params` replaces the scenario-wide ``[behaviour]`` defaults by the set's values
(per-actor overrides stay), so ``cicasim run SCENARIO --params consensus-organisations`` shows
what the scenario gives under the validated behaviour beside its own assumptions.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cicasim.errors import InputError, parse_toml, read_text
from cicasim.spec.scenario import Behaviour, Scenario

__all__ = ["SHIPPED", "behaviour_of", "with_params"]

#: the shipped sets: name -> the package file holding it
SHIPPED = {
    "validation": "params.toml",
    "consensus-organisations": "consensus-organisations.toml",
}


def behaviour_of(name: str) -> dict[str, Any]:
    """The ``[behaviour]`` table of a shipped set or of a TOML file (one-line errors)."""
    if name in SHIPPED:
        res = resources.files("cicasim.validate").joinpath(SHIPPED[name])
        if not res.is_file():
            raise InputError(f"--params: the parameter set {name!r} is not installed")
        text, where = res.read_text(encoding="utf-8"), name
    else:
        path = Path(name)
        if not path.exists():
            raise InputError(f"--params: {name!r} is neither a shipped set "
                             f"({', '.join(SHIPPED)}) nor an existing file")
        text, where = read_text(path, what="a parameter set, TOML"), str(path)
    data = parse_toml(text, where)
    table = data.get("behaviour")
    if not isinstance(table, dict) or not table:
        raise InputError(f"{where}: no [behaviour] table; expected behaviour parameters")
    try:
        Behaviour.model_validate(table)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in e["loc"])
        raise InputError(f"{where}: behaviour.{loc}: {e['msg']}") from None
    return dict(table)


def with_params(scenario: Scenario, name: str | None) -> Scenario:
    """``scenario`` with its scenario-wide behaviour replaced by the set ``name`` (unchanged
    when ``name`` is None)."""
    if not name:
        return scenario
    merged = scenario.behaviour.model_dump() | behaviour_of(name)
    return scenario.model_copy(update={"behaviour": Behaviour.model_validate(merged)})
