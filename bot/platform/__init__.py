"""The platform port: everything the bot does to a chat platform goes through here.

Both ways: plugins read an `Inbound` message and answer in neutral parts and targets; one module
per platform (OneBot v11 today) builds the `Inbound` from its adapter's event and turns parts
into API calls. A second adapter (Feishu, a WeChat bridge) is a new module that calls `register`
and `register_inbound` for its Bot class; no plugin changes. Only modules in this package
import an adapter.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, Protocol

from nonebot.adapters import Bot, Event


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Image:
    data: bytes


@dataclass(frozen=True)
class Mention:
    """An @ of a person. `name` is written instead where an @ cannot go (private chats, an id
    the platform does not know); without it the port asks the directory (the org file)."""

    user_id: str
    name: str | None = None


@dataclass(frozen=True)
class Quote:
    message_id: str


@dataclass(frozen=True)
class Forward:
    """A merged ("聊天记录") message: one node per text; paged texts where unsupported."""

    nodes: tuple[str, ...]


Part = Text | Image | Mention | Quote | Forward


def pages(forward: Forward) -> list[str]:
    """A merged message as paged texts, for a platform without merged messages."""
    n = len(forward.nodes)
    return [f"（全文 {i}/{n}）\n{node}" if n > 1 else node for i, node in enumerate(forward.nodes, 1)]


@dataclass(frozen=True)
class Target:
    kind: Literal["group", "private"]
    id: str

    @classmethod
    def group(cls, group_id: int | str) -> Target:
        return cls("group", str(group_id))

    @classmethod
    def private(cls, user_id: int | str) -> Target:
        return cls("private", str(user_id))


# --- what comes in --------------------------------------------------------------------


@dataclass(frozen=True)
class Quoted:
    """The message an inbound message replies to."""

    message_id: str
    author_id: str | None = None  # where the platform says whose message it was
    text: str | None = None  # where the platform gives the quoted text


@dataclass(frozen=True)
class Inbound:
    """A message from a person, as every platform can say it. Ids as the platform gives them."""

    platform: str  # account namespace: "qq" (OneBot v11) or "feishu"
    bot_id: str  # the bot account that received it (bot.self_id)
    user_id: str
    group_id: str | None  # None in private chat
    message_id: str
    text: str  # plain text, stripped
    sender_name: str | None  # group card / nickname / display name
    mentions: tuple[str, ...]  # ids @-mentioned (the bot's own id when the bot is @'d; "all": everyone)
    quoted: Quoted | None
    attachments: bool  # any non-text content (image, file, voice, card...)
    to_me: bool  # private chat, @bot, or reply to the bot
    # The adapter's own event, read only by the port that built this message (to answer it
    # the adapter's way, e.g. a temporary chat's group); never by plugins.
    raw: object = field(default=None, repr=False, compare=False)


InboundFn = Callable[[Bot, Event], "Inbound | None"]
UnreadableFn = Callable[[Bot, Event], "str | None"]

_INBOUND: dict[type[Bot], tuple[InboundFn, UnreadableFn | None]] = {}
_INBOUND_BY_TYPE: dict[type, tuple[InboundFn, UnreadableFn | None] | None] = {}

# Messages since start-up that no platform module could read (shown by /状态).
unreadable_count = 0


def register_inbound(bot_class: type[Bot], inbound: InboundFn, unreadable: UnreadableFn | None = None) -> None:
    """`inbound(bot, event)`: the event as an `Inbound`, None when it is no message.
    `unreadable(bot, event)`: for a private message the adapter could not read, whom to ask
    to send it again; None for anything else."""
    _INBOUND[bot_class] = (inbound, unreadable)
    _INBOUND_BY_TYPE.clear()


def _readers(bot: Bot) -> tuple[InboundFn, UnreadableFn | None] | None:
    kind = type(bot)
    try:
        return _INBOUND_BY_TYPE[kind]  # every event asks: one dict look-up, not an MRO walk
    except KeyError:
        found = next((_INBOUND[c] for c in kind.__mro__ if c in _INBOUND), None)  # type: ignore[index]
        _INBOUND_BY_TYPE[kind] = found
        return found


def inbound_for(bot: Bot, event: Event) -> Inbound | None:
    """The event as an `Inbound`; None when it is no message (or no platform module knows the bot)."""
    readers = _readers(bot)
    return readers[0](bot, event) if readers is not None else None


def unreadable_sender(bot: Bot, event: Event) -> str | None:
    """Who sent a private message the adapter could not read, if the event is one."""
    readers = _readers(bot)
    return readers[1](bot, event) if readers is not None and readers[1] is not None else None


def note_unreadable() -> None:
    """An event no model could read (a platform module's ingress counts it here for /状态)."""
    global unreadable_count
    unreadable_count += 1


# --- what goes out ----------------------------------------------------------------------


class SendFailed(Exception):
    """The platform said no: the message was not delivered, so sending again is safe."""


class SendUnknown(Exception):
    """No answer in time: the message may have been delivered; never resend blindly."""


class Recall(str, Enum):
    """What a recall did, as far as the platform lets us know. Only RECALLED is true."""

    RECALLED = "recalled"  # the platform said it is gone
    GONE = "gone"  # the platform no longer knows the message (too old, restarted): cannot recall
    NOT_PERMITTED = "not_permitted"  # refused: not an admin, or the author is owner/admin
    UNKNOWN = "unknown"  # no clear answer (timeout, disconnect): it may or may not be gone
    UNSUPPORTED = "unsupported"  # the platform never lets a bot recall others' messages

    def __bool__(self) -> bool:
        return self is Recall.RECALLED


class NotConnected(Exception):
    """No connected account can send this."""


# --- who shares which group with the bot -------------------------------------------------
# A private message to someone who has not added the bot as a friend only arrives as a group
# temporary chat, which needs a group both are in. The directory answers from what the bot
# knows: member lists it has fetched (best evidence), then the org file (set at start-up).

def _no_groups(user_id: str) -> Sequence[str]:
    return ()


def _no_name(user_id: str) -> str | None:
    return None


def _by_shape(some_id: str) -> str:
    return "qq" if some_id.isascii() and some_id.isdigit() else "feishu"


def _same_account(user_id: str, platform: str) -> str | None:
    return user_id if _by_shape(user_id) == platform else None


_org_groups: Callable[[str], Sequence[str]] = _no_groups
_names: Callable[[str], str | None] = _no_name
_platform_of: Callable[[str], str] = _by_shape
_account_for: Callable[[str, str], str | None] = _same_account
_member_lists: dict[str, frozenset[str]] = {}


def set_directory(
    groups_of: Callable[[str], Sequence[str]],
    name_of: Callable[[str], str | None],
    platform_of: Callable[[str], str] | None = None,
    account_for: Callable[[str, str], str | None] | None = None,
) -> None:
    """Where a person's groups, display name, platform and accounts come from (the org file,
    see bot.runtime). Plugins speak of people by person id; ports send to accounts."""
    global _org_groups, _names, _platform_of, _account_for
    _org_groups, _names = groups_of, name_of
    _platform_of = platform_of or _by_shape
    _account_for = account_for or _same_account


def platform_of(some_id: str) -> str:
    """The platform of a person id, account or group id ("qq", "feishu")."""
    return _platform_of(str(some_id))


def account_for(user_id: str, platform: str) -> str | None:
    """The person's account on `platform`; None when they have none there."""
    return _account_for(str(user_id), platform)


KNOWN_PLATFORMS = ("qq", "feishu")


def delivery_platform(target: Target) -> str | None:
    """Which platform's accounts may send to `target`: a group's own; for a person, the one
    platform they have an account on, or None (any) when they are on several."""
    if target.kind == "group":
        return platform_of(target.id)
    on = [p for p in KNOWN_PLATFORMS if account_for(target.id, p) is not None]
    return on[0] if len(on) == 1 else None if on else platform_of(target.id)


def note_members(group_id: str, user_ids: Sequence[str]) -> None:
    """Remember a fetched member list: it overrides the org file's guess for that group."""
    _member_lists[group_id] = frozenset(user_ids)


def shared_group(user_id: str) -> str | None:
    """A group the person shares with the bot, or None when none is known."""
    # The org file's groups, unless a fetched member list shows the person is not there;
    # then any group whose member list has them.
    for gid in _org_groups(user_id):
        if user_id in _member_lists.get(gid, frozenset({user_id})):
            return gid
    return next((gid for gid, members in sorted(_member_lists.items()) if user_id in members), None)


def display_name(user_id: str) -> str | None:
    return _names(user_id)


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do; features that need something off degrade and say why."""

    group_messages_visible: bool = True  # the bot sees every group message, not only @s
    recall_others: bool = True  # recall others' messages (as admin, where the platform allows)
    mute: bool = True
    private_chat: bool = True
    member_list: bool = True
    merged_forward: bool = True  # merged "聊天记录" messages; else Forward goes out as paged text
    files: bool = True


ALL = Capabilities()


class Port(Protocol):
    bot_id: str
    capabilities: Capabilities
    platform: str  # the account namespace: "qq", "feishu"

    async def send(self, target: Target, parts: Sequence[Part], *, key: str | None = None) -> str | None:
        """`key`: the same for every attempt at one message (e.g. the outbox row); a platform
        that can (Feishu) uses it to deliver a repeated attempt only once. Others ignore it."""
        ...

    async def reply(self, msg: Inbound, parts: Sequence[Part]) -> str | None:
        """Answer where `msg` came from (its group, or the private chat)."""
        ...

    async def recall(self, message_id: str, *, group_id: str | None = None, author_id: str | None = None) -> Recall: ...

    async def mute(self, group_id: str, user_id: str, seconds: int) -> None: ...

    async def members(self, group_id: str) -> list[str]: ...

    async def get_message(self, message_id: str) -> tuple[str, str] | None:
        """(author id, plain text) of a message the platform still has, else None."""
        ...

    # Optional: send a file (e.g. a CSV export). A platform that cannot raises SendFailed, and
    # callers fall back to text; a port may also simply not have the method.
    async def send_file(self, target: Target, name: str, data: bytes) -> None: ...


_FACTORIES: dict[type[Bot], Callable[[Bot], Port]] = {}
_CAPABILITIES: dict[type[Bot], Capabilities] = {}
_CAPABILITIES_BY_TYPE: dict[type, Capabilities] = {}


_LABELS: dict[type[Bot], str] = {}
_PLATFORMS: dict[type[Bot], str] = {}


def register(
    bot_class: type[Bot],
    factory: Callable[[Bot], Port],
    capabilities: Capabilities = ALL,
    label: str | None = None,
    platform: str = "qq",
) -> None:
    """`label`: the platform as people call it ("QQ", "飞书"), for /状态 and /帮助.
    `platform`: the account namespace of the org file (`accounts: {qq: …, feishu: …}`)."""
    _FACTORIES[bot_class] = factory
    _CAPABILITIES[bot_class] = capabilities
    _LABELS[bot_class] = label or bot_class.__name__
    _PLATFORMS[bot_class] = platform
    _CAPABILITIES_BY_TYPE.clear()


def _registered(table: dict[type[Bot], str], bot: Bot, default: str) -> str:
    return next((table[c] for c in type(bot).__mro__ if c in table), default)  # type: ignore[index]


def platform_name(bot: Bot) -> str:
    """The account namespace of a connected bot ("qq", "feishu")."""
    return _registered(_PLATFORMS, bot, "qq")


def label_of(bot: Bot) -> str:
    return _registered(_LABELS, bot, type(bot).__name__)


def bots_on(platform: str) -> list[str]:
    """Connected bot accounts on `platform`, in a stable order."""
    import nonebot

    return sorted(b for b, bot in nonebot.get_bots().items() if platform_name(bot) == platform)


def platform_of_bot(bot_id: str) -> str | None:
    """The platform of a connected bot account; None when it is not connected."""
    import nonebot

    bot = nonebot.get_bots().get(bot_id)
    return platform_name(bot) if bot is not None else None


def capabilities(port: object) -> Capabilities:
    """What a port's platform can do (a port that says nothing can do everything)."""
    caps = getattr(port, "capabilities", None)
    return caps if isinstance(caps, Capabilities) else ALL


def capabilities_of(bot: Bot) -> Capabilities:
    """What the bot's platform can do (everything, for a bot no platform module registered)."""
    kind = type(bot)
    try:
        return _CAPABILITIES_BY_TYPE[kind]  # screening asks for every group message: one look-up
    except KeyError:
        found = next((_CAPABILITIES[c] for c in kind.__mro__ if c in _CAPABILITIES), ALL)  # type: ignore[index]
        _CAPABILITIES_BY_TYPE[kind] = found
        return found


# What is off, and what that means, in the words /状态 and /帮助 use.
OFF_REASONS: dict[str, str] = {
    "group_messages_visible": "看不到群里的全部消息，只收到@我的，所以谣言和诈骗筛查在这里关闭",
    "recall_others": "不能撤回别人的消息，确认违规后请管理员手动删除",
    "mute": "不能禁言，需要禁言时请管理员手动处理",
    "private_chat": "不能私聊，诉求和私聊提醒用不了",
    "member_list": "拿不到群成员名单，只按组织名单核对",
    "merged_forward": "不支持聊天记录消息，全文改为分页发送",
    "files": "不能发文件，导出改为文字",
}


def off_lines() -> list[str]:
    """Per platform in use (a connected account), what is off and why; empty when all is on."""
    import nonebot

    lines: list[str] = []
    seen: set[str] = set()
    for bot in nonebot.get_bots().values():
        label = label_of(bot)
        if label in seen:
            continue
        seen.add(label)
        caps = capabilities_of(bot)
        lines += [f"{label}：{why}。" for name, why in OFF_REASONS.items() if not getattr(caps, name)]
    return lines


class Accounts:
    """A port that takes person ids: private targets, mentions, mute and recall authors become
    the person's account on the port's platform (a person may be on QQ and Feishu). An id that
    is no person's in the org file is taken as an account of its own shape."""

    def __init__(self, port: Port) -> None:
        self.inner = port

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _account(self, user_id: str) -> str:
        account = account_for(user_id, self.inner.platform)
        if account is None:
            raise SendFailed(f"no {self.inner.platform} account for this person")
        return account

    def _target(self, target: Target) -> Target:
        return Target.private(self._account(target.id)) if target.kind == "private" else target

    def _parts(self, parts: Sequence[Part]) -> list[Part]:
        out: list[Part] = []
        for p in parts:
            if isinstance(p, Mention):
                account = account_for(p.user_id, self.inner.platform)
                # Someone with no account here cannot be @'d: their name, written instead.
                p = Mention(account, p.name) if account else Text("@" + (p.name or display_name(p.user_id) or p.user_id))
            out.append(p)
        return out

    async def send(self, target: Target, parts: Sequence[Part], *, key: str | None = None) -> str | None:
        return await self.inner.send(self._target(target), self._parts(parts), key=key)

    async def reply(self, msg: Inbound, parts: Sequence[Part]) -> str | None:
        return await self.inner.reply(msg, self._parts(parts))

    async def recall(self, message_id: str, *, group_id: str | None = None, author_id: str | None = None) -> Recall:
        author = account_for(author_id, self.inner.platform) if author_id is not None else None
        return await self.inner.recall(message_id, group_id=group_id, author_id=author or author_id)

    async def mute(self, group_id: str, user_id: str, seconds: int) -> None:
        await self.inner.mute(group_id, self._account(user_id), seconds)

    async def send_file(self, target: Target, name: str, data: bytes) -> None:
        send_file = getattr(self.inner, "send_file", None)
        if send_file is None:
            raise SendFailed("this platform cannot send files")
        await send_file(self._target(target), name, data)


def port_for(bot: Bot) -> Port:
    for cls in type(bot).__mro__:
        factory = _FACTORIES.get(cls)  # type: ignore[arg-type]
        if factory is not None:
            return Accounts(factory(bot))  # type: ignore[return-value]
    raise NotConnected(f"no platform port for {type(bot).__name__}")


def port_on(platform: str) -> Port:
    """A port of a connected bot on `platform` (the first, in a stable order)."""
    bots = bots_on(platform)
    if not bots:
        raise NotConnected(platform)
    return port_by_id(bots[0])


async def send_private(user_id: str, parts: Sequence[Part], *, via: Port | None = None, key: str | None = None) -> str | None:
    """A private message to a person, now: through `via` if they have an account on its
    platform, else through a connected bot on their own platform."""
    on = getattr(via, "platform", None)
    port = via if via is not None and (on is None or account_for(user_id, on) is not None) else port_on(platform_of(user_id))
    return await port.send(Target.private(user_id), parts, key=key)


def port_by_id(bot_id: str) -> Port:
    import nonebot

    bot = nonebot.get_bots().get(bot_id)
    if bot is None:
        raise NotConnected(bot_id)
    return port_for(bot)


def text(*lines: str) -> list[Part]:
    return [Text("\n".join(lines))]


def parts_to_json(parts: Sequence[Part]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in parts:
        match p:
            case Text(t):
                out.append({"type": "text", "text": t})
            case Image(data):
                out.append({"type": "image", "b64": base64.b64encode(data).decode()})
            case Mention(uid, name):
                out.append({"type": "mention", "user_id": uid} | ({"name": name} if name else {}))
            case Quote(mid):
                out.append({"type": "quote", "message_id": mid})
            case Forward(nodes):
                out.append({"type": "forward", "nodes": list(nodes)})
    return out


def parts_from_json(data: list[dict[str, Any]]) -> list[Part]:
    out: list[Part] = []
    for d in data:
        match d.get("type"):
            case "text":
                out.append(Text(d["text"]))
            case "image":
                out.append(Image(base64.b64decode(d["b64"])))
            case "mention":
                out.append(Mention(d["user_id"], d.get("name")))
            case "quote":
                out.append(Quote(d["message_id"]))
            case "forward":
                out.append(Forward(tuple(d["nodes"])))
    return out
