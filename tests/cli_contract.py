"""The command line's contract, as the fuzz and regression tests check it (docs/reliability.md):
exit 0, or exit 2 with exactly one line on stderr and no traceback, and nothing written."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

from cicasim.cli import main


def run_cli(argv: Sequence[str], cwd: Path | None = None) -> tuple[int, str, str]:
    """Run ``cicasim argv`` in this process (in ``cwd`` when given); exit code, stdout and
    stderr."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in argv])
    finally:
        os.chdir(here)
    return rc, out.getvalue(), err.getvalue()


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every entry below ``root`` (without following links): its kind and size."""
    out: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
            out[str(p.relative_to(root))] = (kind, 0 if kind == "dir" else st.st_size)
    return out


def assert_contract(
    rc: int, err: str, before: dict | None = None, after: dict | None = None, what: str = ""
) -> None:
    """Exit 0, or exit 2 with one line on stderr, no traceback and (given the snapshots of
    the working folder) nothing written."""
    where = f" [{what}]" if what else ""
    assert rc in (0, 2), f"exit code {rc}{where}: {err[-2000:]}"
    assert "Traceback" not in err, f"traceback{where}: {err[-3000:]}"
    if rc == 2:
        assert err.endswith("\n") and err.count("\n") == 1, f"not one line{where}: {err[:3000]!r}"
        assert err.startswith("cicasim"), f"not a cicasim error{where}: {err[:500]!r}"
        if before is not None:
            assert after == before, f"files written on error{where}: {err!r}"
