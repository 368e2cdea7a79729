"""Logs never pair a user id with private-message text (DESIGN invariant 1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nonebot import logger
from nonebot.adapters.onebot.v11 import Bot
from nonebot.exception import NoLogException
from nonebug import App

from bot.dispatch import PRIVATE_HINT
from tests.helpers import group_event, private_event, text

SECRET = "我的工资被拖欠了三个月想反映一下"
USER = 30001


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=0, format="{name} | {message}")
    yield lines
    logger.remove(sink)


async def test_private_text_never_reaches_the_log(app: App, db, log_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    event = private_event(USER, SECRET)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_HINT), result={"message_id": 1})
    event_lines = [line for line in log_lines if f"Private message {event.message_id}" in line]
    assert event_lines, "the event log line itself should still be written, redacted"
    assert not [line for line in log_lines if SECRET[:6] in line]
    assert not any(str(USER) in line for line in event_lines)


async def test_group_message_log_line_carries_no_text(app: App, db, log_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns import PRIVATE_ONLY

    event = group_event(40001, USER, "/诉求 " + SECRET)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_ONLY), result={"message_id": 1})
        ctx.should_call_api("delete_msg", {"message_id": event.message_id}, result=None)
    assert not [line for line in log_lines if SECRET[:6] in line]


def test_adapter_builds_the_redacted_event_classes() -> None:
    from bot.platform.onebot_ingress import GroupMessageEvent, PrivateMessageEvent

    assert isinstance(private_event(USER, SECRET), PrivateMessageEvent)
    assert isinstance(group_event(40001, USER, SECRET), GroupMessageEvent)
    assert SECRET not in private_event(USER, SECRET).get_log_string()


# --- every event type, at every level (issue 10, items 1-3) -----------------

NICK = "提交人的昵称"
NOW = 1764720000


def _napcat(post_type: str, **fields: object) -> dict[str, object]:
    return {"time": NOW, "self_id": 10000, "post_type": post_type, **fields}


EVENTS = {
    # NapCat's OB11InputStatusEvent, sent while someone types to the bot.
    "input_status": _napcat("notice", notice_type="notify", sub_type="input_status", status_text="对方正在输入...",
                            event_type=1, user_id=USER, group_id=0),
    "friend_recall": _napcat("notice", notice_type="friend_recall", user_id=USER, message_id=77),
    "poke": _napcat("notice", notice_type="notify", sub_type="poke", target_id=10000, user_id=USER),
    "group_increase": _napcat("notice", notice_type="group_increase", sub_type="approve", group_id=40001,
                              user_id=USER, operator_id=USER),
    "unknown_notice": _napcat("notice", notice_type="profile_like", operator_id=USER, operator_nick=NICK, times=1),
    "friend_request": _napcat("request", request_type="friend", user_id=USER, comment=SECRET, flag="f1"),
    "unknown_post_type": _napcat("something_new", user_id=USER, detail=SECRET),
    "lifecycle": _napcat("meta_event", meta_event_type="lifecycle", sub_type="connect"),
}


@pytest.mark.parametrize("name", list(EVENTS))
async def test_every_event_type_is_logged_without_user_or_content(app: App, log_lines: list[str], name: str) -> None:
    from bot.platform.onebot_ingress import Adapter as Ingress

    event = Ingress.json_to_event(dict(EVENTS[name]))
    assert event is not None
    for shown in (repr(event), str(event), event.get_event_description()):
        assert str(USER) not in shown and SECRET[:6] not in shown and NICK not in shown, shown
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
    assert not [line for line in log_lines if str(USER) in line or SECRET[:6] in line or NICK in line]
    if name != "lifecycle":  # meta events are not logged at all
        assert [line for line in log_lines if f"[{event.get_event_name()}]" in line]


@pytest.mark.parametrize(
    "broken",
    [{"font": None}, {"sender": None}, {"sub_type": None}, {"message_id": "abc"}],
    ids=["no font", "no sender", "no sub_type", "message_id not a number"],
)
def test_an_unreadable_private_message_is_counted_and_logged_without_content(log_lines: list[str], broken: dict[str, object]) -> None:
    from bot import platform
    from bot.platform import onebot_ingress as ingress

    payload = _napcat(
        "message", message_type="private", sub_type="friend", message_id=88, user_id=USER, target_id=USER, font=14,
        message=[{"type": "text", "data": {"text": SECRET}}], raw_message=SECRET, message_format="array",
        sender={"user_id": USER, "nickname": NICK, "card": ""},
    )
    payload = {k: v for k, v in (payload | broken).items() if v is not None}
    before = platform.unreadable_count
    event = ingress.Adapter.json_to_event(payload)
    assert isinstance(event, ingress.UnreadableEvent)
    assert event.user_id == USER and event.message_type == "private"
    assert event.get_type() == "notice" and event.get_event_name() == "unreadable.message.private"
    with pytest.raises(NoLogException):  # NoneBot writes no line of its own for it
        event.get_log_string()
    assert platform.unreadable_count == before + 1
    assert [line for line in log_lines if "Unreadable message.private event" in line]
    assert not [line for line in log_lines if str(USER) in line or SECRET[:6] in line or NICK in line]
    assert str(USER) not in repr(event)


def test_message_sent_reports_are_dropped_without_a_trace(log_lines: list[str]) -> None:
    from bot.platform import onebot_ingress as ingress

    report = _napcat(
        "message_sent", message_type="private", sub_type="friend", message_id=99, user_id=10000, target_id=USER,
        message=[{"type": "text", "data": {"text": SECRET}}], raw_message=SECRET, font=14, message_sent_type="self",
        sender={"user_id": 10000, "nickname": "连心", "card": ""},
    )
    before = ingress.self_reports
    assert ingress.Adapter.json_to_event(report) is None
    assert ingress.self_reports == before + 1
    assert not [line for line in log_lines if str(USER) in line or SECRET[:6] in line]


def test_nonebot_config_dump_masks_every_secret(monkeypatch: pytest.MonkeyPatch, log_lines: list[str]) -> None:
    """The line nonebot.init writes at DEBUG, written the way it writes it."""
    from nonebot.compat import model_dump
    from nonebot.config import Config
    from nonebot.utils import escape_tag

    from bot import logs, settings

    token, key, password = "tok-Zp81kQm3", "ab" * 32, "pw/Lk2+8s Q"
    url = f"postgresql+asyncpg://lianxin:{password.replace('/', '%2F').replace('+', '%2B').replace(' ', '%20')}@db:5432/lianxin"
    monkeypatch.setenv("ONEBOT_ACCESS_TOKEN", token)
    monkeypatch.setenv("LIANXIN_SECRET_KEY", key)
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URL", url)
    logs.add_secrets(settings.secret_values())
    # Settings from .env reach NoneBot's Config as they are, registered or not.
    config = Config(  # type: ignore[call-arg]
        _env_file=None, onebot_access_token=token, lianxin_secret_key=key, sqlalchemy_database_url=url,
        postgres_password="other-Pw-77", webui_token="xyz-unlisted-9",
    )
    assert token in str(model_dump(config)) and url in str(model_dump(config))
    logger.opt(colors=True).debug(f"Loaded <y><b>Config</b></y>: {escape_tag(str(model_dump(config)))}")
    line = next(line for line in log_lines if "Loaded Config" in line)
    for secret in (token, key, url.split(":")[2].split("@")[0], "other-Pw-77", "xyz-unlisted-9"):
        assert secret not in line, line
    assert "onebot_access_token" in line and "db:5432" in line  # the rest stays readable


def test_trace_line_of_a_matcher_run_withholds_event_and_state(log_lines: list[str]) -> None:
    logger.trace(
        "Matcher(type='message', module=x, lineno=1) run with incoming args: bot=Bot(type='OneBot V11', self_id='1'), "
        f"event=E(), state={{'_prefix': {{'command_arg': '{SECRET}'}}, 'user': {USER}}}"
    )
    logger.error(f"Failed to parse event. Raw: {{'post_type': 'message', 'user_id': {USER}, 'raw_message': '{SECRET}'}}")
    assert [line for line in log_lines if "run (context withheld)" in line]
    assert not [line for line in log_lines if SECRET[:6] in line or str(USER) in line]


async def test_status_counts_unreadable_events(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from bot import platform
    from plugins.admin import data_source

    monkeypatch.setattr(platform, "unreadable_count", 3)
    assert "无法读取的事件：3 条" in await data_source.status_text()


# --- no token on a public address (item 9) ----------------------------------


@pytest.mark.parametrize(
    ("host", "token", "opt_out", "starts"),
    [
        (None, None, None, True),
        ("127.0.0.1", None, None, True),
        ("localhost", None, None, True),
        ("::1", None, None, True),
        ("0.0.0.0", None, None, False),
        ("192.168.1.20", None, None, False),
        ("::", None, None, False),
        ("bot.example.org", None, None, False),
        ("0.0.0.0", "a-token", None, True),
        ("0.0.0.0", None, "1", True),
        ("0.0.0.0", None, "0", False),
    ],
)
def test_public_address_needs_a_token(
    monkeypatch: pytest.MonkeyPatch, host: str | None, token: str | None, opt_out: str | None, starts: bool
) -> None:
    from bot import settings
    from bot.errors import StartupError

    for name, value in (("HOST", host), ("ONEBOT_ACCESS_TOKEN", token), ("LIANXIN_ALLOW_NO_TOKEN", opt_out)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if starts:
        settings.check_exposure()
    else:
        with pytest.raises(StartupError, match="ONEBOT_ACCESS_TOKEN"):
            settings.check_exposure()


def test_after_start_one_line_says_where_napcat_connects_and_whether_a_token_is_set(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot import core

    monkeypatch.delenv("ONEBOT_WS_URLS", raising=False)
    monkeypatch.delenv("ONEBOT_ACCESS_TOKEN", raising=False)
    line = core.next_step()
    assert "ws://127.0.0.1:" in line and "/onebot/v11/ws" in line and "未设置访问令牌" in line
    monkeypatch.setenv("ONEBOT_ACCESS_TOKEN", "s3cret-token")
    line = core.next_step()
    assert "已设置访问令牌" in line and "s3cret-token" not in line
