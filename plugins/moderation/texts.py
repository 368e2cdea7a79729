"""Everything moderation says, in one place (tests compare against these exactly)."""

from __future__ import annotations

from bot.org import Org
from bot.platform import Recall
from plugins.moderation.config import PREVIEW, label

# --- reply-based commands ---------------------------------------------------
NEED_QUOTE = "请先回复（引用）要处理的那条消息，再发送 /{cmd}。"
QUOTE_NOT_FOUND = "找不到被回复的那条消息，可能已经撤回或时间太久了。"
BOT_MESSAGE = "这是我自己发的消息，不需要处理。"
REPORT_OWN = "不能举报自己的消息。"
REPORT_THANKS = "谢谢你的举报，已转交本群管理员处理（案件 #{id}），有结果会私聊告诉你。"
REPORT_JOINED = "谢谢，这条消息已经在处理中（案件 #{id}），有结果会私聊告诉你。"
REPORT_AGAIN = "你已经举报过这条消息了（案件 #{id}），管理员会处理。"
REPORT_DECIDED = "这条消息已经处理过了（案件 #{id}：{status}）。谢谢你的反映。"
REPORT_NOT_RECALLED = "群里的那条 /举报 消息我没能撤回，你可以自己撤回它，以免别人看到是谁举报的。"
REPORT_MAYBE_RECALLED = "群里的那条 /举报 消息可能没有撤回成功，请看一下，如果还在，你可以自己撤回它，以免别人看到是谁举报的。"
# The reporter hears the outcome of their report, nothing about the author (no counts, no
# penalty, no other cases: the penalty would tell how often the author was caught before).
REPORT_CONFIRMED = "你在{group}举报的那条消息（案件 #{id}）经管理员核实，确认违规，已按群规处理。谢谢你！"
REPORT_DISMISSED = "你在{group}举报的那条消息（案件 #{id}）经管理员核实，不属于违规，没有处理。谢谢你的反映。"
REPORT_LIMIT = "你一小时内的举报已经比较多了，请稍后再试；情况紧急可以直接联系本群管理员。"

# --- case-number commands ---------------------------------------------------
NEED_CASE = "请写上案件号，例如：/{cmd} 12"
NO_CASE = "没有找到案件 #{id}。"
NOT_MODERATOR = "抱歉，案件 #{id} 只有该群的管理员可以处理。"
APPEAL_FOR_CADRES = "案件 #{id} 有待复核的申诉，由政工干部处理。"
ALREADY_CONFIRMED = "案件 #{id} 已经确认过了。"
ALREADY_DISMISSED = "案件 #{id} 已经驳回过了。"
NOTE_TOO_LONG = "说明太长了（最多 {max} 字），请精简后再发。这次什么都没有做。"
CASES_REFUSED = "抱歉，/案件 只有群管理员和政工干部可以使用。"

STATUS_NAMES = {"open": "待处理", "confirmed": "已确认违规", "dismissed": "未认定违规"}
SOURCE_NAMES = {"flag": "管理员标记", "report": "群成员举报", "screen": "自动发现"}

# --- appeals ----------------------------------------------------------------
APPEAL_USAGE = "请写明案件号和理由，例如：/申诉 12 我转发的是单位的正式通知"
APPEAL_NOT_AUTHOR = "只有被处理的本人可以对案件 #{id} 申诉。"
APPEAL_NOT_DECIDED = "案件 #{id} 还没有处理结论，不需要申诉。"
APPEAL_NOT_CONFIRMED = "案件 #{id} 没有认定违规，不需要申诉。"
APPEAL_TWICE = "你已经对案件 #{id} 提出过申诉，请耐心等待复核。"
APPEAL_RECEIVED = "申诉已收到，政工干部会复核案件 #{id}，结果会私聊告诉你。"
APPEAL_UPHELD_TO_AUTHOR = "你对案件 #{id} 的申诉经复核，维持原处理。如有疑问，可以找政工干部当面沟通。"
APPEAL_OVERTURNED_TO_AUTHOR = "你对案件 #{id} 的申诉经复核已撤销原处理，不计入违规记录。"
# A moderator or cadre revoking a decision nobody appealed.
OVERTURNED_TO_AUTHOR = "你在{group}的那条消息（案件 #{id}）经复核已撤销处理，不计入违规记录。"
REVIEW_NOTE = "\n复核说明：{note}"
UPHELD = "已维持案件 #{id} 的处理，并已告知申诉人。"
UPHELD_WITH_NOTE = "已维持案件 #{id} 的处理，并已把你的说明转告申诉人。"
OVERTURNED = "已撤销案件 #{id} 的处理：不计入发言人的违规次数，内容已移出谣言库，并已在群里告知发言人。"
OVERTURNED_TOLD = "已私聊告诉发言人。"
OVERTURNED_TOLD_NOTE = "已私聊告诉发言人，并转告了你的说明。"
# /确认 and /驳回 on an appealed case: which verb means what is not guessable, so they change
# nothing and name the two that are.
USE_APPEAL_VERBS = "案件 #{id} 在等申诉复核：撤销处理请发送 /撤销 {id} 说明，维持原处理请发送 /维持 {id} 说明（说明会转告申诉人）。"
USE_REVOKE = "案件 #{id} 已确认违规。如要撤销处理，请发送 /撤销 {id} 说明。"
NOT_CONFIRMED = "案件 #{id} 没有认定违规，不需要撤销。"
STILL_OPEN = "案件 #{id} 还没有处理：确认违规请发送 /确认 {id}，不属于违规请发送 /驳回 {id}。"
NO_APPEAL = "案件 #{id} 没有待复核的申诉。"
APPEAL_REVIEWED = "案件 #{id} 的申诉已经复核过了（{result}）。"
APPEAL_RESULTS = {"upheld": "维持原处理", "overturned": "已撤销处理"}

# --- in the group -----------------------------------------------------------
CLARIFY_NOTE = "【辟谣】群里刚才的一条消息经管理员核实不属实。\n{note}\n请以单位正式通知为准，不信谣、不传谣。"
# Posted by /防骗: short, what the unit never does, what to do instead.
FRAUD_REMINDER = (
    "【防骗提醒】单位从不在群里发链接、二维码让大家领补贴，也从不让大家加“财务”好友、向个人账户转账，"
    "或提供密码和验证码。收到这类消息，请先打电话向办公室或财务科核实；已经转账的，请马上报警（110）。"
)
CLARIFY_GENERIC = "【辟谣】群里刚才的一条消息经管理员核实不属实。请以单位正式通知为准，不信谣、不传谣；有疑问可以问本群管理员。"
AUTO_RECALLED_PHRASE = "一条消息含有{label}，已撤回。请大家文明交流。"
# Seen by the whole group: the author by name, what happened, how to appeal; no counts, no ids.
WARN = "{name}，你刚才的消息经管理员确认为{label}，请注意言行，不信谣、不传谣。{next}如有异议，可以私聊我申诉。"
WARN_NEXT = "再有违规将被禁言 {duration}。"
MUTE = "{name}，你刚才的消息经管理员确认为{label}，按群规禁言 {duration}。如有异议，可以私聊我申诉。"
OVERTURNED_IN_GROUP = "{name}，经复核，之前对你那条消息的处理已撤销，不计入违规记录。给你带来不便，请谅解。"
# Private, to the author: the case number they need to appeal.
TO_AUTHOR = "你在{group}的一条消息（案件 #{id}）经管理员确认为{label}，{outcome}。如有异议，可以发送：/申诉 {id} 理由"

# --- to moderators and cadres ----------------------------------------------
DECIDE_HINT = "确认违规请发送 /确认 {id} [说明]，不属于违规请发送 /驳回 {id}。"
FRAUD_HINT = "如果发言人是在问“这是不是骗局”，请发送 /防骗 {id}：我在群里提醒全群防骗，不算发言人违规。"
FRAUD_DONE = "已在群里提醒全群防骗；案件 #{id} 按不违规结案，不计入发言人的违规次数。"
FRAUD_AGAIN = "已在群里提醒全群防骗。"
FRAUD_RECENT = "群里 1 小时内已经发过防骗提醒，这次没有重复发；案件 #{id} 按不违规结案，不计入发言人的违规次数。"
FRAUD_RECENT_AGAIN = "群里 1 小时内已经发过防骗提醒，这次没有重复发。"
FRAUD_FAILED = "防骗提醒没能发到群里，请稍后再发一次 /防骗 {id}。案件 #{id} 已按不违规结案，不计入发言人的违规次数。"
FRAUD_FAILED_AGAIN = "防骗提醒没能发到群里，请稍后再发一次 /防骗 {id}。"
FRAUD_NOT_FRAUD = "案件 #{id} 不是疑似诈骗信息。确认违规请发送 /确认 {id}，不属于违规请发送 /驳回 {id}。"
FRAUD_CONFIRMED = "案件 #{id} 已确认违规，群里已发过辟谣，不需要再提醒。"
NOT_ADMIN = "我可能不是群管理员，或对方是群主/管理员"
# Why a recall did not happen, by what the platform answered (Recall in bot/platform).
RECALL_GONE = "这条消息已无法撤回，请手动删除。"
RECALL_NOT_PERMITTED = "消息未能撤回：我没有撤回权限（我不是群管理员，或对方是群主/管理员），请手动处理。"
RECALL_UNSUPPORTED = "消息未能撤回：这个平台不允许机器人撤回别人的消息，请在群里手动删除。"
MUTE_UNSUPPORTED = "这个平台不支持机器人禁言"
RECALL_UNKNOWN = "撤回没有得到确认，请到群里看一下，如果消息还在请手动删除。"


def clarify_note(note: str) -> str:
    """The moderator's own words as the clarification; the template's closing line only when
    the note does not already say it."""
    text = CLARIFY_NOTE.format(note=note)
    if "不信谣" in note or "不传谣" in note:
        text = text.rsplit("\n", 1)[0]
    return text


def report_not_recalled(outcome: Recall) -> str:
    """To the reporter, when their /举报 may still be in the group."""
    return REPORT_MAYBE_RECALLED if outcome is Recall.UNKNOWN else REPORT_NOT_RECALLED


def recall_failed(outcome: Recall) -> str:
    """The honest reason a recall did not happen, for the moderator."""
    if outcome is Recall.GONE:
        return RECALL_GONE
    if outcome is Recall.NOT_PERMITTED:
        return RECALL_NOT_PERMITTED
    if outcome is Recall.UNSUPPORTED:
        return RECALL_UNSUPPORTED
    return RECALL_UNKNOWN


def duration(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{mins} 分钟" if mins else ""]
    return " ".join(p for p in parts if p) or "0 分钟"


def preview(text: str) -> str:
    text = text.strip()
    if not text:
        return "（无文字内容）"
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


def person(name: str, qq: str) -> str:
    return str(qq) if name == str(qq) else f"{name}（{qq}）"


def group_of(org: Org, group_id: str) -> str:
    """The group in a notice to moderators or cadres: its name and number."""
    g = org.groups.get(group_id)
    return f"{g.name}（{group_id}）" if g and g.name else str(group_id)


def group_short(org: Org, group_id: str) -> str:
    """The group where the number would be noise (to authors and reporters, in lists)."""
    g = org.groups.get(group_id)
    return g.name if g else str(group_id)


def report_notice(case_id: int, group: str, author: str, text: str, reason: str | None, *, earlier: str | None = None) -> str:
    lines = [f"【举报】案件 #{case_id}" + (f"（{earlier}）" if earlier else "")]
    lines += [f"群：{group}", f"发言人：{author}", f"内容：{preview(text)}", f"举报理由：{reason or '未填写'}"]
    lines.append(DECIDE_HINT.format(id=case_id))
    return "\n".join(lines)


def screen_notice(case_id: int, group: str, author: str, text: str, why: str, action: str, *, fraud: bool = False) -> str:
    lines = [
        f"【自动发现】案件 #{case_id}",
        f"群：{group}",
        f"发言人：{author}",
        f"内容：{preview(text)}",
        f"原因：{why}",
        f"处理：{action}",
        DECIDE_HINT.format(id=case_id),
    ]
    if fraud:  # often a worker asking whether it is a scam: warn everyone, blame no one
        lines.append(FRAUD_HINT.format(id=case_id))
    return "\n".join(lines)


def why_rumour(match_case_id: int | None) -> str:
    return f"与已确认的谣言（案件 #{match_case_id}）高度相似" if match_case_id else "与已确认的谣言高度相似"


def why_phrase(category: str, phrase: str) -> str:
    return f"含有{label(category)}“{phrase}”"


def appeal_notice(case_id: int, group: str, author: str, text: str, category: str, outcome: str, reason: str) -> str:
    return "\n".join([
        f"【申诉】案件 #{case_id}",
        f"群：{group}",
        f"当事人：{author}",
        f"原消息：{preview(text)}",
        f"处理：{label(category)}，{outcome}",
        f"申诉理由：{reason}",
        f"撤销处理请发送 /撤销 {case_id} 说明；维持原处理请发送 /维持 {case_id} 说明。说明会转告申诉人。",
    ])
