"""What each platform says it can do, and features that read it."""

from __future__ import annotations

from typing import Any

from nonebot.adapters.onebot.v11 import Bot

from bot.platform import ALL, Capabilities, Forward, Target, capabilities_of
from bot.platform.onebot_v11 import OneBotV11Port


class _Bot:
    self_id = "10000"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call_api(self, api: str, **data: Any) -> Any:
        self.calls.append((api, data))
        return {"message_id": len(self.calls)}


def test_onebot_v11_can_do_everything() -> None:
    assert OneBotV11Port.capabilities == ALL
    assert all(vars(ALL).values())
    assert capabilities_of(Bot.__new__(Bot)) == ALL


def test_a_new_platform_adopts_capabilities_in_one_line() -> None:
    caps = Capabilities(recall_others=False, group_messages_visible=False)
    assert caps.mute and caps.private_chat and not caps.recall_others


async def test_a_merged_message_goes_out_as_paged_text_where_unsupported() -> None:
    bot = _Bot()
    port = OneBotV11Port(bot)  # type: ignore[arg-type]
    port.capabilities = Capabilities(merged_forward=False)
    await port.send(Target.group("40001"), [Forward(("第一段", "第二段"))])  # type: ignore[arg-type]
    assert [api for api, _ in bot.calls] == ["send_group_msg", "send_group_msg"]
    assert [str(d["message"]) for _, d in bot.calls] == ["（全文 1/2）\n第一段", "（全文 2/2）\n第二段"]


async def test_a_merged_message_stays_merged_where_supported() -> None:
    bot = _Bot()
    await OneBotV11Port(bot).send(Target.group("40001"), [Forward(("第一段", "第二段"))])  # type: ignore[arg-type]
    assert [api for api, _ in bot.calls] == ["send_group_forward_msg"]
