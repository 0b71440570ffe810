"""Analysis built on the engine.

* :mod:`~cicasim.analysis.runs`: a scenario's run with the figures ``cicasim run`` prints;
* :mod:`~cicasim.analysis.compare`: paired comparisons under common random numbers;
* :mod:`~cicasim.analysis.pivotality`: each member's effect on P(consensus), by channel;
* :mod:`~cicasim.analysis.power`: exact voting power of a decision rule;
* :mod:`~cicasim.analysis.sensitivity`: Sobol sensitivity indices;
The static baselines (the compromise model, the weighted median) are bargaining models like the
others, in :mod:`cicasim.models.compromise`; :mod:`cicasim.validate.baselines` applies them to DEU
issues (``issue_compromise``, ``issue_weighted_median``).
"""
