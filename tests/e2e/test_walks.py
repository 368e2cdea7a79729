"""The same end-to-end walks over QQ (OneBot v11, NapCat-like peer) and Feishu (the Open
Platform stand-in), on SQLite and PostgreSQL, from one org file in which some people have an
account on both platforms, one only on Feishu, and groups live on either.

Each walk is written once against `Side`: what a person does in a chat and what they see. A
side says it the way its platform does (QQ numbers and segments; open_ids, chat ids and posts).
The walks: an anonymous concern from submission to the leader's reply; the study day's post
and a check-in; a moderator's /谣言 that recalls where the bot is a group admin and says why
it could not where it is not."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from tests.conftest import PG_URL, _drop_pg_database, _pg_database
from tests.e2e.test_bot_process import bot_env
from tests.harness import REPO_ROOT, BotProcess
from tests.feishu_peer import FeishuPeer
from tests.onebot_peer import Call, OneBotPeer

MATERIALS = REPO_ROOT / "tests" / "data" / "study_materials"
CONCERN_DAY = datetime.fromisoformat("2026-11-16T10:00:00+08:00")  # a Monday
STUDY_DAY = datetime.fromisoformat("2026-12-05T09:00:00+08:00")
CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")
SECRET = "这个月的绩效工资少发了三百元，没有任何说明"
REPLY = "已核实，下月补发"
RUMOUR = "听说从下个月开始绩效工资要砍掉一半，年终奖也取消了，人事科已经在做新表了"
OTHER = "内部消息：局里要和隔壁县局合并，一半的人要分流到乡镇站点，名单月底公布"
ENCRYPT_KEY = "walk-encrypt-key-0123456789"

# Feishu accounts of the org file below.
LEADER_OU = "ou_1ead0000000000000000000000000002"
MOD_OU = "ou_30d00000000000000000000000000003"
ZHANG_OU = "ou_2a4e0000000000000000000000000001"
ZHOU_OU = "ou_2b0c0000000000000000000000000007"  # 周七: only on Feishu
STRANGER_OU = "ou_5e1f0000000000000000000000000099"  # in no org file: submits anonymously
CHAT_A, CHAT_B = "oc_a0000000000000000000000000000001", "oc_b0000000000000000000000000000002"

ORG = f"""\
organisation: 测试局
timezone: Asia/Shanghai
superusers: [10001]
head: 20000
departments:
  - {{id: quality, name: 质量科, head: 20001}}
categories:
  - {{id: pay, name: 工资福利, leader: {LEADER_OU}, keywords: [工资, 奖金, 补贴]}}
  - {{id: other, name: 其他, leader: 20001}}
people:
  - {{qq: 20000, name: 赵局长, roles: [head]}}
  - {{qq: 20001, name: 钱科长, department: quality, roles: [leader]}}
  - {{accounts: {{qq: 20002, feishu: {LEADER_OU}}}, name: 李四, department: quality, roles: [leader, cadre]}}
  - {{accounts: {{qq: 20003, feishu: {MOD_OU}}}, name: 王五, department: quality}}
  - {{accounts: {{qq: 30001, feishu: {ZHANG_OU}}}, name: 张三, department: quality}}
  - {{accounts: {{feishu: {ZHOU_OU}}}, name: 周七, department: quality}}
groups:
  - {{id: 40001, name: 质量科职工群, department: quality, study: {{day: 5, time: "09:00"}}, moderators: [20003]}}
  - {{id: 40002, name: 办公室群, moderators: [20003]}}
  - {{id: {CHAT_A}, platform: feishu, name: 一车间群, department: quality, study: {{day: 5, time: "09:00"}}, moderators: [{MOD_OU}]}}
  - {{id: {CHAT_B}, platform: feishu, name: 二车间群, moderators: [{MOD_OU}]}}
"""


class Side(Protocol):
    """A platform as the people in the walks meet it. People are named by role: "leader" (李四),
    "moderator" (王五), "worker" (张三), "author" (who posts the rumours), "stranger" (in no
    org file); groups "a" (the bot is an admin there) and "b" (it is not)."""

    def mark(self) -> int: ...

    async def private(self, who: str, text: str) -> None: ...

    async def group(self, where: str, who: str, text: str, reply_to: str | None = None) -> str: ...

    async def wait_private(self, who: str, since: int, contains: str = "", timeout: float = 15) -> str: ...

    async def wait_group(self, where: str, since: int, contains: str = "", timeout: float = 15) -> str: ...

    def recalled(self, since: int) -> list[str]: ...

    def account(self, who: str) -> str: ...


async def _until(find: Callable[[], str | None], timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return found


def _ok(call: Call) -> bool:
    """NapCat answered the call with success (a refused send reached nobody)."""
    return call.response is not None and call.response.get("status") == "ok"


class QQSide:
    USERS = {"leader": 20002, "moderator": 20003, "worker": 30001, "author": 30001, "stranger": 30099}
    GROUPS = {"a": 40001, "b": 40002}

    def __init__(self, peer: OneBotPeer) -> None:
        self.peer = peer
        peer.roles[(40001, peer.self_id)] = "admin"  # QQ lets an admin recall members' messages
        peer.add_members(40001, 20002, 20003, 30001)
        peer.add_members(40002, 20003, 30001)

    def mark(self) -> int:
        return self.peer.mark()

    def account(self, who: str) -> str:
        return str(self.USERS[who])

    async def private(self, who: str, text: str) -> None:
        await self.peer.private_message(self.USERS[who], text)

    async def group(self, where: str, who: str, text: str, reply_to: str | None = None) -> str:
        role = "admin" if who == "moderator" else "member"
        mid = await self.peer.group_message(
            self.GROUPS[where], self.USERS[who], text, reply_to=int(reply_to) if reply_to else None, role=role
        )
        return str(mid)

    def _find(self, target: tuple[str, int], since: int, contains: str) -> str | None:
        return next((c.text for c in self.peer.calls[since:] if c.target == target and contains in c.text and _ok(c)), None)

    async def wait_private(self, who: str, since: int, contains: str = "", timeout: float = 15) -> str:
        target = ("private", self.USERS[who])
        return await _until(lambda: self._find(target, since, contains), timeout, f"QQ private to {who}: {contains}")

    async def wait_group(self, where: str, since: int, contains: str = "", timeout: float = 15) -> str:
        target = ("group", self.GROUPS[where])
        return await _until(lambda: self._find(target, since, contains), timeout, f"QQ group {where}: {contains}")

    def recalled(self, since: int) -> list[str]:
        return [str(c.params["message_id"]) for c in self.peer.calls[since:] if c.action == "delete_msg" and _ok(c)]


class FeishuSide:
    USERS = {"leader": LEADER_OU, "moderator": MOD_OU, "worker": ZHANG_OU, "author": ZHOU_OU, "stranger": STRANGER_OU}
    GROUPS = {"a": CHAT_A, "b": CHAT_B}

    def __init__(self, peer: FeishuPeer) -> None:
        self.peer = peer
        for name, uid in (("李四", LEADER_OU), ("王五", MOD_OU), ("张三", ZHANG_OU), ("周七", ZHOU_OU), ("路人", STRANGER_OU)):
            peer.add_user(uid, name)
        peer.add_chat(CHAT_A, "一车间群", members=(LEADER_OU, MOD_OU, ZHANG_OU, ZHOU_OU), owner=MOD_OU)
        peer.add_chat(CHAT_B, "二车间群", members=(MOD_OU, ZHOU_OU), owner=MOD_OU)
        peer.make_bot_admin(CHAT_A)  # Feishu lets the bot recall others' messages where it is an admin

    def mark(self) -> int:
        return self.peer.mark()

    def account(self, who: str) -> str:
        return self.USERS[who]

    async def private(self, who: str, text: str) -> None:
        await self.peer.private_message(self.USERS[who], text)

    async def group(self, where: str, who: str, text: str, reply_to: str | None = None) -> str:
        return await self.peer.group_message(self.GROUPS[where], self.USERS[who], text, parent_id=reply_to)

    def _find(self, kind: str, target: str, since: int, contains: str) -> str | None:
        return next((s.text for s in self.peer.sent(since) if (s.kind, s.target) == (kind, target) and contains in s.text), None)

    async def wait_private(self, who: str, since: int, contains: str = "", timeout: float = 15) -> str:
        uid = self.USERS[who]
        return await _until(lambda: self._find("private", uid, since, contains), timeout, f"Feishu private to {who}: {contains}")

    async def wait_group(self, where: str, since: int, contains: str = "", timeout: float = 15) -> str:
        chat = self.GROUPS[where]
        return await _until(lambda: self._find("group", chat, since, contains), timeout, f"Feishu chat {where}: {contains}")

    def recalled(self, since: int) -> list[str]:
        return [c.path.rsplit("/", 1)[-1] for c in self.peer.calls[since:] if c.route == "delete" and c.status == 200]


@asynccontextmanager
async def _database(tmp_path: Path, db: str) -> AsyncIterator[str]:
    if db == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    if not PG_URL:
        pytest.skip("LIANXIN_TEST_PG is not set")
    url, name = await _pg_database(PG_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(PG_URL, name)


@asynccontextmanager
async def running(tmp_path: Path, platform: str, db: str) -> AsyncIterator[tuple[Side, BotProcess, Path]]:
    clock_file = tmp_path / "clock"
    clock_file.write_text(CONCERN_DAY.isoformat())
    org = tmp_path / "org.yaml"
    org.write_text(ORG, encoding="utf-8")
    async with _database(tmp_path, db) as url:
        env = bot_env(
            tmp_path, LIANXIN_ORG=str(org), SQLALCHEMY_DATABASE_URL=url, LIANXIN_CLOCK_FILE=str(clock_file),
            LIANXIN_MATERIALS=str(MATERIALS), LIANXIN_TICK_SECONDS="1", LIANXIN_SEND_INTERVAL="0.05",
            LIANXIN_SEND_JITTER="0", LOG_LEVEL="INFO",
        )
        if platform == "qq":
            async with OneBotPeer() as peer, BotProcess(env, log_dir=tmp_path) as proc:
                side = QQSide(peer)
                await peer.connect_reverse(proc.ws_url)
                yield side, proc, clock_file
            return
        async with FeishuPeer(encrypt_key=ENCRYPT_KEY) as fpeer:
            fside = FeishuSide(fpeer)
            app = {"app_id": fpeer.app_id, "app_secret": fpeer.app_secret, "verification_token": fpeer.verification_token,
                   "encrypt_key": ENCRYPT_KEY, "api_base": fpeer.url}
            async with BotProcess(env | {"FEISHU_BOTS": json.dumps([app])}, log_dir=tmp_path) as proc:
                fpeer.webhook = f"http://{proc.addr}/feishu/{fpeer.app_id}"
                await proc.wait_output(rf"FEISHU \| Bot {fpeer.app_id} connected", timeout=20)
                yield fside, proc, clock_file


PLATFORMS = pytest.mark.parametrize("platform", ["qq", "feishu"])
DATABASES = pytest.mark.parametrize("db", ["sqlite", "postgresql"])


@PLATFORMS
@DATABASES
async def test_an_anonymous_concern_reaches_its_leader_and_the_reply_comes_back(tmp_path: Path, platform: str, db: str) -> None:
    async with running(tmp_path, platform, db) as (side, proc, clock_file):
        mark = side.mark()
        await side.private("stranger", f"/诉求 {SECRET}")
        receipt = await side.wait_private("stranger", mark, "回执码")
        found = CODE.search(receipt)
        assert found, receipt
        code = found.group(0)

        # The next digest slot: the leader (named in the file by the Feishu id, on QQ too) is
        # told, with the words and without anyone's id.
        clock_file.write_text((CONCERN_DAY + timedelta(minutes=31)).isoformat())
        digest = await side.wait_private("leader", mark, "#1")
        assert SECRET in digest and side.account("stranger") not in digest

        mark = side.mark()
        await side.private("leader", "/受理 1")
        await side.wait_private("leader", mark, "已受理 #1")
        relayed = await side.wait_private("stranger", mark, code)
        assert "受理" in relayed

        mark = side.mark()
        await side.private("leader", f"/回复 1 {REPLY}")
        answer = await side.wait_private("stranger", mark, REPLY)
        assert code in answer
        logs = proc.output()
    assert SECRET not in logs and REPLY not in logs and side.account("stranger") not in logs
    if db == "sqlite":  # who sent it is stored nowhere, in any table
        with sqlite3.connect(tmp_path / "bot.db") as conn:
            dump = "\n".join(conn.iterdump())
        assert SECRET in dump and side.account("stranger") not in dump and code not in dump


@PLATFORMS
@DATABASES
async def test_study_day_post_and_a_check_in(tmp_path: Path, platform: str, db: str) -> None:
    async with running(tmp_path, platform, db) as (side, proc, clock_file):
        mark = side.mark()
        clock_file.write_text(STUDY_DAY.isoformat())
        await side.wait_group("a", mark, "安全生产测试材料", timeout=20)
        mark = side.mark()
        await side.group("a", "worker", "/已学")
        said = await side.wait_group("a", mark, "打卡")
        assert said.startswith("张三打卡成功：《安全生产测试材料》。积分 +1。"), said
        mark = side.mark()
        await side.group("a", "worker", "/已学")
        assert (await side.wait_group("a", mark, "打过卡")).startswith("张三已经打过卡了")


@PLATFORMS
@DATABASES
async def test_a_rumour_is_recalled_where_the_bot_is_admin_and_explained_where_not(tmp_path: Path, platform: str, db: str) -> None:
    async with running(tmp_path, platform, db) as (side, proc, clock_file):
        rumour = await side.group("a", "author", RUMOUR)
        mark = side.mark()
        await side.group("a", "moderator", "/谣言", reply_to=rumour)
        ack = await side.wait_private("moderator", mark, "已确认案件 #1")
        assert "· 消息已撤回" in ack and "· 已在群里发布辟谣" in ack, ack
        assert side.recalled(mark) == [rumour]
        clarification = await side.wait_group("a", mark, "【辟谣】")
        assert "绩效工资" in clarification

        # Not an admin in group b: nothing recalled, and the moderator is told what to do.
        other = await side.group("b", "author", OTHER)
        mark = side.mark()
        await side.group("b", "moderator", "/谣言", reply_to=other)
        ack = await side.wait_private("moderator", mark, "已确认案件 #2")
        assert "消息未能撤回" in ack and "请手动处理" in ack, ack
        assert side.recalled(mark) == []


def test_the_walks_read_every_platform_the_same_way() -> None:
    """Both sides name the same people and groups (a walk cannot quietly skip one)."""
    assert set(QQSide.USERS) == set(FeishuSide.USERS) and set(QQSide.GROUPS) == set(FeishuSide.GROUPS)


