"""What every part of the concerns plugin shares: the refusal, the policy, times as stored and
shown, who may act on a concern, how a leader sees it, and each phase's deadline.

Functions that answer a person return the Chinese text to send, or raise `ConcernError` (a
`bot.errors.Refusal`, answered by the dispatcher or shown by the console).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot import clock, runtime, workdays
from bot import text as textutil
from bot.errors import Refusal
from bot.org import ROLE_NAMES, Role
from plugins.concerns.models import Concern
from plugins.concerns.texts import PHASES, PURGED, STATUS_NAMES
from plugins.concerns.orgsection import ConcernPolicy, policy_of

WEEKDAYS = "一二三四五六日"
# Who may hold a concern: those who answer concerns. A worker or moderator never receives one.
HOLDERS = (Role.leader, Role.cadre, Role.head)


class ConcernError(Refusal):
    """The concerns plugin's refusals."""


def policy() -> ConcernPolicy:
    return policy_of(runtime.org())


def hour(t: datetime) -> datetime:
    """Every time stored about a concern: rounded down to the hour, to weaken any correlation
    with the platform's own message log."""
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day(t: datetime | None) -> str:
    return t.astimezone(clock.zone()).strftime("%m-%d") if t else "—"


def when(t: datetime) -> str:
    """A deadline as a person reads it on a phone: 11月18日（周三）10:00."""
    t = t.astimezone(clock.zone())
    return f"{t.month}月{t.day}日（周{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


def check_text(text: str) -> str:
    text = textutil.clean(text)
    if not text:
        raise ConcernError("内容是空的。请在 /诉求 后面写下你想反映的事，例如：/诉求 食堂饭菜价格上涨太快")
    limit = policy().max_chars
    if len(text) > limit:
        raise ConcernError(
            f"内容共 {len(text)} 字，超过了 {limit} 字的上限，这次没有提交，一个字也没有删。"
            f"请先提交前 {limit} 字以内的主要部分，拿到回执码后用 /补充 分次补充其余内容。"
        )
    return text


def category_name(c: Concern) -> str:
    cats = runtime.org().categories
    return cats[c.category].name if c.category in cats else c.category


# --- who ----------------------------------------------------------------------------------


def dept_head_of(leader: str) -> str | None:
    org = runtime.org()
    person = org.person(leader)
    dept = org.departments.get(person.department) if person and person.department else None
    return dept.head if dept and dept.head != leader else None


def can_act(actor: str, c: Concern) -> bool:
    org = runtime.org()
    roles = org.roles_of(actor)
    if Role.superuser in roles or c.leader == actor:
        return True
    return (
        (c.level >= 2 and dept_head_of(c.leader) == actor)
        or (c.level >= 3 and Role.cadre in roles)
        or (c.level >= 4 and actor == org.head)
    )


def holder_title(q: str) -> str:
    """How a concern's holder is named to a leader: 李四（工资福利分管领导）."""
    org = runtime.org()
    led = [c.name for c in org.spec.categories if c.leader == q]
    roles = org.roles_of(q)
    if led:
        title = "、".join(led) + ROLE_NAMES[Role.leader]
    else:
        title = next((ROLE_NAMES[r] for r in (Role.head, Role.cadre, Role.leader) if r in roles), "")
    return f"{org.display_name(q)}（{title}）" if title else org.display_name(q)


def leader_view(c: Concern, limit: int = 300, viewer: str | None = None) -> str:
    """What a leader sees of a concern. The deadline is the phase's, as first set: the same
    for everyone and at every escalation step. A viewer other than its owner sees who owns it."""
    body = c.text or PURGED
    if len(body) > limit:
        body = body[:limit] + "……"
    lines = [f"#{c.id} {category_name(c)}｜{STATUS_NAMES[c.status]}｜{day(c.created_at)} 提交"]
    due = due_of(c)
    if due is not None and c.status != "closed":
        late = "，已超期" if clock.utcnow() >= due else ""
        lines.append(f"{PHASES[c.status]}期限：{when(due)}{late}")
    if viewer is not None and viewer != c.leader:
        lines.append(f"负责：{holder_title(c.leader)}")
    if c.disclosed:
        lines.append(f"（提交人自愿留下：{c.disclosed}）")
    lines.append(body)
    return "\n".join(lines)


# --- deadlines ----------------------------------------------------------------------------
#
# Each phase (to acknowledge, to reply, to close) has one deadline, set when the phase starts
# and stored (due_at): what the leader and the submitter are shown never moves. The reminder
# comes the working day before it; what follows is the escalation ladder (plugins.concerns.ticks).

REMIND_AT = time(9, 0)


def _deadline_after_ack(acknowledged_at: datetime) -> datetime:
    return workdays.add_workdays(acknowledged_at.astimezone(clock.zone()), policy().reply_days)


def _deadline(c: Concern) -> datetime | None:
    p = policy()
    created = c.created_at.astimezone(clock.zone())
    if c.status == "new":
        return min(workdays.add_workdays(created, p.ack_days), created + timedelta(days=p.ack_ceiling_days))
    if c.status == "acknowledged" and c.acknowledged_at:
        return min(_deadline_after_ack(c.acknowledged_at), created + timedelta(days=p.feedback_ceiling_days))
    if c.status == "replied":
        return created + timedelta(days=p.feedback_ceiling_days)
    return None


def due_of(c: Concern) -> datetime | None:
    """The phase's deadline as stored; computed for rows from before it was stored."""
    if c.status == "closed":
        return None
    return c.due_at or _deadline(c)


def remind_at(start: datetime, due: datetime) -> datetime:
    """09:00 of the last working day before the deadline's day; else of the day before; else
    halfway (a deadline less than a day away)."""
    local = due.astimezone(clock.zone())
    d = local.date() - timedelta(days=1)
    for _ in range(15):
        if workdays.is_workday(d):
            break
        d -= timedelta(days=1)
    for candidate in (d, local.date() - timedelta(days=1)):
        at = datetime.combine(candidate, REMIND_AT, clock.zone())
        if start < at < due:
            return hour(at)
    return hour(start + (due - start) / 2)


def start_phase(c: Concern, now: datetime) -> datetime:
    """A new phase: its deadline is set (once), the ladder starts again from the reminder."""
    due = _deadline(c)
    assert due is not None
    c.due_at, c.level = hour(due), 0
    c.next_step_at = remind_at(now, c.due_at)
    return c.due_at
