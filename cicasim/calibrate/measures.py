"""The measures calibration reads from the public data sets, one function per quantity:
capability (CINC or GDP), population, alignment (UN General Assembly ideal points), bloc
memberships, and tensions (UNGA disagreement, militarised disputes and strategic rivalries);
each value carries the note that says where it came from."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cicasim.calibrate import readers
from cicasim.calibrate.calibrated import CalibratedTension, Noted
from cicasim.errors import InputError

#: COW IGO v3 abbreviations -> bloc ids used in the scenarios
IGO_BLOCS = {
    "sco": "SCO", "asean": "ASEAN", "gcc": "GCC", "saarc": "SAARC", "loas": "ArabLeague",
    "oic": "OIC", "cis": "CIS", "csto": "CSTO", "eaec": "EurAsEC", "eco": "ECO",
}


#: post-2014 table organisation names -> bloc ids (statuses counted as membership)
POST2014_BLOCS = {"SCO": "SCO", "EAEU": "EAEU", "OTS": "OTS", "RCEP": "RCEP"}


POST2014_STATUSES = {"full", "signatory"}


IGO_LAST_YEAR = 2014


#: the bloc whose members stand in for Palestine where it has no data (it votes with the Arab
#: Group and sits in the Arab League)
PALESTINE_PROXY_BLOC = "ArabLeague"


def _latest(df: pd.DataFrame, key: str, value: str, year: int) -> pd.DataFrame:
    """Per ``key``, the row of the latest year <= ``year`` with a value."""
    d = df[(df["year"] <= year) & df[value].notna()]
    d = d.sort_values([key, "year"])
    return d.groupby(key, sort=True).tail(1).set_index(key)


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _round(x: float, digits: int) -> float:
    r = round(float(x), digits)
    return 0.0 if r == 0 else r


def _capability(data: Path, year: int, people, kind: str,
                warnings: list[str] | None = None) -> dict[str, Noted]:
    """CINC (or GDP) shares in % of the scenario total; Palestine imputed from GDP.  With
    ``warnings`` (a list to append to), a state with neither gets the smallest capability of
    the scenario's other states, with a warning, instead of an error."""
    nmc = _latest(readers.read_nmc(data), "ccode", "cinc", year)
    gdp_tab = readers.read_worldbank(data, "gdp")
    gdp = _latest(gdp_tab, "iso3", "value", year)
    raw: dict[str, float] = {}
    note: dict[str, str] = {}
    missing = []
    for s, _ in people:
        if kind == "gdp":
            if s.iso3 in gdp.index:
                row = gdp.loc[s.iso3]
                raw[s.iso3] = float(row["value"])
                note[s.iso3] = f"World Bank GDP current US$ {int(row['year'])} = {row['value']:.4g}"
            else:
                missing.append(s)
        elif s.ccode is not None and s.ccode in nmc.index:
            row = nmc.loc[s.ccode]
            raw[s.iso3] = float(row["cinc"])
            note[s.iso3] = f"COW NMC v7 CINC {int(row['year'])} = {row['cinc']:.5g}"
        else:
            missing.append(s)
    if missing and kind == "cinc":
        ratios = [raw[s.iso3] / float(gdp.loc[s.iso3, "value"])
                  for s, _ in people if s.iso3 in raw and s.iso3 in gdp.index]
        if not ratios:
            raise InputError(f"{readers.path_of(data, 'gdp')}: no GDP for the year {year}; "
                             "expected World Bank GDP for the scenario's states")
        ratio = float(np.median(ratios))
        for s in missing:
            if s.iso3 not in gdp.index:
                if warnings is not None:
                    continue
                raise InputError(f"{readers.path_of(data, 'nmc')}: no CINC and no GDP for "
                                 f"{s.iso3} up to {year}; expected a value in either")
            g = gdp.loc[s.iso3]
            raw[s.iso3] = float(g["value"]) * ratio
            note[s.iso3] = (f"imputed: no COW code; World Bank GDP {int(g['year'])} x the median "
                            f"CINC/GDP ratio of the scenario's states = {raw[s.iso3]:.3g}")
    elif missing and warnings is None:
        raise InputError(f"{readers.path_of(data, 'gdp')}: no GDP for "
                         f"{', '.join(s.iso3 for s in missing)} up to {year}")
    if warnings is not None:
        _fill_smallest(raw, note, [s.iso3 for s, _ in people], year, warnings)
    total = sum(raw.values())
    label = "CINC" if kind == "cinc" else "GDP"
    return {
        i: Noted(_round(100 * v / total, 4), f"{note[i]}; {label} share of the scenario, %")
        for i, v in raw.items()
    }


def _fill_smallest(raw: dict[str, float], note: dict[str, str], ids: list[str], year: int,
                   warnings: list[str]) -> None:
    """Give every state of ``ids`` without a capability the smallest one of the others: a state
    missing from both CINC and GDP is a microstate or a non-state member (stated fallback)."""
    gaps = [i for i in ids if i not in raw]
    if not gaps:
        return
    low = min(raw.values()) if raw else 1.0
    for i in gaps:
        raw[i] = low
        note[i] = (f"fallback: no CINC and no GDP up to {year}; the smallest capability of the "
                   "scenario's other states")
        warnings.append(f"{i}: no CINC and no GDP up to {year}; capability set to the smallest "
                        "of the other states")


def _population(data: Path, year: int, people,
                warnings: list[str] | None = None) -> dict[str, Noted]:
    pop = _latest(readers.read_worldbank(data, "pop"), "iso3", "value", year)
    out = {}
    for s, _ in people:
        if s.iso3 not in pop.index and warnings is not None:
            known = [float(pop.loc[t.iso3, "value"]) for t, _ in people if t.iso3 in pop.index]
            v = float(np.median(known)) / 1e6 if known else 0.0
            out[s.iso3] = Noted(_round(v, 3), f"fallback: no World Bank population up to {year}; "
                                              "the median of the scenario's other states")
            warnings.append(f"{s.iso3}: no World Bank population up to {year}; set to the "
                            "median of the other states")
            continue
        if s.iso3 not in pop.index:
            raise InputError(f"{readers.path_of(data, 'pop')}: no population for {s.iso3} up to "
                             f"{year}; expected SP.POP.TOTL rows with Country Code {s.iso3}")
        row = pop.loc[s.iso3]
        out[s.iso3] = Noted(_round(row["value"] / 1e6, 3),
                            f"World Bank SP.POP.TOTL {int(row['year'])}, millions")
    return out


def _alignment(data: Path, year: int, people, blocs,
               warnings: list[str] | None = None) -> dict[str, Noted]:
    ip = readers.read_ideal_points(data)
    out: dict[str, Noted] = {}
    cache: dict[int, tuple[float, float]] = {}
    gaps = []
    for s, _ in people:
        rows = ip[(ip["ccode"] == s.ccode) & (ip["year"] <= year)] if s.ccode else ip.iloc[:0]
        if rows.empty:
            gaps.append(s)
            continue
        row = rows.sort_values("year").iloc[-1]
        y = int(row["year"])
        if y not in cache:
            world = ip.loc[ip["year"] == y, "idealpointfp"]
            cache[y] = (float(world.min()), float(world.max()))
        lo, hi = cache[y]
        v = 100 * (float(row["idealpointfp"]) - lo) / (hi - lo)
        out[s.iso3] = Noted(_round(v, 1), f"BSV idealpointfp {y} = {row['idealpointfp']:.3f}, "
                                          f"rescaled over [{lo:.2f}, {hi:.2f}]")
    for s in gaps:
        proxy = [out[t.iso3].value for t, _ in people
                 if t.iso3 in out and PALESTINE_PROXY_BLOC in blocs[t.iso3]]
        if not proxy and warnings is not None and out:
            v = float(np.median([n.value for n in out.values()]))
            out[s.iso3] = Noted(_round(v, 1), f"fallback: no UNGA ideal point up to {year}; the "
                                              "median alignment of the scenario's other states")
            warnings.append(f"{s.iso3}: no UNGA ideal point up to {year}; alignment set to the "
                            "median of the other states")
            continue
        if not proxy:
            raise InputError(f"{readers.path_of(data, 'ideal')}: no ideal point for {s.iso3} up to "
                             f"{year} and no {PALESTINE_PROXY_BLOC} member to impute from")
        out[s.iso3] = Noted(_round(float(np.median(proxy)), 1),
                            f"imputed: no UNGA votes; median of the {len(proxy)} "
                            f"{PALESTINE_PROXY_BLOC} members' alignment")
    return out


def _blocs(data: Path, year: int, people, ass) -> dict[str, set[str]]:
    orgs = sorted(IGO_BLOCS)
    igo = readers.read_igo_state_year(data, orgs)
    y = min(year, IGO_LAST_YEAR)
    igo_y = igo[igo["year"] == y].set_index("ccode")
    post = readers.read_post2014_memberships(data)
    out: dict[str, set[str]] = {}
    for s, _ in people:
        b: set[str] = set()
        if s.ccode is not None and s.ccode in igo_y.index:
            row = igo_y.loc[s.ccode]
            b = {IGO_BLOCS[o] for o in orgs if row[o] == 1}
            if year > IGO_LAST_YEAR:
                b.discard("EurAsEC")
        rows = post[(post["iso3c"] == s.iso3) & (post["year_from"] <= year)]
        for _, r in rows.iterrows():
            to = pd.to_numeric(r["year_to"], errors="coerce")
            if (r["org"] in POST2014_BLOCS and r["status"] in POST2014_STATUSES
                    and (pd.isna(to) or year <= to)):
                b.add(POST2014_BLOCS[r["org"]])
        for extra in ass.get("extra_blocs", []):
            if extra["actor"] == s.iso3 and int(extra.get("from", 0)) <= year:
                b.update(extra["blocs"])
        out[s.iso3] = b
    return out


def _unga_disagreement(data: Path, year: int, people, min_votes: int, years: int):
    last = min(year, 2019)
    first = last - years + 1
    votes = readers.read_unga_votes(data, first=first, last=last)
    iso2 = {s.iso2: s.iso3 for s, _ in people}
    votes = votes[votes["iso2"].isin(iso2)]
    mat = votes.pivot_table(index="rcid", columns="iso2", values="value", aggfunc="first")
    ids = [s.iso3 for s, _ in people]
    n = len(ids)
    u = np.full((n, n), np.nan)
    cnt = np.zeros((n, n), dtype=int)
    cols = {iso2[c]: mat[c].to_numpy() for c in mat.columns}
    for a in range(n):
        for b in range(a + 1, n):
            if ids[a] in cols and ids[b] in cols:
                x, y = cols[ids[a]], cols[ids[b]]
                ok = ~np.isnan(x) & ~np.isnan(y)
                k = int(ok.sum())
                cnt[a, b] = cnt[b, a] = k
                if k >= min_votes:
                    u[a, b] = u[b, a] = float(np.mean(np.abs(x[ok] - y[ok])))
    return u, cnt, (first, last)


def _mid_scores(data: Path, year: int, people, half_life: float) -> np.ndarray:
    mids = readers.read_mids(data)
    mids = mids[mids["year"] <= year]
    idx = {s.ccode: k for k, (s, _) in enumerate(people) if s.ccode is not None}
    n = len(people)
    score = np.zeros((n, n))
    sel = mids[mids["ccode1"].isin(idx) & mids["ccode2"].isin(idx)]
    for c1, c2, y, h in sel[["ccode1", "ccode2", "year", "hostlev"]].itertuples(index=False):
        a, b = idx[c1], idx[c2]
        if a == b:
            continue
        w = (float(h) / 5.0) * 0.5 ** ((year - int(y)) / half_life)
        score[a, b] += w
        score[b, a] += w
    # ddydisps lists each non-directed dyad once; the sum above is symmetric by construction
    return 1.0 - np.exp(-score)


def _rivalry_scores(data: Path, year: int, people, half_life: float) -> np.ndarray:
    riv = readers.read_rivalries(data)
    idx = {s.ccode: k for k, (s, _) in enumerate(people) if s.ccode is not None}
    n = len(people)
    r = np.zeros((n, n))
    for c1, c2, start, end, cens in riv[["ccode1", "ccode2", "start", "end", "censored"]] \
            .itertuples(index=False):
        if c1 not in idx or c2 not in idx or start > year:
            continue
        v = 1.0 if (cens or year <= end) else 0.5 ** ((year - end) / half_life)
        a, b = idx[c1], idx[c2]
        r[a, b] = r[b, a] = max(r[a, b], v)
    return r


def _tensions(
    data: Path, year: int, people, blocs, ass
) -> tuple[list[CalibratedTension], list[str]]:
    t = ass["tension"]
    hl = float(t["half_life"])
    u, cnt, (first, last) = _unga_disagreement(
        data, year, people, int(t["min_common_votes"]), int(t["unga_years"])
    )
    m = _mid_scores(data, year, people, hl)
    r = _rivalry_scores(data, year, people, hl)
    ids = [s.iso3 for s, _ in people]
    n = len(ids)
    pos = {i: k for k, i in enumerate(ids)}
    named = np.zeros((n, n))
    named_why: dict[tuple[int, int], str] = {}
    for nd in ass.get("named_disputes", []):
        if int(nd.get("from", 0)) > year:
            continue
        for a_id, b_id in nd["pairs"]:
            if a_id in pos and b_id in pos:
                a, b = pos[a_id], pos[b_id]
                named[a, b] = named[b, a] = float(nd["value"])
                named_why[(min(a, b), max(a, b))] = nd.get("why", "assumption")
    # gaps: a state without enough common votes takes the mean of the proxy bloc's values
    imputed = set()
    for a in range(n):
        for b in range(a + 1, n):
            if not np.isnan(u[a, b]):
                continue
            gap, other = (a, b) if cnt[a].max() < cnt[b].max() else (b, a)
            proxies = [k for k in range(n) if k not in (gap, other)
                       and PALESTINE_PROXY_BLOC in blocs[ids[k]] and not np.isnan(u[k, other])]
            vals = [u[k, other] for k in proxies]
            if not vals:
                vals = [float(np.nanmedian(u))]
            u[a, b] = u[b, a] = float(np.mean(vals))
            imputed.add((a, b))
    wu, wm, wr, wn = (float(t[k]) for k in ("unga_weight", "mid_weight", "rivalry_weight",
                                               "named_weight"))
    out = []
    for a in range(n):
        for b in range(a + 1, n):
            val = 1 - (1 - wu * u[a, b]) * (1 - wm * m[a, b]) * (1 - wr * r[a, b]) * (
                1 - wn * named[a, b])
            if (a, b) in imputed:
                un = f"UNGA {first}-{last} U={u[a, b]:.3f} imputed ({PALESTINE_PROXY_BLOC} mean)"
            else:
                un = f"UNGA {first}-{last} U={u[a, b]:.3f} ({cnt[a, b]} votes)"
            parts = [un, f"MID M={m[a, b]:.3f}", f"rivalry R={r[a, b]:.3f}"]
            if named[a, b]:
                parts.append(f"named N={named[a, b]:g} ({named_why[(a, b)]})")
            out.append(CalibratedTension((ids[a], ids[b]), _round(min(1.0, max(0.0, val)), 3),
                                         "; ".join(parts)))
    rule = [
        f"T = 1 - (1 - {wu:g} U)(1 - {wm:g} M)(1 - {wr:g} R)(1 - {wn:g} N)  (docs/calibration.md)",
        f"U: UNGA disagreement 1 - Lijphart agreement over roll calls {first}-{last} "
        f"(yes 1, abstain 0.5, no 0; pairs with < {int(t['min_common_votes'])} common votes "
        f"imputed as the mean of the {PALESTINE_PROXY_BLOC} members' values)",
        f"M: 1 - exp(-sum of hostlev/5 over COW MID v5 dispute-dyad-years <= {year}, half-life "
        f"{hl:g} y)",
        f"R: strategic rivalry (Thompson-Dreyer; Thompson-Sakuwa-Suhas) 1 while running, half-life "
        f"{hl:g} y after it ends",
        "N: disputes named in the assumptions file (value 0-1, assumption)",
    ]
    if not math.isfinite(sum(x.value for x in out)):
        raise InputError("tension calibration produced a non-finite value; check the data files")
    return out, rule
