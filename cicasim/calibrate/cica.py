"""CICA's membership and observers by year, with the codes that join the public data sets.

This is a fact table, not data: who sat in CICA in a given year, hand-compiled from the public
pages cited beside each entry (the same pages as the data folder's ``cica_facts/CICA_FACTS.md``).
The codes (ISO 3166 alpha-3 as the scenario id, alpha-2 for the UNGA roll calls, Correlates of
War ``ccode``) join the readers of :mod:`cicasim.calibrate.readers`.

A scenario for year Y shows the state at the end of Y: members are the states that joined in or
before Y; observers are the states whose observer status covers Y (``observer_from`` <= Y <
``observer_until``) and that are not members by then.  Observer start dates are the earliest dated
page naming the state an observer: they are lower bounds of knowledge, not treaty dates.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CicaState", "STATES", "SNAPSHOT_YEARS", "accession_order", "chair", "roster"]

#: the years of the bundled historical scenarios (summits 2002-2022 and the latest data year)
SNAPSHOT_YEARS = (2002, 2006, 2010, 2014, 2018, 2022, 2024)

_PRAVDA = "english.pravda.ru/news/world/30145-n/"
_CHINADAILY = "covid-19.chinadaily.com.cn/world/2014cica/2014-05/20/content_17525444.htm"
_THEICAF = "theicaf.org/icaf/2022/02/09/kazakhstans-chairmanship-in-the-cica"
_MFAKZ = "mfa.kz/en/content-view/svmda (list of the 2014-2018 chairmanship)"
_ALLMEDIA = "allmedialink.com/cica/ (list of early 2014)"
_KREMLIN = "en.kremlin.ru/supplement/3712/print (observers at the 1999 ministerial)"
_WIKI2006 = (
    "the-uncensored-wiki.com Conference_on_Interaction_and_Confidence-Building_Measures_in_Asia "
    "(c. 2006 list)"
)
_ASTANATIMES = "astanatimes.com/2023/12/saudi-arabia-becomes-observer-state-in-cica/"
_KUWAIT = "inform.kz/en/kuwait-joins-cica-as-28th-member-state_a3990035"
_ADADERANA = "adaderana.lk/news.php?nid=55722"
_FOUNDING = f"founding member 1999, {_PRAVDA}"


@dataclass(frozen=True)
class CicaState:
    """One state that was a CICA member or observer at some snapshot year."""

    iso3: str
    iso2: str
    ccode: int | None  # Correlates of War state code; None for Palestine (not a COW state)
    name: str
    member_from: int | None = None
    member_source: str = ""
    observer_from: int | None = None
    observer_until: int | None = None  # first year no longer an observer (member or left)
    observer_source: str = ""


def _m(iso3: str, iso2: str, ccode: int | None, name: str, year: int, src: str,
       obs: tuple[int, int, str] | None = None) -> CicaState:
    """A member from ``year``; ``obs`` = (from, until, source) of an earlier observer status."""
    o_from, o_until, o_src = obs if obs else (None, None, "")
    return CicaState(iso3, iso2, ccode, name, year, src, o_from, o_until, o_src)


def _o(iso3: str, iso2: str, ccode: int, name: str, start: int, src: str,
       until: int | None = None) -> CicaState:
    """An observer from ``start`` (until ``until``, exclusive, when it ended)."""
    return CicaState(iso3, iso2, ccode, name, None, "", start, until, src)


STATES: tuple[CicaState, ...] = (
    _m("AFG", "AF", 700, "Afghanistan", 2002,
       f"among the 16 members of the 2002 summit, {_PRAVDA}"),
    _m("AZE", "AZ", 373, "Azerbaijan", 2002,
       "among the 16 members of the 2002 summit, menafn.com/1107220507"),
    _m("BHR", "BH", 692, "Bahrain", 2011, f"joined 2011, {_CHINADAILY}"),
    _m("BGD", "BD", 771, "Bangladesh", 2014, "member 20 May 2014, allmedialink.com/cica/",
       (2010, 2014, "observer since 2010, allmedialink.com/cica/")),
    _m("KHM", "KH", 811, "Cambodia", 2011, f"joined 2011, {_CHINADAILY}"),
    _m("CHN", "CN", 710, "China", 1999, f"founding member 1999, {_CHINADAILY}"),
    _m("EGY", "EG", 651, "Egypt", 1999, _FOUNDING),
    _m("IND", "IN", 750, "India", 1999, _FOUNDING),
    _m("IRN", "IR", 630, "Iran", 1999, _FOUNDING),
    _m("IRQ", "IQ", 645, "Iraq", 2010, f"admitted at the 3rd summit 2010, {_CHINADAILY}"),
    _m("ISR", "IL", 666, "Israel", 1999, _FOUNDING),
    _m("JOR", "JO", 663, "Jordan", 2008, f"admitted at the 3rd ministerial 2008, {_CHINADAILY}"),
    _m("KAZ", "KZ", 705, "Kazakhstan", 1999,
       f"founding member and initiator (1992 UNGA), {_CHINADAILY}"),
    _m("KWT", "KW", 690, "Kuwait", 2022, f"28th member at the 6th summit, 13 Oct 2022, {_KUWAIT}"),
    _m("KGZ", "KG", 703, "Kyrgyzstan", 1999, _FOUNDING),
    _m("MNG", "MN", 712, "Mongolia", 1999, _FOUNDING),
    _m("PAK", "PK", 770, "Pakistan", 1999, _FOUNDING),
    _m("PSE", "PS", None, "Palestine", 1999, _FOUNDING),
    _m("QAT", "QA", 694, "Qatar", 2014,
       "member by the 2014 Shanghai summit, cicabc.cccme.org.cn; COW IGO v3 CICA 2014"),
    _m("KOR", "KR", 732, "Republic of Korea", 2006,
       f"admitted at the 2nd summit 2006, {_CHINADAILY}",
       (1999, 2006, f"{_KREMLIN}; {_PRAVDA}")),
    _m("RUS", "RU", 365, "Russia", 1999, _FOUNDING),
    _m("LKA", "LK", 780, "Sri Lanka", 2018, f"accepted 15 Aug 2018, {_ADADERANA}",
       (2012, 2018, f"observer since 2012, {_ADADERANA}")),
    _m("TJK", "TJ", 702, "Tajikistan", 1999, _FOUNDING),
    _m("THA", "TH", 800, "Thailand", 2004,
       "17th member at the 2nd ministerial, 22 Oct 2004, s-cica.org second-ministerial",
       (2001, 2004, _PRAVDA)),
    _m("TUR", "TR", 640, "Türkiye", 1999, _FOUNDING),
    _m("ARE", "AE", 696, "United Arab Emirates", 2008,
       f"admitted at the 3rd ministerial 2008, {_CHINADAILY}"),
    _m("UZB", "UZ", 704, "Uzbekistan", 1999, _FOUNDING),
    _m("VNM", "VN", 816, "Vietnam", 2010, f"admitted at the 3rd summit 2010, {_CHINADAILY}",
       (2001, 2006, f"observer in 2001 ({_PRAVDA}); absent from the c. 2006 list")),
    _o("BLR", "BY", 370, "Belarus", 2014, f"{_MFAKZ}; {_THEICAF}"),
    _o("IDN", "ID", 850, "Indonesia", 1999, f"{_KREMLIN}; {_THEICAF}"),
    _o("JPN", "JP", 740, "Japan", 1999, f"{_KREMLIN}; {_THEICAF}"),
    _o("LAO", "LA", 812, "Laos", 2022, f"first dated list naming it: {_THEICAF}"),
    _o("MYS", "MY", 820, "Malaysia", 2014, f"first dated list naming it: {_ALLMEDIA}; {_THEICAF}"),
    _o("PHL", "PH", 840, "Philippines", 2014,
       f"first dated list naming it: {_ALLMEDIA}; {_THEICAF}"),
    _o("TKM", "TM", 701, "Turkmenistan", 2021,
       f"observer 2021 (announced at the Oct 2022 summit), {_ASTANATIMES}"),
    _o("UKR", "UA", 369, "Ukraine", 2006, f"{_WIKI2006}; {_THEICAF}"),
    _o("USA", "US", 2, "United States", 1999, f"{_KREMLIN}; {_THEICAF}"),
    _o("SAU", "SA", 670, "Saudi Arabia", 2023, f"10th observer from 26 Dec 2023, {_ASTANATIMES}"),
    _o("AUS", "AU", 900, "Australia", 1999, f"{_KREMLIN}; {_PRAVDA}; absent from the c. 2006 list",
       until=2006),
    _o("LBN", "LB", 660, "Lebanon", 2001, f"{_PRAVDA}; absent from the c. 2006 list", until=2006),
)

_CHAIRS = ((2002, "KAZ"), (2010, "TUR"), (2014, "CHN"), (2018, "TJK"), (2020, "KAZ"), (2024, "AZE"))


def chair(year: int) -> str:
    """The chairing state in ``year`` (CICA_FACTS.md, Chairmanship; Kazakhstan before 2002)."""
    current = "KAZ"
    for start, iso3 in _CHAIRS:
        if year >= start:
            current = iso3
    return current


def roster(year: int, *, members_as_of: int | None = None) -> list[tuple[CicaState, str]]:
    """The (state, role) pairs at the end of ``year``, members first, each group by ISO3 id.

    With ``members_as_of`` (an earlier year), only the states that were members by then vote; the
    later joiners of ``year``'s membership sit as observers, ready to join in their real order
    (:func:`accession_order`): CICA's actual enlargement path on one year's data.
    """
    as_of = year if members_as_of is None else members_as_of
    members, observers = [], []
    for s in STATES:
        if s.member_from is not None and s.member_from <= as_of:
            members.append((s, "member"))
        elif s.member_from is not None and s.member_from <= year:
            observers.append((s, "observer"))
        elif s.observer_from is not None and s.observer_from <= year and (
            s.observer_until is None or year < s.observer_until
        ):
            observers.append((s, "observer"))
    return sorted(members, key=lambda x: x[0].iso3) + sorted(observers, key=lambda x: x[0].iso3)


def accession_order(year: int, members_as_of: int) -> list[CicaState]:
    """The states that joined after ``members_as_of`` and by ``year``, in their order of
    accession (year, then ISO3 id within a year)."""
    late = [
        s for s in STATES
        if s.member_from is not None and members_as_of < s.member_from <= year
    ]
    return sorted(late, key=lambda s: (s.member_from, s.iso3))
