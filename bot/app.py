"""Start-up: settings, organisation, NoneBot, plugins, schema upgrade, then run.

Everything that can be wrong with files or settings is checked before NoneBot starts, so a bad
org file stops start-up with one clear message and nothing half-starts.
"""

from __future__ import annotations

import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot import clock, runtime, settings
from bot.errors import StartupError
from bot.org import Org, load_org

ROOT = Path(__file__).resolve().parent.parent


def nonebot_config() -> dict[str, Any]:
    """Defaults passed to nonebot.init only where the environment and .env say nothing."""
    config: dict[str, Any] = {
        "alembic_script_location": ROOT / "migrations",
        "alembic_version_locations": ROOT / "migrations" / "versions",
    }
    if settings.env("DRIVER") is None:
        # Reverse WebSocket (OneBot) needs only the server. aiohttp, the client, costs ~0.3 s
        # and 8 MiB at start (its SSL contexts): only where the bot connects out (forward
        # WebSocket to NapCat, Feishu's Open API).
        calls_out = settings.env("ONEBOT_WS_URLS") or settings.env("FEISHU_BOTS")
        config["driver"] = "~fastapi+~aiohttp" if calls_out else "~fastapi"
    if settings.env("SQLALCHEMY_DATABASE_URL") is None:
        settings.data_dir().mkdir(parents=True, exist_ok=True)
        config["sqlalchemy_database_url"] = settings.default_database_url()
    if settings.env("SQLALCHEMY_ENGINE_OPTIONS") is None:
        # Pooled connections die when the database restarts: test each before use.
        config["sqlalchemy_engine_options"] = {"pool_pre_ping": True}
    if settings.env("LOG_LEVEL") is None:
        config["log_level"] = "INFO"
    if settings.env("LOCALSTORE_PLUGIN_DATA_DIR") is None:
        # nonebot-plugin-orm copies every migration it has run into its data directory (by
        # default ~/.local/share/nonebot2/nonebot_plugin_orm, shared by every checkout of the
        # user) and replays those copies as part of the history. A script from another checkout
        # or branch, or one re-chained since, then becomes a second head and start-up fails.
        # The bot's one history is migrations/: give the plugin a private, empty directory.
        config["localstore_plugin_data_dir"] = {"nonebot_plugin_orm": _private_dir("lianxin-orm-")}
    return config


_private_dirs: list[Path] = []


def _private_dir(prefix: str) -> Path:
    import atexit
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    if not _private_dirs:
        atexit.register(remove_private_dirs)
    _private_dirs.append(path)
    return path


def remove_private_dirs() -> None:
    """Also called on NoneBot's shutdown: uvicorn re-raises SIGTERM after a graceful stop, and a
    process that dies of a signal runs no atexit hooks."""
    import shutil

    while _private_dirs:
        shutil.rmtree(_private_dirs.pop(), ignore_errors=True)


def load_organisation() -> Org:
    org = load_org(settings.org_path())
    clock.set_zone(settings.zone(settings.timezone_name(org.spec.timezone)))
    runtime.set_org(org)
    from bot import orgfile

    orgfile.remember(org)
    return org


def boot(**overrides: Any) -> Org:
    """Validate files and settings, initialise NoneBot and load every plugin (no network yet)."""
    import nonebot

    from bot import logs

    # Before anything logs: nonebot.init prints the whole configuration at DEBUG.
    logs.add_secrets(settings.secret_values())
    logs.install_redaction()
    logs.install(overrides.get("log_level") or settings.env("LOG_LEVEL") or "INFO")
    settings.check_exposure()
    org = load_organisation()
    from bot import materials

    materials.load_configured()  # a bad material stops start-up like a bad org file
    logs.add_secrets([settings.secret_key().hex()])  # generated or validated now, not at the first concern
    nonebot.init(**(nonebot_config() | overrides))
    install_adapter()
    load_plugins()
    return org


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

    with _not_importable("pygments"):
        _load_plugins(nonebot, plugins)


@contextmanager
def _not_importable(name: str) -> Iterator[None]:
    """Lean start: nonebot-plugin-orm imports Alembic, whose template engine (Mako) imports
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
        db.upgrade_schema()
    except StartupError as e:
        print(f"连心无法启动：{e}", file=sys.stderr)
        raise SystemExit(2) from None
    import nonebot

    nonebot.run()
