"""Start-up: settings, organisation, NoneBot, plugins, schema upgrade, then run.

Everything that can be wrong with files or settings is checked before NoneBot runs, so a bad
data file (bot.checks: the org file here, each plugin's own files) stops start-up with one clear
message and nothing half-starts.
"""

from __future__ import annotations

import io
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot import checks, clock, runtime, settings
from bot.errors import StartupError
from bot.org import Org, load_org

ROOT = Path(__file__).resolve().parent.parent


def nonebot_config() -> dict[str, Any]:
    """Defaults passed to nonebot.init only where the environment and .env say nothing (the
    database's are bot.db.Config's)."""
    config: dict[str, Any] = {}
    if settings.env("DRIVER") is None:
        # Reverse WebSocket (OneBot) needs only the server. aiohttp, the client, costs ~0.3 s
        # and 8 MiB at start (its SSL contexts): only where the bot connects out (forward
        # WebSocket to NapCat, Feishu's Open API).
        calls_out = settings.env("ONEBOT_WS_URLS") or settings.env("FEISHU_BOTS")
        config["driver"] = "~fastapi+~aiohttp" if calls_out else "~fastapi"
    if settings.env("LOG_LEVEL") is None:
        config["log_level"] = "INFO"
    return config


def load_organisation() -> Org:
    org = load_org(settings.org_path())
    clock.set_zone(settings.zone(settings.timezone_name(org.spec.timezone)))
    runtime.set_org(org)
    from bot import orgfile

    orgfile.remember(org)
    return org


checks.register("org", load_organisation)


def boot(**overrides: Any) -> Org:
    """Validate files and settings, initialise NoneBot and load every plugin (no network yet)."""
    import nonebot

    from bot import logs

    # Before anything logs: nonebot.init prints the whole configuration at DEBUG.
    logs.add_secrets(settings.secret_values())
    logs.install_redaction()
    level = overrides.get("log_level") or settings.env("LOG_LEVEL") or "INFO"
    # NoneBot's and the plugins' start-up lines are held back until every data file has
    # passed: a bad file then shows as its one line, not at the end of a page of log.
    held = io.StringIO()
    logs.install(level, sink=held)
    settings.check_exposure()
    logs.add_secrets([settings.secret_key().hex()])  # generated or validated now, not at the first concern
    nonebot.init(**(nonebot_config() | overrides))
    install_adapter()
    load_plugins()  # nothing connects yet; each plugin registers its data files' checks
    checks.run_all()  # the org file first, then every plugin's files
    sys.stdout.write(held.getvalue())
    logs.install(level)
    return runtime.org()


def install_adapter() -> None:
    """The OneBot v11 adapter (bot.platform.onebot_ingress's parsing), with redacted event models;
    the Feishu adapter too when Feishu bots are configured (a QQ-only deployment never imports it)."""
    import nonebot

    from bot import privacy
    from bot.platform import onebot_v11

    feishu = bool(settings.feishu_bots())
    if feishu:
        from nonebot.drivers import HTTPClientMixin

        if not isinstance(nonebot.get_driver(), HTTPClientMixin):
            raise StartupError("连接飞书需要 HTTP 客户端：DRIVER 设置里要有 ~aiohttp（如 ~fastapi+~aiohttp），或者不设 DRIVER")
        from bot.platform import feishu as feishu_platform  # registers its port, reader and redaction
    privacy.install_log_redaction()  # each platform module imported has registered its models
    nonebot.get_driver().register_adapter(onebot_v11.ADAPTER)
    if feishu:
        nonebot.get_driver().register_adapter(feishu_platform.ADAPTER)


def load_plugins() -> None:
    import nonebot

    import plugins

    _load_plugins(nonebot, plugins)


@contextmanager
def _not_importable(name: str) -> Iterator[None]:
    """Lean start: the schema upgrade imports Alembic, whose template engine (Mako) imports
    pygments, if installed, to colour the HTML pages of its template errors (~5 MB resident);
    without it Mako uses its own plain fallback. Nothing here renders those pages."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


def _load_plugins(nonebot: Any, plugins: Any) -> None:
    nonebot.load_plugin("bot.core")
    nonebot.load_plugin("bot.dispatch")
    for info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda m: m.name):
        # A plugin may already be loaded: another one declared it with require() (the console
        # requires the plugins whose pages it shows), and NoneBot refuses to load a plugin twice.
        if nonebot.get_plugin(info.name) is None:
            nonebot.load_plugin(f"plugins.{info.name}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        boot()
        from bot import db

        if args[:1] == ["migrate"]:
            db.migrate_command(args[1:])
            return
        with _not_importable("pygments"):
            db.upgrade_schema()
    except StartupError as e:
        print(f"连心无法启动：{e}", file=sys.stderr)
        raise SystemExit(2) from None
    import nonebot

    nonebot.run()
