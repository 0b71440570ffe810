"""cicasim: agent-based consensus-decision simulator for international organisations.

The public API (``docs/api.md``)::

    import cicasim as cs

    r = cs.run("scenarios/cica-2022.toml", seed=1)          # RunResult
    r.summary()                                             # one row per proposal
    s = cs.sweep("experiments/cica-enlargement.toml")       # SweepResult, in memory
    c = cs.compare("scenarios/cica-2022.toml", enlarge=True, seed=1)

:func:`run`, :func:`sweep`, :func:`compare`, :func:`trace`, :func:`sensitivity`, :func:`power`
and :func:`open_results` (:mod:`cicasim.api`) each return a typed result with a short ``repr``,
``.summary()`` and, where a figure applies, ``.plot()``.  Every name is imported on first use
(PEP 562 module ``__getattr__``), so ``import cicasim`` loads neither numpy nor numba.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> (module, attribute); attribute None: the module itself (the callable
#: package :mod:`cicasim.sweep`, see :mod:`cicasim._callable`).
_LAZY: dict[str, tuple[str, str | None]] = {
    # the functions
    "run": ("cicasim.api", "run"),
    "sweep": ("cicasim.sweep", None),
    "compare": ("cicasim.api", "compare"),
    "trace": ("cicasim.api", "trace"),
    "sensitivity": ("cicasim.api", "sensitivity"),
    "power": ("cicasim.api", "power"),
    "open_results": ("cicasim.api", "open_results"),
    # their results
    "RunResult": ("cicasim.analysis.runs", "RunResult"),
    "SweepResult": ("cicasim.sweep", "SweepResult"),
    "ComparisonResult": ("cicasim.analysis.compare", "ComparisonResult"),
    "TraceResult": ("cicasim.engine.model", "TraceResult"),
    "SobolResult": ("cicasim.analysis.sensitivity", "SobolResult"),
    "PowerResult": ("cicasim.analysis.power", "PowerResult"),
    "Results": ("cicasim.results", "Results"),
    # inputs
    "Scenario": ("cicasim.spec.scenario", "Scenario"),
    "ScenarioError": ("cicasim.spec.scenario", "ScenarioError"),
    "load_scenario": ("cicasim.spec.scenario", "load_scenario"),
    "Experiment": ("cicasim.sweep", "Experiment"),
    "load_experiment": ("cicasim.sweep", "load_experiment"),
    "InputError": ("cicasim.errors", "InputError"),
    "RULES": ("cicasim.spec.rules", "RULES"),
    # lower-level building blocks
    "EnsembleResult": ("cicasim.engine.ensemble", "EnsembleResult"),
    "run_ensemble": ("cicasim.engine.ensemble", "run_ensemble"),
    "run_proposal": ("cicasim.engine.ensemble", "run_proposal"),
    "enlargement_path": ("cicasim.spec.enlargement", "enlargement_path"),
    "power_for_proposal": ("cicasim.analysis.power", "power_for_proposal"),
    "power_indices": ("cicasim.analysis.power", "power_indices"),
    "NegotiationModel": ("cicasim.engine.model", "NegotiationModel"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'cicasim' has no attribute {name!r}")
    module, attribute = target
    mod = importlib.import_module(module)
    value = mod if attribute is None else getattr(mod, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["__version__", *sorted(_LAZY)]
