"""Sweeps: many scenarios' ensembles, laid out as a design, run anywhere.

A sweep has the layers of the EMA workbench and SALib:

* :mod:`cicasim.spec.experiment` and :mod:`cicasim.spec.factors` - the experiment file, typed,
  and the factor kinds, each carrying its own behaviour;
* :mod:`.plan` - the design made concrete as numbered design points, each with its seed key
  (built on demand from the design, so a plan is small whatever its number of points);
* :mod:`.run` - the plan's work units run through an executor, into tables;
* :mod:`.executors` - where work units run: in-process, a local process pool or Dask;
* :mod:`.store` - the tables' schemas, the results directory, reading the tables back.

Seeds are pure functions of keys (:mod:`cicasim.engine.draws`), so the tables never depend on
the executor, the worker count, a resume, or which other points the sweep contains.

This package is also the public function ``cicasim.sweep(...)`` (:func:`cicasim.api.sweep`;
see :mod:`cicasim._callable`).
"""

from __future__ import annotations

from cicasim._callable import make_callable
from cicasim.spec.experiment import (
    MAX_POINTS,
    Experiment,
    experiment_source,
    load_experiment,
    parse_experiment,
)
from cicasim.spec.factors import FACTORS
from cicasim.sweep.plan import (
    DESIGNS,
    DesignPoint,
    DesignPoints,
    Plan,
    plan_experiment,
    seed_key,
)
from cicasim.sweep.result import SweepResult, records
from cicasim.sweep.run import run_sweep
from cicasim.sweep.store import check_directory, done_points
from cicasim.sweep.tables import TABLES, schemas, write_parquet

__all__ = [
    "DESIGNS",
    "FACTORS",
    "MAX_POINTS",
    "TABLES",
    "DesignPoint",
    "DesignPoints",
    "Experiment",
    "Plan",
    "SweepResult",
    "check_directory",
    "done_points",
    "experiment_source",
    "load_experiment",
    "parse_experiment",
    "plan_experiment",
    "records",
    "run_sweep",
    "schemas",
    "seed_key",
    "write_parquet",
]

make_callable(__name__)  # calling this module calls cicasim.api.sweep
