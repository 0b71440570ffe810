"""Exact a-priori voting power of a decision rule.

Prints, per member, the Banzhaf index (normalised, and absolute: the probability of casting the
deciding vote), the Shapley–Shubik index, and for the body the passage probability (Coleman's
power of a collectivity to act: the share of yes/no coalitions that win), all computed exactly.

The rule comes from a scenario's proposal (``cicasim power SCENARIO --proposal ID``) or from a
weights file (``cicasim power --weights FILE.csv`` with columns ``actor,weight`` and optionally
``population``) with the rule given by options: ``--quota``, ``--min-members``,
``--min-members-share``, ``--min-population-share``, ``--blocking-min`` (a qualified majority;
all given criteria must hold), or ``--rule unanimity|majority``.  With ``--enlarge`` the figures
are shown after each of the scenario's enlargement steps.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from cicasim.analysis.power import MAX_MEMBERS, PowerResult, power_for_proposal, power_indices
from cicasim.commands._common import count, progress_bar, seed_int
from cicasim.errors import InputError, read_text
from cicasim.spec.rules import Consensus, QualifiedMajority, Rule, SimpleMajority

HELP = "exact voting power of a rule: passage probability, Banzhaf, Shapley-Shubik"

_CRITERIA = ("quota", "min_members", "min_members_share", "min_population_share", "blocking_min")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="scenario file (TOML)")
    parser.add_argument("--proposal", metavar="ID", help="the proposal whose rule to analyse")
    parser.add_argument(
        "--weights", type=Path, metavar="FILE.csv",
        help="instead of a scenario: CSV with columns actor,weight[,population]",
    )
    rule = parser.add_argument_group("rule for --weights (a qualified majority, or --rule)")
    rule.add_argument("--quota", type=float, metavar="Q", help="weighted votes needed")
    rule.add_argument("--min-members", type=int, metavar="K", help="members needed")
    rule.add_argument("--min-members-share", type=float, metavar="S", help="share of members")
    rule.add_argument(
        "--min-population-share", type=float, metavar="S", help="share of the population"
    )
    rule.add_argument(
        "--blocking-min", type=int, metavar="K",
        help="also passes when fewer than K members fail to accept (Lisbon: 4)",
    )
    rule.add_argument(
        "--rule", choices=("unanimity", "majority"),
        help="unanimity, or a simple majority of the actors (weights unused; for a weighted "
        "majority give --quota)",
    )
    parser.add_argument(
        "--enlarge", action="store_true",
        help="show the figures after each of the scenario's enlargement steps",
    )
    parser.add_argument(
        "--seed", type=seed_int, default=0,
        help="seed of synthetic enlargement steps (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    given = [f"--{name.replace('_', '-')}" for name in _CRITERIA if getattr(args, name) is not None]
    if args.rule:
        given.append("--rule")
    if args.weights is not None:
        if args.scenario is not None:
            raise InputError("give either a SCENARIO or --weights FILE.csv, not both")
        for flag, value in (("--proposal", args.proposal), ("--enlarge", args.enlarge)):
            if value:
                raise InputError(f"{flag}: works with a SCENARIO, not with --weights")
        return _run_weights(args, given)
    if args.scenario is None:
        raise InputError("give a SCENARIO (with --proposal ID) or --weights FILE.csv")
    if given:
        raise InputError(
            f"{given[0]}: the rule of a scenario comes from its proposal; rule options go with "
            "--weights"
        )
    return _run_scenario(args)


# ----------------------------------------------------------------------------------------------
# Scenario
# ----------------------------------------------------------------------------------------------
def _run_scenario(args: argparse.Namespace) -> int:
    from cicasim.spec.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    pid = args.proposal
    if pid is None:
        if len(scenario.proposals) != 1:
            known = ", ".join(p.id for p in scenario.proposals) or "none"
            raise InputError(f"{args.scenario}: --proposal ID is needed; allowed: {known}")
        pid = scenario.proposals[0].id
    if pid not in {p.id for p in scenario.proposals}:
        known = ", ".join(p.id for p in scenario.proposals) or "none"
        raise InputError(f"{args.scenario}: --proposal {pid!r}: no such proposal; allowed: {known}")
    rule = scenario.proposal(pid).rule
    if args.enlarge:
        return _run_enlarge(args, scenario, pid, rule)
    try:
        result = power_for_proposal(scenario, pid)
    except InputError as exc:
        raise InputError(f"{args.scenario}: {exc}") from None
    members = scenario.members
    weights = {a.id: (1.0 if a.votes is None else a.votes) for a in members}
    population = None
    if getattr(rule, "min_population_share", None) is not None:
        population = {a.id: a.population for a in members}
    _emit(args, result, rule, str(args.scenario), weights, population, proposal=pid)
    return 0


def _run_enlarge(args: argparse.Namespace, scenario: Any, pid: str, rule: Rule) -> int:
    from cicasim.spec.enlargement import enlargement_path

    if not scenario.enlargement:
        raise InputError(f"{args.scenario}: --enlarge: the scenario has no [[enlargement]] steps")
    steps = []
    path = enlargement_path(scenario, seed=args.seed)
    with progress_bar("power", unit="enlargement steps") as update:
        for label, step in path:
            try:
                steps.append((label, power_for_proposal(step, pid)))
            except InputError as exc:
                raise InputError(f"{args.scenario}: enlargement step {label!r}: {exc}") from None
            update(len(steps), len(path))
    if args.json:
        out = {
            "source": str(args.scenario), "proposal": pid, "rule": _rule_dict(rule),
            "seed": args.seed,
            "steps": [{"step": label, **r.to_dict()} for label, r in steps],
        }
        _print_json(out)
        return 0
    from rich.console import Console
    from rich.table import Table

    console = _console(Console)
    console.print(f"[bold]{args.scenario}[/bold], proposal {pid} · rule: {_describe(rule)}")
    table = Table(show_lines=False)
    for col, just in (("step", "left"), ("members", "right"), ("passage probability", "right"),
                      ("vs base", "right"), ("winning coalitions", "right"),
                      ("largest Banzhaf", "left"), ("largest Shapley-Shubik", "left")):
        table.add_column(col, justify=just)
    base = steps[0][1].passage_probability
    for label, r in steps:
        ratio = f"{r.passage_probability / base:.3g}x" if base > 0 else "-"
        table.add_row(label, str(r.n), f"{r.passage_probability:.6g}", ratio,
                      f"{r.winning_coalitions:,}", _top(r.banzhaf), _top(r.shapley_shubik))
    console.print(table)
    return 0


def _top(index: Any) -> str:
    actor = max(index, key=index.get)
    if index[actor] - min(index.values()) < 1e-12:
        return f"all equal {index[actor]:.4f}"
    return f"{actor} {index[actor]:.4f}"


# ----------------------------------------------------------------------------------------------
# Weights file
# ----------------------------------------------------------------------------------------------
def _run_weights(args: argparse.Namespace, given: list[str]) -> int:
    path = args.weights
    names, weights, population = read_weights(path)
    if len(names) > MAX_MEMBERS:
        raise InputError(
            f"{path}: {len(names):,} actors; exact power indices are computed for at most "
            f"{MAX_MEMBERS} members"
        )
    rule = _rule_from_options(args, path, given, weights, population)
    result = power_indices(rule=rule, votes=weights, population=population, names=names)
    _emit(
        args, result, rule, str(path), dict(zip(names, weights, strict=True)),
        None if population is None else dict(zip(names, population, strict=True)),
    )
    return 0


def read_weights(path: Path) -> tuple[list[str], list[float], list[float] | None]:
    """Read ``actor,weight[,population]`` rows; every problem is a one-line :class:`InputError`."""
    text = read_text(path, what="a weights table, CSV with columns actor,weight[,population]")
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InputError(f"{path}: empty file; expected a header row actor,weight[,population]")
    reader.fieldnames = header
    for col in ("actor", "weight"):
        if col not in header:
            raise InputError(
                f"{path}: missing column {col!r}; the header must name actor,weight and "
                f"optionally population (got {','.join(header)})"
            )
    has_population = "population" in header
    names: list[str] = []
    weights: list[float] = []
    population: list[float] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        actor = (row.get("actor") or "").strip()
        if not actor:
            raise InputError(f"{path}: row {line} (actor): empty; each row needs an actor id")
        if actor in seen:
            raise InputError(f"{path}: row {line} (actor): duplicate {actor!r}; list each once")
        seen.add(actor)
        names.append(actor)
        weights.append(_number(path, line, "weight", row.get("weight")))
        if has_population:
            population.append(_number(path, line, "population", row.get("population")))
    if not names:
        raise InputError(f"{path}: no data rows; expected one row per actor")
    return names, weights, (population if has_population else None)


def _number(path: Path, line: int, field: str, text: str | None) -> float:
    raw = (text or "").strip()
    try:
        value = float(raw)
    except ValueError:
        shown = repr(raw) if raw else "empty"
        raise InputError(
            f"{path}: row {line} ({field}): {shown} is not a number; allowed: a number >= 0"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{path}: row {line} ({field}): {raw} is not allowed; allowed: >= 0")
    return value


def _rule_from_options(
    args: argparse.Namespace, path: Path, given: list[str], weights: list[float],
    population: list[float] | None,
) -> Rule:
    n = len(weights)
    if args.rule:
        if len(given) > 1:
            raise InputError(f"{path}: --rule cannot be combined with {given[0]}")
        return Consensus() if args.rule == "unanimity" else SimpleMajority()
    if not given:
        raise InputError(
            f"{path}: no rule; give --quota, --min-members, --min-members-share, "
            "--min-population-share (with --blocking-min) or --rule unanimity|majority"
        )
    if given == ["--blocking-min"]:
        raise InputError(f"{path}: --blocking-min needs a criterion such as --quota")
    total = sum(weights)
    if args.quota is not None and not 0 < args.quota <= total:
        raise InputError(
            f"{path}: --quota {args.quota:g} is outside the weights' range; "
            f"allowed: 0 < Q <= {total:g} (the total weight)"
        )
    for flag, value in (("--min-members", args.min_members), ("--blocking-min", args.blocking_min)):
        if value is not None and not 1 <= value <= n:
            raise InputError(f"{path}: {flag} {value} is not allowed; allowed: 1 to {n} (actors)")
    for flag, value in (("--min-members-share", args.min_members_share),
                        ("--min-population-share", args.min_population_share)):
        if value is not None and not 0 < value <= 1:
            raise InputError(f"{path}: {flag} {value:g} is outside 0-1; allowed: 0 < S <= 1")
    if args.min_population_share is not None:
        if population is None:
            raise InputError(f"{path}: --min-population-share needs a population column")
        if sum(population) <= 0:
            raise InputError(f"{path}: column population sums to 0; allowed: a positive total")
    return QualifiedMajority(**{k: getattr(args, k) for k in _CRITERIA})


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------
def _describe(rule: Rule) -> str:
    fields = {k: v for k, v in _rule_dict(rule).items() if k != "kind"}
    inner = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()
    )
    return f"{rule.kind} ({inner})" if inner else rule.kind


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return rule.model_dump(exclude_none=True)


def _fmt(x: float) -> str:
    return f"{x:.6f}" if x == 0 or x >= 1e-4 else f"{x:.4e}"


def _print_json(obj: dict) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _console(console_cls: Any) -> Any:
    return console_cls(highlight=False, width=None if sys.stdout.isatty() else 120)


def _emit(
    args: argparse.Namespace, result: PowerResult, rule: Rule, source: str,
    weights: dict[str, float], population: dict[str, float | None] | None,
    proposal: str | None = None,
) -> None:
    head = {"source": source} | ({"proposal": proposal} if proposal else {})
    if args.json:
        _print_json(head | {"rule": _rule_dict(rule)} | result.to_dict())
        return
    from rich.console import Console
    from rich.table import Table

    console = _console(Console)
    where = f"{source}, proposal {proposal}" if proposal else source
    console.print(f"[bold]{where}[/bold] · rule: {_describe(rule)} · {count(result.n, 'member')}")
    table = Table(show_lines=False)
    table.add_column("actor")
    table.add_column("weight", justify="right")
    if population is not None:
        table.add_column("population", justify="right")
    for col in ("Banzhaf", "Banzhaf absolute", "Shapley-Shubik"):
        table.add_column(col, justify="right")
    for a in result.names:
        row = [a, f"{weights[a]:g}"]
        if population is not None:
            row.append(f"{population[a]:g}")
        row += [_fmt(result.banzhaf[a]), _fmt(result.banzhaf_absolute[a]),
                _fmt(result.shapley_shubik[a])]
        table.add_row(*row)
    console.print(table)
    console.print(
        f"passage probability (power to act): {result.passage_probability:.6g} "
        f"= {result.winning_coalitions:,} of {2 ** result.n:,} coalitions win"
    )
