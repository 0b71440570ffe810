"""Validation against real negotiations: EU legislative bargaining (DEU III).

Read a DEU file (:mod:`.deu`), know the Council at each date (:mod:`.council`), compute the
static benchmarks (:mod:`.baselines`), turn each issue into a one-dimensional negotiation
(:mod:`.convert`), predict it with the ensemble (:mod:`.predict`), fit a few behaviour
parameters by grouped cross-validation (:mod:`.fit`) and report (:mod:`.report`).  The method
and the results are in ``docs/validation.md``.
"""

from __future__ import annotations

from cicasim.validate.baselines import issue_compromise, issue_weighted_median
from cicasim.validate.convert import issue_scenario
from cicasim.validate.council import council_at, read_council
from cicasim.validate.deu import DeuData, DeuIssue, read_deu
from cicasim.validate.params import ParamSet, load_params
from cicasim.validate.report import ValidationReport, validate_deu

__all__ = [
    "DeuData",
    "DeuIssue",
    "ParamSet",
    "ValidationReport",
    "council_at",
    "issue_compromise",
    "issue_scenario",
    "issue_weighted_median",
    "load_params",
    "read_council",
    "read_deu",
    "validate_deu",
]
