"""The Mesa driver: a traced, inspectable run of one negotiation.

:class:`NegotiationModel` is a ``mesa.Model`` whose agents are thin views onto rows of the
kernel's state, and whose :meth:`~NegotiationModel.step` runs one round through the very same
compiled kernel (:func:`cicasim.engine.kernel.step`) the ensemble uses, with replication ``r``'s own
random numbers (:mod:`cicasim.engine.draws`).  A traced run therefore equals replication ``r`` of
the
ensemble, bit for bit.  A ``DataCollector`` records every round for inspection or Mesa's
visualisation.

This is the only module that imports Mesa.  It passes ``rng=`` (Mesa 4 drops ``seed=``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from cicasim.display import Shown
from cicasim.engine.arrays import negotiation
from cicasim.engine.draws import BLOCK, BlockDraws
from cicasim.engine.kernel import REASONS, RUNNING, Outcome, State, initial_state, outcome, step
from cicasim.errors import InputError
from cicasim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["NegotiationModel", "StateAgent", "TraceResult", "run_trace"]


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
        # not `scenario`: from Mesa 3.5 that is Mesa's own attribute (mesa.experimental scenarios)
        self.spec = scenario
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
        """One round: evaluate, vote, decide, amend, influence (docs/model.md)."""
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


class TraceResult(Shown):
    """One negotiation run through :class:`NegotiationModel`, with the frames its
    ``DataCollector`` recorded and the tidy tables the trace figure draws.

    ``texts`` (round, dimension, text) holds the text voted on in each round (1, 2, ...);
    ``positions`` (round, actor, dimension, position, vote, margin) each actor's position when
    that vote was cast, its vote and its margin u - θ (None and NaN for observers): row t of
    the DataCollector is round t.
    """

    def __init__(self, scenario: Scenario, model: NegotiationModel) -> None:
        self.scenario = scenario
        self.model = model
        self.proposal = model.negotiation.proposal
        self.seed = model.seed_value
        self.replication = model.replication
        mv = self.model_vars()
        self.status = str(mv["status"].iloc[-1])
        self.rounds = int(mv["round"].iloc[-1])
        self.texts, self.positions = self._tidy()

    def model_vars(self) -> pd.DataFrame:
        """The DataCollector's model variables, one row per recorded state (0 = the start)."""
        return self.model.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def agent_vars(self) -> pd.DataFrame:
        """The DataCollector's agent variables, one row per recorded state × agent."""
        return self.model.datacollector.get_agent_vars_dataframe().reset_index()

    def _steps(self) -> tuple[pd.DataFrame, pd.DataFrame, str]:
        av = self.agent_vars()
        return self.model_vars(), av, "Step" if "Step" in av.columns else av.columns[0]

    def _tidy(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        import pandas as pd

        mv, av, step_col = self._steps()
        dims = self.model.negotiation.dimensions
        texts, positions = [], []
        for t in range(1, len(mv)):
            text = mv.loc[t, "text"]
            for j, d in enumerate(dims):
                texts.append({"round": t, "dimension": d, "text": float(text[j])})
            for r in av[av[step_col] == t].itertuples():
                vote = r.vote if isinstance(r.vote, str) else None
                margin = float(r.margin) if vote is not None else float("nan")
                for j, d in enumerate(dims):
                    positions.append({"round": t, "actor": r.actor, "dimension": d,
                                      "position": float(r.position[j]), "vote": vote,
                                      "margin": margin})
        return (
            pd.DataFrame(texts, columns=["round", "dimension", "text"]),
            pd.DataFrame(positions, columns=["round", "actor", "dimension", "position", "vote",
                                             "margin"]),
        )

    def story(self) -> list[dict]:
        """The rounds as plain dicts (what ``cicasim trace`` prints): round t is the text voted
        on in round t, who accepted, abstained or objected with their margins, the status after
        the round, and how far each actor moved in that round's influence step."""
        mv, av, step_col = self._steps()
        rounds = []
        for t in range(1, len(mv)):
            now = av[av[step_col] == t]
            moved = {
                r.actor: float(np.linalg.norm(np.subtract(r.position_after, r.position)))
                for r in now.itertuples()
            }
            votes = {
                kind: sorted(
                    ({"actor": r.actor, "margin": float(r.margin)}
                     for r in now.itertuples() if r.vote == kind),
                    key=lambda d: d["margin"],
                )
                for kind in ("accept", "abstain", "object")
            }
            rounds.append({"round": t, "text": list(mv["text"].iloc[t]), "votes": votes,
                           "status": mv["status"].iloc[t], "moved": moved})
        return rounds

    def end(self) -> dict:
        """Why and where it ended: reason, rounds, final text and dilution."""
        o = self.model.outcome()
        return {"reason": self.model.reason, "rounds": int(o.rounds[0]),
                "final_text": [float(v) for v in o.outcome[0]], "dilution": float(o.dilution[0])}

    def headline(self) -> str:
        return (f"{self.proposal}, seed {self.seed}, replication {self.replication}: "
                f"{self.status} after {self.rounds} round(s)")

    def summary(self) -> pd.DataFrame:
        """One row per round: the text voted on (a column per dimension), the votes and the
        status after the round."""
        import pandas as pd

        dims = self.model.negotiation.dimensions
        rows = []
        for r in self.story():
            row = {"round": r["round"]}
            row.update({f"text_{d}": v for d, v in zip(dims, r["text"], strict=True)})
            row.update(accepted=len(r["votes"]["accept"]), abstained=len(r["votes"]["abstain"]),
                       objected=len(r["votes"]["object"]),
                       objectors=";".join(v["actor"] for v in r["votes"]["object"]),
                       status=r["status"])
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self) -> Figure:
        """The text and every actor's position by round (:func:`cicasim.plotting.trace_figure`)."""
        from cicasim.plotting import trace_figure

        return trace_figure(self, scenario=self.scenario)


def run_trace(
    scenario: Scenario, proposal: str, *, seed: int, replication: int = 0
) -> TraceResult:
    """Replication ``replication`` of ``proposal`` run through the Mesa model: the same numbers
    the ensemble with master seed ``seed`` gave that replication."""
    ids = [p.id for p in scenario.proposals]
    if proposal not in ids:
        raise InputError(
            f"proposal: unknown id {proposal!r} in {scenario.scenario.name}; "
            f"allowed: {', '.join(ids)}"
        )
    model = NegotiationModel(scenario, proposal, seed=seed, replication=replication)
    model.run()
    return TraceResult(scenario, model)
