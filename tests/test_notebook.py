"""The example notebook runs from top to bottom (it walks the CICA question through the API), so
it cannot drift from the library."""

from __future__ import annotations

import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "cica.ipynb"


@pytest.mark.slow
def test_the_cica_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # Jupyter's own paths, not the deprecated pre-platformdirs ones (a warning otherwise)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the results show as tables and the figures as images
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(html) >= 5 and len(images) >= 3
