"""A Feishu bot of the real adapter wired to the Feishu stand-in, and the stand-in's people."""

from __future__ import annotations

from nonebot.adapters.feishu import Bot
from nonebot.adapters.feishu.config import BotConfig
from nonebot.adapters.feishu.models import BotInfo
from nonebot.adapters.feishu.utils import cache

from tests.feishu_peer import FeishuPeer

GROUP, OTHER_GROUP = "oc_4e359893776c54a1d1da0c7e5fbc8d0c", "oc_9a1b2c3d4e5f60718293a4b5c6d7e8f9"
ALICE, BOB, CAROL = "ou_a11ce000000000000000000000000001", "ou_b0b00000000000000000000000000002", "ou_ca401000000000000000000000000003"


def populate(peer: FeishuPeer) -> FeishuPeer:
    peer.add_user(ALICE, "张三")
    peer.add_user(BOB, "李四")
    peer.add_user(CAROL, "王五", available=False)
    peer.add_chat(GROUP, "一车间", members=(ALICE, BOB))
    peer.add_chat(OTHER_GROUP, "二车间", members=(BOB,), bot_in=False)
    return peer


def feishu_bot(peer: FeishuPeer) -> Bot:
    """A bot as the adapter builds it once the Open Platform answered (not connected to NoneBot)."""
    import nonebot

    from bot.platform.feishu_ingress import Adapter

    config = BotConfig(app_id=peer.app_id, app_secret=peer.app_secret, verification_token=peer.verification_token,  # type: ignore[arg-type]
                       encrypt_key=peer.encrypt_key, api_base=peer.url)
    info = BotInfo(activate_status=2, app_name=peer.app_name, avatar_url="https://example.com/a.png", ip_white_list=[], open_id=peer.bot_open_id)  # type: ignore[arg-type]
    return Bot(Adapter(nonebot.get_driver()), peer.app_id, bot_config=config, bot_info=info)


async def forget_token(peer: FeishuPeer) -> None:
    """The adapter caches tenant tokens per app id: one from an earlier test's peer is void."""
    await cache.delete(f"feishu_tenant_access_token_{peer.app_id}")
