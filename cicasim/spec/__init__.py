"""The spec: what is simulated, as validated data.

* :mod:`~cicasim.spec.scenario`: scenario files, typed and validated;
* :mod:`~cicasim.spec.rules`: the decision rules (a registry);
* :mod:`~cicasim.spec.protocols`: the chair's amendment protocols (a registry);
* :mod:`~cicasim.spec.paramsets`: named behaviour parameter sets;
* :mod:`~cicasim.spec.enlargement`: enlargement operators on scenarios.
"""
