"""The concerns plugin's section of the org file (`concerns:` deadlines and limits), registered
into the org model by the plugin (bot.org)."""

from __future__ import annotations

from pydantic import Field

from bot.org import Org, Section, register_section, section


class ConcernPolicy(Section):
    """Deadlines and limits for anonymous concerns (all optional)."""

    ack_days: int = Field(default=2, ge=1, le=30)  # working days to acknowledge
    reply_days: int = Field(default=7, ge=1, le=60)  # working days from acknowledgement to a reply
    ack_ceiling_days: int = Field(default=7, ge=1, le=60)  # calendar days: acknowledged by then, whatever
    feedback_ceiling_days: int = Field(default=90, ge=7, le=365)  # calendar days: closed by then
    escalation_step_days: int = Field(default=1, ge=1, le=10)  # working days between escalation steps
    retention_days: int = Field(default=90, ge=1, le=3650)  # after closing: reply route destroyed, text purged
    digest_minutes: int = Field(default=30, ge=1, le=1440)  # leaders are told in batches on this tick
    daily_limit: int = Field(default=3, ge=1, le=100)  # concerns per person per day
    max_chars: int = Field(default=2000, ge=50, le=10000)


def register() -> None:
    register_section("concerns", ConcernPolicy)


def policy_of(org: Org) -> ConcernPolicy:
    found: ConcernPolicy | None = section(org.spec, "concerns")
    return found or ConcernPolicy()
