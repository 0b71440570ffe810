"""Scenario files: the typed, validated description of an organisation and its proposals.

A scenario is data (TOML), never code: it is parsed with :mod:`tomllib` and validated by pydantic
models that reject unknown keys and out-of-range values.  :func:`load_scenario` turns every problem
into a :class:`ScenarioError` whose message is one line naming the file, the field, what was wrong
and what is allowed.  :func:`json_schema` publishes the same rules as a JSON Schema for editors.

Scales follow KTAB and the DEU data sets (Thomson et al. 2006): positions 0-100, saliences 0-1,
capabilities positive with only ratios mattering, tensions 0-1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cicasim.errors import InputError, parse_toml, read_text, shown
from cicasim.spec.rules import Consensus, RuleSpec

__all__ = [
    "Actor",
    "Behaviour",
    "BehaviourOverrides",
    "Dimension",
    "EnlargementStep",
    "NewActor",
    "ObserverJoins",
    "Proposal",
    "Scenario",
    "ScenarioError",
    "Synthetic",
    "Tension",
    "Touch",
    "Uncertainty",
    "json_schema",
    "load_scenario",
    "parse_scenario",
    "read_scenario",
    "validation_message",
]

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]
Position = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Salience = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: Largest standard deviation of an uncertain input: far beyond any meaningful spread (the
#: position scale is 0-100, capability s.d. is on the log scale), and small enough that no draw
#: overflows a float.
MAX_SD = 1000.0
Spread = Annotated[float, Field(ge=0, le=MAX_SD, allow_inf_nan=False)]
#: Largest weighted vote or population of one actor (their sums stay finite floats).
MAX_AMOUNT = 1e15
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]


class ScenarioError(InputError):
    """A scenario (or experiment, or data) file is invalid; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Behaviour(_Strict):
    """Behaviour parameters (docs/model.md); scenario-wide defaults, overridable per actor."""

    loss_exponent: Literal[1, 2] = Field(
        2, description="a: 1 linear loss, 2 quadratic loss (KTAB, Thomson et al. 2006)"
    )
    threshold: float = Field(
        0.0, ge=-1, le=1, description="θ: gain over the status quo needed to accept"
    )
    abstention_band: NonNegative = Field(
        0.01, description="width below θ in which a member abstains instead of objecting"
    )
    rival_penalty: NonNegative = Field(
        0.05, description="β: utility penalty per unit of tension towards the supporters"
    )
    holdup_rate: Unit = Field(
        0.0, description="h: probability scale of objecting for issue linkage (hold-up)"
    )
    vote_noise: NonNegative = Field(0.02, description="σ: s.d. of the vote's utility noise")
    amendment_step: float = Field(
        0.5, gt=0, le=1, description="α: share of the way the text moves to the compromise"
    )
    objector_weight: NonNegative = Field(
        0.0, description="γ: extra compromise weight of objectors (1 + γ), 0 = Achen's mean"
    )
    amendment: Literal["compromise", "accommodate"] = Field(
        "compromise",
        description="how a failed text is amended (cicasim.spec.protocols): toward the compromise, "
        "or accommodating the most reluctant objector",
    )
    confidence_bound: float = Field(
        math.inf, ge=0, description="ε: bounded-confidence radius in position units (inf = off)"
    )
    influence_rate: Unit = Field(0.2, description="μ: weight of others' positions per round")
    stubbornness: Unit = Field(0.8, description="λ: anchoring to the initial position")


class BehaviourOverrides(_Strict):
    """Per-actor overrides of :class:`Behaviour`; unset fields take the scenario default."""

    loss_exponent: Literal[1, 2] | None = None
    threshold: float | None = Field(None, ge=-1, le=1)
    abstention_band: NonNegative | None = None
    rival_penalty: NonNegative | None = None
    holdup_rate: Unit | None = None
    vote_noise: NonNegative | None = None
    amendment_step: float | None = Field(None, gt=0, le=1)
    objector_weight: NonNegative | None = None
    amendment: Literal["compromise", "accommodate"] | None = None
    confidence_bound: float | None = Field(None, ge=0)
    influence_rate: Unit | None = None
    stubbornness: Unit | None = None


class Uncertainty(_Strict):
    """Standard deviations of the inputs, drawn afresh in every replication."""

    position_sd: Spread = Field(0.0, description="s.d. of positions (0-100 scale)")
    capability_sd: Spread = Field(
        0.0, description="s.d. of log capability (multiplicative, lognormal)"
    )
    tension_sd: Spread = Field(0.0, description="s.d. of tensions (0-1 scale)")


class ActorUncertainty(_Strict):
    position_sd: Spread | None = None
    capability_sd: Spread | None = None


class Dimension(_Strict):
    id: Identifier
    name: str = ""
    description: str = ""
    source: str = ""


class Actor(_Strict):
    """A state or organisation in the room; only members vote."""

    id: Identifier
    name: str = ""
    role: Literal["member", "observer"]
    kind: Literal["state", "organisation"] = "state"
    capability: float = Field(gt=0, allow_inf_nan=False)
    position: dict[str, Position]
    salience: dict[str, Salience]
    population: Amount | None = Field(None, description="millions; population criteria")
    votes: Amount | None = Field(None, description="weighted votes; qualified majority")
    blocs: list[str] = []
    behaviour: BehaviourOverrides = BehaviourOverrides()
    uncertainty: ActorUncertainty = ActorUncertainty()
    source: str = ""


class Tension(_Strict):
    """Pairwise hostility, symmetric."""

    pair: tuple[Identifier, Identifier]
    value: Unit
    sd: Spread | None = None
    source: str = ""


class Touch(_Strict):
    """A dimension a proposal touches: the text's position p0 and the status quo q."""

    dimension: Identifier
    position: Position
    status_quo: Position


class Proposal(_Strict):
    id: Identifier
    title: str = ""
    description: str = ""
    sponsor: Identifier
    touches: list[Touch] = Field(min_length=1)
    rule: RuleSpec = Consensus()
    max_rounds: int = Field(10, ge=1, le=1000)
    source: str = ""


class ObserverJoins(_Strict):
    """Enlargement: an observer becomes a member."""

    kind: Literal["observer-joins"] = "observer-joins"
    actor: Identifier
    label: str = ""


class PartnerTension(_Strict):
    other: Identifier
    value: Unit
    source: str = ""


class NewActor(_Strict):
    """Enlargement: a named new actor joins with given attributes and tensions."""

    kind: Literal["new-actor"] = "new-actor"
    actor: Actor
    tensions: list[PartnerTension] = []
    label: str = ""


class Synthetic(_Strict):
    """Enlargement: ``count`` synthetic members drawn from a named prior (see
    :mod:`cicasim.spec.enlargement`)."""

    kind: Literal["synthetic"] = "synthetic"
    count: int = Field(ge=1, le=500)
    prior: Literal["resample-members", "resample-observers"] = "resample-members"
    position_jitter: Spread = Field(5.0, description="s.d. added to resampled positions")
    label: str = ""


EnlargementStep = Annotated[ObserverJoins | NewActor | Synthetic, Field(discriminator="kind")]


class ScenarioInfo(_Strict):
    name: str
    description: str = ""
    year: int | None = None
    default_tension: Unit = Field(0.0, description="tension of pairs not listed")
    source: str = ""


class Scenario(_Strict):
    """A whole scenario file."""

    scenario: ScenarioInfo
    behaviour: Behaviour = Behaviour()
    uncertainty: Uncertainty = Uncertainty()
    dimensions: list[Dimension] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    tensions: list[Tension] = []
    proposals: list[Proposal] = []
    enlargement: list[EnlargementStep] = Field([], max_length=1000)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        dims = [d.id for d in self.dimensions]
        _unique(dims, "dimensions", "id")
        ids = [a.id for a in self.actors]
        _unique(ids, "actors", "id")
        known = set(ids)
        for i, a in enumerate(self.actors):
            _check_actor_dims(a, dims, f"actors[{i}] ({a.id})")
        if not any(a.role == "member" for a in self.actors):
            raise ValueError("actors: no actor has role 'member'; at least one must vote")
        seen: set[frozenset[str]] = set()
        for i, t in enumerate(self.tensions):
            where = f"tensions[{i}].pair"
            for x in t.pair:
                if x not in known:
                    raise ValueError(f"{where}: unknown actor {x!r}; allowed: the actors' ids")
            if t.pair[0] == t.pair[1]:
                raise ValueError(f"{where}: an actor cannot have a tension with itself")
            key = frozenset(t.pair)
            if key in seen:
                raise ValueError(f"{where}: pair {t.pair[0]}-{t.pair[1]} is listed twice")
            seen.add(key)
        members = {a.id for a in self.actors if a.role == "member"}
        _unique([p.id for p in self.proposals], "proposals", "id")
        for i, p in enumerate(self.proposals):
            where = f"proposals[{i}] ({p.id})"
            if p.sponsor not in known:
                raise ValueError(f"{where}.sponsor: unknown actor {p.sponsor!r}")
            touched = [t.dimension for t in p.touches]
            _unique(touched, f"{where}.touches", "dimension")
            for d in touched:
                if d not in dims:
                    raise ValueError(
                        f"{where}.touches: undefined dimension {d!r}; allowed: {', '.join(dims)}"
                    )
        _check_enlargement(self, dims, known, members)
        return self

    # -- convenience -------------------------------------------------------------------------
    def actor(self, actor_id: str) -> Actor:
        for a in self.actors:
            if a.id == actor_id:
                return a
        raise KeyError(actor_id)

    def proposal(self, proposal_id: str) -> Proposal:
        for p in self.proposals:
            if p.id == proposal_id:
                return p
        raise KeyError(proposal_id)

    @property
    def members(self) -> list[Actor]:
        return [a for a in self.actors if a.role == "member"]

    @property
    def observers(self) -> list[Actor]:
        return [a for a in self.actors if a.role == "observer"]


def _unique(values: list[str], where: str, field: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ValueError(f"{where}[{i}].{field}: duplicate {v!r}; each {field} must be unique")
        seen.add(v)


def _check_actor_dims(a: Actor, dims: list[str], where: str) -> None:
    for field in ("position", "salience"):
        given = getattr(a, field)
        for d in given:
            if d not in dims:
                raise ValueError(
                    f"{where}.{field}: undefined dimension {shown(d)}; allowed: {', '.join(dims)}"
                )
        missing = [d for d in dims if d not in given]
        if missing:
            raise ValueError(f"{where}.{field}: missing dimension(s) {', '.join(missing)}")


def _check_enlargement(s: Scenario, dims: list[str], known: set[str], members: set[str]) -> None:
    known = set(known)
    members = set(members)
    observers = {a.id for a in s.actors if a.role == "observer"}
    for i, step in enumerate(s.enlargement):
        where = f"enlargement[{i}]"
        if isinstance(step, ObserverJoins):
            if step.actor not in observers:
                raise ValueError(
                    f"{where}.actor: {step.actor!r} is not an observer at that step; "
                    f"allowed: {', '.join(sorted(observers)) or 'none left'}"
                )
            observers.discard(step.actor)
            members.add(step.actor)
        elif isinstance(step, NewActor):
            a = step.actor
            if a.id in known:
                raise ValueError(f"{where}.actor.id: {a.id!r} is already in the scenario")
            _check_actor_dims(a, dims, f"{where}.actor")
            for j, t in enumerate(step.tensions):
                if t.other not in known:
                    raise ValueError(f"{where}.tensions[{j}].other: unknown actor {t.other!r}")
            known.add(a.id)
            (members if a.role == "member" else observers).add(a.id)
        elif isinstance(step, Synthetic) and step.prior == "resample-observers" and not observers:
            raise ValueError(f"{where}.prior: no observers left to resample")


_TAGS = frozenset(
    {
        "consensus",
        "consensus-minus-k",
        "qualified-majority",
        "simple-majority",
        "observer-joins",
        "new-actor",
        "synthetic",
    }
)


def _clip(value: Any) -> str:
    """A key or id as written, cut to a readable length (``shown`` without the quotes)."""
    text = str(value)
    return text if len(text) <= 64 else shown(text)


def _format_loc(loc: tuple[Any, ...], data: Any, tags: frozenset[str]) -> str:
    """('actors', 3, 'capability') -> 'actors[3] (IND).capability' using the raw data for ids."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and "id" in node:
                    out += f" ({_clip(node['id'])})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            if part in tags:
                continue  # discriminator tags add nothing for the reader
            out += f".{_clip(part)}" if out else _clip(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def validation_message(
    err: ValidationError,
    data: Any = None,
    *,
    keys_help: str = "`cicasim schema`",
    tags: frozenset[str] = _TAGS,
) -> str:
    """The first error of a pydantic validation as one line: the field (with actor ids taken
    from ``data`` where it has them), what was wrong, and the value given."""
    e = err.errors(include_url=False)[0]
    loc = _format_loc(tuple(e["loc"]), data, tags)
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        return f"{loc}: unknown key; see {keys_help} for the allowed keys"
    if e["type"] == "missing":
        return f"{loc}: required field is missing"
    if e["type"] == "value_error" and ":" in msg and loc == "(top level)":
        return msg
    got = e.get("input")
    echo = "" if isinstance(got, dict | list) or got is None else f" (got {shown(got)})"
    return f"{loc}: {msg}{echo}"


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate an already-parsed mapping; errors become one-line :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(f"{source}: {validation_message(err, data)}") from None


def read_scenario(path: str | Path) -> tuple[Scenario, str]:
    """Read and validate a scenario TOML file; returns the scenario and the text read."""
    path = Path(path)
    try:
        text = read_text(path, what="a scenario, TOML")
        data = parse_toml(text, path)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    if "experiment" in data and "scenario" not in data:
        raise ScenarioError(
            f"{path}: is an experiment file (it has an [experiment] table), not a scenario; "
            "run it with `cicasim sweep`"
        )
    return parse_scenario(data, str(path)), text


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    return read_scenario(path)[0]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editors such as VS Code's Even Better TOML)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cicasim scenario"
    return schema
