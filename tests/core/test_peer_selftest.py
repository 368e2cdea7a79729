"""Self-tests: OneBotPeer and BotProcess against a real, minimal NoneBot."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, BotProcess, BotStartError, free_port
from tests.onebot_peer import MSG_NOT_FOUND, RECALL_FAILED, RECALL_TIMEOUT, Call, HandshakeRefused, OneBotPeer, PeerFail

# A tiny bot: echoes every message, and "call:<action> <json>" calls an API
# and reports the outcome, so responders/failures/timeouts can be observed.
TINY_BOT = textwrap.dedent(
    """
    import json, os
    import nonebot
    from nonebot import on_message
    from nonebot.adapters.onebot.v11 import Adapter, Bot, MessageEvent, MessageSegment

    start_cwd = os.getcwd()
    # Read no .env from the caller's cwd (the repo may have one of its own).
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    nonebot.init(driver="~fastapi+~aiohttp")
    nonebot.get_driver().register_adapter(Adapter)
    nonebot.logger.info(f"tinybot cwd={start_cwd}")

    echo = on_message()

    @echo.handle()
    async def _(bot: Bot, event: MessageEvent) -> None:
        text = event.get_plaintext()
        if text.startswith("call:"):
            action, _, params = text[5:].partition(" ")
            try:
                result = await bot.call_api(action, **json.loads(params or "{}"))
                out = "ok:" + json.dumps(result, ensure_ascii=False)
            except Exception as e:
                out = "err:" + type(e).__name__
            await echo.send(out)
            return
        if event.reply is not None:
            text += f"|reply-from:{event.reply.sender.user_id}|to_me:{event.to_me}"
        await echo.send(MessageSegment.text("echo:" + text))

    nonebot.run()
    """
)


@asynccontextmanager
async def tiny_bot(tmp_path: Path, **env: str) -> AsyncIterator[int]:
    """Run the tiny bot with plain asyncio subprocess; yields its HTTP port."""
    script = tmp_path / "tinybot.py"
    script.write_text(TINY_BOT, "utf-8")
    port = free_port()
    log = open(tmp_path / "tinybot.log", "wb")
    full_env = {
        **os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost", **env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=tmp_path, env=full_env,
        stdout=log, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield port
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


def forward_env(peer_port: int, token: str) -> dict[str, str]:
    """Env making the bot dial the peer (NoneBot forward WebSocket mode)."""
    urls = json.dumps([f"ws://127.0.0.1:{peer_port}/"])
    return {"ONEBOT_WS_URLS": urls, "ONEBOT_ACCESS_TOKEN": token}


def only_text(call: Call) -> str:
    """The call's message must be exactly one text segment; return its text."""
    segs = call.segments
    assert len(segs) == 1 and segs[0]["type"] == "text", segs
    return segs[0]["data"]["text"]


@pytest.mark.asyncio
async def test_reverse_echo_private_and_group(tmp_path: Path) -> None:
    async with tiny_bot(tmp_path) as port, OneBotPeer(self_id=10000) as peer:
        await peer.connect_reverse(f"ws://127.0.0.1:{port}/onebot/v11/ws")

        mark = peer.mark()
        await peer.private_message(42, "hi there")
        call = await peer.wait_call("send_msg", since=mark)
        assert call.params["message_type"] == "private"
        assert call.params["user_id"] == 42
        # NoneBot sends array format: a list of {"type", "data"} segments.
        assert call.params["message"] == [{"type": "text", "data": {"text": "echo:hi there"}}]

        mark = peer.mark()
        await peer.group_message(555, 42, "hello group")
        call = await peer.wait_call(("send_msg", "send_group_msg"), since=mark)
        assert call.action == "send_msg"
        assert call.params["message_type"] == "group"
        assert call.params["group_id"] == 555
        assert only_text(call) == "echo:hello group"
        assert peer.sent_texts(since=mark) == [("group", 555, "echo:hello group")]

        # Reply to the bot's own message: NoneBot resolves it via get_msg and
        # marks the event to_me.
        replied = (await call.answered())["data"]["message_id"]
        mark = peer.mark()
        await peer.group_message(555, 43, "again", reply_to=replied)
        get_msg = await peer.wait_call("get_msg", since=mark)
        assert get_msg.params == {"message_id": replied}
        call = await peer.wait_call("send_msg", since=mark)
        assert only_text(call) == f"echo:again|reply-from:{peer.self_id}|to_me:True"

        assert [c.action for c in peer.calls].count("send_msg") == 3
        assert not peer.errors and not peer.junk


@pytest.mark.asyncio
async def test_responders_failures_and_hang(tmp_path: Path) -> None:
    async with tiny_bot(tmp_path, API_TIMEOUT="1.5") as port, OneBotPeer() as peer:
        await peer.connect_reverse(f"ws://127.0.0.1:{port}/onebot/v11/ws")
        peer.members[555] = [1, 2]
        peer.roles[(555, 2)] = "admin"

        async def text_reply(msg: str) -> str:
            mark = peer.mark()
            await peer.private_message(7, msg)
            return only_text(await peer.wait_call("send_msg", since=mark))

        assert await text_reply("call:get_login_info") == 'ok:{"user_id": 10000, "nickname": "连心"}'
        members = json.loads((await text_reply('call:get_group_member_list {"group_id": 555}'))[3:])
        assert [(m["user_id"], m["role"]) for m in members] == [(1, "member"), (2, "admin")]

        peer.responders["get_status"] = lambda p: {"online": False, "good": False}
        assert await text_reply("call:get_status") == 'ok:{"online": false, "good": false}'

        async def refuse(params: dict) -> None:
            raise PeerFail(1200, "no")

        peer.responders["set_group_ban"] = refuse
        ban = 'call:set_group_ban {"group_id": 1, "user_id": 2}'
        assert await text_reply(ban) == "err:ActionFailed"
        assert await text_reply("call:no_such_action") == "err:ActionFailed"

        peer.hang["get_msg"] = True
        assert await text_reply('call:get_msg {"message_id": 1}') == "err:NetworkError"

        # Valid JSON that fits no event model is logged and ignored by NoneBot.
        await peer.send_event({"post_type": "message", "weird": True})
        await peer.heartbeat()
        await peer.notice(
            "group_increase", sub_type="approve", group_id=555, user_id=3, operator_id=0
        )
        assert await text_reply("still alive") == "echo:still alive"
        await peer.wait_no_call("send_msg", for_=0.5, since=peer.mark())

        # A raw string goes out verbatim; a non-JSON frame makes NoneBot's
        # adapter drop the whole connection (its receive loop dies).
        await peer.send_event("{not json")
        await peer.wait_disconnected(timeout=5)
        await peer.reconnect()
        assert await text_reply("back") == "echo:back"


@pytest.mark.asyncio
async def test_forward_echo_and_reconnect(tmp_path: Path) -> None:
    async with OneBotPeer(self_id=20000) as peer:
        port = await peer.serve_forward(access_token="s3cret")
        env = forward_env(port, "s3cret")
        async with tiny_bot(tmp_path, **env):
            await peer.wait_connected(timeout=10)
            mark = peer.mark()
            await peer.private_message(99, "fwd")
            call = await peer.wait_call("send_msg", since=mark)
            assert (call.params["message_type"], call.params["user_id"]) == ("private", 99)
            assert only_text(call) == "echo:fwd"

            # NoneBot's forward client redials every 3 s after a drop.
            await peer.drop()
            assert not peer.connected
            await peer.wait_connected(timeout=8)
            mark = peer.mark()
            await peer.group_message(1, 99, "back")
            assert only_text(await peer.wait_call("send_msg", since=mark)) == "echo:back"


@pytest.mark.asyncio
async def test_forward_wrong_token_refused(tmp_path: Path) -> None:
    async with OneBotPeer() as peer:
        port = await peer.serve_forward(access_token="right")
        env = forward_env(port, "wrong")
        async with tiny_bot(tmp_path, **env):
            with pytest.raises(AssertionError):
                await peer.wait_connected(timeout=3)
    assert "403" in (tmp_path / "tinybot.log").read_text("utf-8", "replace")


@pytest.mark.asyncio
async def test_reverse_access_token(tmp_path: Path) -> None:
    async with tiny_bot(tmp_path, ONEBOT_ACCESS_TOKEN="tok") as port:
        url = f"ws://127.0.0.1:{port}/onebot/v11/ws"
        async with OneBotPeer() as bad:
            # Retries only while the bot starts; the refusal itself is final.
            with pytest.raises(HandshakeRefused) as info:
                await bad.connect_reverse(url, access_token="nope")
            assert info.value.status == 403
            assert not await bad.try_connect_reverse(url)  # no token at all
            assert not bad.connected

        async with OneBotPeer() as good:
            assert await good.try_connect_reverse(url, access_token="tok")
            mark = good.mark()
            await good.private_message(5, "authed")
            assert only_text(await good.wait_call("send_msg", since=mark)) == "echo:authed"

            # Drop and come back: the bot may briefly refuse the duplicate self_id.
            await good.drop()
            await good.reconnect()
            mark = good.mark()
            await good.private_message(5, "again")
            assert only_text(await good.wait_call("send_msg", since=mark)) == "echo:again"


@pytest.mark.asyncio
async def test_bot_process_harness(tmp_path: Path) -> None:
    script = tmp_path / "tinybot.py"
    script.write_text(TINY_BOT, "utf-8")
    argv = [sys.executable, str(script)]
    async with BotProcess({"LOG_LEVEL": "INFO"}, argv=argv, log_dir=tmp_path) as proc:
        async with OneBotPeer() as peer:
            await peer.connect_reverse(proc.ws_url, retry_for=5)
            await proc.wait_output(r"Bot 10000.*connected")
            mark = peer.mark()
            await peer.private_message(8, "via harness")
            assert only_text(await peer.wait_call("send_msg", since=mark)) == "echo:via harness"
        assert f"tinybot cwd={REPO_ROOT}" in proc.output()
        rc = await proc.stop()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal.
    assert rc in (0, -signal.SIGTERM), proc.output()
    assert "Application shutdown complete" in proc.output()

    # kill9 leaves no chance to clean up.
    proc = BotProcess(argv=argv, log_dir=tmp_path / "k")
    proc.start()
    await proc.wait_listening(timeout=20)
    assert proc.kill9() == -9


@pytest.mark.asyncio
async def test_bot_process_early_exit_fails_fast(tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('boom: bad config\\n'); sys.exit(3)"
    argv = [sys.executable, "-c", code]
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(BotStartError, match=r"(?s)code 3.*boom: bad config"):
        async with BotProcess(argv=argv, log_dir=tmp_path):
            pass
    assert loop.time() - started < 10


def test_short_ids_are_bounded_and_forgotten_on_restart() -> None:
    """Like NapCat's message-unique table: delete_msg and get_msg only know ids still in it."""
    peer = OneBotPeer()
    delete = peer._default_responder("delete_msg")
    get = peer._default_responder("get_msg")
    for mid in range(1, OneBotPeer.SHORT_IDS + 2):
        peer._keep(mid, {"message_id": mid, "sender": {"user_id": peer.self_id}})  # the bot's own
    with pytest.raises(PeerFail) as oldest:
        delete({"message_id": 1})  # pushed out of the table by newer messages
    assert (oldest.value.retcode, oldest.value.msg) == (1200, RECALL_FAILED)
    assert delete({"message_id": 2}) is None
    with pytest.raises(PeerFail):
        delete({"message_id": 2})  # already recalled
    assert get({"message_id": 3}) == {"message_id": 3, "sender": {"user_id": peer.self_id}}
    peer.restart_napcat()
    with pytest.raises(PeerFail):
        delete({"message_id": 3})
    with pytest.raises(PeerFail) as unknown:
        get({"message_id": 3})
    assert (unknown.value.retcode, unknown.value.msg) == (1200, MSG_NOT_FOUND)  # GetMsg.ts


@pytest.mark.parametrize(
    ("bot_role", "author_role", "recalled"),
    [
        ("member", "member", False),
        ("admin", "member", True),
        ("admin", "admin", False),
        ("admin", "owner", False),
        ("owner", "admin", True),
    ],
)
def test_recalling_someone_elses_message_needs_the_rights_qq_asks_for(bot_role: str, author_role: str, recalled: bool) -> None:
    """QQ refuses without a word; NapCat waits 1 s for a confirmation and answers Timeout. The
    message stays, so a later recall with the rights still works."""
    peer = OneBotPeer()
    delete = peer._default_responder("delete_msg")
    peer.roles[(40001, peer.self_id)] = bot_role
    peer._keep(7, {"message_id": 7, "group_id": 40001, "sender": {"user_id": 30001, "role": author_role}})
    if recalled:
        assert delete({"message_id": 7}) is None and 7 not in peer.messages
        return
    with pytest.raises(PeerFail) as refused:
        delete({"message_id": 7})
    assert (refused.value.retcode, refused.value.msg) == (1200, RECALL_TIMEOUT)
    assert 7 in peer.messages
    peer.roles[(40001, peer.self_id)] = "owner"
    assert delete({"message_id": 7}) is None


def test_nobody_recalls_someone_elses_private_message() -> None:
    peer = OneBotPeer()
    peer._keep(8, {"message_id": 8, "message_type": "private", "sender": {"user_id": 30001}})
    with pytest.raises(PeerFail):
        peer._default_responder("delete_msg")({"message_id": 8})
