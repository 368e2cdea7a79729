"""End-to-end in a real browser: the web console driven in headless Chromium (Selenium), the
bot a real process, the chat the OneBot test peer.

A leader logs in through the bot's one-time link, answers a concern (the submitter receives it
over OneBot), and a cadre imports 200 people from an Excel file who may use the bot at once.
Screenshots of the pages go to docs/ (when LIANXIN_SCREENSHOTS is set).

Needs Debian's chromium and chromium-driver; `.ci/run` installs them and sets
LIANXIN_TEST_BROWSER=1, which turns a missing browser into a failure instead of a skip.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_ORG
from tests.e2e.test_bot_process import bot_env
from tests.harness import REPO_ROOT, BotProcess, free_port
from tests.onebot_peer import OneBotPeer

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WORKER, LEADER, NEW_CADRE = 30001, 20002, 31000
START = datetime(2026, 11, 16, 10, 0)  # a Monday
SECRET = "夜班补贴三个月没发了，希望领导关心一下"
LINK = re.compile(r"http://\S+/console/login\?token=[\w-]+")
SENDS = ("send_msg", "send_private_msg")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    if CHROMIUM is None or DRIVER is None:
        return "chromium and chromium-driver are not installed (apt install chromium chromium-driver)"
    return None


if (why := _missing()) is not None:
    if os.environ.get("LIANXIN_TEST_BROWSER"):
        raise RuntimeError(f"browser tests required but {why}")
    pytest.skip(why, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def _fonts(tmp: Path) -> dict[str, str]:
    """The CJK font that comes with the Python dependencies (mplfonts), for a machine with no
    system fonts: a user's browser has its own, the screenshots need one."""
    import mplfonts

    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{Path(mplfonts.__file__).parent / 'fonts'}</dir><cachedir>{tmp / 'cache'}</cachedir></fontconfig>"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=430,1000", "--lang=zh-CN"):
        options.add_argument(arg)
    env = _fonts(tmp_path_factory.mktemp("fonts"))
    driver = webdriver.Chrome(service=Service(DRIVER or "", env=env), options=options)
    driver.set_page_load_timeout(120)
    # A click that submits a form returns before the next page is there: look for what the next
    # page shows, with patience (wait_text), rather than at what is on screen at that instant.
    driver.implicitly_wait(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> None:
    if os.environ.get("LIANXIN_SCREENSHOTS"):
        # The whole page, at phone width: what a cadre sees scrolling on a phone.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(430, min(max(height + 120, 700), 2400))
        driver.save_screenshot(str(REPO_ROOT / "docs" / name))
        driver.set_window_size(430, 1000)


def wait_text(driver: Any, by: str, what: str, text: str) -> str:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    found = WebDriverWait(driver, 60, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: d.find_element(by, what).text if text in d.find_element(by, what).text else False
    )
    return str(found)


async def off_loop(fn: Any, *args: Any) -> Any:
    """Selenium blocks; the OneBot peer lives on this loop and must keep answering the bot."""
    return await asyncio.to_thread(fn, *args)


def to(user: int):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("private", user)


def roster(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "账号", "部门", "角色", "生日"])
    for i in range(200):
        ws.append([f"新同事{i}", NEW_CADRE + i, "质量科", "政工干部" if i == 0 else "职工", f"199{i % 10}-0{1 + i % 9}-1{i % 10}"])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    return path


async def test_leader_and_cadre_work_in_the_browser(tmp_path: Path, browser: Any) -> None:
    org = tmp_path / "org.yaml"
    shutil.copy(TEST_ORG, org)
    library = tmp_path / "materials"  # the console writes materials here, never into the checkout
    shutil.copytree(REPO_ROOT / "data" / "materials", library)
    clock_file = tmp_path / "clock"
    clock_file.write_text(START.isoformat())
    port = free_port()
    base = f"http://127.0.0.1:{port}/console"
    env = bot_env(
        tmp_path, LIANXIN_ORG=str(org), LIANXIN_MATERIALS=str(library), LIANXIN_CONSOLE_URL=base, LIANXIN_CLOCK_FILE=str(clock_file),
        LIANXIN_TICK_SECONDS="1", LIANXIN_SEND_INTERVAL="0.05", LIANXIN_SEND_JITTER="0", LOG_LEVEL="INFO",
    )
    async with OneBotPeer() as peer:
        async with BotProcess(env, port=port, log_dir=tmp_path) as proc:
            await peer.connect_reverse(proc.ws_url)
            # A worker's concern, seen by the leader from the next batch slot.
            mark = peer.mark()
            await peer.private_message(WORKER, f"/诉求 {SECRET}")
            await peer.wait_call(SENDS, where=to(WORKER), since=mark)
            clock_file.write_text((START + timedelta(minutes=31)).isoformat())
            await peer.wait_call(SENDS, where=lambda c: to(LEADER)(c) and "#1" in c.text, since=mark, timeout=15)

            # Login through the bot.
            mark = peer.mark()
            await peer.private_message(LEADER, "/工作台")
            answer = await peer.wait_call(SENDS, where=to(LEADER), since=mark)
            found = LINK.search(answer.text)
            assert found, answer.text
            await off_loop(browser.get, found.group(0))
            await off_loop(lambda: browser.find_element(By.TAG_NAME, "button").click())
            await off_loop(wait_text, browser, By.TAG_NAME, "h1", "你好，李四")
            await off_loop(shot, browser, "console-home.png")

            # Answer the concern from the page; the submitter receives it over OneBot.
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "我的待办诉求").click())
            card = browser.find_element(By.ID, "c1")
            assert SECRET in card.text and str(WORKER) not in browser.page_source
            await off_loop(shot, browser, "console-concerns.png")
            card.find_element(By.NAME, "text").send_keys("已向财务核实，下月随工资补发")
            mark = peer.mark()
            await off_loop(lambda: card.find_element(By.XPATH, ".//button[text()='答复']").click())
            await off_loop(wait_text, browser, By.CLASS_NAME, "notice", "已答复 #1")
            relay = await peer.wait_call(SENDS, where=to(WORKER), since=mark)
            assert "已向财务核实，下月随工资补发" in relay.text

            # Import 200 people; the new cadre may use a cadre's command at once.
            mark = peer.mark()
            await peer.private_message(NEW_CADRE, "/状态")
            refused = await peer.wait_call(SENDS, where=to(NEW_CADRE), since=mark)
            assert "只有" in refused.text
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "首页").click())
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "人员名单").click())
            browser.find_element(By.NAME, "file").send_keys(str(roster(tmp_path / "名单.xlsx")))
            await off_loop(lambda: browser.find_element(By.XPATH, "//button[text()='导入']").click())
            await off_loop(wait_text, browser, By.CLASS_NAME, "notice", "已导入：新增 200 人")
            await off_loop(shot, browser, "console-people.png")
            mark = peer.mark()
            await peer.private_message(NEW_CADRE, "/状态")
            allowed = await peer.wait_call(SENDS, where=to(NEW_CADRE), since=mark)
            assert "只有" not in allowed.text, allowed.text
            # ...and their /帮助 now offers a cadre's commands; a new worker is answered by /学习.
            mark = peer.mark()
            await peer.private_message(NEW_CADRE, "/帮助")
            help_text = await peer.wait_call(SENDS, where=to(NEW_CADRE), since=mark)
            assert "/发布学习" in help_text.text or "/月报" in help_text.text, help_text.text
            mark = peer.mark()
            await peer.private_message(NEW_CADRE + 1, "/学习")
            study_now = await peer.wait_call(SENDS, where=to(NEW_CADRE + 1), since=mark)
            assert "学习材料" in study_now.text, study_now.text

            # A cadre adds a material with a quiz, previews it, saves it: /学习 finds it at once.
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "首页").click())
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "学习材料").click())
            fields = {"title": "班组安全十分钟", "period": "2026-11", "audience": "班组长",
                      "body": "每天开工前，班组长用十分钟讲清当天的风险点。", "q0_question": "开工前讲风险点由谁来讲？",
                      "q0_choices": "班组长\n保安\n食堂师傅", "q0_answer": "班组长"}
            for name, value in fields.items():
                element = browser.find_element(By.NAME, name)
                await off_loop(element.clear)
                await off_loop(element.send_keys, value)
            await off_loop(lambda: browser.find_element(By.XPATH, "//button[text()='预览']").click())
            await off_loop(wait_text, browser, By.CLASS_NAME, "text", "【学习日】2026年11月学习材料（面向班组长）")
            await off_loop(shot, browser, "console-materials.png")
            await off_loop(lambda: browser.find_element(By.XPATH, "//button[text()='保存']").click())
            await off_loop(wait_text, browser, By.CLASS_NAME, "notice", "已保存《班组安全十分钟》")
            mark = peer.mark()
            await peer.private_message(WORKER, "/学习 班组安全")
            study = await peer.wait_call(SENDS, where=to(WORKER), since=mark)
            assert "《班组安全十分钟》" in study.text, study.text

            # The month's report as a page, with its chart.
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "首页").click())
            await off_loop(lambda: browser.find_element(By.LINK_TEXT, "报表").click())
            field = browser.find_element(By.NAME, "month")
            await off_loop(field.send_keys, "本月")
            await off_loop(lambda: browser.find_element(By.XPATH, "//button[text()='看月报']").click())
            await off_loop(wait_text, browser, By.CLASS_NAME, "text", "2026年11月")
            assert browser.find_elements(By.CSS_SELECTOR, "img[alt='报表图表']"), "no chart"
            await off_loop(shot, browser, "console-report.png")
            logs = proc.output()
    assert SECRET not in logs and "token=" + found.group(0).split("token=")[1] not in logs
