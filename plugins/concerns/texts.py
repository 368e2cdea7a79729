"""What the concerns plugin says about a concern's state and its relays, in one place.

Relays are what passes between the submitter and the leader: the messages sent to the
submitter (through the sealed route), how their delivery is reported to the leader (after
acting, in /待办), and how the submitter's additions reach the leader. The console's queue
uses the same names.
"""

from __future__ import annotations

STATUS_NAMES = {"new": "待受理", "acknowledged": "已受理", "replied": "已答复", "closed": "已办结"}
# The deadline of each status's phase is to do this.
PHASES = {"new": "受理", "acknowledged": "答复", "replied": "办结", "closed": "办结"}
# Who now also has it, as the submitter is told (the leader who owns it keeps it).
LEVEL_HOLDERS = {2: "部门负责人", 3: "政工干部", 4: "单位主要负责人"}
PURGED = "（内容已按保存期限删除）"
DAILY_LIMIT_TEXT = "今天已经提交了 {used} 件诉求，达到每天 {limit} 件的上限。请明天再提交，或用 /补充 给已有的诉求追加内容。"

# --- to the submitter ----------------------------------------------------------------------

# By the kind of the event relayed; {text} is the event's text (a reply, a result, a note).
RELAY_MESSAGES = {
    "acknowledged": "你反映的诉求已由负责的领导受理，请耐心等待答复。",
    "reply": "你反映的诉求有了新答复：\n{text}",
    "closed": "你反映的诉求已办结：\n{text}",
    "transferred": "你反映的诉求{text}。",
    "escalated": "你反映的诉求{text}。",
}


def escalation_phrase(text: str | None) -> str:
    """What an escalation event says to the submitter; rows from before say only the step."""
    text = text or ""
    return text if text.startswith(("将于", "超过")) else f"超过期限，已{text}"


def relay_message(kind: str, text: str | None) -> str | None:
    """The message relayed for an event of this kind; None when there is none to send (a kind
    that is never relayed, or its text already deleted)."""
    template = RELAY_MESSAGES.get(kind)
    if template is None or ("{text}" in template and text is None):
        return None
    return template.format(text=escalation_phrase(text) if kind == "escalated" else text)


def rate_invitation(code: str) -> str:
    return f"欢迎为办理情况打分：发送“/评价 {code} 5”，1 分是很不满意，5 分是很满意。"


def relayed(code: str, message: str, *, invite_rating: bool = False) -> str:
    """A relay as the submitter receives it: the code quoted, then what to do next."""
    return f"【连心】回执码 {code}\n{message}\n" + (rate_invitation(code) if invite_rating else f"发送“/进度 {code}”可查看全部进展。")


# --- to the leader, about the relay --------------------------------------------------------

# What the leader is told right after acting, by the relay's outcome. "已告知" only when sent.
RELAY_ANSWERS = {
    "sent": "已告知提交人。",
    "pending": "暂时没能发给提交人，我会继续尝试，送达情况可在 /待办 查看。",
    "sending": "正在告知提交人，送达情况可在 /待办 查看。",
    "unknown": "告知提交人时没有收到 QQ 的确认，可能已送达；为免重复不会自动重发。提交人发送 /进度 可以看到。",
    "failed": "没能告知提交人（回复通道已不可用），提交人发送 /进度 可以看到。",
}
REPLY_SENT = "已转达提交人。"  # a reply is passed on in the leader's words, not just told


def relay_answer(status: str, *, reply: bool = False) -> str:
    return REPLY_SENT if reply and status == "sent" else RELAY_ANSWERS[status]


# A relay not known to have arrived, as /待办 lists it.
RELAY_STATES = {
    "pending": "还没发出，正在重试",
    "sending": "正在发送",
    "unknown": "不确定是否送达（可能已送达，为免重复不再自动重发）",
    "failed": "未能送达",
}
OPEN_RELAYS = tuple(RELAY_STATES)
RELAY_KINDS = {"acknowledged": "受理通知", "reply": "答复", "closed": "办结结果", "transferred": "转办通知", "escalated": "超期通知"}


def relay_line(kind: str, day: str, state: str) -> str:
    return f"转达提交人：{RELAY_KINDS.get(kind, kind)}（{day}）{RELAY_STATES[state]}"


# --- to the leader, from the submitter and from others who acted ---------------------------


def addition(concern_id: int, kind: str, text: str) -> str:
    """A submitter's supplement or rating, as the leader's digest passes it on."""
    return f"#{concern_id} 提交人补充：{text}" if kind == "supplement" else f"#{concern_id} 提交人评价：{text} 分"


ACTION_VERBS = {"acknowledged": "受理", "reply": "答复", "closed": "办结", "transferred": "转办"}
