"""End-to-end: what the bot's log holds when NapCat behaves as it really does (typing notices,
recalls, self-message reports, events the adapter cannot read, junk frames), at TRACE."""

from __future__ import annotations

import asyncio
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from bot.dispatch import UNREADABLE
from tests.conftest import PG_URL, _drop_pg_database, _pg_database
from tests.e2e.test_bot_process import KEY, bot_env
from tests.harness import REPO_ROOT, BotProcess
from tests.onebot_peer import OneBotPeer

SUBMITTER = 385726194  # a QQ-like id no port, time or count in the log can match by chance
NICK = "匿名提交人昵称"
CADRE = 20002
SECRET = "车间夜班补贴被扣了两个月想反映"
TOKEN = "tok-9Qx7vLr2pZ"
DB_PASSWORD = "pw-Kd83hs02Lq"
CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


def to(user: int):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("private", user)


async def _database(tmp_path: Path) -> tuple[str, str | None]:
    """A database URL with a password in it (PostgreSQL's trust auth ignores it), else SQLite."""
    if not PG_URL:
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", None
    url, name = await _pg_database(PG_URL)
    with_password = url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in with_password
    return with_password, name


def _with_dotenv(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    """Secrets in `.env`, as README and docs/deploy.md suggest: NoneBot then puts every one of
    them into its configuration, which it prints at DEBUG. The bot runs from tmp_path."""
    secrets = {"LIANXIN_SECRET_KEY": KEY, "ONEBOT_ACCESS_TOKEN": TOKEN, "SQLALCHEMY_DATABASE_URL": url}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
    env = {k: v for k, v in bot_env(tmp_path, **extra).items() if k not in secrets}
    for name in secrets:
        os.environ.pop(name, None)
    return env | {"PYTHONPATH": str(REPO_ROOT)}


async def test_trace_log_of_a_walk_holds_no_id_no_text_no_secret(tmp_path: Path) -> None:
    url, pg_name = await _database(tmp_path)
    env = _with_dotenv(tmp_path, url, LOG_LEVEL="TRACE", LIANXIN_SEND_INTERVAL="0.05", LIANXIN_SEND_JITTER="0")
    sends = ("send_msg", "send_private_msg")
    try:
        async with BotProcess(env, cwd=tmp_path, log_dir=tmp_path) as proc, OneBotPeer() as peer:
            peer.nicknames[SUBMITTER] = NICK
            await peer.connect_reverse(proc.ws_url, access_token=TOKEN)

            # A private concern, with NapCat's typing notices and a recall around it.
            mark = peer.mark()
            await peer.input_status(SUBMITTER)
            mid = await peer.private_message(SUBMITTER, f"/诉求 {SECRET}")
            await peer.input_status(SUBMITTER, typing=False)
            receipt = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            code = CODE.search(receipt.text)
            assert code, receipt.text
            # "上报自身消息" left on: the receipt comes back as message_sent, with target_id.
            await peer.message_sent(SUBMITTER, receipt.text)
            await peer.friend_recall(SUBMITTER, mid)

            # Private messages the adapter cannot read: each sender is asked to send again.
            mark = peer.mark()
            for broken in ({"without": ("font",)}, {"without": ("sender",)}, {"without": ("sub_type",)}, {"message_id": "abc"}):
                await peer.malformed_private_message(SUBMITTER, f"{SECRET}（第二次）", **broken)  # type: ignore[arg-type]
            for _ in range(4):
                call = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
                mark = call.index + 1
                assert call.text == UNREADABLE
            # A frame that is not JSON: skipped, and the same connection goes on.
            link = peer._link
            await peer.raw_frame(f"{SECRET} {{not json")
            mark = peer.mark()
            await peer.private_message(CADRE, "/状态")
            # The reply to /状态, not a scheduled notice to the same cadre (a study-day warning
            # goes out when the real date is a few days before the 5th).
            status = await peer.wait_call(sends, where=lambda c: to(CADRE)(c) and "无法读取的事件" in c.text, since=mark)
            assert "无法读取的事件：4 条" in status.text, status.text
            assert peer._link is link and peer.connected
            # The self report was not taken for a message from anyone.
            await peer.wait_no_call(sends, where=lambda c: c.text == UNREADABLE, for_=0.5, since=mark)
        log = proc.output()
    finally:
        if pg_name and PG_URL:
            await _drop_pg_database(PG_URL, pg_name)

    assert "Loaded Config" in log and "[TRACE]" in log  # the dump and TRACE lines were written...
    assert f"Private message {mid}" in log and "[notice.notify.input_status]" in log
    assert "Ignored a WebSocket frame that is not JSON" in log and "Error while process data" not in log
    # ...and none of them says who, what, or a secret.
    leaks = [str(SUBMITTER), NICK, SECRET[:6], SECRET[-6:], code.group(0), KEY, TOKEN, DB_PASSWORD]
    assert not [s for s in leaks if s in log], [line for line in log.splitlines() if any(s in line for s in leaks)][:5]


async def test_public_address_without_token_refuses_to_start(tmp_path: Path) -> None:
    proc = BotProcess(bot_env(tmp_path), host="0.0.0.0", log_dir=tmp_path)
    proc.start()
    assert await proc.wait_exit(timeout=30) == 2
    lines = [line for line in proc.output().splitlines() if line.strip()]
    assert len(lines) == 1, proc.output()
    assert lines[0].startswith("连心无法启动：HOST=0.0.0.0") and "ONEBOT_ACCESS_TOKEN" in lines[0]
    assert "LIANXIN_ALLOW_NO_TOKEN=1" in lines[0]


async def test_trusted_network_opt_out_starts_without_token(tmp_path: Path) -> None:
    env = bot_env(tmp_path, LIANXIN_ALLOW_NO_TOKEN="1")
    async with BotProcess(env, host="0.0.0.0", log_dir=tmp_path) as proc, OneBotPeer() as peer:
        await peer.connect_reverse(f"ws://127.0.0.1:{proc.port}/onebot/v11/ws")
        await peer.private_message(CADRE, "/帮助")
        await peer.wait_call("send_msg")


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


async def test_http_event_post_needs_the_token(tmp_path: Path) -> None:
    """With a token set, a forged event POSTed to the HTTP endpoint must not make the connected
    bot act for the account it names."""
    import json

    env = bot_env(tmp_path, ONEBOT_ACCESS_TOKEN=TOKEN)
    async with BotProcess(env, log_dir=tmp_path) as proc, OneBotPeer() as peer:
        await peer.connect_reverse(proc.ws_url, access_token=TOKEN)
        forged = {
            "time": 1, "self_id": peer.self_id, "post_type": "message", "message_type": "private",
            "sub_type": "friend", "message_id": 5, "user_id": CADRE, "font": 14, "raw_message": "/帮助",
            "message": [{"type": "text", "data": {"text": "/帮助"}}], "sender": {"user_id": CADRE},
        }
        headers = {"Content-Type": "application/json", "X-Self-ID": str(peer.self_id)}
        url = f"http://{proc.addr}/onebot/v11/http"
        status = await asyncio.to_thread(_post, url, json.dumps(forged).encode(), headers)
        assert status == 403
        await peer.wait_no_call("send_msg", for_=1.0)
        assert await asyncio.to_thread(_post, url, json.dumps(forged).encode(), headers | {"Authorization": f"Bearer {TOKEN}"}) == 204


async def test_debug_config_dump_masks_every_secret(tmp_path: Path) -> None:
    url, pg_name = await _database(tmp_path)
    env = _with_dotenv(tmp_path, url, LOG_LEVEL="DEBUG")
    try:
        async with BotProcess(env, cwd=tmp_path, log_dir=tmp_path) as proc:
            await proc.wait_output(r"Loaded Config")
        log = proc.output()
    finally:
        if pg_name and PG_URL:
            await _drop_pg_database(PG_URL, pg_name)
    line = next(line for line in log.splitlines() if "Loaded Config" in line)
    assert "onebot_access_token" in line and "sqlalchemy_database_url" in line and "lianxin_secret_key" in line
    assert TOKEN not in log and KEY not in log and DB_PASSWORD not in log


async def test_non_json_frame_keeps_a_forward_connection(tmp_path: Path) -> None:
    async with OneBotPeer() as peer:
        port = await peer.serve_forward()
        env = bot_env(tmp_path, ONEBOT_WS_URLS=f'["ws://127.0.0.1:{port}/"]')
        async with BotProcess(env, log_dir=tmp_path) as proc:
            await peer.wait_connected(timeout=30)
            link = peer._link
            await peer.raw_frame(f"{SECRET} {{")
            await peer.private_message(CADRE, "/帮助")
            call = await peer.wait_call("send_msg")
            assert call.text.startswith("我最常用的命令：") and peer._link is link
            out = proc.output()
    assert "Ignored a WebSocket frame that is not JSON" in out and "Trying to reconnect" not in out
    assert SECRET not in out
