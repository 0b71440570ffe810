"""The engine: a proposal's negotiation, run over a block of replications.

* :mod:`~cicasim.engine.arrays`: from a scenario to the arrays of one proposal's negotiation;
* :mod:`~cicasim.engine.draws`: where every random number comes from;
* :mod:`~cicasim.engine.kernel` and :mod:`~cicasim.engine.loops`: the dynamics, compiled;
* :mod:`~cicasim.engine.ensemble`: Monte Carlo ensembles and their summaries;
* :mod:`~cicasim.engine.model`: the Mesa model, the traced driver of the same kernel.
"""
