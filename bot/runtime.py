"""Process-wide state set once at start-up: the organisation and where it came from."""

from __future__ import annotations

from bot.org import Org

_org: Org | None = None


def set_org(org: Org) -> None:
    global _org
    _org = org


def org() -> Org:
    if _org is None:
        raise RuntimeError("organisation not loaded")
    return _org
