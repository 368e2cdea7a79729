"""Feishu at start-up: only when FEISHU_BOTS says so, a mistake in it is one line, and its
secrets stay out of the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import settings
from bot.errors import StartupError

ROOT = Path(__file__).resolve().parents[2]
BOT = {"app_id": "cli_a5f0c2d1e3b4a697", "app_secret": "s3cret-of-the-app-123", "verification_token": "v-token-456789", "encrypt_key": "enc-key-abcdef"}


def boot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, sys\n"
        "from bot import app\n"
        "app.boot(log_level='DEBUG')\n"
        "import nonebot\n"
        "print(json.dumps([sorted(nonebot.get_adapters()), 'nonebot.adapters.feishu' in sys.modules]))\n"
    )
    full = os.environ | {
        "LIANXIN_ORG": str(ROOT / "data" / "org.example.yaml"),
        "LIANXIN_SECRET_KEY": "33" * 32,
        "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'boot.db'}",
        "PYTHONPATH": str(ROOT),
    } | env
    if "FEISHU_BOTS" not in env:
        full.pop("FEISHU_BOTS", None)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=full, capture_output=True, text=True, timeout=120)


def test_a_qq_only_deployment_never_loads_the_feishu_adapter(tmp_path: Path) -> None:
    done = boot(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [["OneBot V11"], False]


def test_feishu_bots_add_the_feishu_adapter_and_their_secrets_stay_out_of_the_log(tmp_path: Path) -> None:
    done = boot(tmp_path, FEISHU_BOTS=json.dumps([BOT]))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [["Feishu", "OneBot V11"], True]
    out = done.stdout + done.stderr
    assert "Loaded Config" in out  # NoneBot's DEBUG dump of every setting, FEISHU_BOTS included
    for secret in ("app_secret", "verification_token", "encrypt_key"):
        assert BOT[secret] not in out


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{app_id: cli_x}", "应为 JSON 列表"),
        ('{"app_id": "cli_x"}', "应为 JSON 列表"),
        ('[{"app_id": "cli_x", "app_secret": "s"}]', "第 1 项缺少 verification_token"),
        ('[{"app_id": "cli_x", "app_secret": "s", "verification_token": "t", "protocol": "websocket"}]', "protocol"),
    ],
)
def test_a_mistake_in_feishu_bots_is_one_line(monkeypatch: pytest.MonkeyPatch, value: str, says: str) -> None:
    monkeypatch.setenv("FEISHU_BOTS", value)
    with pytest.raises(StartupError, match=says):
        settings.feishu_bots()
    settings.secret_values()  # the secrets list is built before: it must not stop start-up itself


def test_a_mistake_in_feishu_bots_stops_start_up_with_that_line(tmp_path: Path) -> None:
    code = "from bot import app\napp.main([])\n"
    env = os.environ | {"LIANXIN_ORG": str(ROOT / "data" / "org.example.yaml"), "LIANXIN_SECRET_KEY": "33" * 32,
                        "PYTHONPATH": str(ROOT), "FEISHU_BOTS": '[{"app_id": "cli_x"}]'}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "连心无法启动：设置 FEISHU_BOTS 有误：第 1 项缺少 app_secret（在飞书开放平台的应用后台可以找到）"


async def test_bots_connect_in_the_background_and_retry_until_feishu_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up does not wait on Feishu, and a Feishu that fails at first is tried again."""
    import asyncio

    import nonebot
    from nonebot.adapters.feishu.config import BotConfig

    from bot.platform import feishu_ingress
    from tests.feishu_helpers import forget_token
    from tests.feishu_peer import FeishuPeer

    monkeypatch.setattr(feishu_ingress, "RETRY_FIRST", 0.05)
    async with FeishuPeer() as peer:
        await forget_token(peer)
        peer.fail_next("token", 10014, times=2)  # HTTP 400: the stock adapter raises on it
        adapter = feishu_ingress.Adapter(nonebot.get_driver())
        config = BotConfig(app_id=peer.app_id, app_secret=peer.app_secret, verification_token=peer.verification_token, api_base=peer.url)  # type: ignore[arg-type]
        adapter.feishu_config.feishu_bots = [config]
        await asyncio.wait_for(adapter.startup(), 1.0)
        try:
            for _ in range(100):
                if peer.app_id in adapter.bots:
                    break
                await asyncio.sleep(0.05)
            bot = adapter.bots[peer.app_id]
            assert [c.route for c in peer.calls] == ["token", "token", "token", "bot_info"]
            assert bot.bot_info.open_id == peer.bot_open_id  # type: ignore[attr-defined]
        finally:
            for bot in list(adapter.bots.values()):
                adapter.bot_disconnect(bot)
            await adapter._stop()


def test_feishu_without_an_http_client_driver_is_one_line(tmp_path: Path) -> None:
    done = boot(tmp_path, FEISHU_BOTS=json.dumps([BOT]), DRIVER="~fastapi")
    assert done.returncode != 0
    assert "DRIVER 设置里要有 ~aiohttp" in done.stderr.strip().splitlines()[-1]
