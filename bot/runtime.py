"""Process-wide state set once at start-up: the organisation and where it came from."""

from __future__ import annotations

from bot.org import Org

_org: Org | None = None


def set_org(org: Org) -> None:
    global _org
    _org = org
    from bot import platform

    def name_of(user_id: str) -> str | None:
        return org.name_of(int(user_id)) if user_id.isascii() and user_id.isdigit() else None

    def groups_of(user_id: str) -> list[str]:
        ok = user_id.isascii() and user_id.isdigit()
        return [str(g) for g in org.groups_of(int(user_id))] if ok else []

    platform.set_directory(groups_of, name_of)


def org() -> Org:
    if _org is None:
        raise RuntimeError("organisation not loaded")
    return _org
