"""Run the bot (``python -m bot``) as a real subprocess for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

__all__ = ["REPO_ROOT", "BotProcess", "BotStartError", "free_port"]

REPO_ROOT = Path(__file__).resolve().parent.parent


class BotStartError(RuntimeError):
    """The bot exited or never started listening; the message carries its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (small race accepted for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BotProcess:
    """One bot subprocess with its output captured to ``log_path``.

    ``env`` overrides are layered on os.environ plus HOST/PORT defaults;
    ``argv`` replaces ``python -m bot`` (used to test the harness itself).
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        argv: Sequence[str] | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        cwd: Path | str | None = None,
        log_dir: Path | str | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.argv = list(argv) if argv is not None else [sys.executable, "-m", "bot"]
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        if log_dir is None:
            log_dir = tempfile.mkdtemp(prefix="lianxin-bot-")
        self.log_dir = Path(log_dir)
        self.log_path = self.log_dir / f"bot-{self.port}.log"
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
        self.env: dict[str, str] = {
            **os.environ,
            "HOST": host,
            "PORT": str(self.port),
            # Logs must reach the file as they happen, not at exit.
            "PYTHONUNBUFFERED": "1",
            # The bot only talks to loopback peers in tests; keep proxies out.
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def ws_url(self) -> str:
        """Reverse-WebSocket endpoint of NoneBot's OneBot v11 adapter."""
        return f"ws://{self.host}:{self.port}/onebot/v11/ws"

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def start(self) -> None:
        assert self._proc is None, "already started"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C aimed at pytest must not hit the bot first.
            start_new_session=True,
        )

    def output(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _fail(self, why: str) -> BotStartError:
        return BotStartError(
            f"{why} (argv={self.argv}, log={self.log_path})\n--- bot output ---\n{self.output()}"
        )

    async def wait_listening(self, timeout: float = 60.0) -> None:
        """Poll the TCP port; fail fast with the log if the process exits."""
        assert self._proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        while True:
            if (rc := self._proc.poll()) is not None:
                raise self._fail(f"bot exited with code {rc} before listening on {self.addr}")
            try:
                conn = asyncio.open_connection(self.host, self.port)
                _, writer = await asyncio.wait_for(conn, 1.0)
            except (OSError, asyncio.TimeoutError):
                if time.monotonic() >= deadline:
                    raise self._fail(f"bot not listening on {self.addr} after {timeout}s") from None
                await asyncio.sleep(0.1)
                continue
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
            return

    async def wait_output(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until the log matches a regex (e.g. r"Bot 10000.*connected")."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            if m := regex.search(self.output()):
                return m
            if time.monotonic() >= deadline:
                out = self.output()
                raise AssertionError(f"{pattern!r} not in bot output after {timeout}s:\n{out}")
            await asyncio.sleep(0.1)

    async def wait_exit(self, timeout: float = 10.0) -> int:
        assert self._proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        while (rc := self._proc.poll()) is None:
            if time.monotonic() >= deadline:
                raise AssertionError(f"bot still running after {timeout}s:\n{self.output()}")
            await asyncio.sleep(0.05)
        self._close_log()
        return rc

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (graceful NoneBot shutdown), then SIGKILL after ``timeout``."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                return await self.wait_exit(timeout)
            except AssertionError:
                self._proc.kill()
        rc = self._proc.wait()
        self._close_log()
        return rc

    def kill9(self) -> int | None:
        """SIGKILL with no chance to clean up (crash simulation)."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.kill()
        rc = self._proc.wait()
        self._close_log()
        return rc

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> BotProcess:
        self.start()
        try:
            await self.wait_listening()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
