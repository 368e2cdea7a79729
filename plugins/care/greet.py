"""Birthday and festival greetings, decided by ticks from `clock.now()` and sent through the outbox.

A tick that runs at 08:30 or at 23:59 of the day, once or a hundred times, in one process or
three, enqueues the same ledger keys: (care-birthday, "<date>:<qq>", group) and
(care-festival, "<date>:<festival>", group). So the greeting goes out exactly once, and one
missed while the bot was down goes out when it comes back the same day.
"""

from __future__ import annotations

from datetime import date, time

from bot import clock, outbox, runtime
from bot.org import Group, Org
from bot.platform import Mention, Target, Text
from plugins.care import greetings
from plugins.care.festivals import festivals_on, zodiac
from plugins.care.lunar import birthday_falls_on

BIRTHDAY_AT = time(8, 30)
FESTIVAL_AT = time(8, 0)
BIRTHDAY, FESTIVAL = "care-birthday", "care-festival"


def groups_of(org: Org, user_id: str) -> list[Group]:
    """The person's groups: those of their department, and those that list them as moderator.

    A group says which department it belongs to; the org file does not say who is a member,
    so the department is the best knowledge of "their colleagues' group".
    """
    person = org.person(user_id)
    dept = person.department if person else None
    return [g for g in org.spec.groups if (dept is not None and g.department == dept) or user_id in g.moderators]


def birthdays_on(org: Org, day: date) -> list[str]:
    return [p.id for p in org.spec.people if p.birthday and birthday_falls_on(p.birthday, day)]


async def birthday_tick() -> int:
    """Enqueue today's birthday greetings once it is 08:30; returns how many rows are new."""
    now = clock.now()
    if now.time() < BIRTHDAY_AT:
        return 0
    org, day = runtime.org(), now.date()
    templates = greetings.configured().birthday
    new = 0
    # Per group, the k-th person greeted that day gets the k-th next template: no two alike.
    seen_in_group: dict[str, int] = {}
    for qq in sorted(birthdays_on(org, day)):
        person = org.person(qq)
        assert person is not None
        period = f"{day.isoformat()}:{qq}"
        items: list[outbox.Item] = []
        for g in groups_of(org, qq):
            k = seen_in_group.get(g.id, 0)
            seen_in_group[g.id] = k + 1
            text = greetings.choose(templates, "birthday", qq, g.id, day.year, offset=k).format(
                name=person.name, org=org.name, group=g.name
            )
            items.append(outbox.Item(Target.group(g.id), [Mention(str(qq)), Text(" " + text)]))
        if not items:  # in no listed group: a private greeting rather than none
            text = greetings.choose(templates, "birthday", qq, "private", day.year).format(
                name=person.name, org=org.name, group=""
            )
            items.append(outbox.Item(Target.private(qq), [Text(text)]))
        if await _all_recorded(BIRTHDAY, period, items):
            continue
        new += await outbox.enqueue(BIRTHDAY, period, items)
    return new


async def festival_tick() -> int:
    """Enqueue today's festival greetings to every group once it is 08:00."""
    now = clock.now()
    if now.time() < FESTIVAL_AT:
        return 0
    org, day = runtime.org(), now.date()
    configured = greetings.configured().festivals
    new = 0
    for f in festivals_on(day):
        templates = configured.get(f.name)
        if not templates or not org.spec.groups:
            continue
        period = f"{day.isoformat()}:{f.name}"
        items = [
            outbox.Item(
                Target.group(g.id),
                [Text(greetings.choose(templates, f.name, g.id, day.year).format(
                    org=org.name, group=g.name, year=day.year, zodiac=zodiac(day)
                ))],
            )
            for g in org.spec.groups
        ]
        if await _all_recorded(FESTIVAL, period, items):
            continue
        new += await outbox.enqueue(FESTIVAL, period, items)
    return new


async def _all_recorded(purpose: str, period: str, items: list[outbox.Item]) -> bool:
    """True when every target already has its ledger row: the tick then writes nothing."""
    return {it.target for it in items} <= await outbox.existing_targets(purpose, period)
