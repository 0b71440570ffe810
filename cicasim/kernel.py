"""The negotiation dynamics: pure numpy over a replication axis.

One negotiation is one proposal in one replication.  Arrays carry a leading replication axis ``B``
(a block of replications), then actors ``N``, then the proposal's touched dimensions ``D``.
Every rule below follows ``MODEL.md``; the literature behind each is cited where it is applied.

The kernel is split so that two drivers share it exactly:

* :func:`negotiate` runs a whole block to the end (the ensemble);
* :func:`initial_state` and :func:`step` run one round at a time (the Mesa model), and
  ``negotiate`` is nothing but a loop over ``step``.

Randomness never happens here: :class:`~cicasim.draws.BlockDraws` hands in standard-normal and
uniform numbers, so the same numbers give the same negotiation whichever driver asks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from cicasim.loops import influence_update, pair_arrays, vote_margins
from cicasim.rules import Rule, VoteContext

__all__ = [
    "DEADLOCK",
    "PASSED",
    "REASONS",
    "RUNNING",
    "WITHDRAWN",
    "Negotiation",
    "Outcome",
    "RoundDraws",
    "compromise_point",
    "influence",
    "StartDraws",
    "State",
    "initial_state",
    "negotiate",
    "step",
    "utility",
]

RUNNING, PASSED, DEADLOCK, WITHDRAWN = 0, 1, 2, 3
REASONS = {RUNNING: "running", PASSED: "passed", DEADLOCK: "deadlock", WITHDRAWN: "withdrawn"}


@dataclass(frozen=True)
class Negotiation:
    """The fixed inputs of one proposal's negotiation (no randomness), one row per actor.

    Built from a scenario by :func:`cicasim.setup.negotiation`.  Behaviour parameters are
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
    context: VoteContext = field(init=False)

    def __post_init__(self) -> None:
        ctx = VoteContext(member=self.member, votes=self.votes, population=self.population)
        object.__setattr__(self, "context", ctx)

    @property
    def n(self) -> int:
        return len(self.actor_ids)


@dataclass(frozen=True)
class StartDraws:
    """Random numbers drawn once per replication: standard normals for the uncertain inputs."""

    position: np.ndarray  # (B, N, D)
    capability: np.ndarray  # (B, N)
    factors: np.ndarray  # (B, N, M): pair noise of tensions is a_i·a_j / sqrt(M)


@dataclass(frozen=True)
class RoundDraws:
    """Random numbers drawn once per round: vote noise (normal) and hold-up (uniform)."""

    noise: np.ndarray  # (B, N)
    holdup: np.ndarray  # (B, N)


@dataclass
class State:
    """The state of a block of negotiations between rounds."""

    t: int  # rounds completed
    x0: np.ndarray  # (B, N, D) initial positions (this replication's draw)
    x: np.ndarray  # (B, N, D) current positions
    c: np.ndarray  # (B, N) capabilities
    T: np.ndarray  # (B, N, N) tensions
    A: np.ndarray  # (B, N, N) influence weights c_j (1 - T_ij), row-normalised when ε = ∞
    pair_row: np.ndarray  # (B,) row of T and A for each negotiation (they are never compacted)
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
    """What a block of negotiations records (MODEL.md, per replication and proposal)."""

    status: np.ndarray  # (B,)
    rounds: np.ndarray  # (B,)
    outcome: np.ndarray  # (B, D) final text
    policy: np.ndarray  # (B, D) final text if passed, else the status quo
    dilution: np.ndarray  # (B,)
    objectors: np.ndarray  # (B, N)
    abstainers: np.ndarray  # (B, N)
    first_blocker: np.ndarray  # (B,)

    @property
    def passed(self) -> np.ndarray:
        return self.status == PASSED


def utility(x: np.ndarray, s: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Spatial utility U_i(z) = -Σ_k s_ik (|x_ik - z_k| / 100)^a_i (Thomson et al. 2006; KTAB).

    ``x``, ``s``: (B, N, D); ``a``: (N,); ``z``: (B, D).  Returns (B, N), in [-Σ s, 0].
    """
    d = np.abs(x - z[:, None, :]) / 100.0
    loss = np.where(a[None, :, None] == 2, d * d, d)
    return -(s * loss).sum(axis=-1)


_scratch = threading.local()


def _pair_buffers(b: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two (b, n, n) arrays for T and A, reused from block to block within a thread: the pages
    of fresh arrays this large cost more to map than the arithmetic that fills them.  A state
    keeps them only while its block runs (:func:`negotiate` copies what it returns)."""
    cache = getattr(_scratch, "pairs", None)
    if cache is None or cache[0].shape != (b, n, n):
        cache = (np.empty((b, n, n)), np.empty((b, n, n)))
        _scratch.pairs = cache
    return cache


def initial_state(neg: Negotiation, draws: StartDraws, *, reuse: bool = False) -> State:
    """Apply this replication's draws to the uncertain inputs.

    Positions get normal noise (clipped to 0-100), capabilities mean-preserving lognormal noise,
    tensions the factor noise of :mod:`cicasim.draws` (clipped to 0-1).  With ``reuse`` the
    pair arrays live in this thread's scratch buffers (for :func:`negotiate`, which runs one
    block at a time).
    """
    sd = neg.position_sd[None, :, None]
    x0 = np.clip(neg.position[None] + sd * draws.position, 0.0, 100.0)
    csd = neg.capability_sd[None, :]
    c = neg.capability[None] * np.exp(csd * draws.capability - 0.5 * csd * csd)
    b, n, dd = x0.shape
    T, A = _pair_buffers(b, n) if reuse else (np.empty((b, n, n)), np.empty((b, n, n)))
    bounded = bool(np.isfinite(neg.confidence_bound).any())
    # without bounded confidence the weights are fixed over the rounds: normalise them once
    pair_arrays(
        neg.tension, neg.tension_sd, draws.factors, bool(neg.tension_sd.any()), c, not bounded, T, A
    )
    supporters = np.zeros((b, n), dtype=bool)
    supporters[:, neg.sponsor] = True
    return State(
        t=0,
        x0=x0,
        x=x0.copy(),
        c=c,
        T=T,
        A=A,
        pair_row=np.arange(b),
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


def compromise_point(neg: Negotiation, st: State, objection: np.ndarray) -> np.ndarray:
    """Achen's (2006) compromise point: capability × salience weighted mean of the members'
    positions per dimension, objectors weighted by (1 + γ)."""
    w = (st.c * neg.member[None] * (1.0 + neg.gamma * objection))[:, :, None] * neg.salience[None]
    tot = w.sum(axis=1)
    z = (w * st.x).sum(axis=1)
    return np.divide(z, tot, out=st.p.copy(), where=tot > 0)


def influence(neg: Negotiation, st: State, running: np.ndarray | None = None) -> np.ndarray:
    """Synchronous Friedkin-Johnsen update with bounded confidence (Friedkin & Johnsen 1990;
    Hegselmann & Krause 2002):

    x_i <- λ_i x_i(0) + (1 - λ_i)[(1 - μ_i) x_i + μ_i Σ_j W_ij x_j],
    W_ij ∝ c_j (1 - T_ij) 1[d_ij <= ε_i], rows normalised; observers are sources too.
    Every actor updates from the same previous state, so agent order cannot matter.  Rows not
    ``running`` keep their positions.
    """
    if running is None:
        running = np.ones(st.x.shape[0], dtype=bool)
    out = np.empty_like(st.x)
    bounded = bool(np.isfinite(neg.confidence_bound).any())
    influence_update(
        st.A,
        st.pair_row,
        st.x,
        st.x0,
        neg.stubbornness,
        neg.influence_rate,
        neg.confidence_bound,
        bounded,
        running,
        out,
    )
    return out


def step(neg: Negotiation, st: State, draws: RoundDraws) -> State:
    """One round (MODEL.md steps 1-7) for every negotiation still running; returns the new state.

    Finished negotiations keep their values.  The decision rule is ``neg.rule`` (registry in
    :mod:`cicasim.rules`).
    """
    t = st.t + 1
    run = st.status == RUNNING
    member = neg.member[None]
    # 1-3. evaluate (gain over q), relations (rival penalty ρ, hold-up) and the noisy vote
    #   U_i(z) = -Σ_k s_ik (|x_ik - z_k| / 100)^a_i  (Thomson et al. 2006; KTAB)
    #   ρ_i = β_i × capability-weighted mean tension from i to last round's supporters j ≠ i:
    #     states discount texts their rivals back (Bueno de Mesquita 2011; Gray, Lindstädt &
    #     Slapin 2017)
    #   hold-up with probability h_i max_j T_ij over supporting members: issue linkage, a state
    #     blocks an unrelated text to gain leverage over a rival (the SAARC pattern; Häge 2013)
    #   margin = gain - ρ + σ z - θ
    q = np.broadcast_to(neg.q, st.p.shape)
    margin = np.empty(st.supporters.shape)
    held = np.empty(st.supporters.shape, dtype=bool)
    vote_margins(
        st.x,
        neg.salience,
        neg.loss_exponent,
        st.p,
        neg.q,
        st.T,
        st.pair_row,
        st.c,
        st.supporters,
        neg.member,
        neg.rival_penalty,
        neg.holdup_rate,
        neg.vote_noise,
        neg.threshold,
        draws.noise,
        draws.holdup,
        margin,
        held,
    )
    accept = (margin >= 0) & ~held
    abstain = (margin < 0) & (margin >= -neg.abstention_band[None]) & ~held
    accept[:, neg.sponsor] = True
    abstain[:, neg.sponsor] = False
    held[:, neg.sponsor] = False
    accept &= member
    abstain &= member
    objection = member & ~accept & ~abstain
    # 4. decide
    passed = neg.rule.passes(accept, abstain, objection, neg.context) & run
    # the first blocker: the most opposed objector in the first failed round
    failed = run & ~passed
    first = failed & (st.first_blocker < 0) & objection.any(axis=-1)
    if first.any():
        worst = np.where(objection, margin, np.inf).argmin(axis=-1).astype(np.int16)
        first_blocker = np.where(first, worst, st.first_blocker)
    else:
        first_blocker = st.first_blocker
    # 5. record the vote
    keep = run[:, None]
    status = st.status.copy()
    status[passed] = PASSED
    deadlock = failed & (t >= neg.max_rounds)
    status[deadlock] = DEADLOCK
    rounds = np.where(run, t, st.rounds).astype(np.int16)
    final_text = np.where(keep, st.p, st.final_text)
    margin = np.where(member, margin, np.nan)
    new = State(
        t=t,
        x0=st.x0,
        x=st.x,
        c=st.c,
        T=st.T,
        A=st.A,
        pair_row=st.pair_row,
        p=st.p,
        supporters=np.where(keep, accept, st.supporters),
        status=status,
        rounds=rounds,
        final_text=final_text,
        objectors=np.where(keep, objection, st.objectors),
        abstainers=np.where(keep, abstain, st.abstainers),
        acceptors=np.where(keep, accept, st.acceptors),
        first_blocker=first_blocker,
        margin=np.where(keep, margin, st.margin),
    )
    going = status == RUNNING
    if not going.any():
        return new
    # 6. amend towards the compromise; the sponsor withdraws a text it likes less than q
    z = compromise_point(neg, st, objection)
    p_next = st.p + neg.alpha * (z - st.p)
    s = neg.sponsor
    xs, ss, a_s = st.x[:, s : s + 1], neg.salience[None, s : s + 1], neg.loss_exponent[s : s + 1]
    withdraw = going & (utility(xs, ss, a_s, p_next)[:, 0] < utility(xs, ss, a_s, q)[:, 0])
    new.status[withdraw] = WITHDRAWN
    going &= ~withdraw
    new.p = np.where(going[:, None], p_next, st.p)
    # 7. influence, synchronously
    new.x = influence(neg, st, going)
    return new


_RECORD = ("status", "rounds", "final_text", "objectors", "abstainers", "first_blocker")


def outcome(neg: Negotiation, st: State) -> Outcome:
    """The record of a finished block."""
    passed = st.status == PASSED
    policy = np.where(passed[:, None], st.final_text, neg.q[None])
    span = np.linalg.norm(neg.p0 - neg.q)
    moved = np.linalg.norm(st.final_text - neg.p0[None], axis=-1)
    dilution = moved / span if span > 0 else np.zeros_like(moved)
    return Outcome(
        status=st.status,
        rounds=st.rounds,
        outcome=st.final_text,
        policy=policy,
        dilution=dilution,
        objectors=st.objectors,
        abstainers=st.abstainers,
        first_blocker=st.first_blocker,
    )


_SHARED = ("t", "T", "A")  # not subset: pair_row points into T and A


def _take(st: State, rows: np.ndarray) -> State:
    """The state of a subset of the negotiations (rows along the replication axis); the large
    pair arrays stay as they are and ``pair_row`` keeps pointing into them."""
    return State(
        **{
            f: (getattr(st, f) if f in _SHARED else getattr(st, f)[rows])
            for f in State.__dataclass_fields__
        }
    )


def negotiate(neg: Negotiation, start: StartDraws, rounds) -> Outcome:
    """Run a block of negotiations to the end.

    ``rounds`` is an iterator of :class:`RoundDraws`, one per round, consumed lazily so memory
    does not grow with ``max_rounds``.  Finished negotiations are set aside as soon as they are
    half the block, so later rounds only compute what still runs; every row's arithmetic is
    independent of the others, so this changes no number.
    """
    st = initial_state(neg, start, reuse=True)
    record = {f: getattr(st, f).copy() for f in _RECORD}
    rows = np.arange(st.status.shape[0])
    for _ in range(neg.max_rounds):
        d = next(rounds)
        if len(rows) < len(record["status"]):
            d = RoundDraws(noise=d.noise[rows], holdup=d.holdup[rows])
        st = step(neg, st, d)
        running = st.status == RUNNING
        if not running.any():
            break
        if 2 * running.sum() <= len(rows):
            done = ~running
            for f in _RECORD:
                record[f][rows[done]] = getattr(st, f)[done]
            keep = np.flatnonzero(running)
            st, rows = _take(st, keep), rows[keep]
    for f in _RECORD:
        record[f][rows] = getattr(st, f)
    final = State(**{**{f: getattr(st, f) for f in State.__dataclass_fields__}, **record})
    return outcome(neg, final)
