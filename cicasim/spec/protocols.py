"""How the chair amends a text that failed: the amendment protocols, a registry.

Each protocol is one rule of step 6 of the model (``docs/model.md``); the compiled kernel knows
each by its index (:attr:`Protocol.code`).  A scenario chooses one with ``behaviour.amendment``
(the sponsor's value counts, as for the amendment step).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROTOCOLS", "Protocol", "protocol_code"]


@dataclass(frozen=True)
class Protocol:
    """An amendment protocol: its name, the kernel's code for it, and its rule with sources."""

    name: str
    code: int
    rule: str
    reference: str


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="compromise",
            code=0,
            rule=(
                "the text moves a share α of the way to the compromise: the capability × "
                "salience weighted mean of the members' positions, objectors weighted 1 + γ"
            ),
            reference=(
                "Achen 2006, in Thomson et al., The European Union Decides; Thomson, Stokman, "
                "Achen & König 2006"
            ),
        ),
        Protocol(
            name="accommodate",
            code=1,
            rule=(
                "the text moves toward the status quo just far enough for the most reluctant "
                "objector who can be satisfied to accept it (lowest common denominator); "
                "objectors whom no such text satisfies are not accommodated"
            ),
            reference=(
                "Moravcsik 1993, JCMS 31(4) and 1998, The Choice for Europe (lowest common "
                "denominator bargaining); Scharpf 1988, Public Administration 66(3) (joint-"
                "decision trap); Tsebelis 2002, Veto Players"
            ),
        ),
    )
}


def protocol_code(name: str) -> int:
    """The kernel's code of the protocol ``name`` (a :class:`KeyError` names the allowed)."""
    try:
        return PROTOCOLS[name].code
    except KeyError:
        allowed = ", ".join(PROTOCOLS)
        raise KeyError(f"unknown amendment protocol {name!r}; allowed: {allowed}") from None
