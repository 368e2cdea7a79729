"""End-to-end over Feishu: a real `python -m bot` with a Feishu app whose Open Platform is the
stand-in, events posted to its webhook encrypted and signed as Feishu posts them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.e2e.test_bot_process import bot_env
from tests.feishu_helpers import ALICE, GROUP, populate
from tests.feishu_peer import FeishuPeer
from tests.harness import BotProcess

ENCRYPT_KEY = "e2e-encrypt-key-0123456789"


@asynccontextmanager
async def feishu_bot(tmp_path: Path, **extra: str) -> AsyncIterator[tuple[FeishuPeer, BotProcess]]:
    async with FeishuPeer(encrypt_key=ENCRYPT_KEY) as peer:
        populate(peer)
        app = {"app_id": peer.app_id, "app_secret": peer.app_secret, "verification_token": peer.verification_token,
               "encrypt_key": ENCRYPT_KEY, "api_base": peer.url}
        env = bot_env(tmp_path, FEISHU_BOTS=json.dumps([app]), **extra)
        async with BotProcess(env, log_dir=tmp_path) as proc:
            peer.webhook = f"http://{proc.addr}/feishu/{peer.app_id}"
            await proc.wait_output(rf"FEISHU \| Bot {peer.app_id} connected", timeout=20)
            yield peer, proc


async def test_the_bot_connects_to_feishu_and_takes_only_signed_callbacks(tmp_path: Path) -> None:
    async with feishu_bot(tmp_path) as (peer, proc):
        assert [c.route for c in peer.calls[:2]] == ["token", "bot_info"]
        payload, _ = peer.message_event(ALICE, "/帮助", chat_id=GROUP, at_bot=True)
        assert await peer.deliver(payload, sign_with="not-the-key") == 401
        assert await peer.deliver(payload) == 200
        assert "Refused a Feishu callback" in proc.output()
