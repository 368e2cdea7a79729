"""NoneBot permissions built on the org file's roles, for the rare plugin that needs its own
matcher (a notice or request handler). Commands use `bot.commands.command(roles=...)`."""

from __future__ import annotations

from nonebot.adapters import Event
from nonebot.permission import Permission

from bot import runtime
from bot.org import Role


def has_roles(*roles: Role) -> Permission:
    async def check(event: Event) -> bool:
        try:
            user_id = int(event.get_user_id())
        except (ValueError, TypeError):
            return False
        group_id = getattr(event, "group_id", None)
        return runtime.org().has_role(user_id, roles, int(group_id) if group_id is not None else None)

    return Permission(check)


CADRE = has_roles(Role.cadre)
LEADER = has_roles(Role.leader)
HEAD = has_roles(Role.head)
SUPERUSER = has_roles(Role.superuser)
MODERATOR = has_roles(Role.moderator)
