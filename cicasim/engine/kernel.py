"""The negotiation dynamics over a block of replications.

One negotiation is one proposal in one replication.  Arrays carry a leading replication axis ``B``
(a block of replications), then actors ``N``, then the proposal's touched dimensions ``D``.
Every rule follows ``docs/model.md``; :func:`step` lists them with the literature behind each, and
:func:`cicasim.engine.loops.run_rounds` does their arithmetic, compiled, one replication at a time.

Two drivers share the kernel exactly:

* :func:`negotiate` runs a whole block to the end (the ensemble), a chunk of rounds at a time;
* :func:`initial_state` and :func:`step` run one round at a time (the Mesa model).

Randomness never happens here: :class:`~cicasim.engine.draws.BlockDraws` hands in standard-normal
and
uniform numbers, so the same numbers give the same negotiation whichever driver asks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from cicasim.engine.loops import factors_by_row, fill_all_tensions, influence_rows, run_rounds
from cicasim.spec.rules import Rule, Tally, VoteContext

__all__ = [
    "DEADLOCK",
    "PASSED",
    "REASONS",
    "RUNNING",
    "WITHDRAWN",
    "Negotiation",
    "dilution_and_drift",
    "Outcome",
    "RoundDraws",
    "influence",
    "StartDraws",
    "State",
    "initial_state",
    "negotiate",
    "rows_per_pass",
    "step",
    "TENSION_CAP",
]

RUNNING, PASSED, DEADLOCK, WITHDRAWN = 0, 1, 2, 3
REASONS = {RUNNING: "running", PASSED: "passed", DEADLOCK: "deadlock", WITHDRAWN: "withdrawn"}


@dataclass(frozen=True)
class Negotiation:
    """The fixed inputs of one proposal's negotiation (no randomness), one row per actor.

    Built from a scenario by :func:`cicasim.engine.arrays.negotiation`.  Behaviour parameters are
    per-actor vectors (scenario default, overridden per actor); the amendment step ``alpha`` and
    the objector weight ``gamma`` are the sponsor's.
    """

    proposal: str
    actor_ids: tuple[str, ...]
    dimensions: tuple[str, ...]
    member: np.ndarray  # bool (N,)
    capability: np.ndarray  # (N,)
    position: np.ndarray  # (N, D)
    salience: np.ndarray  # (N, D)
    tension: np.ndarray  # (N, N), symmetric, zero diagonal
    votes: np.ndarray  # (N,)
    population: np.ndarray  # (N,)
    position_sd: np.ndarray  # (N,)
    capability_sd: np.ndarray  # (N,)
    tension_sd: np.ndarray  # (N, N)
    loss_exponent: np.ndarray  # (N,) 1 or 2
    threshold: np.ndarray  # (N,)
    abstention_band: np.ndarray  # (N,)
    rival_penalty: np.ndarray  # (N,)
    holdup_rate: np.ndarray  # (N,)
    vote_noise: np.ndarray  # (N,)
    confidence_bound: np.ndarray  # (N,)
    influence_rate: np.ndarray  # (N,)
    stubbornness: np.ndarray  # (N,)
    alpha: float
    gamma: float
    sponsor: int
    p0: np.ndarray  # (D,)
    q: np.ndarray  # (D,)
    rule: Rule
    max_rounds: int
    protocol: int = 0  # how the text is amended: an index into PROTOCOLS (the sponsor's)
    #: who counts in the compromise (default: the members) and who is listened to in the
    #: influence step (default: everyone); :mod:`cicasim.analysis.pivotality` takes one actor out
    #: of one
    #: channel at a time
    weighed: np.ndarray | None = None  # bool (N,)
    source: np.ndarray | None = None  # bool (N,)
    tally: Tally = field(init=False)  # the rule as the compiled kernel counts it

    def __post_init__(self) -> None:
        ctx = VoteContext(member=self.member, votes=self.votes, population=self.population)
        object.__setattr__(self, "tally", self.rule.tally(ctx))
        if self.weighed is None:
            object.__setattr__(self, "weighed", np.array(self.member, dtype=bool))
        if self.source is None:
            object.__setattr__(self, "source", np.ones(len(self.actor_ids), dtype=bool))

    @property
    def n(self) -> int:
        return len(self.actor_ids)


@dataclass(frozen=True)
class StartDraws:
    """Random numbers drawn once per replication: standard normals for positions and
    capabilities, unit-variance factors for the tensions (:mod:`cicasim.engine.draws`)."""

    position: np.ndarray  # (B, N, D)
    capability: np.ndarray  # (B, N)
    factors: np.ndarray  # (B, N, M): pair noise of tensions is a_i·a_j / sqrt(M)


@dataclass(frozen=True)
class RoundDraws:
    """Random numbers of ``k`` consecutive rounds, from round ``first`` on: vote-noise and
    hold-up uniforms, actor-major as they are drawn: ``(N, B, k)``.  The kernel turns a
    vote-noise uniform into a standard normal where a vote is cast."""

    noise: np.ndarray  # (N, B, k) float64
    holdup: np.ndarray  # (N, B, k)
    first: int  # the round of column 0


@dataclass
class State:
    """The state of a block of negotiations between rounds (updated in place by :func:`step`)."""

    t: int  # rounds completed
    x0: np.ndarray  # (B, N, D) initial positions (this replication's draw)
    x: np.ndarray  # (B, N, D) current positions
    c: np.ndarray  # (B, N) capabilities
    factors: np.ndarray  # (B, M, N) float32 tension factors (StartDraws.factors, transposed)
    T: np.ndarray  # (B, N, N) tensions, filled where ``paired``
    paired: np.ndarray  # (B,) bool: T is filled for this negotiation
    p: np.ndarray  # (B, D) the text on the table
    supporters: np.ndarray  # (B, N) bool, accepted in the previous round
    status: np.ndarray  # (B,) RUNNING / PASSED / DEADLOCK / WITHDRAWN
    rounds: np.ndarray  # (B,) round in which it ended
    final_text: np.ndarray  # (B, D) the last text voted on
    objectors: np.ndarray  # (B, N) bool, last vote
    abstainers: np.ndarray  # (B, N) bool, last vote
    acceptors: np.ndarray  # (B, N) bool, last vote
    first_blocker: np.ndarray  # (B,) actor index, -1 if none
    margin: np.ndarray  # (B, N) last vote's u - θ (NaN for observers)


@dataclass(frozen=True)
class Outcome:
    """What a block of negotiations records (docs/model.md, per replication and proposal)."""

    status: np.ndarray  # (B,)
    rounds: np.ndarray  # (B,)
    outcome: np.ndarray  # (B, D) final text
    policy: np.ndarray  # (B, D) final text if passed, else the status quo
    dilution: np.ndarray  # (B,) signed share of the way from p0 towards q
    drift: np.ndarray  # (B,) distance off the p0-q line, in the same units
    objectors: np.ndarray  # (B, N)
    abstainers: np.ndarray  # (B, N)
    first_blocker: np.ndarray  # (B,)

    @property
    def passed(self) -> np.ndarray:
        return self.status == PASSED


_scratch = threading.local()


def _tension_buffer(b: int, n: int) -> np.ndarray:
    """A (b, n, n) array for the tensions, reused from block to block within a thread: the
    pages of a fresh array this large cost more to map than the arithmetic that fills it.  A
    state keeps it only while its block runs (:func:`negotiate` returns none of it)."""
    cache = getattr(_scratch, "tensions", None)
    if cache is None or cache.shape[1] != n or cache.shape[0] < b:
        cache = np.empty((b, n, n))
        _scratch.tensions = cache
    return cache[:b]


def _bounded(neg: Negotiation) -> bool:
    """Whether any actor has bounded confidence (then influence looks at distances)."""
    return bool(np.isfinite(neg.confidence_bound).any())


def initial_state(neg: Negotiation, draws: StartDraws, *, lazy: bool = False) -> State:
    """Apply this replication's draws to the uncertain inputs.

    Positions get normal noise (clipped to 0-100), capabilities mean-preserving lognormal noise,
    tensions the factor noise of :mod:`cicasim.engine.draws` (clipped to 0-1).  With ``lazy`` (for
    :func:`negotiate`) the tensions live in this thread's scratch buffer and are filled only for
    the negotiations that need them; otherwise they are filled here, for inspection.
    """
    sd = neg.position_sd[None, :, None]
    # C order whatever the draws' layout, so the compiled loops see one kind of array
    x0 = np.ascontiguousarray(np.clip(neg.position[None] + sd * draws.position, 0.0, 100.0))
    csd = neg.capability_sd[None, :]
    c = np.ascontiguousarray(
        neg.capability[None] * np.exp(csd * draws.capability - 0.5 * csd * csd)
    )
    b, n, dd = x0.shape
    T = _tension_buffer(b, n) if lazy else np.empty((b, n, n))
    factors = factors_by_row(draws.factors)
    if not lazy:
        fill_all_tensions(neg.tension, neg.tension_sd, factors, bool(neg.tension_sd.any()), T)
    supporters = np.zeros((b, n), dtype=bool)
    supporters[:, neg.sponsor] = True
    return State(
        t=0,
        x0=x0,
        x=x0.copy(),
        c=c,
        factors=factors,
        T=T,
        paired=np.full(b, not lazy),
        p=np.broadcast_to(neg.p0, (b, dd)).copy(),
        supporters=supporters,
        status=np.zeros(b, dtype=np.int8),
        rounds=np.zeros(b, dtype=np.int16),
        final_text=np.broadcast_to(neg.p0, (b, dd)).copy(),
        objectors=np.zeros((b, n), dtype=bool),
        abstainers=np.zeros((b, n), dtype=bool),
        acceptors=np.zeros((b, n), dtype=bool),
        first_blocker=np.full(b, -1, dtype=np.int16),
        margin=np.full((b, n), np.nan),
    )


def influence(neg: Negotiation, st: State) -> np.ndarray:
    """One synchronous Friedkin-Johnsen update with bounded confidence for every negotiation of
    ``st`` (filled tensions needed), as :func:`step` applies it:

    x_i <- λ_i x_i(0) + (1 - λ_i)[(1 - μ_i) x_i + μ_i Σ_j W_ij x_j],
    W_ij ∝ c_j (1 - T_ij) 1[d_ij <= ε_i], rows normalised; observers are sources too
    (Friedkin & Johnsen 1990; Hegselmann & Krause 2002).  Returns the new positions (B, N, D).
    """
    if not st.paired.all():
        raise ValueError("influence() needs the tensions filled (initial_state(lazy=False))")
    out = np.empty_like(st.x)
    influence_rows(
        st.T, st.c, st.x, st.x0, neg.stubbornness, neg.influence_rate, neg.confidence_bound,
        _bounded(neg), neg.source, out,
    )
    return out


def step(neg: Negotiation, st: State, draws: RoundDraws) -> State:
    """The rounds ``draws`` covers (docs/model.md steps 1-7), for every negotiation still running;
    updates ``st`` in place and returns it.  Finished negotiations keep their values.

    One round, for each running negotiation:

    1. *Evaluate*: U_i(z) = -Σ_k s_ik (|x_ik - z_k| / 100)^a_i, and the gain of the text over
       the status quo (Thomson et al. 2006; KTAB).
    2. *Relations*: a rival penalty ρ_i = β_i × the capability-weighted mean tension from i to
       last round's supporters j ≠ i: states discount texts their rivals back (Bueno de Mesquita
       2011; Gray, Lindstädt & Slapin 2017); and a hold-up, with probability h_i max_j T_ij over
       supporting members: issue linkage, a state blocks an unrelated text to gain leverage
       over a rival (the SAARC pattern; Häge 2013).
    3. *Vote*: margin = gain - ρ + σ z - θ; accept when margin >= 0, abstain within the
       abstention band below, object otherwise or when holding up; the sponsor accepts its own
       text; observers do not vote.
    4. *Decide* by ``neg.rule`` (:mod:`cicasim.spec.rules`, via its
    :class:`~cicasim.spec.rules.Tally`);
       the first blocker is the most opposed objector of the first failed round.
    5. *Record* the vote; passed, or failed in the last round (deadlock), ends it.
    6. *Amend*: the text moves by α towards Achen's (2006) compromise, the capability ×
       salience weighted mean of the members' positions, objectors weighted by (1 + γ); the
       sponsor withdraws a text it would like less than the status quo.
    7. *Influence*: every actor, observers too, moves by :func:`influence`'s update, all from
       the same previous state, so agent order cannot matter.
    """
    tally = neg.tally
    run_rounds(
        neg.member, neg.weighed, neg.source, neg.salience, neg.loss_exponent, neg.q, neg.tension,
        neg.tension_sd,
        bool(neg.tension_sd.any()), _bounded(neg),
        neg.threshold, neg.abstention_band, neg.rival_penalty, neg.holdup_rate, neg.vote_noise,
        neg.confidence_bound, neg.stubbornness, neg.influence_rate, neg.alpha, neg.gamma,
        neg.protocol,
        neg.sponsor, neg.max_rounds,
        tally.max_objections, tally.weights, tally.quotas, tally.floor,
        st.factors, np.ascontiguousarray(draws.noise), np.ascontiguousarray(draws.holdup),
        draws.first,
        st.x0, st.x, st.c, st.T, st.paired, st.p, st.supporters, st.status, st.rounds,
        st.final_text, st.objectors, st.abstainers, st.acceptors, st.first_blocker, st.margin,
    )
    st.t = min(draws.first + draws.noise.shape[2] - 1, neg.max_rounds)
    return st


def dilution_and_drift(
    text: np.ndarray, p0: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the texts ``text`` (B, D) sit relative to the tabled text ``p0`` and the status
    quo ``q``, in units of the distance ‖q − p0‖:

    * dilution = (text − p0)·(q − p0) / ‖q − p0‖², the signed share of the way from the tabled
      text towards the status quo: 0 as tabled, 1 at the status quo, negative when the text
      ended *more* ambitious than tabled, above 1 past the status quo;
    * drift = ‖(text − p0) − dilution (q − p0)‖ / ‖q − p0‖, how far the text left the line
      through p0 and q (always 0 on a single dimension).

    Both are 0 when p0 = q (nothing to water down).
    """
    d = q - p0
    span2 = float(d @ d)
    moved = text - p0[None]
    if span2 == 0.0:
        zero = np.zeros(text.shape[0])
        return zero, zero.copy()
    dilution = moved @ d / span2
    if text.shape[1] == 1:  # on one dimension every text lies on the line
        return dilution, np.zeros_like(dilution)
    off = moved - dilution[:, None] * d[None]
    drift = np.sqrt(np.einsum("bd,bd->b", off, off) / span2)
    return dilution, drift


def outcome(neg: Negotiation, st: State) -> Outcome:
    """The record of a finished block."""
    return _record(neg, st.status, st.rounds, st.final_text, st.objectors, st.abstainers,
                   st.first_blocker)


def _record(
    neg: Negotiation,
    status: np.ndarray,
    rounds: np.ndarray,
    final_text: np.ndarray,
    objectors: np.ndarray,
    abstainers: np.ndarray,
    first_blocker: np.ndarray,
) -> Outcome:
    passed = status == PASSED
    policy = np.where(passed[:, None], final_text, neg.q[None])
    dilution, drift = dilution_and_drift(final_text, neg.p0, neg.q)
    return Outcome(
        status=status,
        rounds=rounds,
        outcome=final_text,
        policy=policy,
        dilution=dilution,
        drift=drift,
        objectors=objectors,
        abstainers=abstainers,
        first_blocker=first_blocker,
    )


#: Most bytes of the reusable tension buffer of one thread (:func:`_tension_buffer`): a block
#: whose (rows × N × N) float64 tensions would exceed it runs in passes of fewer rows
#: (:func:`rows_per_pass`), so memory does not grow with the square of the actors beyond it.
#: 8 MB: passes of a few hundred replications run as fast as whole blocks (they stay in the
#: processor's cache), and the engine runs at 60 members in under 200 MB (docs/performance.md).
TENSION_CAP = 8 * 2**20


def rows_per_pass(n: int, cap: int | None = None) -> int:
    """Replications of a block taken through the rounds together for ``n`` actors: as many as
    keep the tension buffer under ``cap`` bytes (default :data:`TENSION_CAP`), at least one."""
    cap = TENSION_CAP if cap is None else cap
    return max(1, cap // (8 * n * n))


def negotiate(
    neg: Negotiation,
    start: StartDraws,
    rounds: Iterable[RoundDraws],
    *,
    pass_rows: int | None = None,
) -> Outcome:
    """Run a block of negotiations to the end.

    ``rounds`` yields :class:`RoundDraws` for consecutive rounds, consumed lazily (a chunk is
    asked for only while some negotiation runs), so memory does not grow with ``max_rounds``.
    Each negotiation is taken through a chunk's rounds on its own and stops as soon as it is
    decided; the tensions are filled only for negotiations that go past round 1.

    A block of more than ``pass_rows`` replications (default :func:`rows_per_pass` of the
    actors, the whole block up to 32 actors) runs in passes of that many rows, each
    to the end, sharing the round draws (drawn once, in the same order, as any pass first needs
    them): a replication's arithmetic never looks at another's, so the outcome is the same,
    bit for bit, as in one pass (``tests/test_ensemble.py``); only the tension buffer shrinks.
    """
    b = start.capability.shape[0]
    per_pass = rows_per_pass(neg.n) if pass_rows is None else pass_rows
    if b <= per_pass:
        st = initial_state(neg, start, lazy=True)
        chunks = iter(rounds)
        while st.t < neg.max_rounds and (st.status == RUNNING).any():
            st = step(neg, st, next(chunks))
        return outcome(neg, st)
    chunks = iter(rounds)
    drawn: list[RoundDraws] = []
    states = []
    for lo in range(0, b, per_pass):
        rows = slice(lo, min(lo + per_pass, b))
        st = initial_state(neg, StartDraws(position=start.position[rows],
                                           capability=start.capability[rows],
                                           factors=start.factors[rows]), lazy=True)
        c = 0
        while st.t < neg.max_rounds and (st.status == RUNNING).any():
            if c == len(drawn):
                drawn.append(next(chunks))
            chunk = drawn[c]
            st = step(neg, st, RoundDraws(noise=chunk.noise[:, rows],
                                          holdup=chunk.holdup[:, rows], first=chunk.first))
            c += 1
        states.append(st)
    return _record(neg, *(np.concatenate([getattr(st, f) for st in states]) for f in (
        "status", "rounds", "final_text", "objectors", "abstainers", "first_blocker")))

