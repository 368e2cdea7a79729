"""What the study tick owes, decided from `clock.now()`, sent only through the outbox.

Outbox keys (purpose, period, target) — the unique key is what makes each send happen once,
whatever the number of restarts, ticks or processes:

| purpose              | period                         | target  | what                          |
|----------------------|--------------------------------|---------|-------------------------------|
| study                | 2026-12/<material id>          | group   | study-day post: summary       |
| study-text           | 2026-12/<material id>          | group   | study-day post: full text (merged message) |
| study-publish        | 20261203/2026-12/<material id> | group   | /发布学习 on that day: summary |
| study-publish-text   | 20261203/2026-12/<material id> | group   | /发布学习: full text           |
| study-catchup        | 2026-12/<material id>          | private | catch-up copy: summary        |
| study-catchup-text   | 2026-12/<material id>          | private | catch-up copy: full text      |
| study-star           | 2026-11                        | group   | monthly ranking (学习之星)    |
| <any>-text-page      | <its period>#<n>               | same    | page n of a full text whose merged message the platform refused |

A scheduled post is keyed by material, not by date: a group never gets the same material twice
from the schedule (a biweekly group whose second session has no material of its own gets
nothing new that day).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from nonebot import logger
from sqlalchemy import select

from bot import clock, outbox, runtime
from bot.db import session
from bot.models import Outbox
from bot.org import Group, Org
from bot.platform import Forward, NotConnected, Part, SendFailed, SendUnknown, Target, Text, port_by_id
from plugins.study import points
from bot.materials import NODE_CHARS, Library, Material, Period, chunks, library
from plugins.study.models import StudyCheckin
from plugins.study.timing import catch_up_today, held_today

RANKING_DAY = 1
RANKING_AT = time(10, 0)
TEXT_PURPOSES = ("study-text", "study-publish-text", "study-catchup-text")

# Keys this process has already handed to the outbox today. Only saves repeated inserts and
# member-list calls; the ledger's unique key is what guarantees once.
_done: set[str] = set()


def forget() -> None:
    """Clear the in-process memo (tests)."""
    _done.clear()


# --- message bodies ------------------------------------------------------------------------


def how_to_take_part(m: Material, where: str = "group") -> str:
    check_in = "学完请在群里发送 /已学 打卡" if where == "group" else "学完后发送 /已学 打卡"
    if m.quiz:
        quiz = "私聊我发送 /答题 参加测验" if where == "group" else "发送 /答题 参加测验"
        return f"{check_in}；{quiz}（共 {len(m.quiz)} 题），答对有积分。"
    return f"{check_in}，打卡有积分。"


def group_post(m: Material, heading: str = "学习日") -> str:
    audience = f"（面向{m.audience_label}）" if m.audience else ""
    return "\n".join(
        [
            f"【{heading}】{m.period.label}学习材料{audience}",
            f"《{m.title}》",
            m.summary,
            "",
            "全文见下一条消息（聊天记录，点开即可阅读）。" + how_to_take_part(m, "group"),
        ]
    )


def private_copy(m: Material, name: str | None, study_day: datetime | None) -> str:
    when = f"{study_day.month}月{study_day.day}日学习日的" if study_day else "本期"
    hello = f"{name}，你好！" if name else "你好！"
    return "\n".join(
        [
            f"{hello}{when}学习材料还没看到你打卡，特地发给你一份：",
            f"《{m.title}》",
            m.summary,
            "",
            "全文见下一条消息。" + how_to_take_part(m, "private"),
        ]
    )


def full_text(m: Material) -> list[Part]:
    return [Forward(tuple(m.nodes()))]


def star_post(month: Period, ranks: list[points.Rank]) -> str:
    lines = [f"【学习之星】{month.label}学习积分排行（只列愿意公开的同事）", *points.ranking_lines(ranks)]
    lines += ["", "感谢大家认真学习！新的一月，学习日见。发送 /积分 可以查看自己的积分。"]
    return "\n".join(lines)


# --- the tick ------------------------------------------------------------------------------


async def tick(now: datetime | None = None) -> None:
    """Everything the study feature owes at `now`; each part fails on its own."""
    now = now or clock.now()
    org, lib = runtime.org(), library()
    for name, step in (
        ("posts", study_day_posts(now, org, lib)),
        ("catch-up", catch_up(now, org, lib)),
        ("ranking", monthly_ranking(now, org)),
        ("paging", page_refused_forwards(now)),
    ):
        try:
            await step
        except Exception as e:  # noqa: BLE001 - the next tick tries again
            logger.error(f"study {name} failed: {type(e).__name__}")


async def study_day_posts(now: datetime, org: Org, lib: Library) -> int:
    """Each study group's material(s) on its study day, from its time until the end of the day."""
    created = 0
    for g in org.study_groups():
        assert g.study is not None
        for occ in held_today(g.study, now.date()):
            if not occ.due(now):
                continue
            for m in occ.materials(lib, g.tags):
                created += await post_to_group(g, m, "study", m.key)
    return created


async def post_to_group(g: Group, m: Material, purpose: str, period: str, heading: str = "学习日") -> int:
    """Summary then full text to one group; returns 1 when the summary was newly queued."""
    memo = f"{purpose}|{period}|{g.id}"
    if memo in _done:
        return 0
    target = Target.group(g.id)
    new = await outbox.enqueue(purpose, period, [outbox.Item(target, [Text(group_post(m, heading))])])
    # Enqueued after the summary so the worker (which sends in insertion order) keeps them in order.
    await outbox.enqueue(f"{purpose}-text", period, [outbox.Item(target, full_text(m))])
    _done.add(memo)
    if new:
        logger.info(f"study: {m.key} queued for group {g.id} ({purpose})")
    return new


async def catch_up(now: datetime, org: Org, lib: Library) -> int:
    """Three days after a study day, members without a check-in get the material privately."""
    queued = 0
    for g in org.study_groups():
        assert g.study is not None
        for occ in catch_up_today(g.study, now.date()):
            if now.time().replace(tzinfo=None) < occ.at:
                continue
            todo = [m for m in occ.materials(lib, g.tags) if f"catchup|{m.key}|{g.id}" not in _done]
            if not todo:
                continue
            members = await group_members(g.id)
            if members is None:
                continue  # logged; the next tick asks again
            study_day = datetime.combine(occ.day, occ.at, clock.zone())
            for m in todo:
                queued += await send_catch_up(m, members, study_day, org)
                _done.add(f"catchup|{m.key}|{g.id}")
    return queued


async def send_catch_up(m: Material, members: list[int], study_day: datetime | None, org: Org) -> int:
    if not members:
        return 0
    async with session() as s:
        done = set(
            (await s.scalars(select(StudyCheckin.user_id).where(StudyCheckin.material_id == m.id))).all()
        )
    absent = [u for u in members if u not in done]
    if not absent:
        return 0
    summaries = [
        outbox.Item(Target.private(u), [Text(private_copy(m, p.name if (p := org.person(u)) else None, study_day))])
        for u in absent
    ]
    new = await outbox.enqueue("study-catchup", m.key, summaries)
    await outbox.enqueue("study-catchup-text", m.key, [outbox.Item(Target.private(u), full_text(m)) for u in absent])
    if new:
        logger.info(f"study: catch-up copies of {m.key} queued for {new} members")
    return new


async def group_members(group_id: int) -> list[int] | None:
    """Members of a group as the platform lists them, without our own accounts; None when no
    connected account could list them (the caller retries at the next tick)."""
    import nonebot

    bots = list(nonebot.get_bots())
    for bot_id in bots:
        try:
            ids = await port_by_id(bot_id).members(str(group_id))
        except (SendFailed, SendUnknown, NotConnected) as e:
            logger.warning(f"study: member list of group {group_id} via {bot_id} failed ({type(e).__name__}); retrying later")
            continue
        if not ids:
            # A group always lists at least the bot itself: an empty answer is a platform hiccup.
            logger.warning(f"study: empty member list for group {group_id} via {bot_id}; retrying later")
            continue
        return [int(u) for u in ids if u not in bots and u.isascii() and u.isdigit()]
    if not bots:
        logger.info(f"study: no connected account to list group {group_id}; retrying at the next tick")
    return None


async def monthly_ranking(now: datetime, org: Org) -> int:
    """学习之星: on the 1st from 10:00 (until the end of that day), last month's ranking to
    every study group. Nothing is posted for a month in which nobody earned points."""
    if now.day != RANKING_DAY or now.time().replace(tzinfo=None) < RANKING_AT:
        return 0
    last = (now.date().replace(day=1) - timedelta(days=1))
    month = Period.month(last.year, last.month)
    memo = f"star|{month.text}"
    if memo in _done:
        return 0
    async with session() as s:
        ranks = await points.ranking(s, month.text)
    groups = org.study_groups()
    new = 0
    if ranks and groups:
        text = star_post(month, ranks)
        new = await outbox.enqueue("study-star", month.text, [outbox.Item(Target.group(g.id), [Text(text)]) for g in groups])
        if new:
            logger.info(f"study: ranking of {month.text} queued for {new} groups")
    _done.add(memo)
    return new


async def page_refused_forwards(now: datetime) -> int:
    """A platform that refuses merged messages: the full text goes out again as pages.

    The outbox marks a send "failed" only after repeated refusals (never after a timeout, which
    may have been delivered), so paging never duplicates a text that arrived.
    """
    since = now - timedelta(days=2)
    async with session() as s:
        rows = (
            await s.scalars(
                select(Outbox).where(
                    Outbox.purpose.in_(TEXT_PURPOSES), Outbox.status == outbox.FAILED, Outbox.created_at >= since
                )
            )
        ).all()
    new = 0
    for row in rows:
        memo = f"page|{row.id}"
        if memo in _done:
            continue
        nodes = [n for part in row.payload if part.get("type") == "forward" for n in part.get("nodes", [])]
        pages = chunks("\n\n".join(nodes), NODE_CHARS)
        target = Target(row.target_kind, row.target_id)  # type: ignore[arg-type]
        for i, page in enumerate(pages, 1):
            head = f"（全文 {i}/{len(pages)}）\n" if len(pages) > 1 else ""
            new += await outbox.enqueue(f"{row.purpose}-page", f"{row.period}#{i}", [outbox.Item(target, [Text(head + page)])])
        _done.add(memo)
    if new:
        logger.info(f"study: {new} pages queued for full texts the platform refused as merged messages")
    return new


async def upcoming(now: datetime | None = None) -> list[tuple[datetime, str]]:
    """The next study-day post of each study group, and the next 学习之星 (for /状态)."""
    from datetime import date as _date

    from plugins.study.timing import next_occurrence

    now = now or clock.now()
    org, lib = runtime.org(), library()
    out: list[tuple[datetime, str]] = []
    for g in org.study_groups():
        assert g.study is not None
        day: _date = now.date()
        occ = next_occurrence(g.study, day)
        if occ is not None and occ.day == day and now.time().replace(tzinfo=None) >= occ.at:
            occ = next_occurrence(g.study, day + timedelta(days=1))
        if occ is None:
            continue
        ms = occ.materials(lib, g.tags)
        what = f"学习日 {g.name}" + ("".join(f"《{m.title}》" for m in ms) if ms else "（该期尚无材料）")
        out.append((datetime.combine(occ.day, occ.at, clock.zone()), what))
    if org.study_groups():
        first = now.date().replace(day=1)
        if now.day > RANKING_DAY or now.time().replace(tzinfo=None) >= RANKING_AT:
            first = (first + timedelta(days=32)).replace(day=1)
        out.append((datetime.combine(first, RANKING_AT, clock.zone()), "学习之星排行"))
    return out
