"""Ticks: periodic checks of what is owed, against bot.clock.

APScheduler (nonebot-plugin-apscheduler) only wakes us up. What is due is decided by each tick
from `clock.now()` and the outbox ledger, so a post missed while the bot was down is found at
the next tick after start-up, every process may run the same tick safely, and tests can move
the clock (LIANXIN_CLOCK_FILE) without waiting for a real cron time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nonebot import get_driver, logger

Tick = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Registered:
    name: str
    fn: Tick
    seconds: int


ticks: list[Registered] = []


def tick(name: str, seconds: int = 30) -> Callable[[Tick], Tick]:
    """Run `fn` every `seconds` (and once right after start-up)."""

    def deco(fn: Tick) -> Tick:
        ticks.append(Registered(name, fn, seconds))
        return fn

    return deco


async def run(name: str, fn: Tick) -> None:
    try:
        await fn()
    except Exception as e:  # noqa: BLE001 - the next tick tries again
        logger.error(f"tick {name} failed: {type(e).__name__}")


def install() -> None:
    """Register every tick with APScheduler (called once NoneBot has started)."""
    from nonebot_plugin_apscheduler import scheduler

    for t in ticks:
        scheduler.add_job(
            run, "interval", seconds=t.seconds, args=(t.name, t.fn), id=f"tick:{t.name}", name=t.name,
            replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=None,
        )


async def run_all() -> None:
    for t in ticks:
        await run(t.name, t.fn)


@get_driver().on_startup
async def _startup() -> None:
    install()
