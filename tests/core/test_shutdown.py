"""Shutdown: ticks still running when NoneBot stops are finished or cancelled and awaited
inside the shutdown hook, not left to asyncio.run's final cancellation (where a tick inside an
aiosqlite call hung the process)."""

from __future__ import annotations

import asyncio

from bot import schedule


async def test_a_running_tick_is_allowed_to_finish() -> None:
    finished: list[str] = []

    async def tick() -> None:
        await asyncio.sleep(0.01)
        finished.append("tick")

    task = asyncio.create_task(schedule.run("short", tick))
    await asyncio.sleep(0)
    assert await schedule.settle(grace=5) == 0
    assert finished == ["tick"] and task.done()


async def test_a_stuck_tick_is_cancelled_and_awaited() -> None:
    never = asyncio.Event()
    cleaned: list[str] = []

    async def tick() -> None:
        try:
            await never.wait()
        finally:
            cleaned.append("closed")

    task = asyncio.create_task(schedule.run("stuck", tick))
    await asyncio.sleep(0)
    assert await schedule.settle(grace=0.05) == 1
    assert task.done() and cleaned == ["closed"]
    assert schedule._running == set()


async def test_settle_is_registered_as_a_shutdown_hook() -> None:
    import nonebot

    hooks = nonebot.get_driver()._lifespan._shutdown_funcs  # noqa: SLF001
    assert schedule._shutdown in hooks
