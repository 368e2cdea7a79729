"""CPU-heavy work off the event loop: one small process pool for the whole bot.

Pure-Python work (jieba, matplotlib's figure building, aggregation) holds the GIL, so a thread
would still stall every other message; a separate process does not. The pool is started on
first use (nothing heavy is imported at start-up), with the "spawn" context (no fork of a
process that runs threads and an event loop), and bounded: at most WORKERS jobs run at once,
the rest wait in its queue. A job's function must be importable in a fresh interpreter.

A plugin's modules normally import the plugin package, whose `__init__` registers commands
and needs a running NoneBot. `run(..., packages=["plugins.reports"])` makes the worker stand
those packages in as plain namespaces, so their submodules import without the plugin.

    from bot import offload
    png = await offload.run(chart.render, report, packages=["plugins.reports"])
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import types
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from nonebot import logger

T = TypeVar("T")
# Report jobs are rare and each uses a full core; the machine usually has two, and the other
# keeps the bot answering. One worker also keeps the worker's caches (jieba's tokens) warm.
WORKERS = 1

_pool: ProcessPoolExecutor | None = None
_packages: tuple[str, ...] = ()


def _stand_in(packages: Iterable[str]) -> None:
    """In the worker: packages as namespaces (their __init__ not run), so submodules import."""
    for name in packages:
        if name in sys.modules:
            continue
        parent, _, _ = name.rpartition(".")
        if parent:
            __import__(parent)
        spec_path = [str(Path(p) / name.rpartition(".")[2]) for p in sys.modules[parent].__path__] if parent else []
        module = types.ModuleType(name)
        module.__path__ = spec_path
        sys.modules[name] = module


# The worker's scheduling priority below the bot's (Unix nice): on a busy 2-core machine a
# report competing for a core must not delay the loop's messages (bench/stall.py).
NICE = 10


def _init(packages: tuple[str, ...]) -> None:
    import os

    if hasattr(os, "nice"):
        try:
            os.nice(NICE)
        except OSError:
            pass
    _stand_in(packages)


def _executor(packages: tuple[str, ...]) -> ProcessPoolExecutor:
    global _pool, _packages
    if _pool is None or not set(packages) <= set(_packages):
        if _pool is not None:
            _pool.shutdown(wait=False)
        _packages = tuple(sorted(set(_packages) | set(packages)))
        _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=(_packages,))
    return _pool


async def run(fn: Callable[..., T], *args: Any, packages: Iterable[str] = ()) -> T:
    """`fn(*args)` in the worker process; the loop keeps serving meanwhile.

    `fn` is passed by reference (module and name), `args` by pickling. A worker that died
    (killed, out of memory) is replaced once; a second failure raises BrokenProcessPool."""
    wanted = tuple(packages)
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _executor(wanted)
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if attempt == 2:
                raise
            logger.warning("report worker process died; starting a new one")
            _discard(pool)
    raise AssertionError("unreachable")


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    if _pool is pool:
        _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker without waiting for a job in progress (bot shutdown must be quick)."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        pool.shutdown(wait=False, cancel_futures=True)
