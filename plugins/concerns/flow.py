"""The guided /诉求: category → text → optional name or department → confirmation.

State lives in `concerns_draft` (keyed by a keyed hash of the user), so a draft survives a
restart and NoneBot's in-memory session timeout plays no part.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists

from bot import clock, flows, runtime
from bot import text as textutil
from bot.db import session
from plugins.concerns import receipts, service
from plugins.concerns.models import ConcernDraft

CANCEL_WORDS = {"0", "０", "取消", "退出", "算了"}
YES_WORDS = {"1", "１", "确认", "提交", "是", "好"}
ANONYMOUS_WORDS = {"0", "０", "不", "不用", "匿名", "否", "不留"}


# Is a draft open? (the private hook runs only then; bot.flows asks all such questions at once)
DRAFT_OPEN = flows.Probe(
    exists().where(ConcernDraft.key == bindparam("concern_draft_key")),
    lambda user_id: {"concern_draft_key": receipts.person_key("draft", user_id)},
)


def category_menu() -> str:
    cats = runtime.org().spec.categories
    lines = ["好的，我们一步步来。你想反映哪一类问题？回复序号："]
    lines += [f"{i}. {c.name}" for i, c in enumerate(cats, 1)]
    lines.append("回复 0 可以随时取消。内容只有负责的领导能看到，不会显示你是谁。")
    return "\n".join(lines)


async def start(user_id: int) -> str:
    key = receipts.person_key("draft", user_id)
    async with session() as s:
        draft = await s.get(ConcernDraft, key)
        if draft is None:
            s.add(ConcernDraft(key=key, step="category", updated_at=service.hour(clock.utcnow())))
        else:
            draft.step, draft.category, draft.text, draft.disclosed = "category", None, None, None
            draft.updated_at = service.hour(clock.utcnow())
        await s.commit()
    return category_menu()


async def step(user_id: int, bot_id: str, answer: str) -> str | None:
    """The reply to one answer of an open guided flow, or None when there is no open flow."""
    key = receipts.person_key("draft", user_id)
    answer = textutil.clean(answer)
    async with session() as s:
        draft = await s.get(ConcernDraft, key)
        if draft is None:
            return None
        if answer in CANCEL_WORDS and draft.step != "disclose":
            await s.delete(draft)
            await s.commit()
            return "已取消，草稿已删除。需要时随时发送 /诉求。"
        draft.updated_at = service.hour(clock.utcnow())
        reply: str
        match draft.step:
            case "category":
                cats = runtime.org().spec.categories
                n = textutil.parse_int(answer)
                if n is None or not 1 <= n <= len(cats):
                    return f"请回复 1 到 {len(cats)} 的序号（阿拉伯数字）选择类别，回复 0 取消。"
                draft.category, draft.step = cats[n - 1].id, "text"
                reply = f"请写下你想反映的内容（{service.policy().max_chars} 字以内），尽量写清楚事情和你的期望。"
            case "text":
                if not answer:
                    return "内容是空的，请写下你想反映的事；回复 0 取消。"
                try:
                    draft.text = service.check_text(answer)
                except service.ConcernError as e:
                    return str(e).replace("这次没有提交，一个字也没有删。", "请精简后重新发送。")
                draft.step = "disclose"
                reply = "是否愿意留下你的部门或姓名，方便领导了解情况？愿意就直接回复要留下的内容（例如：质量科）；不愿意请回复 0，保持匿名。"
            case "disclose":
                if not answer:
                    return "请回复要留下的部门或姓名；不愿意留下请回复 0，保持匿名。"
                draft.disclosed = None if answer in ANONYMOUS_WORDS else answer[:50]
                draft.step = "confirm"
                cat = runtime.org().categories[draft.category or "other"].name
                reply = "\n".join(
                    [
                        "请确认：",
                        f"类别：{cat}",
                        f"内容：{draft.text}",
                        f"署名：{draft.disclosed or '匿名'}",
                        "回复 1 提交，回复 0 取消。",
                    ]
                )
            case _:
                if answer not in YES_WORDS:
                    return "回复 1 提交，回复 0 取消。"
                submitted = await service.submit(
                    user_id=user_id, bot_id=bot_id, text=draft.text or "", category=draft.category, disclosed=draft.disclosed
                )
                await s.delete(draft)
                await s.commit()
                return receipt_message(submitted)
        await s.commit()
        return reply


def receipt_message(submitted: service.Submitted) -> str:
    return "\n".join(
        [
            f"已收到你的诉求（{submitted.category_name}），会交给负责的领导办理。",
            f"回执码：{submitted.code}",
            "请保存好回执码：凭它可以发送“/进度 回执码”查看进展、“/补充 回执码 内容”补充情况。",
            "回执码是找回这件诉求的唯一凭证，我们不记录你是谁，所以丢了也无法补发。",
        ]
    )
