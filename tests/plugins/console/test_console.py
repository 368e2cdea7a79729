"""The web console (issue 13, first part): login through the bot, sessions, CSRF, escaping,
who may see which page, and a leader answering a concern from the browser.

Requests go through the bot's own FastAPI app (httpx's ASGI transport); chat goes through
nonebug, and the submitter's reply through the OneBot API the test peer checks.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App
from sqlalchemy import select

from bot import clock
from plugins.concerns import intake, texts, ticks
from plugins.concerns.models import Concern
from plugins.console import auth
from plugins.console.models import ConsoleAudit, ConsoleSession
from tests.helpers import private_event
from tests.plugins.concerns.test_concerns_promises import HEAD, MODERATOR, MONDAY, PAY_LEADER, SECRET, WORKER, submitted, to_submitter

BASE = "http://testserver/console"
LINK = re.compile(r"http://testserver/console/login\?token=[\w-]{43}")


pytestmark = pytest.mark.usefixtures("monday")


@pytest.fixture
def console_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANXIN_CONSOLE_URL", BASE + "/")


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=nonebot.get_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Capture:
    """Matches any message and keeps its text (the link is random)."""

    value = ""

    def __eq__(self, other: object) -> bool:
        self.value = str(other)
        return True


async def ask_link(app: App, user: int) -> str:
    answer = Capture()
    event = private_event(user, "/工作台")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, answer, result={"message_id": 1})
    return answer.value


async def login(app: App, web: httpx.AsyncClient, user: int) -> None:
    found = LINK.search(await ask_link(app, user))
    assert found, "no login link"
    token = found.group(0).split("token=")[1]
    r = await web.post("/console/login", data={"token": token})
    assert r.status_code == 303, r.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


# --- login -----------------------------------------------------------------------------------


async def test_console_is_off_unless_its_address_is_set(app: App, db, web: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    answer = Capture()
    event = private_event(PAY_LEADER, "/工作台")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, answer, result={"message_id": 1})
    assert "还没有开启" in answer.value and "http" not in answer.value
    assert (await web.get("/console/")).status_code == 404


async def test_link_is_single_use_survives_a_preview_and_expires(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    reply = await ask_link(app, PAY_LEADER)
    assert "10 分钟内" in reply and "请勿转发" in reply
    link = LINK.search(reply)
    assert link
    token = link.group(0).split("token=")[1]
    # A chat app's preview fetches the link: that must not use it up.
    for _ in range(2):
        r = await web.get("/console/login", params={"token": token})
        assert r.status_code == 200 and "进入工作台" in r.text
        assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    r = await web.post("/console/login", data={"token": token})
    assert r.status_code == 303 and r.headers["location"] == "./"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console/" in cookie
    assert "secure" not in cookie  # served over http here; over https it is Secure
    home = await web.get("/console/")
    assert home.status_code == 200 and "你好，李四" in home.text
    # Used once: a second login with the same link is refused, and so is its preview.
    web.cookies.clear()
    assert (await web.post("/console/login", data={"token": token})).status_code == 410
    assert (await web.get("/console/login", params={"token": token})).status_code == 410
    # Another link, opened after 10 minutes.
    late = LINK.search(await ask_link(app, PAY_LEADER))
    assert late
    clock.set_now(MONDAY + timedelta(minutes=11))
    r = await web.post("/console/login", data={"token": late.group(0).split("token=")[1]})
    assert r.status_code == 410 and "已过期" in r.text
    assert (await web.get("/console/")).status_code == 401


async def test_https_address_makes_the_cookie_secure(app: App, db, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIANXIN_CONSOLE_URL", "https://bot.example.gov.cn/lianxin/console")
    token = (await ask_link(app, PAY_LEADER)).split("token=")[1]
    assert (await ask_link(app, PAY_LEADER)).count("https://bot.example.gov.cn/lianxin/console/login?token=") == 1
    r = await web.post("/console/login", data={"token": token.strip()})
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "path=/lianxin/console/" in cookie


async def test_a_worker_gets_no_link_and_a_link_made_for_one_opens_nothing(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    reply = await ask_link(app, WORKER)
    assert "http" not in reply and "只有" in reply
    token = (await auth.issue_link(str(WORKER))).split("token=")[1]
    assert (await web.post("/console/login", data={"token": token})).status_code == 410
    async with db() as s:
        assert (await s.scalars(select(ConsoleSession))).all() == []


async def test_sessions_end_when_idle_on_logout_and_everywhere(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await login(app, web, PAY_LEADER)
    clock.set_now(MONDAY + timedelta(minutes=31))
    assert (await web.get("/console/")).status_code == 401
    await login(app, web, PAY_LEADER)
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=nonebot.get_app()), base_url="http://testserver")
    async with other:
        await login(app, other, PAY_LEADER)
        page = (await web.get("/console/")).text
        # Logout needs the page's CSRF token.
        assert (await web.post("/console/logout", data={"everywhere": "1"})).status_code == 403
        r = await web.post("/console/logout", data={"csrf": csrf_of(page), "everywhere": "1"})
        assert r.status_code == 200 and "已退出" in r.text
        assert (await other.get("/console/")).status_code == 401
    async with db() as s:
        actions = [a.action for a in (await s.scalars(select(ConsoleAudit).order_by(ConsoleAudit.id))).all()]
    assert actions == ["login", "login", "login", "logout_all"]


# --- who sees what ---------------------------------------------------------------------------

ROUTES: list[tuple[str, str]] = [("GET", "/console/"), ("GET", "/console/concerns"), ("POST", "/console/concerns/1/ack"), ("POST", "/console/concerns/1/reply")]
# person -> expected status per route, after login (None: cannot log in at all)
MATRIX: dict[int | None, list[int]] = {
    None: [401, 401, 401, 401],  # no session
    MODERATOR: [200, 403, 403, 403],
    HEAD: [200, 200, 400, 400],  # the head acts on a concern only once escalated to them: not found
    PAY_LEADER: [200, 200, 303, 303],
}


@pytest.mark.parametrize("person", list(MATRIX))
async def test_role_route_matrix(app: App, db, web: httpx.AsyncClient, console_on: None, person: int | None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    csrf = ""
    if person is not None:
        await login(app, web, person)
        csrf = csrf_of((await web.get("/console/")).text)
    got: list[int] = []
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")
        if person == PAY_LEADER:  # the acknowledgement and the reply reach the submitter
            ctx.should_call_api("send_private_msg", to_submitter_data(), result={"message_id": 9})
            ctx.should_call_api("send_private_msg", to_submitter_data(), result={"message_id": 10})
        for method, path in ROUTES:
            data = {"csrf": csrf, "text": "已向财务核实，下月补发"}
            r = await (web.get(path) if method == "GET" else web.post(path, data=data))
            got.append(r.status_code)
            if person == HEAD and path.endswith("/ack"):
                assert "没有找到你负责的 #1 号诉求" in r.text
    assert got == MATRIX[person]


def to_submitter_data() -> dict[str, Any]:
    """A private message to the submitter (its wording is tested in test_concerns*)."""
    return to_submitter("", "")[1] | {"message": _Any()}


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


# --- a leader answers from the browser -------------------------------------------------------


async def test_leader_answers_a_concern_from_the_browser_and_the_submitter_receives_it(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    done = await submitted()
    await login(app, web, PAY_LEADER)
    page = await web.get("/console/concerns")
    assert page.status_code == 200 and SECRET in page.text and "#1 工资福利" in page.text
    csrf = csrf_of(page.text)
    answer = "已向财务核实，下月补发"
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")
        relayed = to_submitter(done.code, texts.RELAY_MESSAGES["reply"].format(text=answer))
        ctx.should_call_api(relayed[0], relayed[1], result={"message_id": 9})
        r = await web.post("/console/concerns/1/reply", data={"csrf": csrf, "text": answer})
    assert r.status_code == 303
    back = await web.get("/console/concerns?" + r.headers["location"].split("?", 1)[1].split("#")[0])
    assert "已答复 #1，已转达提交人。" in back.text
    async with db() as s:
        c = await s.get(Concern, 1)
        assert c is not None and c.status == "replied"
        audit = (await s.scalars(select(ConsoleAudit).where(ConsoleAudit.action == "concern_reply"))).one()
        assert audit.user_id == str(PAY_LEADER) and audit.target == "#1"


async def test_a_post_without_the_pages_csrf_token_changes_nothing(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    await login(app, web, PAY_LEADER)
    for data in ({"text": "x"}, {"csrf": "forged", "text": "x"}):
        r = await web.post("/console/concerns/1/close", data=data)
        assert r.status_code == 403 and "页面已过期" in r.text
    async with db() as s:
        c = await s.get(Concern, 1)
        assert c is not None and c.status == "new"


async def test_an_empty_answer_is_refused_and_nothing_is_sent(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/concerns")).text)
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")  # no API call expected: nonebug fails on any
        r = await web.post("/console/concerns/1/reply", data={"csrf": csrf, "text": "  "})
    assert r.status_code == 400 and "内容是空的" in r.text
    # The page shown from /console/concerns/1/reply links back correctly.
    assert 'action="../../concerns/1/reply"' in r.text


async def test_text_shows_as_text_and_no_page_names_the_submitter(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await intake.submit(user_id=str(WORKER), bot_id="10000", text="工资<script>alert(1)</script>补贴没发")
    clock.set_now(MONDAY + timedelta(minutes=25))
    await ticks.digest_tick()
    await login(app, web, PAY_LEADER)
    pages = [await web.get(p) for p in ("/console/", "/console/concerns")]
    body = pages[1].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    for r in pages:
        everything = r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items())
        assert str(WORKER) not in everything and "张三" not in everything
        assert "default-src 'self'" in r.headers["content-security-policy"]


async def test_the_login_token_never_reaches_the_log(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    from nonebot import logger

    token = (await ask_link(app, PAY_LEADER)).split("token=")[1].strip()
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="TRACE")
    try:
        # What uvicorn's access log writes for the preview fetch, through the bot's sinks.
        logger.info(f'127.0.0.1:50000 - "GET /console/login?token={token} HTTP/1.1" 200')
    finally:
        logger.remove(sink)
    assert len(lines) == 1 and "GET /console/login?token=" in lines[0]
    assert token not in lines[0]


# --- people: import the roster from Excel ----------------------------------------------------


@pytest.fixture
def org_copy(tmp_path):  # type: ignore[no-untyped-def]
    """The test org as a file of its own, so the console may write it back."""
    import shutil

    from bot import orgfile, runtime
    from bot.org import load_org
    from tests.conftest import TEST_ORG

    before = runtime.org()
    path = tmp_path / "org.yaml"
    shutil.copy(TEST_ORG, path)
    org = load_org(path)
    runtime.set_org(org)
    orgfile.remember(org)
    yield path
    runtime.set_org(before)
    orgfile.remember(before)


def workbook(rows: list[list[Any]]) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def upload(web: httpx.AsyncClient, name: str, data: bytes) -> httpx.Response:
    csrf = csrf_of((await web.get("/console/people")).text)
    return await web.post("/console/people/import", data={"csrf": csrf}, files={"file": (name, data)})


async def status_answer(app: App, user: int) -> str:
    answer = Capture()
    event = private_event(user, "/状态")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, answer, result={"message_id": 1})
    return answer.value


async def test_cadre_imports_200_people_from_excel_and_they_can_use_the_bot_at_once(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy) -> None:  # type: ignore[no-untyped-def]
    from bot import runtime
    from bot.org import Role, load_org

    new_cadre = 31000
    assert "只有" in await status_answer(app, new_cadre)
    rows: list[list[Any]] = [["姓名", "账号", "部门", "角色", "生日"]]
    rows += [[f"新同事{i}", 31000 + i, "质量科", "政工干部" if i == 0 else "职工", "农历1990-08-15" if i % 2 else datetime_of(i)] for i in range(200)]
    await login(app, web, PAY_LEADER)  # 李四 is a cadre
    r = await upload(web, "名单.xlsx", workbook(rows))
    assert r.status_code == 303, r.text
    page = await web.get("/console/people?" + r.headers["location"].split("?", 1)[1])
    assert "已导入：新增 200 人，更新 0 人。马上生效，不用重启。" in page.text and "人员名单（207 人）" in page.text
    # In use now, without a restart: the new cadre may use /状态, and the file holds them all.
    assert len(runtime.org().people) == 207
    assert "只有" not in await status_answer(app, new_cadre)
    fresh = load_org(org_copy)  # what a restart or another process reads
    assert len(fresh.people) == 207
    assert (fresh.people["31001"].name, fresh.people["31001"].department) == ("新同事1", "quality")
    assert fresh.roles_of("31000") >= {Role.cadre} and fresh.account_for("31001", "qq") == "31001"
    text = org_copy.read_text(encoding="utf-8")
    assert "# Test organisation" in text  # comments survive the write-back
    assert len(list(org_copy.parent.glob("org.yaml.*.bak"))) == 1
    async with db() as s:
        audit = (await s.scalars(select(ConsoleAudit).where(ConsoleAudit.action == "people_import"))).one()
        assert audit.user_id == str(PAY_LEADER)


def datetime_of(i: int):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime(1990, 1 + i % 12, 1 + i % 28)


async def test_a_roster_with_bad_rows_imports_nobody_and_says_which_rows(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy) -> None:  # type: ignore[no-untyped-def]
    from bot import runtime

    before = org_copy.read_text(encoding="utf-8")
    rows: list[list[Any]] = [["姓名", "QQ号", "部门", "角色", "生日"],
                             ["好人", 32001, "质量科", "职工", "1991-02-03"],
                             ["", "abc", "保卫科", "司机", "1991-02-30"],
                             ["重复", 32001, "", "", ""]]
    await login(app, web, PAY_LEADER)
    r = await upload(web, "名单.xlsx", workbook(rows))
    assert r.status_code == 400
    assert "有 2 行需要修改，没有导入任何人" in r.text
    assert "第 3 行" in r.text and "姓名没有填" in r.text and "账号“abc”应为 QQ 号" in r.text
    assert "部门“保卫科”不在组织文件里" in r.text and "角色“司机”不认识" in r.text
    assert "第 4 行" in r.text and "和第 2 行重复" in r.text
    assert org_copy.read_text(encoding="utf-8") == before and "32001" not in runtime.org().people
    # A CSV saved by Excel in China (GBK) works too.
    csv = "姓名,账号,部门\n好人,32001,质量科\n".encode("gb18030")
    r = await upload(web, "名单.csv", csv)
    assert r.status_code == 303 and "32001" in runtime.org().people
    r = await upload(web, "名单.doc", b"x")
    assert r.status_code == 400 and "请上传 .xlsx 或 .csv 文件" in r.text


async def test_people_page_is_for_cadres_only(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy) -> None:  # type: ignore[no-untyped-def]
    await login(app, web, MODERATOR)
    assert (await web.get("/console/people")).status_code == 403
    csrf = csrf_of((await web.get("/console/")).text)
    r = await web.post("/console/people/import", data={"csrf": csrf}, files={"file": ("a.csv", "姓名,账号\n甲,33001\n".encode())})
    assert r.status_code == 403


async def test_a_bad_hand_edit_keeps_the_last_good_org_and_says_why(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy) -> None:  # type: ignore[no-untyped-def]
    import os

    from bot import orgfile, runtime

    good = runtime.org()
    text = org_copy.read_text(encoding="utf-8")
    org_copy.write_text(text.replace("department: quality, roles: [worker]", "department: nowhere, roles: [worker]"), encoding="utf-8")
    os.utime(org_copy, (1, 1))  # a different stamp even within the same second
    assert await orgfile.reload_if_changed() is False
    assert runtime.org() is good and orgfile.state.problem and "nowhere" in orgfile.state.problem
    await login(app, web, PAY_LEADER)
    page = await web.get("/console/people")
    assert "组织文件最近的改动有误，仍在使用上一次的正确版本" in page.text
    org_copy.write_text(text.replace("name: 张三", "name: 张三丰"), encoding="utf-8")
    assert await orgfile.reload_if_changed() is True
    assert runtime.org().display_name(WORKER) == "张三丰" and orgfile.state.problem is None


# --- study materials ---------------------------------------------------------------------------


@pytest.fixture
def library_copy(tmp_path):  # type: ignore[no-untyped-def]
    """The study test materials in a folder of their own, so the console may add to it."""
    import shutil

    from plugins.study import materials, watch
    from tests.conftest import ROOT

    folder = tmp_path / "materials"
    shutil.copytree(ROOT / "tests" / "data" / "study_materials", folder)
    lib = materials.load_library(folder)
    before = materials.use(lib)
    watch.remember(lib)
    yield folder
    materials.use(before)


def material_form(csrf: str, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf, "title": "青年职工<b>安全</b>第一课", "period": "2026-11", "audience": "青年职工",
        "summary": "", "body": "发现隐患，马上报告。\n\n【怎么做】\n先停机，再报告班组长。",
        "q0_question": "发现隐患第一步做什么？", "q0_choices": "先停机\n继续干活\n下班再说", "q0_answer": "先停机",
        "q1_question": "", "q1_choices": "", "q1_answer": "",
    } | extra


async def ask(app: App, user: int, words: str) -> str:
    answer = Capture()
    event = private_event(user, words)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, answer, result={"message_id": 1})
    return answer.value


async def test_cadre_writes_a_material_with_a_quiz_previews_it_and_it_is_in_chat_at_once(app: App, db, web: httpx.AsyncClient, console_on: None, library_copy) -> None:  # type: ignore[no-untyped-def]
    from plugins.study import materials

    await login(app, web, PAY_LEADER)
    page = await web.get("/console/materials")
    assert page.status_code == 200 and "学习日安排" in page.text and "质量科职工群" in page.text
    assert "节假日照常推送" in page.text  # the group's holiday rule
    csrf = csrf_of(page.text)
    preview = await web.post("/console/materials", data=material_form(csrf, do="preview"))
    assert preview.status_code == 200
    assert "【学习日】2026年11月学习材料（面向青年职工）" in preview.text  # the group post, as sent
    assert "《青年职工&lt;b&gt;安全&lt;/b&gt;第一课》" in preview.text and "<b>安全</b>" not in preview.text
    assert "发现隐患第一步做什么？（答案 A）" in preview.text  # the choice's text became its letter
    assert not list(library_copy.glob("2026-11-青年职工*.md"))  # a preview saves nothing
    assert len(materials.library().materials) == 3
    saved = await web.post("/console/materials", data=material_form(csrf, do="save"))
    assert saved.status_code == 303
    notice = (await web.get("/console/materials?" + saved.headers["location"].split("?", 1)[1])).text
    assert "已保存《青年职工&lt;b&gt;安全&lt;/b&gt;第一课》（2026年11月），马上生效。" in notice
    files = sorted(p.name for p in library_copy.glob("*.md"))
    assert "2026-11-青年职工b安全b第一课.md" in files  # characters a file name cannot hold left out
    new = next(p for p in library_copy.glob("2026-11-青年职工*.md"))
    assert materials.load_material(new).quiz[0].answer == 0  # the file loads like any hand-written one
    # In chat at once: /学习 finds it and sends its full text as a merged message.
    answer, full = Capture(), Capture()
    event = private_event(WORKER, "/学习 青年职工")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, answer, result={"message_id": 1})
        ctx.should_call_api("send_private_forward_msg", full, result={"message_id": 2})
    assert "《青年职工<b>安全</b>第一课》" in answer.value and "先停机，再报告班组长" in full.value
    async with db() as s:
        audit = (await s.scalars(select(ConsoleAudit).where(ConsoleAudit.action == "material_save"))).one()
        assert audit.user_id == str(PAY_LEADER)


async def test_a_material_that_would_not_load_is_not_saved(app: App, db, web: httpx.AsyncClient, console_on: None, library_copy) -> None:  # type: ignore[no-untyped-def]
    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/materials")).text)
    before = sorted(p.name for p in library_copy.iterdir())
    cases = [
        ({"period": "2026年11月"}, "期次"),
        ({"audience": "", "title": "另一份十一月材料"}, "重复"),  # a second general material for 2026-11
        ({"title": "旧材料", "audience": ""}, ""),
        ({"q0_answer": "D"}, "答案"),
        ({"body": ""}, "正文为空"),
    ]
    for extra, words in cases:
        r = await web.post("/console/materials", data=material_form(csrf, do="save", **extra))
        assert r.status_code == 400 and "没有保存" in r.text and words in r.text, (extra, r.text[-800:])
        assert 'value="2026-11"' in r.text or "period" in extra  # what was typed is still in the form
    assert sorted(p.name for p in library_copy.iterdir()) == before


async def test_word_upload_and_question_bank_with_row_errors(app: App, db, web: httpx.AsyncClient, console_on: None, library_copy) -> None:  # type: ignore[no-untyped-def]
    import io

    from docx import Document

    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/materials")).text)
    doc = Document()
    doc.add_heading("一、为什么要学", level=1)
    doc.add_paragraph("安全是最大的效益。")
    buf = io.BytesIO()
    doc.save(buf)
    bank = workbook([["题目", "选项", "答案", "解析"], ["安全第一吗？", "是|否", "是", ""], ["", "甲|乙", "C", ""]])
    form = material_form(csrf, do="preview", body="")
    r = await web.post("/console/materials", data=form, files={"file": ("材料.docx", buf.getvalue()), "bank": ("题库.xlsx", bank)})
    assert r.status_code == 400 and "题库有 1 行需要修改，一道题也没有导入" in r.text and "第 3 行" in r.text
    assert "## 一、为什么要学" in r.text  # the Word text is in the form now
    bank = workbook([["题目", "选项A", "选项B", "答案"], ["安全第一吗？", "是", "否", "是"], ["要戴安全帽吗？", "要", "不要", "1"]])
    r = await web.post("/console/materials", data=form, files={"file": ("材料.docx", buf.getvalue()), "bank": ("题库.xlsx", bank)})
    assert r.status_code == 200 and "安全第一吗？（答案 A）" in r.text and "要戴安全帽吗？（答案 A）" in r.text
    assert "安全是最大的效益。" in r.text


async def test_materials_are_for_cadres_only(app: App, db, web: httpx.AsyncClient, console_on: None, library_copy) -> None:  # type: ignore[no-untyped-def]
    await login(app, web, MODERATOR)
    assert (await web.get("/console/materials")).status_code == 403
    csrf = csrf_of((await web.get("/console/")).text)
    assert (await web.post("/console/materials", data=material_form(csrf, do="save"))).status_code == 403
    assert not list(library_copy.glob("2026-11-青年职工*.md"))


# --- moderation cases --------------------------------------------------------------------------


async def open_case(db, text: str, category: str = "rumour", group: int = 40001) -> int:  # type: ignore[no-untyped-def]
    from plugins.moderation.models import ModerationCase

    async with db() as s:
        case = ModerationCase(
            group_id=str(group), message_id="7001", author_id=str(WORKER), author_name="张三", text=text, source="screen",
            category=category, status="open", opened_at=clock.utcnow(), reports=0, recalled=False,
        )
        s.add(case)
        await s.flush()
        number = case.id
        await s.commit()
    return number


async def test_a_moderator_decides_a_case_from_the_browser(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    from plugins.moderation.models import ModerationCase

    number = await open_case(db, "听说下个月<script>x</script>工资减半")
    await login(app, web, MODERATOR)
    page = await web.get("/console/cases")
    assert page.status_code == 200 and f"#{number} " in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>x" not in page.text
    csrf = csrf_of(page.text)
    # No account connected: nothing is decided, and the page says why.
    r = await web.post(f"/console/cases/{number}/dismiss", data={"csrf": csrf, "note": ""})
    assert r.status_code == 503 and "没有连上 QQ" in r.text
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")
        r = await web.post(f"/console/cases/{number}/dismiss", data={"csrf": csrf, "note": ""})
    assert r.status_code == 303
    after = await web.get("/console/cases?" + r.headers["location"].split("?", 1)[1].split("#")[0])
    assert f"已驳回案件 #{number}：不属于违规。" in after.text and "目前没有待处理的案件。" in after.text
    assert "驳回" in after.text.split("处理记录")[1]  # the audit log shows the decision
    async with db() as s:
        case = await s.get(ModerationCase, number)
        assert case is not None and case.status == "dismissed" and case.decided_by == str(MODERATOR)


async def test_cadres_see_waiting_appeals_and_the_groups_moderator_sees_open_cases(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    from plugins.moderation.models import ModerationCase

    number = await open_case(db, "一条待处理的消息")
    async with db() as s:
        appealed = ModerationCase(
            group_id="40001", message_id="7002", author_id=str(WORKER), author_name="张三", text="一条已确认的消息", source="flag",
            category="rumour", status="confirmed", opened_at=clock.utcnow(), decided_at=clock.utcnow(), reports=0,
            recalled=False, appeal="我是转发的，不知道是假的", appealed_at=clock.utcnow(),
        )
        s.add(appealed)
        await s.commit()
    await login(app, web, PAY_LEADER)  # 李四: a cadre
    page = (await web.get("/console/cases")).text
    assert f"#{number} " in page and "等待复核的申诉（1 件）" in page and "申诉理由：我是转发的，不知道是假的" in page
    await login(app, web, MODERATOR)  # 王五: the group's moderator; appeals are for cadres
    page = (await web.get("/console/cases")).text
    assert f"#{number} " in page and "等待复核的申诉" not in page and "我是转发的" not in page


async def test_cases_are_for_moderators_and_cadres(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    number = await open_case(db, "一条待处理的消息")
    await login(app, web, 20001)  # 钱科长: a leader, neither moderator nor cadre
    assert (await web.get("/console/cases")).status_code == 403
    csrf = csrf_of((await web.get("/console/")).text)
    assert "案件" not in (await web.get("/console/")).text.split("</header>")[1]
    r = await web.post(f"/console/cases/{number}/confirm", data={"csrf": csrf})
    assert r.status_code == 403


# --- status --------------------------------------------------------------------------------------


async def test_status_page_resends_an_unknown_send_only_after_it_was_checked(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    from bot.models import Outbox

    now = clock.utcnow()
    async with db() as s:
        plain = Outbox(purpose="study-day", period="2026-11", target_kind="group", target_id="40001", payload=[], status="unknown", not_before=now, created_at=now)
        secret = Outbox(purpose="concern-relay", period="1", target_kind="private", target_id=str(WORKER), payload=[], status="unknown", not_before=now, created_at=now)
        s.add_all([plain, secret])
        await s.flush()
        plain_id, secret_id = plain.id, secret.id
        await s.commit()
    await login(app, web, PAY_LEADER)
    page = await web.get("/console/status")
    assert page.status_code == 200 and "结果未知的发送（2 条）" in page.text and "质量科职工群" in page.text
    assert str(WORKER) not in page.text and "张三" not in page.text  # the concern relay names nobody
    assert f"status/resend/{secret_id}" not in page.text
    csrf = csrf_of(page.text)
    r = await web.post(f"/console/status/resend/{plain_id}", data={"csrf": csrf})
    assert r.status_code == 303 and "%E6%A0%B8%E5%AE%9E" in r.headers["location"]  # "核实": check first
    r = await web.post(f"/console/status/resend/{secret_id}", data={"csrf": csrf, "checked": "1"})
    assert "没有重发" in (await web.get("/console/status?" + r.headers["location"].split("?", 1)[1])).text
    r = await web.post(f"/console/status/resend/{plain_id}", data={"csrf": csrf, "checked": "1"})
    assert "已重新排队发送这条消息" in (await web.get("/console/status?" + r.headers["location"].split("?", 1)[1])).text
    async with db() as s:
        assert (await s.get(Outbox, plain_id)).status == "pending"  # type: ignore[union-attr]
        assert (await s.get(Outbox, secret_id)).status == "unknown"  # type: ignore[union-attr]


# --- every route, every role -------------------------------------------------------------------

LEADER_ONLY, SUPERUSER = 20001, 10001
PEOPLE_SEEN = [None, LEADER_ONLY, PAY_LEADER, MODERATOR, HEAD, SUPERUSER]
# Who may use each route (beyond logging in): the page's own rule.
ALLOWED: dict[str, set[int]] = {
    "/console/": {LEADER_ONLY, PAY_LEADER, MODERATOR, HEAD, SUPERUSER},
    "/console/concerns": {LEADER_ONLY, PAY_LEADER, HEAD, SUPERUSER},
    "/console/concerns/{number}/{action}": {LEADER_ONLY, PAY_LEADER, HEAD, SUPERUSER},
    "/console/people": {PAY_LEADER, SUPERUSER},
    "/console/people/import": {PAY_LEADER, SUPERUSER},
    "/console/materials": {PAY_LEADER, SUPERUSER},
    "/console/materials/quiz-template.csv": {PAY_LEADER, SUPERUSER},
    "/console/cases": {PAY_LEADER, MODERATOR, SUPERUSER},
    "/console/cases/{number}/{decision}": {PAY_LEADER, MODERATOR, SUPERUSER},
    "/console/status": {PAY_LEADER, SUPERUSER},
    "/console/status/resend/{row}": {PAY_LEADER, SUPERUSER},
    "/console/logout": {LEADER_ONLY, PAY_LEADER, MODERATOR, HEAD, SUPERUSER},
    "/console/org": {PAY_LEADER, SUPERUSER},
    "/console/people/{qq}": {PAY_LEADER, SUPERUSER},
    "/console/org/{kind}/{key}": {PAY_LEADER, SUPERUSER},
    "/console/materials/send": {PAY_LEADER, SUPERUSER},
    "/console/clarifications": {PAY_LEADER, MODERATOR, SUPERUSER},
    "/console/reports": {PAY_LEADER, HEAD, SUPERUSER},
    "/console/lexicons/{stem}": {PAY_LEADER, MODERATOR, SUPERUSER},
    "/console/reports/export": {PAY_LEADER, HEAD, SUPERUSER},
}
SAMPLE = {"{stem}": "nosuch", "{number}": "1", "{action}": "ack", "{decision}": "dismiss", "{row}": "1", "{qq}": "30002", "{kind}": "category", "{key}": "pay"}


def console_routes() -> list[tuple[str, str]]:
    from plugins.console.web import router

    out = []
    for route in router.routes:
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method != "HEAD" and route.path != "/console/login":  # type: ignore[attr-defined]
                out.append((method, route.path))  # type: ignore[attr-defined]
    return out


def test_every_console_route_has_a_rule_in_the_matrix() -> None:
    assert {path for _, path in console_routes()} == set(ALLOWED)


@pytest.mark.parametrize("person", PEOPLE_SEEN)
async def test_every_route_for_every_role(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy, library_copy, person: int | None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    csrf = ""
    if person is not None:
        await login(app, web, person)
        csrf = csrf_of((await web.get("/console/")).text)
    for method, path in console_routes():
        if path == "/console/logout":
            continue  # checked last: it ends the session
        url = path
        for k, v in SAMPLE.items():
            url = url.replace(k, v)
        async with app.test_api() as ctx:
            ctx.create_bot(base=Bot, self_id="10000")
            if method == "POST" and path.startswith("/console/concerns/") and person in (PAY_LEADER, SUPERUSER):  # they act on #1
                ctx.should_call_api("send_private_msg", to_submitter_data(), result={"message_id": 9})
            r = await (web.get(url) if method == "GET" else web.post(url, data={"csrf": csrf, "text": "好的"}))
        if person is None:
            assert r.status_code == 401, (method, url)
        elif person in ALLOWED[path]:
            assert r.status_code not in (401, 403), (person, method, url, r.status_code)
        else:
            assert r.status_code == 403, (person, method, url, r.status_code)
        if "concerns" in url or "status" in url or url == "/console/":
            # No page about concerns shows the submitter's account or name.
            assert str(WORKER) not in r.text and "张三" not in r.text, (person, url)
    r = await web.post("/console/logout", data={"csrf": csrf})
    assert r.status_code == (401 if person is None else 200)


async def test_a_leader_hands_a_concern_over_from_the_page(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/concerns")).text)
    refused = await web.post("/console/concerns/1/transfer", data={"csrf": csrf, "target": "张三"})
    assert refused.status_code == 400 and "没有保存" not in refused.text
    async with db() as s:
        c = await s.get(Concern, 1)
        assert c is not None and c.leader == str(PAY_LEADER)
    async with app.test_api() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")
        ctx.should_call_api("send_private_msg", to_submitter_data(), result={"message_id": 9})  # the submitter is told
        r = await web.post("/console/concerns/1/transfer", data={"csrf": csrf, "target": "孙主任"})
    assert r.status_code == 303, r.text
    back = await web.get("/console/concerns?" + r.headers["location"].split("?", 1)[1].split("#")[0])
    assert "已转给 孙主任" in back.text and "你目前没有待办的诉求" in back.text  # the new owner hears in the next digest
    async with db() as s:
        c = await s.get(Concern, 1)
        assert c is not None and c.leader == "20004"



# --- editing the organisation --------------------------------------------------------------------


async def test_cadre_edits_people_categories_departments_and_study_days(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy) -> None:  # type: ignore[no-untyped-def]
    from bot import runtime
    from bot.org import load_org

    await login(app, web, PAY_LEADER)
    page = await web.get("/console/people/30002")
    assert page.status_code == 200 and "编辑 周六" in page.text
    csrf = csrf_of(page.text)
    assert "只有" in await status_answer(app, 30002)
    r = await web.post("/console/org/person/30002", data={"csrf": csrf, "name": "周六", "department": "office", "role_worker": "1", "role_cadre": "1", "birthday": "农历1990-08-15"})
    assert r.status_code == 303 and r.headers["location"].startswith("../../people?")
    assert "只有" not in await status_answer(app, 30002)  # a cadre now, without a restart
    bad = await web.post("/console/org/person/30002", data={"csrf": csrf, "name": "周六", "birthday": "1990-02-30"})
    assert bad.status_code == 400 and "没有保存" in bad.text and "不是有效日期" in bad.text
    r = await web.post("/console/org/category/pay", data={"csrf": csrf, "leader": "20004", "keywords": "工资、奖金"})
    assert r.status_code == 303 and runtime.org().categories["pay"].leader == "20004"
    assert runtime.org().categories["pay"].keywords == ["工资", "奖金"]
    r = await web.post("/console/org/department/quality", data={"csrf": csrf, "name": "质量安全科", "head": "20001"})
    assert r.status_code == 303 and runtime.org().departments["quality"].name == "质量安全科"
    r = await web.post("/console/org/group/40001", data={"csrf": csrf, "enabled": "1", "day": "40", "time": "09:00", "every": "monthly", "holiday": "keep"})
    assert r.status_code == 400 and "没有保存" in r.text
    assert runtime.org().groups["40001"].study is not None and runtime.org().groups["40001"].study.day == 5  # type: ignore[union-attr]
    r = await web.post("/console/org/group/40001", data={"csrf": csrf, "enabled": "1", "day": "8", "time": "14:30", "every": "monthly", "holiday": "next_workday"})
    assert r.status_code == 303, r.text.split('class="notice">')[1][:300]
    study = load_org(org_copy).groups["40001"].study
    assert study is not None and (study.day, study.time, study.holiday) == (8, "14:30", "next_workday")
    # Removing someone needs the tick box.
    r = await web.post("/console/org/person-remove/30002", data={"csrf": csrf})
    assert r.status_code == 400 and "确认从名单中删除" in r.text and "30002" in runtime.org().people
    r = await web.post("/console/org/person-remove/30002", data={"csrf": csrf, "sure": "1"})
    assert r.status_code == 303 and "30002" not in runtime.org().people and "30002" not in load_org(org_copy).people
    assert "# Test organisation" in org_copy.read_text(encoding="utf-8")


async def test_send_now_shows_the_plan_then_queues_it_once(app: App, db, web: httpx.AsyncClient, console_on: None, library_copy) -> None:  # type: ignore[no-untyped-def]
    from bot.models import Outbox
    from plugins.study import posting

    posting.forget()  # the process remembers what it queued; this test's database is new
    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/materials")).text)
    plan = await web.post("/console/materials/send", data={"csrf": csrf, "title": "十一月测试材料"})
    assert plan.status_code == 200 and "质量科职工群" in plan.text and "确认发送" in plan.text
    assert "/发布学习 确认" not in plan.text  # the chat's instruction is the button here
    async with db() as s:
        assert (await s.scalars(select(Outbox).where(Outbox.purpose == "study-publish"))).all() == []
    done = await web.post("/console/materials/send", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 200 and "质量科职工群：已排队发送" in done.text and "确认发送" not in done.text
    again = await web.post("/console/materials/send", data={"csrf": csrf, "confirm": "1"})
    assert "没有等待确认的发布" in again.text
    async with db() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.purpose == "study-publish"))).all()
    assert [r.target_id for r in rows] == ["40001"]


async def test_moderator_edits_a_clarification_and_a_bad_one_is_not_saved(app: App, db, web: httpx.AsyncClient, console_on: None, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from plugins.moderation.config import load_clarifications
    from tests.conftest import ROOT

    folder = tmp_path / "clarifications"
    shutil.copytree(ROOT / "data" / "clarifications", folder)
    monkeypatch.setenv("LIANXIN_CLARIFICATIONS", str(folder))
    await login(app, web, MODERATOR)
    page = await web.get("/console/clarifications")
    assert page.status_code == 200 and "绩效工资减半" in page.text
    csrf = csrf_of(page.text)
    bad = await web.post("/console/clarifications", data={"csrf": csrf, "name": "canteen", "title": "食堂", "keywords": "", "body": "x"})
    assert bad.status_code == 400 and "没有保存" in bad.text and not (folder / "canteen.md").exists()
    r = await web.post("/console/clarifications", data={
        "csrf": csrf, "name": "canteen", "title": "关于“食堂要关门”的说明", "keywords": "食堂、关门",
        "body": "经核实，食堂照常营业。\n请大家以正式通知为准。"})
    assert r.status_code == 303
    [c] = [c for c in load_clarifications(folder) if c.name == "canteen"]
    assert c.keywords == ("食堂", "关门") and c.text().startswith("【辟谣】关于“食堂要关门”的说明")
    await login(app, web, LEADER_ONLY)
    assert (await web.get("/console/clarifications")).status_code == 403


async def test_reports_page_shows_last_months_report_with_its_chart_and_a_download(app: App, db, web: httpx.AsyncClient, console_on: None) -> None:  # type: ignore[no-untyped-def]
    await submitted()
    clock.set_now(MONDAY + timedelta(days=20))  # in December: last month is November
    await login(app, web, HEAD)
    page = await web.get("/console/reports")
    assert page.status_code == 200 and "2026年11月" in page.text
    assert 'src="data:image/png;base64,' in page.text and SECRET not in page.text and str(WORKER) not in page.text
    bad = await web.get("/console/reports", params={"month": "2030-01"})
    assert bad.status_code == 400 and "还没到" in bad.text
    file = await web.get("/console/reports/export", params={"month": "2026-11"})
    assert file.status_code == 200 and "attachment" in file.headers["content-disposition"]
    assert "spreadsheetml" in file.headers["content-type"]
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(file.content))
    assert len(book.sheetnames) >= 2
    assert not any(SECRET in str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
    await login(app, web, MODERATOR)
    assert (await web.get("/console/reports")).status_code == 403


async def test_moderator_edits_a_lexicon_and_screening_uses_it_at_once(app: App, db, web: httpx.AsyncClient, console_on: None, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from plugins.moderation.index import index
    from tests.conftest import ROOT

    folder = tmp_path / "lexicons"
    shutil.copytree(ROOT / "data" / "lexicons", folder)
    monkeypatch.setenv("LIANXIN_LEXICONS", str(folder))
    screener = await index.get()
    assert screener is not None
    before = screener.phrase_count
    await login(app, web, MODERATOR)
    page = await web.get("/console/clarifications")
    assert "疑似诈骗话术" in page.text and "点击链接领取" in page.text
    csrf = csrf_of(page.text)
    text = (folder / "fraud.txt").read_text(encoding="utf-8")
    bad = await web.post("/console/lexicons/fraud", data={"csrf": csrf, "text": text + "\n钱\n"})
    assert bad.status_code == 400 and "太短" in bad.text and (folder / "fraud.txt").read_text(encoding="utf-8") == text
    r = await web.post("/console/lexicons/fraud", data={"csrf": csrf, "text": text + "\n扫码领取防疫补贴\n"})
    assert r.status_code == 303
    assert "扫码领取防疫补贴" in (folder / "fraud.txt").read_text(encoding="utf-8")
    assert screener.phrase_count == before + 1  # in use without a restart
    assert (await web.post("/console/lexicons/../secret", data={"csrf": csrf, "text": "x"})).status_code in (400, 404)


async def test_a_read_only_org_file_is_explained_and_nothing_changes(app: App, db, web: httpx.AsyncClient, console_on: None, org_copy, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from bot import orgfile, runtime

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(30, "Read-only file system")  # what a read-only mount answers, even to root

    await login(app, web, PAY_LEADER)
    csrf = csrf_of((await web.get("/console/org")).text)
    before = org_copy.read_text(encoding="utf-8")
    monkeypatch.setattr(orgfile.tempfile, "NamedTemporaryFile", read_only)
    r = await web.post("/console/org/category/pay", data={"csrf": csrf, "leader": "20004"})
    monkeypatch.setattr(orgfile.tempfile, "NamedTemporaryFile", tempfile.NamedTemporaryFile)
    assert org_copy.read_text(encoding="utf-8") == before
    assert r.status_code == 400 and "不能写（只读）" in r.text
    assert runtime.org().categories["pay"].leader == "20002"
