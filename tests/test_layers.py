"""The layers' import rules: only the plotting modules and the figure modules of
cicasim.validate import matplotlib; the spec, the engine, the analysis, the sweep and the
results layer never do, so a library user who never draws never pays for it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NO_MATPLOTLIB = ("cicasim.spec", "cicasim.engine", "cicasim.analysis", "cicasim.sweep",
                 "cicasim.results")

# every module of the packages, imported in a fresh interpreter, then the modules it pulled in
PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
names = [package.__name__]
if hasattr(package, "__path__"):
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(len(names), json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")[:1]))
"""


def _probe(package: str) -> tuple[int, list[str]]:
    res = subprocess.run([sys.executable, "-c", PROBE, package], capture_output=True,
                         text=True, check=True, timeout=300)
    count, _, found = res.stdout.strip().partition(" ")
    return int(count), json.loads(found)


@pytest.mark.parametrize("package", NO_MATPLOTLIB)
def test_layer_does_not_import_matplotlib(package):
    count, found = _probe(package)
    assert count >= 1
    assert found == [], f"importing {package} imported {found[0]}"


def test_the_probe_sees_matplotlib_where_it_is_imported():
    count, found = _probe("cicasim.plotting")
    assert count > 5  # the plotting modules themselves were walked
    assert found == ["matplotlib"]


def test_no_function_is_over_80_lines():
    """The house's size rule: small functions everywhere but in the compiled loops, whose
    kernels are long on purpose (one pass over a block's arrays, ``docs/performance.md``)."""
    import ast
    from pathlib import Path

    import cicasim

    package = Path(cicasim.__file__).parent
    long = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() == "engine/loops.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long.append(f"{path.relative_to(package)}:{node.lineno} {node.name} {lines}")
    assert long == []
