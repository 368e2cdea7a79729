"""献一策: signed suggestions, classified by the org's category keywords (jieba), forwarded to the
category's leader through the outbox, and summed up per category at the year's end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot import clock, outbox, quota, runtime, text as textutil
from bot.db import session
from bot.org import Role
from bot.platform import Forward, Part, Target, Text
from plugins.care.common import CareError, day_label
from plugins.care.models import Suggestion

MAX_CHARS = 1000
DAILY_LIMIT = 10
LIMIT = quota.DailyLimit(DAILY_LIMIT, "今天已经提了 {used} 条建议，达到每天 {limit} 条的上限，请明天再提。谢谢你的热心！")
FORWARD, SUMMARY = "care-suggestion", "care-suggestion-summary"
SUMMARY_AT = (12, 31, time(16, 0))  # 31 December, 16:00: before people leave for the new year
DEFAULT_CATEGORY = "other"
EXAMPLE = "/建议 会议室的投影仪经常连不上，建议换一根长一点的 HDMI 线"


@dataclass(frozen=True)
class Submitted:
    id: int
    category_name: str
    leader_name: str


async def submit(*, author: str, author_name: str | None, group_id: str | None, text: str) -> Submitted:
    """Store the suggestion (committed before anyone is told), then forward it to the leader."""
    text = textutil.clean(text)
    if not text:
        raise CareError(f"请在 /建议 后面写下你的建议，例如：{EXAMPLE}")
    if len(text) > MAX_CHARS:
        raise CareError(f"建议共 {len(text)} 字，超过了 {MAX_CHARS} 字的上限，这次没有提交。请精简后重新发送。")
    org = runtime.org()
    category = org.categories[classify(text)]
    async with session() as s:
        if refusal := LIMIT.refusal(await quota.count_today(s, Suggestion.author, author, Suggestion.created_at)):
            raise CareError(refusal)
        row = Suggestion(
            author=author,
            author_name=runtime.org().name_of(author, author_name),
            group_id=group_id,
            category=category.id,
            leader=category.leader,
            text=text,
            created_at=clock.utcnow(),
        )
        s.add(row)
        await s.flush()
        sid = row.id
        await s.commit()
    await forward(sid)
    return Submitted(sid, category.name, org.display_name(category.leader))


def classify(text: str) -> str:
    """The category of a suggestion. A category named in the text (its name, or a keyword that
    is part of its name: 食堂 for 食堂后勤) beats counting keyword hits, which a side remark can
    tip ("食堂晚上留一个窗口，方便值班的同事" is about the canteen, not duty rosters); when
    several are named, the first one mentioned is the subject."""
    org = runtime.org()
    named: list[tuple[int, int, str]] = []
    for i, c in enumerate(org.spec.categories):
        if c.id == DEFAULT_CATEGORY:
            continue  # "其他" in a text names nothing
        terms = [c.name, *(k for k in c.keywords if k in c.name)]
        found = [text.find(t) for t in terms if t in text]
        if found:
            named.append((min(found), i, c.id))
    if named:
        return min(named)[2]
    return textutil.categorize(text, org.spec.categories, DEFAULT_CATEGORY)


async def forward(suggestion_id: int) -> int:
    async with session() as s:
        row = await s.get(Suggestion, suggestion_id)
        if row is None:
            return 0
        leader = row.leader
        message = "\n".join(
            [
                f"【连心·献一策】第 {row.id} 号建议（{_category_name(row.category)}）",
                f"提出人：{runtime.org().label(row.author, row.author_name)}，QQ {row.author}",
                f"时间：{day_label(row.created_at)}",
                f"内容：{row.text}",
                "这条建议由你负责的类别收到。采纳或需要进一步了解，可以直接联系提出人；好的建议也可以推荐表扬。",
            ]
        )
    return await outbox.enqueue(FORWARD, str(suggestion_id), [outbox.Item(Target.private(leader), [Text(message)])])


def receipt(done: Submitted) -> str:
    return (
        f"谢谢你的建议！已登记为第 {done.id} 号建议，归入“{done.category_name}”类，已转给负责的领导{done.leader_name}。\n"
        "建议是署名的，好建议会被推荐表扬；想匿名反映问题，请私聊我发送 /诉求。"
    )


def _category_name(category_id: str) -> str:
    cat = runtime.org().categories.get(category_id)
    return cat.name if cat else category_id


async def resend_tick() -> None:
    """Forward suggestions of the last two days that have no ledger row (a crash after commit)."""
    since = clock.utcnow() - timedelta(days=2)
    async with session() as s:
        ids = (await s.scalars(select(Suggestion.id).where(Suggestion.created_at >= since))).all()
    for sid in ids:
        if not await outbox.existing_targets(FORWARD, str(sid)):
            await forward(sid)


# --- the yearly summary ------------------------------------------------------------------


def parse_year(raw: str) -> int:
    raw = textutil.clean(raw).rstrip("年")
    if not raw:
        return clock.now().year
    year = textutil.parse_int(raw, max_digits=4)
    if year is None or not 2000 <= year <= 2100:
        raise CareError("年份请写四位数字，例如：/建议汇总 2026")
    return year


async def summary(year: int) -> list[str]:
    """One text per category (most suggestions first), plus a heading; empty when there were none.

    This is a working list for cadres (every suggestion is signed and listed with its number),
    not a statistic, so counts here are not suppressed; the monthly report's counts are.
    """
    start = datetime(year, 1, 1, tzinfo=clock.zone())
    end = datetime(year + 1, 1, 1, tzinfo=clock.zone())
    async with session() as s:
        rows = (
            await s.scalars(select(Suggestion).where(Suggestion.created_at >= start, Suggestion.created_at < end).order_by(Suggestion.id))
        ).all()
        items = [(r.id, r.category, runtime.org().label(r.author, r.author_name), day_label(r.created_at), r.text) for r in rows]
    if not items:
        return []
    by_category: dict[str, list[tuple[int, str, str, str]]] = {}
    for sid, cat, who, day, text in items:
        by_category.setdefault(cat, []).append((sid, who, day, text))
    order = [c.id for c in runtime.org().spec.categories]
    cats = sorted(by_category, key=lambda c: (-len(by_category[c]), order.index(c) if c in order else len(order)))
    head = f"【连心·献一策】{year} 年建议汇总：共 {len(items)} 条，" + "，".join(
        f"{_category_name(c)} {len(by_category[c])} 条" for c in cats
    ) + "。"
    texts = [head]
    for c in cats:
        entries = by_category[c]
        words = "、".join(w for w, _ in textutil.keywords([t for *_, t in entries], top=5))
        lines = [f"{_category_name(c)}（{len(entries)} 条）" + (f"，关键词：{words}" if words else "")]
        lines += [f"第 {sid} 号｜{who}｜{day}：{_short(text)}" for sid, who, day, text in entries]
        texts.append("\n".join(lines))
    return texts


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "……"


def summary_parts(texts: list[str]) -> list[Part]:
    """One merged message ("聊天记录"), a node per category, so a long year stays one message."""
    return [Forward(tuple(texts))]


def summary_recipients() -> list[str]:
    org = runtime.org()
    return sorted(set(org.with_role(Role.cadre)))


async def summary_tick() -> int:
    now = clock.now()
    month, day, at = SUMMARY_AT
    if (now.month, now.day) != (month, day) or now.time() < at:
        return 0
    period = str(now.year)
    targets = [Target.private(q) for q in summary_recipients()]
    if set(targets) <= await outbox.existing_targets(SUMMARY, period):
        return 0
    texts = await summary(now.year)
    if not texts:
        return 0
    return await outbox.enqueue(SUMMARY, period, [outbox.Item(t, summary_parts(texts)) for t in targets])
