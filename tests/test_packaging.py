"""The wheel, installed normally into a fresh virtual environment, works away from the source tree:
every data file the code reads ships inside the package.

Slow (a few minutes: the install brings numpy, numba, pandas, Mesa, Dask... from the pip cache),
so it is marked ``slow``; ``make test`` and CI run it with the rest of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from cicasim.spec.scenario import load_scenario

#: Files the code reads at run time, as they must appear in the wheel.
PACKAGE_DATA = (
    "cicasim/calibrate/cica-assumptions.toml",
    "cicasim/validate/params.toml",
    "cicasim/validate/consensus-organisations.toml",
    "cicasim/scenarios/cica-2022.toml",
)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 900) -> str:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                         check=False)
    shown = " ".join(map(str, cmd))
    assert res.returncode == 0, f"{shown}\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The wheel built from a copy of the sources, installed (with its dependencies, the pip
    cache reused) into a new virtual environment; its bin directory and a clean environment."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "cicasim", src / "cicasim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"),
          str(src)], cwd=tmp, env=env)
    (wheel,) = (tmp / "dist").glob("cicasim-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [f for f in PACKAGE_DATA if f not in names]
    assert not missing, f"package data missing from the wheel: {missing}"
    _run([sys.executable, "-m", "venv", str(tmp / "venv")], cwd=tmp, env=env)
    bin_dir = tmp / "venv" / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp,
         env=env, timeout=1800)
    work = tmp / "work"
    work.mkdir()
    where = _run([str(bin_dir / "python"), "-c", "import cicasim; print(cicasim.__file__)"],
                 cwd=work, env=env).strip()
    assert Path(where).is_relative_to(tmp / "venv"), where  # not the source tree
    return bin_dir, env


@pytest.mark.slow
def test_installed_wheel_runs_a_scenario(installed, tmp_path):
    bin_dir, env = installed
    scen = tmp_path / "cica-2022.toml"
    shutil.copy2(ROOT / "scenarios" / "cica-2022.toml", scen)
    out = json.loads(_run([str(bin_dir / "cicasim"), "run", scen.name, "--seed", "1", "-n", "300",
                           "--json"], cwd=tmp_path, env=env))
    import cicasim as cs

    assert out == cs.run(scen, seed=1, replications=300).to_dict()  # the same numbers


@pytest.mark.slow
def test_installed_wheel_has_the_explorers_default_scenario(installed, tmp_path):
    bin_dir, env = installed
    # the explorer starts on the bundled scenario in any install (no checkout beside it)
    code = ("from cicasim.explore.settings import default_scenario_path as d; "
            "from cicasim.spec.scenario import load_scenario; "
            "print(d().is_relative_to(__import__('sys').prefix), len(load_scenario(d()).actors))")
    out = _run([str(bin_dir / "python"), "-c", code], cwd=tmp_path, env=env).split()
    assert out == ["True", str(len(load_scenario(ROOT / "scenarios" / "cica-2022.toml").actors))]


@pytest.mark.slow
@pytest.mark.shared_data
def test_installed_wheel_calibrates_with_its_own_assumptions(installed, tmp_path):
    if not SHARED.is_dir():
        pytest.skip("public data sets not present: ../shared/data")
    bin_dir, env = installed
    # no --assumptions: the shipped file (package data) is the default
    _run([str(bin_dir / "cicasim"), "calibrate", "--data", str(SHARED), "--year", "2022",
          "--out", "cica.toml"], cwd=tmp_path, env=env)
    assert load_scenario(tmp_path / "cica.toml") == load_scenario(
        ROOT / "scenarios" / "cica-2022.toml"
    )


@pytest.mark.slow
@pytest.mark.shared_data
def test_installed_wheel_validates_deu(installed, tmp_path):
    deu = SHARED / "deu3" / "deu3_dev.tsv"
    if not deu.is_file():
        pytest.skip("public data set not present: ../shared/data/deu3/deu3_dev.tsv")
    bin_dir, env = installed
    # the shipped parameter set (package data) is the default --params
    out = json.loads(_run([str(bin_dir / "cicasim"), "validate", "deu", str(deu), "--no-cv",
                           "-n", "50", "--bootstrap", "100", "--json"], cwd=tmp_path, env=env))
    assert out["params"] == "validation" and out["n_issues"] > 0 and "mae" in out
