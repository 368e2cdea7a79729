"""End-to-end: `python -m bot` as a subprocess, driven over a real OneBot v11 WebSocket."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, BotProcess
from tests.onebot_peer import HandshakeRefused, OneBotPeer

TEST_ORG = REPO_ROOT / "tests" / "data" / "org.yaml"
KEY = "11" * 32
WORKER, CADRE = 30001, 20002


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "LIANXIN_ORG": str(TEST_ORG),
        "LIANXIN_SECRET_KEY": KEY,
        "LOG_LEVEL": "DEBUG",
    }
    for name in ("ONEBOT_WS_URLS", "ONEBOT_ACCESS_TOKEN", "LIANXIN_CLOCK_FILE"):
        os.environ.pop(name, None)
    return env | extra


async def test_help_in_private_and_group_over_reverse_websocket(tmp_path: Path) -> None:
    async with BotProcess(bot_env(tmp_path), log_dir=tmp_path) as proc, OneBotPeer() as peer:
        await peer.connect_reverse(proc.ws_url)
        await peer.private_message(WORKER, "/帮助")
        call = await peer.wait_call("send_msg", where=lambda c: c.params.get("message_type") == "private")
        assert call.params["user_id"] == WORKER
        assert call.text.startswith("我最常用的命令：")
        assert "/状态" not in call.text  # a worker is not offered cadre commands

        mark = peer.mark()
        await peer.group_message(40001, WORKER, "/帮助")
        call = await peer.wait_call("send_msg", since=mark)
        assert call.params["group_id"] == 40001 and "请私聊我" in call.text

        mark = peer.mark()
        await peer.private_message(CADRE, "/状态")
        call = await peer.wait_call("send_msg", since=mark)
        assert "数据库：正常。" in call.text and "QQ：已连上（账号 10000）" in call.text

        secret = "食堂的饭菜越来越贵了想反映"
        mark = peer.mark()
        await peer.private_message(WORKER, secret)
        await peer.wait_call("send_msg", since=mark)
        # Even at DEBUG the bot's log never carries what was said in private.
        assert secret not in proc.output()


async def test_forward_websocket_mode(tmp_path: Path) -> None:
    async with OneBotPeer() as peer:
        port = await peer.serve_forward()
        env = bot_env(tmp_path, ONEBOT_WS_URLS=f'["ws://127.0.0.1:{port}/"]')
        async with BotProcess(env, log_dir=tmp_path):
            await peer.wait_connected(timeout=30)
            await peer.private_message(WORKER, "/帮助")
            call = await peer.wait_call("send_msg")
            assert call.text.startswith("我最常用的命令：")


async def test_access_token_is_enforced(tmp_path: Path) -> None:
    env = bot_env(tmp_path, ONEBOT_ACCESS_TOKEN="right-token")
    async with BotProcess(env, log_dir=tmp_path) as proc:
        async with OneBotPeer() as intruder:
            with pytest.raises(HandshakeRefused):
                await intruder.connect_reverse(proc.ws_url, access_token="wrong-token", retry_for=5)
        async with OneBotPeer() as anonymous:
            with pytest.raises(HandshakeRefused):
                await anonymous.connect_reverse(proc.ws_url, retry_for=5)
        async with OneBotPeer() as peer:
            await peer.connect_reverse(proc.ws_url, access_token="right-token")
            await peer.private_message(WORKER, "/帮助")
            await peer.wait_call("send_msg")


async def test_bad_org_file_stops_startup_with_one_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(TEST_ORG.read_text(encoding="utf-8").replace("department: quality, roles: [worker]", "department: qa, roles: [worker]"), encoding="utf-8")
    proc = BotProcess(bot_env(tmp_path, LIANXIN_ORG=str(bad)), log_dir=tmp_path)
    proc.start()
    code = await proc.wait_exit(timeout=30)
    out = proc.output()
    assert code == 2
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("连心无法启动：组织文件") and str(bad) in lines[0]
    assert "people[5]" in lines[0] and "qa" in lines[0]
    assert "Traceback" not in out and not (tmp_path / "bot.db").exists()


async def test_embedded_defaults_from_a_fresh_directory(tmp_path: Path) -> None:
    """No settings at all: SQLite under data/, the example org, a key generated with mode 0600."""
    (tmp_path / "data").mkdir()
    shutil.copy(REPO_ROOT / "data" / "org.example.yaml", tmp_path / "data" / "org.example.yaml")
    env = {"PYTHONPATH": str(REPO_ROOT)}
    for name in ("SQLALCHEMY_DATABASE_URL", "LIANXIN_ORG", "LIANXIN_SECRET_KEY", "LIANXIN_MATERIALS", "ONEBOT_WS_URLS", "ONEBOT_ACCESS_TOKEN"):
        os.environ.pop(name, None)
    async with BotProcess(env, cwd=tmp_path, log_dir=tmp_path) as proc, OneBotPeer() as peer:
        await peer.connect_reverse(proc.ws_url)
        await peer.private_message(99999, "/帮助")
        await peer.wait_call("send_msg")
        assert "org.example.yaml" in proc.output()
    key = tmp_path / "data" / "secret.key"
    assert (tmp_path / "data" / "lianxin.db").is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64


async def test_malformed_events_do_not_crash_the_bot(tmp_path: Path) -> None:
    async with BotProcess(bot_env(tmp_path), log_dir=tmp_path) as proc, OneBotPeer() as peer:
        await peer.connect_reverse(proc.ws_url)
        bad_events = [
            {"post_type": "message"},
            {"post_type": "message", "message_type": "private", "user_id": "not-a-number", "message": 5},
            {"post_type": "message", "message_type": "group", "group_id": None, "user_id": 1, "message": [{"type": "text"}]},
            {"post_type": "notice", "notice_type": "group_recall"},
            {"post_type": "unknown_kind", "time": "yesterday"},
            {"post_type": "message", "message_type": "private", "sub_type": "friend", "message_id": 1, "user_id": WORKER,
             "message": [{"type": "no_such_segment", "data": {}}], "raw_message": "", "font": 0, "time": 0, "self_id": 10000,
             "sender": {}},
            "[1, 2, 3]",
            '"just a string"',
        ]
        for event in bad_events:
            await peer.send_event(event)  # type: ignore[arg-type]
        mark = peer.mark()
        await peer.private_message(WORKER, "/帮助")
        call = await peer.wait_call("send_msg", since=mark)
        assert call.text.startswith("我最常用的命令：")
        # A frame that is not JSON at all is skipped; the connection stays (issue 10, item 18).
        link = peer._link
        await peer.raw_frame("this is not json {")
        await peer.raw_frame(b"\xff\xfe binary junk")
        mark = peer.mark()
        await peer.private_message(WORKER, "/帮助")
        await peer.wait_call("send_msg", since=mark)
        assert peer._link is link and proc.returncode is None
        out = proc.output()
        assert "Error while process data" not in out and "this is not json" not in out
        assert out.count("Ignored a WebSocket frame that is not JSON") == 2


async def test_private_replies_reach_a_non_friend_through_a_shared_group(tmp_path: Path) -> None:
    """NapCat refuses a private send to someone who is not the bot's friend unless it names a
    group they share (retcode 1200, EventChecker Failed): the reply must carry one."""
    async with BotProcess(bot_env(tmp_path), log_dir=tmp_path) as proc, OneBotPeer() as peer:
        peer.add_members(40001, WORKER)
        await peer.connect_reverse(proc.ws_url)
        # A group temporary chat: NapCat reports it as sub_type "group", and the worker is no friend.
        await peer.private_message(WORKER, "/帮助", sub_type="group")
        call = await peer.wait_call(where=lambda c: c.target == ("private", WORKER))
        assert call.params.get("group_id") == 40001
        answer = await call.answered()
        assert answer["status"] == "ok", answer


def _broken_greetings(tmp_path: Path) -> tuple[str, Path, str]:
    folder = tmp_path / "greetings"
    shutil.copytree(REPO_ROOT / "data" / "greetings", folder)
    bad = folder / "birthday.yaml"
    bad.write_text("templates:\n  - '{name}，生日快乐'\n  - '{nmae}，生日快乐'\n", encoding="utf-8")
    return "LIANXIN_GREETINGS", folder, f"问候语文件 {bad}：templates 第 2 条用了不认识的占位符 {{nmae}}"


def _broken_lexicon(tmp_path: Path) -> tuple[str, Path, str]:
    folder = tmp_path / "lexicons"
    folder.mkdir()
    bad = folder / "abuse.txt"
    bad.write_bytes("骂人\n".encode("gbk"))
    return "LIANXIN_LEXICONS", folder, f"词表文件 {bad} 无法读取（应为 UTF-8 编码的文本）"


def _broken_clarification(tmp_path: Path) -> tuple[str, Path, str]:
    folder = tmp_path / "clarifications"
    folder.mkdir()
    bad = folder / "pay.md"
    bad.write_text("---\ntitle: 工资传言\nkeywords: [工资\n---\n工资按时发放。\n", encoding="utf-8")
    return "LIANXIN_CLARIFICATIONS", folder, f"辟谣文本 {bad} 的前置信息不是有效的 YAML 第 3 行"


@pytest.mark.parametrize("broken", [_broken_greetings, _broken_lexicon, _broken_clarification], ids=["greetings", "lexicon", "clarification"])
async def test_a_broken_data_file_stops_startup_with_one_line_naming_it(tmp_path: Path, broken) -> None:  # type: ignore[no-untyped-def]
    setting, folder, expected = broken(tmp_path)
    proc = BotProcess(bot_env(tmp_path, **{setting: str(folder)}), log_dir=tmp_path)
    proc.start()
    code = await proc.wait_exit(timeout=30)
    out = proc.output()
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith(f"连心无法启动：{expected}"), out
    assert "Traceback" not in out and "Failed to import" not in out and not (tmp_path / "bot.db").exists()
