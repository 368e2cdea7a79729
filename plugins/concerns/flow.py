"""The guided /诉求: category → text → optional name or department → confirmation.

State lives in `concerns_draft` (keyed by a keyed hash of the user), so a draft survives a
restart and NoneBot's in-memory session timeout plays no part.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists

from bot import clock, flows, runtime
from bot import text as textutil
from bot.db import session
from plugins.concerns import intake, receipts
from plugins.concerns.core import ConcernError, check_text, hour, policy
from plugins.concerns.models import ConcernDraft

# One scheme for every step: numbers choose among the options shown, "取消" cancels at any step.
# "0" means nothing (it once meant "cancel" in one step and "stay anonymous" in another).
CANCEL_WORDS = {"取消", "退出", "算了", "不提交", "不发了"}
YES_WORDS = {"1", "１", "确认", "提交", "是", "好"}
ANONYMOUS_WORDS = {"1", "１", "匿名", "保持匿名", "不", "不用", "否", "不留"}
CANCEL_HINT = "回复“取消”可以随时放弃。"
CANCELLED = "已取消，草稿已删除。需要时随时发送 /诉求。"
TEXT_PROMPT = "请写下你想反映的内容（{n} 字以内），尽量写清楚事情和你的期望。" + CANCEL_HINT
DISCLOSE_PROMPT = "是否愿意留下你的部门或姓名，方便领导了解情况？\n1. 保持匿名（回复 1）\n愿意留下就直接写（例如：质量科）。" + CANCEL_HINT
CONFIRM_HINT = "回复 1 提交，回复“取消”放弃。"


# Is a draft open? (the private hook runs only then; bot.flows asks all such questions at once)
DRAFT_OPEN = flows.Probe(
    exists().where(ConcernDraft.key == bindparam("concern_draft_key")),
    lambda user_id: {"concern_draft_key": receipts.person_key("draft", user_id)},
)


def category_menu() -> str:
    cats = runtime.org().spec.categories
    lines = ["好的，我们一步步来。你想反映哪一类问题？回复序号或类别名称："]
    lines += [f"{i}. {c.name}" for i, c in enumerate(cats, 1)]
    lines.append(CANCEL_HINT + "内容只有负责的领导能看到，不会显示你是谁。")
    return "\n".join(lines)


def pick_category(answer: str) -> str | None:
    """The category id for a number (1-based), a name ("食堂后勤"), part of one ("食堂") or a
    keyword of exactly one category; None when it is unclear."""
    cats = runtime.org().spec.categories
    n = textutil.parse_int(answer)
    if n is not None:
        return cats[n - 1].id if 1 <= n <= len(cats) else None
    word = answer.strip().rstrip("类。.")
    if not word:
        return None
    for test in (
        lambda c: word in (c.name, c.id),
        lambda c: word in c.name or c.name in word,
        lambda c: any(k == word or k in word for k in c.keywords),
    ):
        found = [c.id for c in cats if test(c)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


async def start(user_id: str) -> str:
    key = receipts.person_key("draft", user_id)
    async with session() as s:
        draft = await s.get(ConcernDraft, key)
        if draft is None:
            s.add(ConcernDraft(key=key, step="category", updated_at=hour(clock.utcnow())))
        else:
            draft.step, draft.category, draft.text, draft.disclosed = "category", None, None, None
            draft.updated_at = hour(clock.utcnow())
        await s.commit()
    return category_menu()


async def step(user_id: str, bot_id: str, answer: str, *, account: str | None = None, platform: str = "qq") -> str | None:
    """The reply to one answer of an open guided flow, or None when there is no open flow."""
    key = receipts.person_key("draft", user_id)
    answer = textutil.clean(answer)
    async with session() as s:
        draft = await s.get(ConcernDraft, key)
        if draft is None:
            return None
        if answer in CANCEL_WORDS:
            await s.delete(draft)
            await s.commit()
            return CANCELLED
        draft.updated_at = hour(clock.utcnow())
        reply: str
        match draft.step:
            case "category":
                category = pick_category(answer)
                if category is None:
                    n = len(runtime.org().spec.categories)
                    return f"请回复 1 到 {n} 的序号或类别名称选择类别。{CANCEL_HINT}"
                draft.category, draft.step = category, "text"
                reply = TEXT_PROMPT.format(n=policy().max_chars)
            case "text":
                if not answer:
                    return "内容是空的，请写下你想反映的事。" + CANCEL_HINT
                try:
                    draft.text = check_text(answer)
                except ConcernError as e:
                    return e.text.replace("这次没有提交，一个字也没有删。", "请精简后重新发送。")
                draft.step = "disclose"
                reply = DISCLOSE_PROMPT
            case "disclose":
                if not answer or textutil.parse_int(answer) is not None and answer not in ANONYMOUS_WORDS:
                    return "保持匿名请回复 1；愿意留下，请直接写部门或姓名。" + CANCEL_HINT
                draft.disclosed = None if answer in ANONYMOUS_WORDS else answer[:50]
                draft.step = "confirm"
                cat = runtime.org().categories[draft.category or "other"].name
                reply = "\n".join(
                    [
                        "请确认：",
                        f"类别：{cat}",
                        f"内容：{draft.text}",
                        f"署名：{draft.disclosed or '匿名'}",
                        CONFIRM_HINT,
                    ]
                )
            case _:
                if answer not in YES_WORDS:
                    return CONFIRM_HINT
                submitted = await intake.submit(
                    user_id=user_id, bot_id=bot_id, text=draft.text or "", category=draft.category, disclosed=draft.disclosed,
                    account=account, platform=platform,
                )
                await s.delete(draft)
                await s.commit()
                return receipt_message(submitted)
        await s.commit()
        return reply


def receipt_message(submitted: intake.Submitted) -> str:
    return "\n".join(
        [
            f"已收到你的诉求（{submitted.category_name}），会交给负责的领导办理。",
            f"回执码：{submitted.code}",
            "请保存好回执码：凭它可以发送“/进度 回执码”查看进展、“/补充 回执码 内容”补充情况。",
            "回执码是找回这件诉求的唯一凭证，我们不记录你是谁，所以丢了也无法补发。",
        ]
    )
