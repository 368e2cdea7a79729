"""Plain async functions behind the study commands, testable without NoneBot.

"Current" material (本期) for a chat, by the calendar of the organisation's zone:
- in a study group: the material of the running period that the group receives (its
  audience tags; biweekly groups also the second-half material from the 16th; quarterly groups
  the quarter's material, else the month's);
- in any other group: the month's material for everyone;
- in private chat: every material of the running periods (we do not know the person's groups),
  so when there are several the person names one by title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, select, update

from bot import clock, flows
from bot.db import insert_ignore, session
from bot.text import clean
from bot.org import Group
from plugins.study import points
from plugins.study.orgsection import study_of
from plugins.study.materials import LETTERS, Library, Material, Period, Question
from plugins.study.models import StudyCheckin, StudyQuizSession
from plugins.study.posting import how_to_take_part

QUIZ_TIMEOUT = timedelta(minutes=10)
# Is a quiz open? (the private hook runs only then; bot.flows asks all such questions at once)
QUIZ_OPEN = flows.Probe(
    exists().where(StudyQuizSession.user_id == bindparam("quiz_user_id")), lambda user_id: {"quiz_user_id": user_id}
)
EXIT_WORDS = frozenset({"退出", "结束", "取消", "退出答题", "结束答题", "不答了", "exit", "quit"})
RANK_SHOWN = 10


@dataclass(frozen=True)
class Where:
    """Who is asking and from where (a command's context, without NoneBot)."""

    user_id: str
    group: Group | None  # None in private chat
    name: str | None = None  # org name, else the platform nickname

    @property
    def private(self) -> bool:
        return self.group is None


def current_for(lib: Library, today: datetime, where: Where) -> list[Material]:
    day = today.date()
    g = where.group
    if g is None:
        return lib.current(day, latest_only=False)
    study = study_of(g)
    if study is None:
        return lib.current(day, ("month",), g.tags)
    if study.every == "quarterly":
        return lib.current(day, ("quarter",), g.tags) or lib.current(day, ("month",), g.tags)
    if study.every == "biweekly":
        return lib.current(day, ("month", "half"), g.tags)
    return lib.current(day, ("month",), g.tags)


def _titles(ms: list[Material]) -> str:
    return "".join(f"《{m.title}》" for m in ms)


@dataclass(frozen=True)
class Pick:
    """The material a command is about, or the answer to give instead."""

    material: Material | None = None
    answer: str | None = None


def pick(lib: Library, now: datetime, where: Where, title: str, verb: str, *, need_quiz: bool = False) -> Pick:
    """Resolve "/verb [标题]" to one material, or a short answer saying why not."""
    title = clean(title)  # invisible-only text is no title: the current material
    if title:
        found = lib.find(title, now.date())
        if need_quiz:
            with_quiz = [m for m in found if m.quiz]
            if found and not with_quiz:
                return Pick(answer=f"《{found[0].title}》没有测验题。" if len(found) == 1 else f"符合“{title}”的材料都没有测验题。")
            found = with_quiz
        if not found:
            return Pick(answer=f"没有找到标题含“{title[:20]}”的学习材料。发送 /学习 查看本期材料。")
        if len(found) > 1:
            return Pick(answer=f"有 {len(found)} 份材料符合“{title[:20]}”：{_titles(found[:5])}。请写出完整标题。")
        return Pick(found[0])
    found = current_for(lib, now, where)
    if not found:
        return Pick(answer=no_material(lib, now, verb))
    if need_quiz:
        with_quiz = [m for m in found if m.quiz]
        if not with_quiz:
            return Pick(answer=f"本期材料{_titles(found)}没有测验题。")
        found = with_quiz
    if len(found) > 1:
        return Pick(answer=f"本期有 {len(found)} 份材料：{_titles(found)}。请发送 /{verb} 标题 说明是哪一份。")
    return Pick(found[0])


def no_material(lib: Library, now: datetime, verb: str) -> str:
    text = "本月还没有学习材料。"
    if verb == "已学":
        text = "本月还没有学习材料，材料发布后再来打卡吧。"
    recent = lib.started(now.date())
    if recent:
        m = recent[0]
        text += f"最近一期是《{m.title}》（{m.period.label}），发送 /{verb} {m.title} 即可。"
    return text


# --- /学习 ---------------------------------------------------------------------------------


def study_text(lib: Library, now: datetime, where: Where, title: str) -> tuple[str, Material | None]:
    """The answer to /学习, and the material whose full text to send along (private chat)."""
    title = clean(title)
    if title:
        p = pick(lib, now, where, title, "学习")
        if p.material is None:
            return p.answer or "", None
        ms = [p.material]
    else:
        ms = current_for(lib, now, where)
        if not ms:
            return no_material(lib, now, "学习"), None
    blocks = []
    for m in ms:
        blocks.append(
            "\n".join([f"本期学习材料：《{m.title}》（{m.period.label}）" if not title else f"学习材料：《{m.title}》（{m.period.label}）",
                       m.summary, how_to_take_part(m, "private" if where.private else "group")])
        )
    text = "\n\n".join(blocks)
    if len(ms) > 1:
        return text + "\n\n发送 /学习 标题 可以收到某一份的全文。", None
    if where.private:
        return text + "\n全文见下一条消息。", ms[0]
    if where.group is not None and study_of(where.group) is None:
        return text + "\n私聊我发送 /学习 可以收到全文。", None
    return text + "\n全文已在学习日发到群里；私聊我发送 /学习 也能收到全文。", None


# --- /已学 ---------------------------------------------------------------------------------


async def check_in(lib: Library, where: Where, title: str, now: datetime | None = None) -> str:
    now = now or clock.now()
    p = pick(lib, now, where, title, "已学")
    if p.material is None:
        return p.answer or ""
    m = p.material
    # In a group the answer names the person (others see it); in private it is "你".
    who = where.name if where.group is not None and where.name else ""
    async with session() as s:
        result = await s.execute(
            insert_ignore(
                s,
                StudyCheckin.__table__,
                [{"material_id": m.id, "user_id": where.user_id, "group_id": where.group.id if where.group else None, "created_at": now}],
                ("material_id", "user_id"),
            )
        )
        if not (result.rowcount or 0) > 0:  # type: ignore[attr-defined]
            await s.rollback()
            first = await s.scalar(
                select(StudyCheckin.created_at).where(StudyCheckin.material_id == m.id, StudyCheckin.user_id == where.user_id)
            )
            when = first.astimezone(clock.zone()) if first else now
            return f"{who or '你'}已经打过卡了：《{m.title}》（{when.month}月{when.day}日）。"
        got = await points.award(s, where.user_id, "checkin", m.id, now, where.name)
        total = await points.month_total(s, where.user_id, now.strftime("%Y-%m"))
        await s.commit()
    rule = points.RULES["checkin"]
    head = f"{who}打卡成功：《{m.title}》。"
    if got:
        # The month's total is the person's own business: not shown in the group.
        head += f"积分 +{got}。" if where.group is not None else f"积分 +{got}（本月共 {total} 分）。"
    else:
        head += f"今天的打卡积分已满（每天最多 {rule.cap} 分），这次不再加分。"
    if m.quiz:
        head += f"\n{'私聊我' if where.group is not None else ''}发送 /答题 参加本期测验（共 {len(m.quiz)} 题），答对还有积分。"
    return head


# --- /答题 and the answers -----------------------------------------------------------------


def question_text(m: Material, index: int) -> str:
    q = m.quiz[index]
    lines = [f"第 {index + 1}/{len(m.quiz)} 题：{q.question}"]
    lines += [f"{LETTERS[i]}. {c}" for i, c in enumerate(q.choices)]
    return "\n".join(lines)


def _range(q: Question) -> str:
    return f"A–{LETTERS[len(q.choices) - 1]}"


async def start_quiz(lib: Library, where: Where, title: str, now: datetime | None = None) -> str:
    now = now or clock.now()
    async with session() as s:
        open_ = await s.get(StudyQuizSession, where.user_id)
        if open_ is not None:
            m_open = lib.by_id(open_.material_id)
            fresh = m_open is not None and now - open_.asked_at <= QUIZ_TIMEOUT and open_.question < len(m_open.quiz)
            same = not title.strip() or (m_open is not None and m_open in lib.find(title, now.date()))
            if fresh and same and m_open is not None:
                # Re-asking is the answer to "where was I?"; the clock restarts for this question.
                index = open_.question
                open_.asked_at = now
                await s.commit()  # expires the row: read nothing from it afterwards
                return "继续上次的测验：\n" + question_text(m_open, index)
    p = pick(lib, now, where, title, "答题", need_quiz=True)
    if p.material is None:
        return p.answer or ""
    m = p.material
    async with session() as s:
        await s.execute(delete(StudyQuizSession).where(StudyQuizSession.user_id == where.user_id))
        s.add(
            StudyQuizSession(
                user_id=where.user_id, material_id=m.id, question=0, correct=0, earned=0,
                name=(where.name or None) and where.name[:64], started_at=now, asked_at=now,
            )
        )
        await s.commit()
    minutes = int(QUIZ_TIMEOUT.total_seconds() // 60)
    return "\n".join(
        [
            f"《{m.title}》测验开始，共 {len(m.quiz)} 题。回复选项字母（如 A）即可，每题请在 {minutes} 分钟内作答；发送“退出”可以随时结束。",
            question_text(m, 0),
        ]
    )


_FULLWIDTH = str.maketrans("ＡＢＣＤＥＦａｂｃｄｅｆ１２３４５６７８９", "ABCDEFabcdef123456789")
_ANSWER_PREFIXES = ("我选", "答案是", "答案", "选")


def parse_answer(text: str) -> str | None:
    """"A", "b", "Ｃ", "2", "选B", "答案：C。" → a letter or a digit; None if it is not an answer."""
    t = clean(text).translate(_FULLWIDTH)
    for prefix in _ANSWER_PREFIXES:
        if t.startswith(prefix):
            t = t[len(prefix):].lstrip("：: ")
            break
    t = t.rstrip("。.、)）!！ ")
    if len(t) == 1 and (t.isascii() and (t.isalpha() or t.isdigit())):
        return t.upper()
    return None


async def answer(lib: Library, where: Where, text: str, now: datetime | None = None) -> str | None:
    """A private message while a quiz may be open: the reply, or None when it is not ours."""
    now = now or clock.now()
    async with session() as s:
        sess = await s.get(StudyQuizSession, where.user_id)
        if sess is None:
            return None
        m = lib.by_id(sess.material_id)
        given = parse_answer(text)
        stripped = text.strip()
        if m is None or sess.question >= len(m.quiz):
            # The material was removed or changed under an open quiz: end it quietly.
            await s.delete(sess)
            await s.commit()
            return "这份测验的材料已更新，本次测验结束。发送 /答题 可以重新开始。" if given or stripped in EXIT_WORDS else None
        done_so_far = f"答对 {sess.correct}/{sess.question} 题，获得 {sess.earned} 分"
        if now - sess.asked_at > QUIZ_TIMEOUT:
            await s.delete(sess)
            await s.commit()
            if given is None and stripped not in EXIT_WORDS:
                return None  # something else entirely: let other features answer it
            minutes = int(QUIZ_TIMEOUT.total_seconds() // 60)
            return f"上一题超过 {minutes} 分钟没有作答，本次测验已经结束（{done_so_far}）。发送 /答题 可以重新开始。"
        if stripped in EXIT_WORDS:
            await s.delete(sess)
            await s.commit()
            return f"已结束本次测验（{done_so_far}）。发送 /答题 可以重新开始。"
        q = m.quiz[sess.question]
        n = len(q.choices)
        if given is None:
            return f"正在答题：请回复 {_range(q)} 中的一个字母（也可以回复 1–{n}），发送“退出”结束答题。"
        index = int(given) - 1 if given.isdigit() else LETTERS.find(given)
        if not 0 <= index < n:
            return f"这道题只有 {_range(q)} {n} 个选项，请回复其中一个字母（或 1–{n}）。"
        asked = sess.question
        lines: list[str] = []
        gained = 0
        right = index == q.answer
        if right:
            gained = await points.award(s, where.user_id, "answer", f"{m.id}#{asked + 1}", now, where.name or sess.name)
            lines.append("回答正确！" + (f"积分 +{gained}。" if gained else ""))
        else:
            lines.append(f"回答错误，正确答案是 {q.answer_letter}. {q.choices[q.answer]}。")
        if q.explanation:
            lines.append(f"解析：{q.explanation}")
        correct = sess.correct + (1 if right else 0)
        earned = sess.earned + gained
        if asked + 1 < len(m.quiz):
            # Guarded on the question number: a double-sent answer (or a second process) is
            # applied once; the loser says nothing.
            result = await s.execute(
                update(StudyQuizSession)
                .where(StudyQuizSession.user_id == where.user_id, StudyQuizSession.question == asked)
                .values(question=asked + 1, correct=correct, earned=earned, asked_at=now)
            )
            if not (result.rowcount or 0) > 0:  # type: ignore[attr-defined]
                await s.rollback()
                return ""
            await s.commit()
            return "\n".join([*lines, "", question_text(m, asked + 1)])
        result = await s.execute(
            delete(StudyQuizSession).where(StudyQuizSession.user_id == where.user_id, StudyQuizSession.question == asked)
        )
        if not (result.rowcount or 0) > 0:  # type: ignore[attr-defined]
            await s.rollback()
            return ""
        total_q = len(m.quiz)
        bonus = 0
        if correct == total_q:
            bonus = await points.award(s, where.user_id, "full", m.id, now, where.name or sess.name)
            earned += bonus
        month_total = await points.month_total(s, where.user_id, now.strftime("%Y-%m"))
        await s.commit()
    lines.append("")
    if correct == total_q:
        lines.append("全部答对，真棒！" + (f"额外奖励 {bonus} 分。" if bonus else ""))
    lines.append(f"测验结束：答对 {correct}/{total_q} 题，本次获得 {earned} 分，本月累计 {month_total} 分。")
    return "\n".join(lines)


# --- /积分 and /排行 -----------------------------------------------------------------------


async def my_points(where: Where, now: datetime | None = None) -> str:
    now = now or clock.now()
    month = now.strftime("%Y-%m")
    today = now.date().isoformat()
    async with session() as s:
        mine = await points.month_total(s, where.user_id, month)
        total = await points.all_time_total(s, where.user_id)
        used = {a: await points.used_today(s, where.user_id, a, today) for a in points.RULES}
        ranks = await points.ranking(s, month) if mine else []
    who = f"{where.name}的" if where.name else "你的"
    rules = "积分规则：/已学 打卡 +1；测验每答对一题 +1；一次全部答对再 +2。每天各有上限。"
    if not mine:
        lines = [f"{who}学习积分：本月还没有积分" + (f"，累计 {total} 分。" if total else "。")]
        lines.append("发送 /已学 打卡、私聊我发送 /答题 参加测验，都能获得积分。")
        lines.append(rules)
        return "\n".join(lines)
    # A place only among those who chose to be ranked, and only for someone who did.
    rank = next((r.rank for r in ranks if r.user_id == where.user_id), None)
    place = f"（排行第 {rank} 名）" if rank else ""
    today_line = "，".join(f"{r.label} {used[a]}/{r.cap}" for a, r in points.RULES.items())
    return "\n".join([f"{who}学习积分：本月 {mine} 分{place}，累计 {total} 分。", f"今天已得：{today_line}。", rules, PRIVATE_NOTE])


PRIVATE_NOTE = "积分只有你自己能看到，用于自我激励，不作考核依据。"
RANKING_OFF = "本单位没有开启积分排行。积分只有你自己能看到，发送 /积分 查看。"
OPT_IN_HINT = "积分默认不公开。愿意出现在排行和每月的学习之星里，发送 /排行 公开。"
RANKING_USAGE = "用法：/排行 查看本月排行；/排行 公开 或 /排行 不公开 选择是否上榜。"
PUBLIC_WORDS = {"公开", "上榜", "参加", "加入"}
PRIVATE_WORDS = {"不公开", "取消公开", "不上榜", "退出", "隐藏"}


async def ranking_text(where: Where, now: datetime | None = None, arg: str = "") -> str:
    """/排行, /排行 公开, /排行 不公开."""
    arg = clean(arg)
    if not points.ranking_enabled():
        return RANKING_OFF
    if arg in PUBLIC_WORDS or arg in PRIVATE_WORDS:
        public = arg in PUBLIC_WORDS
        async with session() as s:
            changed = await points.set_public(s, where.user_id, public)
            await s.commit()
        if public:
            return ("好的，" if changed else "你已经选择公开了。") + "你的学习积分会出现在 /排行 和每月的学习之星里。不想公开时，发送 /排行 不公开。"
        return ("好的，你的学习积分不再公开，" if changed else "你的学习积分本来就没有公开，") + "只有你自己能看到。"
    if arg:
        return RANKING_USAGE
    now = now or clock.now()
    month = Period.month(now.year, now.month)
    async with session() as s:
        ranks = await points.ranking(s, month.text)
        public = await points.is_public(s, where.user_id)
    if not ranks:
        return f"{month.label}的排行里还没有人。" + ("发送 /已学 打卡就能上榜。" if public else OPT_IN_HINT)
    head = f"{month.label}学习积分排行（只列愿意公开的同事" + (f"，前 {RANK_SHOWN} 名）：" if len(ranks) > RANK_SHOWN else "）：")
    lines = [head, *points.ranking_lines(ranks, RANK_SHOWN)]
    shown = {r.user_id for r in ranks[:RANK_SHOWN]}
    me = next((r for r in ranks if r.user_id == where.user_id), None)
    if me is not None and me.user_id not in shown:
        lines.append(f"你目前第 {me.rank} 名，{me.points} 分。")
    if not public:
        lines.append(OPT_IN_HINT)
    return "\n".join(lines)
