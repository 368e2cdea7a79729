"""The moderation plugin's section of a group in the org file (`moderation:`), registered into
the org model by the plugin (bot.org)."""

from __future__ import annotations

from pydantic import field_validator

from bot.org import Group, Section, register_section, section


class Moderation(Section):
    """Optional `moderation:` of a group (plugins/moderation); absent means the defaults."""

    # notify: tell the moderators; recall: recall the message as well, then tell them.
    policy: str = "notify"
    # Banned phrases for this group only, on top of the shipped lists in data/lexicons/.
    banned: list[str] = []
    # Warn ladder in minutes for the 1st, 2nd, 3rd… confirmed violation (0 = a warning
    # only); past the end the last step repeats. None = the plugin's default.
    ladder: list[int] | None = None

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in ("notify", "recall"):
            raise ValueError('policy 应为 "notify"（只通知管理员）或 "recall"（撤回并通知）')
        return value

    @field_validator("banned")
    @classmethod
    def _banned(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("banned 中有空词")
        return value

    @field_validator("ladder")
    @classmethod
    def _ladder(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or any(m < 0 or m > 43200 for m in value)):
            raise ValueError("ladder 应为分钟数的列表，每项 0 到 43200（30 天），0 表示只警告")
        return value

moderation: Moderation | None = None


def register() -> None:
    register_section("moderation", Moderation, per_group=True)


def moderation_of(group: Group) -> Moderation | None:
    found: Moderation | None = section(group, "moderation")
    return found
