"""Results on disk: tidy Parquet tables plus a manifest with the provenance.

Three modules: :mod:`~cicasim.results.manifest` (the typed :class:`Manifest`, read, checked and
written in one place), :mod:`~cicasim.results.directory` (:class:`Results`, the one reader of a
results directory, and the atomic writing of a whole directory) and
:mod:`~cicasim.results.files` (the single files, written whole or not at all).
"""

from __future__ import annotations

from cicasim.results.directory import (
    KNOWN_ENTRIES,
    TABLE,
    Results,
    atomic_directory,
    check_output_directory,
    open_results,
    scenario_from_manifest,
)
from cicasim.results.files import (
    check_output_file,
    lock_directory,
    make_directory,
    path_status,
    read_json,
    read_parquet,
    reading_results,
    respect_umask,
    write_json,
    write_table,
    write_text_atomic,
)
from cicasim.results.manifest import (
    MANIFEST,
    Manifest,
    git_commit,
    manifest,
    read_manifest,
    sha256,
    versions,
)

__all__ = [
    "KNOWN_ENTRIES",
    "MANIFEST",
    "TABLE",
    "Manifest",
    "Results",
    "atomic_directory",
    "check_output_directory",
    "check_output_file",
    "lock_directory",
    "make_directory",
    "path_status",
    "respect_umask",
    "write_text_atomic",
    "git_commit",
    "manifest",
    "open_results",
    "read_json",
    "reading_results",
    "read_manifest",
    "read_parquet",
    "scenario_from_manifest",
    "sha256",
    "versions",
    "write_json",
    "write_table",
]
