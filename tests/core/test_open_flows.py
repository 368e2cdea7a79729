"""Private chat finds an open /诉求 draft or quiz with one look-up, and sees what another bot
process sharing the database opened or closed a moment ago (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator

import pytest
from nonebot import logger
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from bot import clock
from bot import db as botdb
from bot.dispatch import PRIVATE_HINT, dispatch
from plugins.concerns import flow
from plugins.study.models import StudyQuizSession
from tests.helpers import RecordingBot, private_event

WORKER = 30001
ASK_TEXT = "请写下你想反映的内容"


async def say(bot, user_id: int, text: str) -> str:  # type: ignore[no-untyped-def]
    """What the bot answers this private message (the last message it sent)."""
    before = len(bot.sent_messages())
    await dispatch(bot, private_event(user_id, text))
    sent = bot.sent_messages()
    assert len(sent) == before + 1, sent[before:]
    return str(sent[-1])


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=0, format="{name} | {message}")
    yield lines
    logger.remove(sink)


@pytest.fixture
async def other_process(db: async_sessionmaker) -> AsyncIterator[async_sessionmaker]:
    """Sessions of a second bot process: its own engine and connections on the same database."""
    url = db.kw["bind"].url
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        yield async_sessionmaker(engine)
    finally:
        await engine.dispose()


async def as_other(factory: async_sessionmaker, work):  # type: ignore[no-untyped-def]
    """Run `work` with bot.db.session() pointed at the other process's engine."""
    own = botdb._override
    botdb.use_sessions(factory)
    try:
        return await work
    finally:
        botdb.use_sessions(own)


async def test_a_draft_opened_elsewhere_is_continued_here_and_a_closed_one_is_gone(app, db, other_process) -> None:  # type: ignore[no-untyped-def]
    bot = RecordingBot.make()
    assert await say(bot, WORKER, "你好") == PRIVATE_HINT
    await as_other(other_process, flow.start(str(WORKER)))
    assert ASK_TEXT in await say(bot, WORKER, "1")  # the category step, taken here
    # The person cancels through the other process: this one does not act on a stale draft.
    assert "已取消" in await as_other(other_process, flow.step(str(WORKER), "10000", "取消"))
    assert await say(bot, WORKER, "夜班补贴没发") == PRIVATE_HINT


async def test_a_quiz_opened_elsewhere_is_answered_here(app, db, other_process) -> None:  # type: ignore[no-untyped-def]
    bot = RecordingBot.make()
    assert await say(bot, WORKER, "A") == PRIVATE_HINT
    now = clock.utcnow()

    async def open_quiz() -> None:
        async with botdb.session() as s:
            s.add(StudyQuizSession(user_id=str(WORKER), material_id="gone/material", started_at=now, asked_at=now))
            await s.commit()

    await as_other(other_process, open_quiz())
    # The quiz hook ran: its material is gone, so it ends the quiz and says so.
    assert "本次测验结束" in await say(bot, WORKER, "A")
    assert await say(bot, WORKER, "A") == PRIVATE_HINT


async def test_a_plain_private_message_costs_one_look_up_at_most(app, db) -> None:  # type: ignore[no-untyped-def]
    """The tax this removes: each plugin looked for its own state, a query each. Now one
    SELECT, and on SQLite none through the engine (a read-only connection of its own)."""
    statements: list[str] = []
    engine = db.kw["bind"].sync_engine

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        bot = RecordingBot.make()
        assert await say(bot, WORKER, "你好") == PRIVATE_HINT
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    sqlite = engine.dialect.name == "sqlite"
    assert len(statements) == (0 if sqlite else 1), statements


async def test_a_draft_is_found_while_another_process_holds_the_write_lock(app, db, log_lines) -> None:  # type: ignore[no-untyped-def]
    """The look-up on the loop never waits for a lock: it takes the ordinary way and still
    finds the draft."""
    if db.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite's file lock")
    await flow.start(str(WORKER))
    locker = sqlite3.connect(db.kw["bind"].url.database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # what a commit in another process holds for a moment
    bot = RecordingBot.make()
    answer = asyncio.ensure_future(say(bot, WORKER, "1"))
    await asyncio.sleep(0.2)
    assert not answer.done()  # waiting for the lock, not answering without the draft
    locker.execute("ROLLBACK")
    locker.close()
    assert ASK_TEXT in await answer
    assert not [line for line in log_lines if "open-flow look-up failed" in line]
