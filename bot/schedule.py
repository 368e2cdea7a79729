"""Ticks: periodic checks of what is owed, against bot.clock.

APScheduler (nonebot-plugin-apscheduler) only wakes us up. What is due is decided by each tick
from `clock.now()` and the outbox ledger, so a post missed while the bot was down is found at
the next tick after start-up, every process may run the same tick safely, and tests can move
the clock (LIANXIN_CLOCK_FILE) without waiting for a real cron time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from nonebot import get_driver, logger

Tick = Callable[[], Awaitable[object]]  # a check may return what it did (a count)


@dataclass(frozen=True)
class Registered:
    name: str
    fn: Tick
    seconds: int


ticks: list[Registered] = []

Upcoming = Callable[[], Awaitable[list[tuple[datetime, str]]]]
upcoming_sources: list[Upcoming] = []


def upcoming(fn: Upcoming) -> Upcoming:
    """Register a source of the next scheduled posts, for /状态: [(when, what), ...]."""
    upcoming_sources.append(fn)
    return fn


async def next_posts(limit: int = 5) -> list[tuple[datetime, str]]:
    items: list[tuple[datetime, str]] = []
    for fn in upcoming_sources:
        try:
            items.extend(await fn())
        except Exception as e:  # noqa: BLE001 - /状态 must answer anyway
            logger.warning(f"upcoming source {fn.__qualname__} failed: {type(e).__name__}")
    return sorted(items)[:limit]


def tick(name: str, seconds: int = 30) -> Callable[[Tick], Tick]:
    """Run `fn` every `seconds` (and once right after start-up)."""

    def deco(fn: Tick) -> Tick:
        ticks.append(Registered(name, fn, seconds))
        return fn

    return deco


_running: set[asyncio.Task[None]] = set()


async def run(name: str, fn: Tick) -> None:
    task = asyncio.current_task()
    if task is not None:
        _running.add(task)  # type: ignore[arg-type]
    try:
        await fn()
    except Exception as e:  # noqa: BLE001 - the next tick tries again
        logger.error(f"tick {name} failed: {type(e).__name__}")
    finally:
        _running.discard(task)  # type: ignore[arg-type]


async def settle(grace: float = 5.0) -> int:
    """Let running ticks finish, then cancel what is left and wait for it; returns how many
    had to be cancelled. At shutdown a tick left to asyncio.run's final cancellation can be
    inside an aiosqlite call whose thread then never hands back, and the process hangs."""
    pending = {t for t in _running if t is not asyncio.current_task() and not t.done()}
    if not pending:
        return 0
    _, pending = await asyncio.wait(pending, timeout=grace)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=grace)
    return len(pending)


def interval_override() -> float | None:
    """LIANXIN_TICK_SECONDS: one interval for every tick (end-to-end tests use 1 s)."""
    from bot import settings

    return settings.core().lianxin_tick_seconds


def install() -> None:
    """Register every tick with APScheduler (called once NoneBot has started)."""
    from datetime import datetime

    from nonebot_plugin_apscheduler import scheduler

    override = interval_override()
    for t in ticks:
        scheduler.add_job(
            run, "interval", seconds=override or t.seconds, args=(t.name, t.fn), id=f"tick:{t.name}", name=t.name,
            replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=None,
            # First run right away: a post owed since before a restart must not wait a whole interval.
            next_run_time=datetime.now(scheduler.timezone),
        )


@get_driver().on_startup
async def _startup() -> None:
    install()


@get_driver().on_shutdown
async def _shutdown() -> None:
    cancelled = await settle()
    if cancelled:
        logger.warning(f"{cancelled} scheduled check(s) cancelled at shutdown; they run again at the next start")
