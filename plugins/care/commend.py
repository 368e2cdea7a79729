"""表扬: nominations, review by cadres, and the Monday digest to the nominee's groups.

Every message to someone other than the person typing goes through the outbox with a key of
the nomination's number, so a tick may re-enqueue them safely: a cadre is told of a new
nomination even if the process died right after committing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from bot import clock, outbox, quota, runtime, text as textutil
from bot.db import session
from bot.org import Role
from bot.platform import Mention, Part, Target, Text
from plugins.care.common import CareError, day_label, iso_week, parse_number, week_start
from plugins.care.greet import groups_of
from plugins.care.models import Commendation

MAX_CHARS = 500
DAILY_LIMIT = 5
LIMIT = quota.DailyLimit(DAILY_LIMIT, "今天已经推荐了 {used} 次，达到每天 {limit} 次的上限，请明天再推荐。谢谢你的热心！")
DIGEST_AT = time(9, 0)
NOMINATED, RESULT, DIGEST = "care-nomination", "care-nomination-result", "care-commendation-digest"
STATUS_NAMES = {"pending": "待审核", "approved": "已通过", "rejected": "已退回"}
EXAMPLE = "/表扬 @张三 主动留下来帮大家修好了打印机"


@dataclass(frozen=True)
class Nominated:
    id: int
    nominee_label: str


def reviewers(exclude: str | None = None) -> list[str]:
    """Cadres who review nominations (never the nominee: nobody approves praise of themselves)."""
    return [q for q in runtime.org().with_role(Role.cadre) if q != exclude]


def next_digest(after: datetime) -> datetime:
    """The first Monday 09:00 strictly after `after`."""
    start = week_start(after.astimezone(clock.zone()), DIGEST_AT)
    return start if start > after else start + timedelta(days=7)


async def nominate(
    *, nominator: str, nominator_name: str | None, nominee: str, nominee_name: str | None, group_id: str | None, deed: str
) -> Nominated:
    deed = textutil.clean(deed)
    if nominee == nominator:
        raise CareError("不能表扬自己哦。好人好事请让同事来推荐，你也可以去发现身边同事的闪光点。")
    if not deed:
        raise CareError(f"请写上要表扬的事迹，例如：{EXAMPLE}")
    if len(deed) > MAX_CHARS:
        raise CareError(f"事迹共 {len(deed)} 字，超过了 {MAX_CHARS} 字的上限，这次没有提交。请精简后重新发送。")
    async with session() as s:
        if refusal := LIMIT.refusal(await quota.count_today(s, Commendation.nominator, nominator, Commendation.created_at)):
            raise CareError(refusal)
        row = Commendation(
            nominee=nominee,
            nominee_name=runtime.org().name_of(nominee, nominee_name),
            nominator=nominator,
            nominator_name=runtime.org().name_of(nominator, nominator_name),
            group_id=group_id,
            deed=deed,
            status="pending",
            created_at=clock.utcnow(),
        )
        s.add(row)
        await s.flush()
        done = Nominated(row.id, runtime.org().label(nominee, nominee_name))
        await s.commit()
    await tell_reviewers(done.id)
    return done


def _review_card(c: Commendation) -> str:
    return "\n".join(
        [
            f"#{c.id} 表扬 {runtime.org().label(c.nominee, c.nominee_name)}｜{day_label(c.created_at)}由{runtime.org().label(c.nominator, c.nominator_name)}推荐",
            f"事迹：{c.deed}",
        ]
    )


async def tell_reviewers(commendation_id: int) -> int:
    async with session() as s:
        c = await s.get(Commendation, commendation_id)
        if c is None or c.status != "pending":
            return 0
        card, nominee = _review_card(c), c.nominee
    message = (
        f"【连心·表扬推荐】有一条新的表扬推荐，请审核：\n{card}\n"
        f"审核：/通过 {commendation_id}　或　/退回 {commendation_id} 理由\n发送 /审核 查看全部待审核的推荐。"
    )
    items = [outbox.Item(Target.private(q), [Text(message)]) for q in reviewers(exclude=nominee)]
    return await outbox.enqueue(NOMINATED, str(commendation_id), items)


async def pending_list(actor: str) -> str:
    async with session() as s:
        rows = (await s.scalars(select(Commendation).where(Commendation.status == "pending").order_by(Commendation.id))).all()
        cards = [_review_card(c) + ("\n（表扬的是你本人，请由其他政工干部审核）" if c.nominee == actor else "") for c in rows]
    if not cards:
        return "目前没有待审核的表扬推荐。"
    return "\n\n".join([f"待审核的表扬推荐共 {len(cards)} 条：", *cards, "审核：/通过 编号　/退回 编号 理由"])


async def _decide(actor: str, raw: str, status: str, reason: str | None) -> tuple[int, str]:
    """Decide a pending nomination; returns its number and the nominee's label (plain values:
    rows expire on commit)."""
    n = parse_number(raw, f"/{'通过' if status == 'approved' else '退回'} 3")
    async with session() as s:
        c = await s.get(Commendation, n)
        if c is None:
            raise CareError(f"没有找到 #{n} 号表扬推荐。发送 /审核 查看待审核的推荐。")
        if c.status != "pending":
            raise CareError(f"#{n} 号表扬推荐已经审核过了（{STATUS_NAMES[c.status]}）。")
        if c.nominee == actor:
            raise CareError(f"#{n} 号推荐表扬的是你本人，请由其他政工干部审核。")
        now = clock.utcnow()
        # Guarded on the status: of two cadres deciding at once, exactly one wins.
        result = await s.execute(
            update(Commendation)
            .where(Commendation.id == n, Commendation.status == "pending")
            .values(status=status, decided_at=now, decided_by=actor, reason=reason)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise CareError(f"#{n} 号表扬推荐刚刚已被其他人审核。")
        label = runtime.org().label(c.nominee, c.nominee_name)
        await s.commit()
    return n, label


async def approve(actor: str, raw: str) -> str:
    n, label = await _decide(actor, raw, "approved", None)
    when = day_label(next_digest(clock.now()))
    await tell_nominator(n)
    return f"已通过 #{n}（表扬 {label}），将在{when}（周一）09:00 的“好人好事”里发到被表扬人所在的群，已告知推荐人。"


async def reject(actor: str, raw: str) -> str:
    head, _, rest = raw.strip().partition(" ")
    reason = textutil.clean(rest)[:200] or None
    n, label = await _decide(actor, head, "rejected", reason)
    await tell_nominator(n)
    return f"已退回 #{n}（表扬 {label}），已告知推荐人。"


async def tell_nominator(commendation_id: int) -> int:
    async with session() as s:
        c = await s.get(Commendation, commendation_id)
        if c is None or c.status == "pending":
            return 0
        label = runtime.org().label(c.nominee, c.nominee_name)
        status, reason, nominator, decided = c.status, c.reason, c.nominator, c.decided_at
    if status == "approved":
        assert decided is not None
        message = (
            f"你推荐表扬 {label} 的事迹已审核通过，将在{day_label(next_digest(decided))}（周一）的“好人好事”里和大家分享。"
            "谢谢你发现身边的美好！"
        )
    else:
        message = f"你推荐表扬 {label} 的事迹这次没有通过审核。" + (f"\n说明：{reason}" if reason else "") + "\n谢谢你的推荐，欢迎继续发现身边的好人好事。"
    return await outbox.enqueue(RESULT, str(commendation_id), [outbox.Item(Target.private(nominator), [Text(message)])])


async def resend_tick() -> None:
    """Re-enqueue messages that a crash between commit and enqueue could have lost (idempotent)."""
    since = clock.utcnow() - timedelta(days=7)
    async with session() as s:
        pending = (await s.scalars(select(Commendation.id).where(Commendation.status == "pending", Commendation.created_at >= since))).all()
        decided = (await s.scalars(select(Commendation.id).where(Commendation.status != "pending", Commendation.decided_at >= since))).all()
    for cid in pending:
        if not await outbox.existing_targets(NOMINATED, str(cid)):
            await tell_reviewers(cid)
    for cid in decided:
        if not await outbox.existing_targets(RESULT, str(cid)):
            await tell_nominator(cid)


# --- the weekly digest -------------------------------------------------------------------


async def digest_tick() -> int:
    """From Monday 09:00 on, approved deeds not yet in a digest go out to the nominees' groups.

    The deeds are first stamped with the week (a guarded UPDATE, so of several processes one
    stamps each row), then the messages are built from the stamp: a restart rebuilds the same
    messages, and the outbox key (digest, ISO week, group) lets each group hear it once.
    """
    now = clock.now()
    cutoff = week_start(now, DIGEST_AT)
    if now < cutoff:
        return 0
    week = iso_week(cutoff.date())
    due = (Commendation.status == "approved", Commendation.digest_week.is_(None), Commendation.decided_at < cutoff)
    async with session() as s:
        # Read before writing: this runs every tick all week, and on SQLite a needless write
        # would contend with the writes people are waiting for.
        if await s.scalar(select(func.count()).select_from(Commendation).where(*due)):
            await s.execute(update(Commendation).where(*due).values(digest_week=week))
            await s.commit()
        rows = (await s.scalars(select(Commendation).where(Commendation.digest_week == week).order_by(Commendation.id))).all()
        deeds = [(c.id, c.nominee, c.deed, c.group_id) for c in rows]
    if not deeds:
        return 0
    org = runtime.org()
    by_target: dict[Target, list[tuple[str, str]]] = {}
    for _, nominee, deed, group_id in deeds:
        targets = {Target.group(g.id) for g in groups_of(org, nominee)}
        if group_id is not None:
            targets.add(Target.group(group_id))
        if not targets:  # nominated in private and in no listed group: told in person
            targets.add(Target.private(nominee))
        for target in targets:
            by_target.setdefault(target, []).append((nominee, deed))
    items = [
        outbox.Item(target, digest_parts(entries))
        for target, entries in sorted(by_target.items(), key=lambda kv: (kv[0].kind, kv[0].id))
    ]
    if {it.target for it in items} <= await outbox.existing_targets(DIGEST, week):
        return 0
    return await outbox.enqueue(DIGEST, week, items)


def digest_parts(entries: list[tuple[str, str]]) -> list[Part]:
    parts: list[Part] = [Text(f"【连心·好人好事】这一周，同事们推荐、经审核的好人好事有 {len(entries)} 件：")]
    for i, (nominee, deed) in enumerate(entries, 1):
        parts += [Text(f"\n{i}. "), Mention(str(nominee)), Text(f" {deed}")]
    parts.append(Text("\n向他们学习，为他们点赞！身边还有哪些好人好事？发送“/表扬 @同事 事迹”推荐。"))
    return parts
