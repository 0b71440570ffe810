"""The Mesa driver: a traced, inspectable run of one negotiation.

:class:`NegotiationModel` is a ``mesa.Model`` whose agents are thin views onto rows of the
kernel's state, and whose :meth:`~NegotiationModel.step` runs one round through the very same
compiled kernel (:func:`cicasim.kernel.step`) the ensemble uses, with replication ``r``'s own
random numbers (:mod:`cicasim.draws`).  A traced run therefore equals replication ``r`` of the
ensemble, bit for bit.  A ``DataCollector`` records every round for inspection or Mesa's
visualisation.

This is the only module that imports Mesa.  It passes ``rng=`` (Mesa 4 drops ``seed=``).
"""

from __future__ import annotations

import mesa
import numpy as np

from cicasim.draws import BLOCK, BlockDraws
from cicasim.kernel import REASONS, RUNNING, Outcome, State, initial_state, outcome, step
from cicasim.scenario import Scenario
from cicasim.setup import negotiation

__all__ = ["NegotiationModel", "StateAgent"]


class StateAgent(mesa.Agent):
    """One state (or organisation): a view onto row ``index`` of the kernel state."""

    def __init__(
        self, model: NegotiationModel, *, index: int, actor_id: str, name: str, member: bool
    ) -> None:
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self.name = name
        self.member = member

    @property
    def _state(self) -> State:
        return self.model.state

    @property
    def position(self) -> tuple[float, ...]:
        """Current position on the proposal's dimensions."""
        return tuple(float(v) for v in self._state.x[0, self.index])

    @property
    def initial_position(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self._state.x0[0, self.index])

    @property
    def position_at_vote(self) -> tuple[float, ...]:
        """The position it held when it voted in the last round (before that round's
        influence step); its initial position before round 1."""
        return tuple(float(v) for v in self.model.voted_at[0, self.index])

    @property
    def capability(self) -> float:
        return float(self._state.c[0, self.index])

    @property
    def vote(self) -> str | None:
        """'accept', 'abstain' or 'object' in the last round; None for observers or before."""
        st = self._state
        if not self.member or st.t == 0:
            return None
        if st.objectors[0, self.index]:
            return "object"
        if st.abstainers[0, self.index]:
            return "abstain"
        return "accept"

    @property
    def margin(self) -> float | None:
        """The last vote's utility margin over the acceptance threshold (u - θ)."""
        m = self._state.margin[0, self.index]
        return None if np.isnan(m) else float(m)


class NegotiationModel(mesa.Model):
    """Replication ``replication`` of one proposal's negotiation, one round per ``step()``."""

    def __init__(
        self,
        scenario: Scenario,
        proposal_id: str,
        *,
        seed: int,
        replication: int = 0,
        point: int = 0,
    ) -> None:
        super().__init__(rng=seed)
        self.seed_value = seed
        self.replication = replication
        self.negotiation = neg = negotiation(scenario, proposal_id)
        block, row = divmod(replication, BLOCK)
        draws = BlockDraws.of(neg, seed=seed, point=point, block=block, rows=slice(row, row + 1))
        self.state = initial_state(neg, draws.start())
        self._rounds = draws.single_rounds()
        for i, a in enumerate(scenario.actors):
            StateAgent(self, index=i, actor_id=a.id, name=a.name or a.id, member=a.role == "member")
        self.voted_at = self.state.x.copy()
        # Row t of the collector is round t, as `cicasim trace` prints it: the text voted on in
        # round t, the positions the actors held when they voted, their votes and margins;
        # "next_text" and "position_after" are the amended text and the positions after the
        # round's influence step, which round t + 1 starts from.  Row 0 is the start: the
        # tabled text and the initial positions, before any vote.
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "round": lambda m: m.state.t,
                "text": lambda m: tuple(float(v) for v in m.state.final_text[0]),
                "next_text": lambda m: tuple(float(v) for v in m.state.p[0]),
                "status": lambda m: m.reason,
                "accepts": lambda m: int(m.state.acceptors[0].sum()),
                "abstentions": lambda m: int(m.state.abstainers[0].sum()),
                "objections": lambda m: int(m.state.objectors[0].sum()),
            },
            agent_reporters={
                "actor": "actor_id",
                "position": "position_at_vote",
                "position_after": "position",
                "vote": "vote",
                "margin": "margin",
            },
        )
        self.datacollector.collect(self)

    @property
    def reason(self) -> str:
        return REASONS[int(self.state.status[0])]

    def step(self) -> None:
        """One round: evaluate, vote, decide, amend, influence (MODEL.md)."""
        if not self.running:
            return
        self.voted_at = self.state.x.copy()
        self.state = step(self.negotiation, self.state, next(self._rounds))
        self.datacollector.collect(self)
        if self.state.status[0] != RUNNING:
            self.running = False

    def run(self) -> Outcome:
        """Step until the negotiation ends; its record."""
        while self.running and self.state.t < self.negotiation.max_rounds:
            self.step()
        return self.outcome()

    def outcome(self) -> Outcome:
        return outcome(self.negotiation, self.state)
