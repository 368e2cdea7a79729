"""Start-up: settings, organisation, NoneBot, plugins, schema upgrade, then run.

Everything that can be wrong with files or settings is checked before NoneBot starts, so a bad
org file stops start-up with one clear message and nothing half-starts.
"""

from __future__ import annotations

import pkgutil
import sys
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
        config["driver"] = "~fastapi+~aiohttp"
    if settings.env("SQLALCHEMY_DATABASE_URL") is None:
        settings.data_dir().mkdir(parents=True, exist_ok=True)
        config["sqlalchemy_database_url"] = settings.default_database_url()
    if settings.env("SQLALCHEMY_ENGINE_OPTIONS") is None:
        # Pooled connections die when the database restarts: test each before use.
        config["sqlalchemy_engine_options"] = {"pool_pre_ping": True}
    if settings.env("LOG_LEVEL") is None:
        config["log_level"] = "INFO"
    return config


def load_organisation() -> Org:
    org = load_org(settings.org_path())
    clock.set_zone(settings.zone(settings.timezone_name(org.spec.timezone)))
    runtime.set_org(org)
    return org


def boot(**overrides: Any) -> Org:
    """Validate files and settings, initialise NoneBot and load every plugin (no network yet)."""
    import nonebot
    from nonebot.adapters.onebot.v11 import Adapter as OneBotV11

    org = load_organisation()
    from bot import materials

    materials.load_configured()  # a bad material stops start-up like a bad org file
    settings.secret_key()  # generated or validated now, not at the first concern
    nonebot.init(**(nonebot_config() | overrides))
    from bot import logs, privacy

    logs.install()
    privacy.install_log_redaction()
    nonebot.get_driver().register_adapter(OneBotV11)
    load_plugins()
    return org


def load_plugins() -> None:
    import nonebot

    import plugins

    nonebot.load_plugin("bot.core")
    nonebot.load_plugin("bot.dispatch")
    for info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda m: m.name):
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
