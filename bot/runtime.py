"""Process-wide state set once at start-up: the organisation and where it came from."""

from __future__ import annotations

from bot.org import Org

_org: Org | None = None


def set_org(org: Org) -> None:
    global _org
    _org = org
    from bot import platform

    def name_of(user_id: str) -> str | None:
        return org.name_of(user_id)

    def groups_of(user_id: str) -> list[str]:
        return org.groups_of(user_id)

    platform.set_directory(groups_of, name_of, org.platform_of, org.account_for)


def org() -> Org:
    if _org is None:
        raise RuntimeError("organisation not loaded")
    return _org
