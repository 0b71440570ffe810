"""An idiomatic per-agent Mesa 3 implementation of the cicasim negotiation model.

This is the yardstick the vectorised engine (:mod:`cicasim.engine.kernel`) is measured against: the
same
rules and parameters (``MODEL.md``), written the way a Mesa model usually is written - one
:class:`mesa.Agent` per state or organisation holding its own attributes, Python loops over agents,
``model.agents.shuffle_do(...)`` for the agents' turns, one model per replication, every random
number drawn from the model's own ``numpy.random.Generator`` (Mesa's ``rng=``). The shuffled
order (Mesa's own seeded shuffle) changes no distribution: votes are independent draws and moves
are synchronous.

It does not reproduce the engine's random numbers (the engine draws keyed per-actor streams in
blocks of replications), only their distributions, so the two agree exactly when every source of
noise is zero and in distribution otherwise (``tests/test_mesa_reference.py``). One difference
of construction: the engine assembles each pair's tension noise from per-actor factors (unit
variance, close to normal, so an actor's numbers survive enlargement); here it is what the model
states, one normal draw per pair.

The scenario is read directly from the validated :class:`~cicasim.spec.scenario.Scenario`, not
through
the engine's array set-up, so the two implementations share only the input format.

Rules, in the order of one round (Achen 2006; Friedkin & Johnsen 1990; Hegselmann & Krause 2002;
Häge 2013; Bueno de Mesquita 2011 - see ``cicasim.engine.kernel`` for the citations in context):

1. every member evaluates the text against the status quo, less a rival penalty for the tension
   towards last round's supporters, and may hold up the text (issue linkage);
2. members vote accept / abstain / object with normal noise; the sponsor accepts its own text;
3. the decision rule decides; passed, or the last round, ends the negotiation;
4. the sponsor amends towards the capability x salience weighted compromise of the members, and
   withdraws if it would then prefer the status quo;
5. every actor (observers too) moves by a synchronous Friedkin-Johnsen step with bounded
   confidence: all agents first compute their next position from the same state, then all
   commit, so the shuffled agent order cannot change the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from cicasim.spec.scenario import Actor, Scenario

__all__ = [
    "NegotiationModel",
    "ReferenceOutcome",
    "StateAgent",
    "run_reference",
]

ACCEPT, ABSTAIN, OBJECT = "accept", "abstain", "object"


def _utility(x: list[float], s: list[float], a: int, z: list[float]) -> float:
    """U(z) = -sum_k s_k (|x_k - z_k| / 100)^a (Thomson et al. 2006)."""
    total = 0.0
    for xk, sk, zk in zip(x, s, z, strict=True):
        d = abs(xk - zk) / 100.0
        total += sk * (d * d if a == 2 else d)
    return -total


class StateAgent(mesa.Agent):
    """One state or organisation with its own attributes and its own turn each round."""

    def __init__(self, model: NegotiationModel, actor: Actor, *, index: int) -> None:
        super().__init__(model)
        sc, dims = model.spec, model.dimensions
        self.index = index
        self.actor_id = actor.id
        self.member = actor.role == "member"
        self.votes = 1.0 if actor.votes is None else actor.votes
        self.population = 0.0 if actor.population is None else actor.population
        for name in type(sc.behaviour).model_fields:
            own = getattr(actor.behaviour, name)
            setattr(self, name, getattr(sc.behaviour, name) if own is None else own)
        unc = actor.uncertainty
        pos_sd = sc.uncertainty.position_sd if unc.position_sd is None else unc.position_sd
        cap_sd = sc.uncertainty.capability_sd if unc.capability_sd is None else unc.capability_sd
        self.salience = [actor.salience[d] for d in dims]
        # this replication's draw of the uncertain inputs
        rng = model.rng
        self.x0 = [
            min(max(actor.position[d] + pos_sd * rng.standard_normal(), 0.0), 100.0)
            for d in dims
        ]
        self.x = list(self.x0)
        self.capability = actor.capability * math.exp(
            cap_sd * rng.standard_normal() - 0.5 * cap_sd * cap_sd
        )
        self.tension: dict[StateAgent, float] = {}  # filled by the model, drawn per pair
        self.trust: list[tuple[StateAgent, float]] = []  # (source, c_j (1 - T_ij)), every actor
        # this round's turn
        self.vote: str | None = None
        self.margin = math.nan
        self.next_x: list[float] = self.x

    # -- relations -----------------------------------------------------------------------------
    def rival_discount(self, supporters: list[StateAgent]) -> float:
        """beta x capability-weighted mean tension towards the other supporters."""
        num = den = 0.0
        for other in supporters:
            if other is not self:
                num += other.capability * self.tension[other]
                den += other.capability
        return self.rival_penalty * num / den if den > 0 else 0.0

    def holdup_probability(self, supporters: list[StateAgent]) -> float:
        """h x the highest tension towards a supporting member (issue linkage; Häge 2013)."""
        if self.holdup_rate == 0:
            return 0.0
        rivals = (self.tension[o] for o in supporters if o.member and o is not self)
        return self.holdup_rate * max(rivals, default=0.0)

    # -- the agent's turns ---------------------------------------------------------------------
    def cast_vote(self) -> None:
        """Evaluate the text on the table and vote (members only)."""
        m = self.model
        gain = _utility(self.x, self.salience, self.loss_exponent, m.text) - _utility(
            self.x, self.salience, self.loss_exponent, m.status_quo
        )
        p_hold = self.holdup_probability(m.supporters)
        held = p_hold > 0 and m.rng.random() < p_hold
        u = gain - self.rival_discount(m.supporters) + self.vote_noise * m.rng.standard_normal()
        self.margin = u - self.threshold
        if self is m.sponsor:
            self.vote = ACCEPT
        elif held:
            self.vote = OBJECT
        elif self.margin >= 0:
            self.vote = ACCEPT
        elif self.margin >= -self.abstention_band:
            self.vote = ABSTAIN
        else:
            self.vote = OBJECT

    def plan_move(self) -> None:
        """Friedkin-Johnsen step with bounded confidence, from the current positions only."""
        bounded = math.isfinite(self.confidence_bound)
        total = 0.0
        social = [0.0] * len(self.x)
        for other, w in self.trust:
            if bounded and math.dist(self.x, other.x) > self.confidence_bound:
                continue
            total += w
            for k, v in enumerate(other.x):
                social[k] += w * v
        lam, mu = self.stubbornness, self.influence_rate
        self.next_x = [
            lam * x0 + (1.0 - lam) * ((1.0 - mu) * x + mu * s / total)
            for x0, x, s in zip(self.x0, self.x, social, strict=True)
        ]

    def commit_move(self) -> None:
        self.x = self.next_x



@dataclass(frozen=True)
class ReferenceOutcome:
    """What one negotiation records (MODEL.md), in plain Python values."""

    status: str  # passed | deadlock | withdrawn
    rounds: int
    text: tuple[float, ...]  # the last text voted on
    dilution: float
    objectors: frozenset[str]
    abstainers: frozenset[str]
    first_blocker: str | None


class NegotiationModel(mesa.Model):
    """One replication of one proposal's negotiation; one ``step()`` per round."""

    def __init__(self, scenario: Scenario, proposal_id: str, *, rng) -> None:
        super().__init__(rng=rng)
        self.spec = scenario
        self.proposal = prop = scenario.proposal(proposal_id)
        self.dimensions = [t.dimension for t in prop.touches]
        self.p0 = [t.position for t in prop.touches]
        self.status_quo = [t.status_quo for t in prop.touches]
        self.text = list(self.p0)
        self.rule = prop.rule
        self.max_rounds = prop.max_rounds
        for i, actor in enumerate(scenario.actors):
            StateAgent(self, actor, index=i)
        # in scenario order, for deterministic tie-breaking and the tension table
        self.ordered: list[StateAgent] = sorted(self.agents, key=lambda a: a.index)
        self.members = self.agents.select(lambda a: a.member)
        self._draw_tensions()
        self.sponsor = next(a for a in self.ordered if a.actor_id == prop.sponsor)
        sponsor_b = scenario.actor(prop.sponsor).behaviour
        self.alpha = sponsor_b.amendment_step or scenario.behaviour.amendment_step
        self.gamma = (
            scenario.behaviour.objector_weight
            if sponsor_b.objector_weight is None
            else sponsor_b.objector_weight
        )
        self.supporters: list[StateAgent] = [self.sponsor]
        self.round = 0
        self.status = "running"
        self.first_blocker: StateAgent | None = None
        self.final_text = list(self.text)

    def _draw_tensions(self) -> None:
        """This replication's tensions: normal noise per pair, clipped to 0-1; then each
        actor's trust in every actor (itself included), c_j (1 - T_ij), fixed for the run."""
        sc = self.spec
        base: dict[frozenset[str], tuple[float, float]] = {}
        for t in sc.tensions:
            sd = sc.uncertainty.tension_sd if t.sd is None else t.sd
            base[frozenset(t.pair)] = (t.value, sd)
        default = (sc.scenario.default_tension, sc.uncertainty.tension_sd)
        for i, a in enumerate(self.ordered):
            a.tension[a] = 0.0
            for b in self.ordered[i + 1 :]:
                value, sd = base.get(frozenset((a.actor_id, b.actor_id)), default)
                noise = sd * self.rng.standard_normal()
                a.tension[b] = b.tension[a] = min(max(value + noise, 0.0), 1.0)
        for a in self.ordered:
            a.trust = [(b, b.capability * (1.0 - a.tension[b])) for b in self.ordered]

    # -- one round -----------------------------------------------------------------------------
    def step(self) -> None:
        if not self.running:
            return
        self.round += 1
        self.members.shuffle_do("cast_vote")
        accept = [a for a in self.ordered if a.member and a.vote == ACCEPT]
        abstain = [a for a in self.ordered if a.member and a.vote == ABSTAIN]
        objectors = [a for a in self.ordered if a.member and a.vote == OBJECT]
        self.final_text = list(self.text)
        self.last_vote = (accept, abstain, objectors)
        if self._passes(accept, objectors):
            self._finish("passed")
            return
        if self.first_blocker is None and objectors:
            self.first_blocker = min(objectors, key=lambda a: (a.margin, a.index))
        if self.round >= self.max_rounds:
            self._finish("deadlock")
            return
        self.supporters = accept
        # amend towards the compromise; the sponsor withdraws a text it likes less than q
        target = self._compromise(set(objectors))
        proposed = [p + self.alpha * (z - p) for p, z in zip(self.text, target, strict=True)]
        s = self.sponsor
        if _utility(s.x, s.salience, s.loss_exponent, proposed) < _utility(
            s.x, s.salience, s.loss_exponent, self.status_quo
        ):
            self._finish("withdrawn")
            return
        self.text = proposed
        # influence, synchronously: everybody plans from the same state, then everybody moves
        self.agents.shuffle_do("plan_move")
        self.agents.do("commit_move")

    def _compromise(self, objectors: set[StateAgent]) -> list[float]:
        """Capability x salience weighted mean of members' positions (Achen 2006), objectors
        weighted by 1 + gamma."""
        out = []
        for k, p in enumerate(self.text):
            num = den = 0.0
            for a in self.members:
                w = a.capability * (1.0 + self.gamma * (a in objectors)) * a.salience[k]
                num += w * a.x[k]
                den += w
            out.append(num / den if den > 0 else p)
        return out

    def _passes(self, accept: list[StateAgent], objectors: list[StateAgent]) -> bool:
        """The proposal's decision rule, counted over the members."""
        rule, kind = self.rule, self.rule.kind
        if kind == "consensus":
            return not objectors
        if kind == "consensus-minus-k":
            return len(objectors) <= rule.k
        n = len(self.members)
        if kind == "simple-majority":
            return len(accept) >= n // 2 + 1
        if kind != "qualified-majority":
            raise ValueError(f"unknown rule kind {kind!r}")
        ok = True
        if rule.quota is not None:
            ok &= sum(a.votes for a in accept) >= rule.quota - 1e-9
        if rule.min_members is not None:
            ok &= len(accept) >= rule.min_members
        if rule.min_members_share is not None:
            ok &= len(accept) >= math.ceil(rule.min_members_share * n - 1e-9)
        if rule.min_population_share is not None:
            total = sum(a.population for a in self.members)
            ok &= sum(a.population for a in accept) >= rule.min_population_share * total - 1e-9
        if rule.blocking_min is not None:
            ok |= n - len(accept) < rule.blocking_min
        return bool(ok)

    def _finish(self, status: str) -> None:
        self.status = status
        self.running = False

    def run(self) -> ReferenceOutcome:
        """Step until the negotiation ends; its record."""
        while self.running:
            self.step()
        return self.outcome()

    def outcome(self) -> ReferenceOutcome:
        _, abstain, objectors = self.last_vote
        # the signed share of the way from the tabled text towards the status quo
        d = [q - p for q, p in zip(self.status_quo, self.p0, strict=True)]
        moved = [t - p for t, p in zip(self.final_text, self.p0, strict=True)]
        span2 = sum(v * v for v in d)
        return ReferenceOutcome(
            status=self.status,
            rounds=self.round,
            text=tuple(self.final_text),
            dilution=sum(m * v for m, v in zip(moved, d, strict=True)) / span2 if span2 else 0.0,
            objectors=frozenset(a.actor_id for a in objectors),
            abstainers=frozenset(a.actor_id for a in abstain),
            first_blocker=None if self.first_blocker is None else self.first_blocker.actor_id,
        )


def run_reference(
    scenario: Scenario, proposal_id: str, *, replications: int, seed: int
) -> list[ReferenceOutcome]:
    """``replications`` independent negotiations, replication ``r`` seeded by
    ``SeedSequence(seed, spawn_key=(r,))``; a fresh model per replication, as in Mesa's
    ``batch_run``."""
    out = []
    for r in range(replications):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(r,))))
        out.append(NegotiationModel(scenario, proposal_id, rng=rng).run())
    return out
