"""Readers for the public data sets, each returning a tidy pandas table keyed by state and year.

The files stay where the user keeps them (``--data DIR``, laid out as in the data folder's
``README.md``); nothing is copied to disk.  A file read once is kept in memory for the life of
the process, keyed by its path, size and modification time, because the event validation
calibrates hundreds of scenarios from the same files.  Each reader checks that the file exists
and holds the columns it needs, and otherwise raises a one-line
:class:`~cicasim.errors.InputError` naming the file and what was expected.  R data files
(``.rda``) are read with pyreadr, Stata files with pandas.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from cicasim.errors import InputError

__all__ = [
    "FILES",
    "read_nmc",
    "read_ideal_points",
    "read_unga_votes",
    "read_mids",
    "read_rivalries",
    "read_igo_state_year",
    "read_post2014_memberships",
    "read_worldbank",
]

#: where each data set sits below ``--data DIR`` and what it is (for error messages)
FILES: dict[str, tuple[str, str]] = {
    "nmc": ("peacesciencer/cow_nmc.rda", "COW National Material Capabilities (ccode, year, cinc)"),
    "ideal": ("bsv_idealpoints/IdealpointsJuly2025.dta",
              "Bailey-Strezhnev-Voeten UNGA ideal points (ccode, iso3c, year, idealpointfp)"),
    "votes": ("unvotes/un_votes.rda", "UNGA roll-call votes (rcid, country_code, vote)"),
    "rollcalls": ("unvotes/un_roll_calls.rda", "UNGA roll calls (rcid, date)"),
    "mids": ("peacesciencer/cow_mid_ddydisps.rda",
             "COW MID dispute-dyad-years (ccode1, ccode2, year, hostlev)"),
    "td": ("peacesciencer/td_rivalries.rda",
           "Thompson-Dreyer strategic rivalries (ccode1, ccode2, styear, endyear)"),
    "tss": ("peacesciencer/tss_rivalries.rda",
            "Thompson-Sakuwa-Suhas rivalries (ccode1, ccode2, start, end)"),
    "igo": ("cow_igo_igoR/state_year_format3.rda",
            "COW IGO v3 state-year memberships (ccode, year, one column per IGO)"),
    "post2014": ("derived/org_memberships_cica_relevant.csv",
                 "memberships incl. sourced post-2014 changes (org, iso3c, status, year_from, "
                 "year_to, basis)"),
    "gdp": ("worldbank/wb_gdp.csv", "World Bank GDP, current US$ (Country Code, Year, Value)"),
    "pop": ("worldbank/wb_population.csv", "World Bank population (Country Code, Year, Value)"),
}


def path_of(data: Path, key: str) -> Path:
    """The path of data set ``key`` below ``data``."""
    return Path(data) / FILES[key][0]


def _existing(data: Path, key: str) -> Path:
    path = path_of(data, key)
    if not path.is_file():
        raise InputError(f"{path}: file not found; expected {FILES[key][1]}")
    return path


def _check_columns(df: pd.DataFrame, path: Path, key: str, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {FILES[key][1]}"
        )
    if df.empty:
        raise InputError(f"{path}: no rows; expected {FILES[key][1]}")
    return df


@functools.lru_cache(maxsize=32)
def _load_rda(path: str, size: int, mtime_ns: int) -> pd.DataFrame | None:
    """The first data frame of an R data file (None when it holds none), read once per
    (path, size, modification time); callers select or copy, never change it in place."""
    import pyreadr  # imported here: only calibration needs it

    result = pyreadr.read_r(path)
    return next(iter(result.values())) if result else None


def _read_rda(data: Path, key: str, columns: list[str]) -> pd.DataFrame:
    path = _existing(data, key)
    st = path.stat()
    try:
        df = _load_rda(str(path), st.st_size, st.st_mtime_ns)
    except Exception as exc:  # pyreadr raises its own and OS errors alike
        raise InputError(
            f"{path}: not a readable R data file ({type(exc).__name__}); expected {FILES[key][1]}"
        ) from None
    if df is None:
        raise InputError(f"{path}: holds no data frame; expected {FILES[key][1]}")
    return _check_columns(df, path, key, columns)


def _read_csv(data: Path, key: str, columns: list[str]) -> pd.DataFrame:
    path = _existing(data, key)
    st = path.stat()
    return _check_columns(_load_csv(str(path), st.st_size, st.st_mtime_ns, key).copy(),
                          path, key, columns)


@functools.lru_cache(maxsize=16)
def _load_csv(path_text: str, size: int, mtime_ns: int, key: str) -> pd.DataFrame:
    path = Path(path_text)
    try:
        df = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a readable CSV file ({type(exc).__name__}); expected {FILES[key][1]}"
        ) from None
    return df


def _numeric(df: pd.DataFrame, path: Path, key: str, columns: list[str]) -> pd.DataFrame:
    for c in columns:
        try:
            df[c] = pd.to_numeric(df[c])
        except (ValueError, TypeError):
            raise InputError(
                f"{path}: column {c} is not numeric; expected {FILES[key][1]}"
            ) from None
    return df


def read_nmc(data: Path) -> pd.DataFrame:
    """COW NMC v7: ``ccode, year, cinc`` (Singer, Bremer & Stuckey 1972; Singer 1987)."""
    df = _read_rda(data, "nmc", ["ccode", "year", "cinc"])[["ccode", "year", "cinc"]].copy()
    df = _numeric(df, path_of(data, "nmc"), "nmc", ["ccode", "year", "cinc"])
    return df.dropna().astype({"ccode": int, "year": int})


def read_ideal_points(data: Path) -> pd.DataFrame:
    """BSV ideal points (:func:`_read_ideal_points`), kept in memory once read."""
    path = _existing(data, "ideal")
    st = path.stat()
    return _read_ideal_points(Path(data), st.st_size, st.st_mtime_ns).copy()


@functools.lru_cache(maxsize=4)
def _read_ideal_points(data: Path, size: int, mtime_ns: int) -> pd.DataFrame:
    """BSV ideal points: ``ccode, iso3c, year, idealpointfp`` (Bailey, Strezhnev & Voeten 2017)."""
    path = _existing(data, "ideal")
    try:
        df = pd.read_stata(path, columns=["ccode", "iso3c", "year", "idealpointfp"])
    except (ValueError, OSError, KeyError) as exc:
        raise InputError(
            f"{path}: not a readable Stata file with the needed columns ({type(exc).__name__}); "
            f"expected {FILES['ideal'][1]}"
        ) from None
    df = _check_columns(df, path, "ideal", ["ccode", "iso3c", "year", "idealpointfp"])
    df = _numeric(df, path, "ideal", ["year", "idealpointfp"])
    return df.dropna(subset=["year", "idealpointfp"]).astype({"year": int})


def read_unga_votes(data: Path, *, first: int, last: int) -> pd.DataFrame:
    """UNGA votes cast in calendar years ``first..last``: ``rcid, iso2, value`` with
    yes = 1, abstain = 0.5, no = 0 (Voeten et al.; the coding of Lijphart's agreement index)."""
    votes = _read_rda(data, "votes", ["rcid", "country_code", "vote"])
    calls = _read_rda(data, "rollcalls", ["rcid", "date"])
    dates = pd.to_datetime(calls["date"].astype(str), errors="coerce")
    keep = calls.loc[(dates.dt.year >= first) & (dates.dt.year <= last), "rcid"]
    v = votes[votes["rcid"].isin(set(keep.astype(float)) | set(keep))]
    value = v["vote"].astype(str).map({"yes": 1.0, "abstain": 0.5, "no": 0.0})
    out = pd.DataFrame(
        {"rcid": v["rcid"].astype(int), "iso2": v["country_code"].astype(str), "value": value}
    )
    return out.dropna()


def read_mids(data: Path) -> pd.DataFrame:
    """COW MID v5 non-directed dispute-dyad-years: ``ccode1, ccode2, year, hostlev`` (Palmer et
    al. 2022)."""
    cols = ["ccode1", "ccode2", "year", "hostlev"]
    df = _read_rda(data, "mids", cols)[cols].copy()
    df = _numeric(df, path_of(data, "mids"), "mids", cols)
    return df.dropna().astype({"ccode1": int, "ccode2": int, "year": int})


def read_rivalries(data: Path) -> pd.DataFrame:
    """Strategic rivalries from Thompson & Dreyer (2012) and Thompson, Sakuwa & Suhas:
    ``ccode1, ccode2, start, end, censored, dataset``; ``censored`` marks rivalries still running
    when the data set's coverage ends (their end year is the last year covered)."""
    out = []
    for key, start, end in (("td", "styear", "endyear"), ("tss", "start", "end")):
        df = _read_rda(data, key, ["ccode1", "ccode2", start, end])[
            ["ccode1", "ccode2", start, end]
        ].copy()
        df.columns = ["ccode1", "ccode2", "start", "end"]
        df = _numeric(df, path_of(data, key), key, list(df.columns)).dropna()
        df["censored"] = df["end"] >= df["end"].max()
        df["dataset"] = key
        out.append(df)
    return pd.concat(out, ignore_index=True).astype(
        {"ccode1": int, "ccode2": int, "start": int, "end": int}
    )


def read_igo_state_year(data: Path, orgs: list[str]) -> pd.DataFrame:
    """COW IGO v3 state-year table restricted to ``orgs`` (lower-case COW IGO abbreviations):
    ``ccode, year`` and one column per IGO, coded 1 full, 2 associate, 3 observer (Pevehouse et al.
    2020)."""
    df = _read_rda(data, "igo", ["ccode", "year", *orgs])[["ccode", "year", *orgs]].copy()
    df = _numeric(df, path_of(data, "igo"), "igo", ["ccode", "year", *orgs])
    return df.dropna(subset=["ccode", "year"]).astype({"ccode": int, "year": int})


def read_post2014_memberships(data: Path) -> pd.DataFrame:
    """Sourced membership changes after COW IGO coverage ends (rows whose ``basis`` is not the
    COW IGO extraction): ``org, iso3c, status, year_from, year_to, basis``."""
    cols = ["org", "iso3c", "status", "year_from", "year_to", "basis"]
    df = _read_csv(data, "post2014", cols)[cols]
    df = df[~df["basis"].astype(str).str.startswith("COW IGO")].copy()
    return _numeric(df, path_of(data, "post2014"), "post2014", ["year_from"])


def read_worldbank(data: Path, key: str) -> pd.DataFrame:
    """World Bank WDI long table (``key`` 'gdp' or 'pop'): ``iso3, year, value``."""
    df = _read_csv(data, key, ["Country Code", "Year", "Value"])
    df = df.rename(columns={"Country Code": "iso3", "Year": "year", "Value": "value"})
    df = _numeric(df, path_of(data, key), key, ["year", "value"])
    return df[["iso3", "year", "value"]].dropna().astype({"year": int})
