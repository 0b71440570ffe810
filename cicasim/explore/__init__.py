"""``cicasim explore``: the interactive explorer in the browser (docs/explorer.md).

:mod:`cicasim.explore.settings` holds what a page shows as plain data and computes it with the
library (no web framework); :mod:`cicasim.explore.app` draws the pages with Solara, the
negotiation page with Mesa's SolaraViz; :mod:`cicasim.explore.server` serves them on
127.0.0.1.  Solara comes with the ``cicasim[explore]`` extra.
"""
