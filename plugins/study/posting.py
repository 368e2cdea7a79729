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
| study-publish-report | <offer id>                     | private | /发布学习: per-group outcome to the cadre |
| study-missing        | 2026-12-05                     | private | to cadres: that study day has no material yet |
| study-star           | 2026-11                        | group   | monthly ranking (学习之星)    |
| <any>-text-page      | <its period>#<n>               | same    | page n of a full text whose merged message the platform refused |

A scheduled post is keyed by material, not by date: a group never gets the same material twice
from the schedule (a biweekly group whose second session has no material of its own gets
nothing new that day).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from nonebot import logger
from sqlalchemy import delete, select, update

from bot import clock, outbox, runtime
from bot.db import session
from bot.models import Outbox
from bot.org import Group, Org, Role
from bot.platform import Forward, NotConnected, Part, SendFailed, SendUnknown, Target, Text, bots_on, port_by_id
from plugins.study import points
from plugins.study.materials import NODE_CHARS, Library, Material, Period, chunks, library
from plugins.study.models import StudyCheckin
from plugins.study.timing import catch_up_today, held_soon, held_today
from plugins.study.orgsection import study_groups, study_of

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
        ("publish reports", publish_reports(now)),
        ("missing material", missing_material(now, org, lib)),
    ):
        try:
            await step
        except Exception as e:  # noqa: BLE001 - the next tick tries again
            logger.error(f"study {name} failed: {type(e).__name__}")


WARN_DAYS = 3  # cadres hear of a study day without material this many days before it
WARN_AT = time(9, 0)
WEEKDAYS = "一二三四五六日"


def missing_text(day: date, groups: list[Group], periods: list[str]) -> str:
    when = f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"
    labels = "、".join(dict.fromkeys(Period.parse(p).label for p in periods))
    return "\n".join(
        [
            f"【学习材料提醒】{when}是学习日，{'、'.join(g.name for g in groups)}要推送{labels}的学习材料，但材料目录里还没有。",
            "请在那之前把材料文件交给系统管理员，放进材料目录后重启连心；没有材料，那天就不会推送。",
        ]
    )


async def missing_material(now: datetime, org: Org, lib: Library) -> int:
    """A few days before a study day that has no material for some of its groups, every cadre
    is told in private, once per study day (the ledger's key: the day)."""
    if now.time().replace(tzinfo=None) < WARN_AT:
        return 0
    by_day: dict[date, tuple[list[Group], list[str]]] = {}
    for g in study_groups(org):
        study = study_of(g)
        assert study is not None
        for occ in held_soon(study, now.date(), WARN_DAYS):
            if f"missing|{occ.day}" in _done or occ.materials(lib, g.tags):
                continue
            groups, periods = by_day.setdefault(occ.day, ([], []))
            if g not in groups:
                groups.append(g)
            periods.append(occ.wanted[0])
    cadres = org.with_role(Role.cadre)
    new = 0
    for day, (groups, periods) in sorted(by_day.items()):
        if not cadres:
            logger.warning(f"study: the study day {day} has no material and the org file names no cadre to tell")
        text = missing_text(day, groups, periods)
        new += await outbox.enqueue("study-missing", day.isoformat(), [outbox.Item(Target.private(q), [Text(text)]) for q in cadres])
        _done.add(f"missing|{day}")
    return new


async def study_day_posts(now: datetime, org: Org, lib: Library) -> int:
    """Each study group's material(s) on its study day, from its time until the end of the day."""
    created = 0
    for g in study_groups(org):
        study = study_of(g)
        assert study is not None
        for occ in held_today(study, now.date()):
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
    for g in study_groups(org):
        study = study_of(g)
        assert study is not None
        for occ in catch_up_today(study, now.date()):
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


async def send_catch_up(m: Material, members: list[str], study_day: datetime | None, org: Org) -> int:
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


async def group_members(group_id: str) -> list[str] | None:
    """Members of a group as the platform lists them (as person ids), without our own accounts;
    None when no connected account of the group's platform could list them (the caller retries
    at the next tick)."""
    org = runtime.org()
    bots = bots_on(org.platform_of(group_id))
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
        return [org.person_of(u) for u in ids if u not in bots]
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
    groups = study_groups(org)
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
    for g in study_groups(org):
        study = study_of(g)
        assert study is not None
        day: _date = now.date()
        occ = next_occurrence(study, day)
        if occ is not None and occ.day == day and now.time().replace(tzinfo=None) >= occ.at:
            occ = next_occurrence(study, day + timedelta(days=1))
        if occ is None:
            continue
        ms = occ.materials(lib, g.tags)
        what = f"学习日 {g.name}" + ("".join(f"《{m.title}》" for m in ms) if ms else "（还没有材料，到时不会推送）")
        out.append((datetime.combine(occ.day, occ.at, clock.zone()), what))
    if study_groups(org):
        first = now.date().replace(day=1)
        if now.day > RANKING_DAY or now.time().replace(tzinfo=None) >= RANKING_AT:
            first = (first + timedelta(days=32)).replace(day=1)
        out.append((datetime.combine(first, RANKING_AT, clock.zone()), "学习之星排行"))
    return out


# --- /发布学习: show, confirm, report ---------------------------------------------------------
#
# "/发布学习 [标题]" only shows what would go where (skipping groups that already have the
# material, from their study day or an earlier /发布学习) and keeps that plan as a row;
# "/发布学习 确认" sends exactly that plan; when the sends are done, the cadre is told per group.

CONFIRM_WORDS = frozenset({"确认", "确定", "确认发布"})
CONFIRM_WINDOW = timedelta(minutes=30)
REPORT_AFTER = timedelta(hours=1)  # report anyway when some send is still not done by then
RECEIVED_PURPOSES = ("study", "study-publish")
DONE_STATES = (outbox.SENT, outbox.FAILED, outbox.UNKNOWN, outbox.DROPPED)


def _titles(ms: list[Material]) -> str:
    return "".join(f"《{m.title}》" for m in ms)


def _on_day(t: datetime) -> str:
    t = t.astimezone(clock.zone())
    return f"{t.month}月{t.day}日"


async def received(m: Material, groups: list[Group]) -> dict[str, str]:
    """Groups that already have `m` (or have it on its way), with the reason in words. A send
    that failed does not count: the group never got it."""
    if not groups:
        return {}
    ids = [str(g.id) for g in groups]
    async with session() as s:
        rows = (
            await s.execute(
                select(Outbox.purpose, Outbox.period, Outbox.target_id, Outbox.status, Outbox.created_at)
                .where(
                    Outbox.purpose.in_(RECEIVED_PURPOSES), Outbox.target_kind == "group", Outbox.target_id.in_(ids),
                    Outbox.status.not_in((outbox.FAILED, outbox.DROPPED)),
                )
                .order_by(Outbox.id)
            )
        ).all()
    out: dict[str, str] = {}
    for purpose, period, target, status, created in rows:
        if period != m.key and not period.endswith("/" + m.key):
            continue
        how = "学习日" if purpose == "study" else "发布时"
        if status == outbox.UNKNOWN:
            reason = f"{_on_day(created)}{how}发送结果未知，可能已收到"
        elif status in (outbox.PENDING, outbox.SENDING):
            reason = "正在发送中，稍后就到"
        else:
            reason = f"{_on_day(created)}{how}已收到"
        out.setdefault(target, reason)
    return out


def _resolve(lib: Library, title: str, now: datetime) -> list[Material] | str:
    if title:
        found = lib.find(title, now.date(), include_future=True)
        if not found:
            names = _titles(sorted(lib.materials, key=lambda m: m.period.start, reverse=True)[:5])
            return f"没有找到标题含“{title[:20]}”的学习材料。" + (f"现有材料：{names}。" if names else "材料目录里还没有材料。")
        if len(found) > 1:
            return f"有 {len(found)} 份材料符合“{title[:20]}”：{_titles(found[:5])}。请写出完整标题。"
        return found
    found = lib.current(now.date(), latest_only=False)
    return found or "本月还没有学习材料。可以发送 /发布学习 标题 发布指定的材料。"


async def publish_offer(lib: Library, org: Org, cadre: str, title: str, now: datetime | None = None) -> str:
    """/发布学习 [标题]: what would be sent to which groups, kept for "/发布学习 确认"."""
    from plugins.study.models import StudyPublishOffer

    now = now or clock.now()
    found = _resolve(lib, title, now)
    if isinstance(found, str):
        return found
    groups = study_groups(org)
    if not groups:
        return "组织文件里还没有开启学习日的群（在 groups 里给群加上 study 项）。"
    current = {m.key for m in lib.current(now.date(), latest_only=False)}
    lines: list[str] = []
    plan: list[dict[str, object]] = []
    for m in found:
        targets = [g for g in groups if m.for_group(g.tags)]
        if not targets:
            lines.append(f"没有可以发布《{m.title}》的学习群（它面向“{m.audience_label}”，没有学习群带这个标签）。")
            continue
        have = await received(m, targets)
        send = [g for g in targets if g.id not in have]
        if m.key not in current:
            lines.append(f"注意：《{m.title}》是{m.period.label}的材料，不是本期的。")
        if send:
            lines.append(f"将把《{m.title}》（{m.period.label}）发到 {len(send)} 个群：" + "、".join(g.name for g in send))
            plan.append({"material": m.id, "groups": [g.id for g in send]})
        else:
            lines.append(f"《{m.title}》各学习群都已经有了，不需要再发。")
        lines += [f"不再发：{g.name}（{have[g.id]}）" for g in targets if g.id in have]
    if not plan:
        return "\n".join(lines)
    async with session() as s:
        # One open offer per cadre: the newest is what "确认" sends.
        await s.execute(delete(StudyPublishOffer).where(StudyPublishOffer.cadre == cadre, StudyPublishOffer.confirmed_at.is_(None)))
        s.add(StudyPublishOffer(cadre=cadre, plan=plan, created_at=now))
        await s.commit()
    minutes = int(CONFIRM_WINDOW.total_seconds() // 60)
    lines.append(f"确认发布请在 {minutes} 分钟内发送“/发布学习 确认”；不发就不用回复。")
    return "\n".join(lines)


async def publish_confirm(lib: Library, org: Org, cadre: str, now: datetime | None = None) -> str:
    """/发布学习 确认: send the plan the cadre was shown, once; answer per group."""
    from plugins.study.models import StudyPublishOffer

    now = now or clock.now()
    async with session() as s:
        offer = await s.scalar(
            select(StudyPublishOffer)
            .where(StudyPublishOffer.cadre == cadre, StudyPublishOffer.confirmed_at.is_(None))
            .order_by(StudyPublishOffer.id.desc())
        )
        if offer is None or offer.created_at < now - CONFIRM_WINDOW:
            return "没有等待确认的发布。请先发送 /发布学习（或 /发布学习 标题）看看要发什么、发到哪些群，再确认。"
        plan, offer_id = list(offer.plan), offer.id
        # Guarded: of two taps on "确认" (or two processes), one sends.
        taken = await s.execute(
            update(StudyPublishOffer)
            .where(StudyPublishOffer.id == offer.id, StudyPublishOffer.confirmed_at.is_(None))
            .values(confirmed_at=now)
        )
        await s.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return "这次发布已经确认过了，正在发送。"
    lines: list[str] = []
    sent_plan: list[dict[str, object]] = []
    for item in plan:
        m = lib.by_id(str(item["material"]))
        groups = [org.groups[gid] for gid in item["groups"] if gid in org.groups]
        if m is None:
            lines.append("有一份材料已经从材料目录里移走，没有发送。")
            continue
        have = await received(m, groups)  # another cadre may have sent it meanwhile
        period = f"{now:%Y%m%d}/{m.key}"
        lines.append(f"《{m.title}》：")
        queued = []
        for g in groups:
            if g.id in have:
                lines.append(f"· {g.name}：不再发（{have[g.id]}）")
                continue
            await post_to_group(g, m, "study-publish", period, heading="学习材料")
            queued.append(g.id)
            lines.append(f"· {g.name}：已排队发送")
        if queued:
            sent_plan.append({"material": m.id, "groups": queued, "period": period})
    async with session() as s:
        await s.execute(
            update(StudyPublishOffer).where(StudyPublishOffer.id == offer_id).values(plan=sent_plan, reported=not sent_plan)
        )
        await s.commit()
    if sent_plan:
        lines.append("会逐个发送，群与群之间间隔几秒；发完后我会私聊告诉你每个群的结果。")
    return "\n".join(lines)


OUTCOME = {
    outbox.SENT: "已发出",
    outbox.FAILED: "没有发出（QQ 拒绝了：请检查我是否还在群里、是否被禁言）",
    outbox.UNKNOWN: "不确定是否发出（没有收到 QQ 的确认；到群里看一眼，没有的话发送 /重发）",
    outbox.DROPPED: "没有发出",
}


async def publish_reports(now: datetime) -> int:
    """Tell each cadre how a confirmed /发布学习 went, per group, once its sends are done (or
    an hour on, whatever is left)."""
    from plugins.study.models import StudyPublishOffer

    async with session() as s:
        offers = (
            await s.scalars(
                select(StudyPublishOffer).where(StudyPublishOffer.confirmed_at.is_not(None), StudyPublishOffer.reported.is_(False))
            )
        ).all()
    org, lib = runtime.org(), library()
    told = 0
    for offer in offers:
        states: dict[tuple[str, str], str] = {}
        async with session() as s:
            for item in offer.plan:
                rows = (
                    await s.execute(
                        select(Outbox.target_id, Outbox.status).where(
                            Outbox.purpose == "study-publish", Outbox.period == str(item["period"])
                        )
                    )
                ).all()
                states.update({(str(item["period"]), t): st for t, st in rows})
        waiting = [st for st in states.values() if st not in DONE_STATES]
        assert offer.confirmed_at is not None
        if waiting and now - offer.confirmed_at < REPORT_AFTER:
            continue
        lines = ["【发布学习结果】"]
        for item in offer.plan:
            m = lib.by_id(str(item["material"]))
            lines.append(f"《{m.title if m else item['material']}》：")
            for gid in item["groups"]:
                g = org.groups.get(gid)
                st = states.get((str(item["period"]), str(gid)), "")
                lines.append(f"· {g.name if g else gid}：{OUTCOME.get(st, '还在排队，稍后发送 /状态 查看')}")
        await outbox.enqueue("study-publish-report", str(offer.id), [outbox.Item(Target.private(offer.cadre), [Text("\n".join(lines))])])
        async with session() as s:
            await s.execute(update(StudyPublishOffer).where(StudyPublishOffer.id == offer.id).values(reported=True))
            await s.commit()
        told += 1
    return told
