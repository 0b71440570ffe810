"""A sweep's plan rebuilt from the manifest of its results directory.

The manifest records the text of the experiment file, of its base scenario and of every
scenario file a factor reads, each by its path relative to the experiment
(:func:`cicasim.sweep.store.input_key`), and the plan's fingerprint.  Laid out again in a
temporary folder, they give the plan back, and the fingerprint shows that it is the same one;
so a table added after a folder was written (the enlargement steps, ``steps.parquet``) can be
made for it.  Nothing is guessed: an input the manifest does not hold (a parameter-set file; a
file named by an absolute path that is gone or has changed) or a plan whose fingerprint differs
is a one-line error saying so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from cicasim.errors import InputError
from cicasim.sweep.plan import Plan, plan_experiment
from cicasim.sweep.tables import steps_table

__all__ = ["recorded_plan", "recorded_steps"]


def recorded_plan(manifest: Mapping[str, Any]) -> Plan:
    """The plan of the sweep whose manifest is ``manifest``, rebuilt from the inputs it records
    and checked against its fingerprint; an :class:`InputError` saying why when it cannot be.

    Inputs recorded by a relative path are laid out under a temporary folder as they lay
    around the experiment; one named by an absolute path is read where it is, and the
    fingerprint checks that its text is still the recorded one."""
    name = manifest.get("experiment_file")
    inputs = manifest.get("inputs") or {}
    if not isinstance(name, str) or name not in inputs or "fingerprint" not in manifest:
        raise InputError("the manifest does not record the experiment and its plan")
    texts = {key: entry.get("text") for key, entry in inputs.items()
             if not PurePosixPath(key).is_absolute()}
    with tempfile.TemporaryDirectory(prefix="cicasim-plan-") as tmp:
        home = Path(tmp).joinpath(*["experiment"] * max(map(_parents, texts)))
        for key, text in texts.items():
            if not isinstance(text, str):
                raise InputError(f"the manifest does not record the text of {key}")
            target = home / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            plan = plan_experiment(home / name, replications=manifest.get("replications"))
        except InputError as exc:
            reason = str(exc)
            for where in (home.resolve(), home):  # the files' temporary home is no news
                reason = reason.replace(f"{where}{os.sep}", "")
            raise InputError(
                f"the recorded experiment cannot be planned again ({reason})"
            ) from None
    if plan.fingerprint() != manifest["fingerprint"]:
        raise InputError("the experiment planned again differs from the recorded one")
    return plan


def recorded_steps(manifest: Mapping[str, Any]) -> pd.DataFrame | None:
    """The enlargement steps (the table of ``steps.parquet``) of the sweep whose manifest is
    ``manifest``, from its rebuilt plan (:func:`recorded_plan`); None without an enlargement
    factor."""
    return steps_table(recorded_plan(manifest))


def _parents(key: str) -> int:
    """How many folders above the experiment's the relative input path ``key`` starts (its
    leading ``..``); a one-line error for a path that does not lead down from there."""
    parts = PurePosixPath(key).parts
    ups = next((i for i, p in enumerate(parts) if p != ".."), len(parts))
    if ups == len(parts) or ".." in parts[ups:]:
        raise InputError(f"the manifest records an input by an unusable path, {key!r}")
    return ups
