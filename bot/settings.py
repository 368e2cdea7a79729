"""Settings from the environment (and `.env`), with the embedded defaults of CONTRACT section 1.

Two kinds. What start-up needs before NoneBot exists (the org file, secret key, time zone, the
exposure check) is read here with `env()`. Everything read once NoneBot runs is a
typed model per plugin, NoneBot-style (`get_plugin_config`: field `lianxin_font` is
LIANXIN_FONT in the environment or `.env`): the core's is `Config` below, the database's
`bot.db.Config`, each plugin's in its `config.py`. NoneBot reads HOST, PORT, ONEBOT_* itself.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from functools import cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, BeforeValidator, ValidationInfo, ValidatorFunctionWrapHandler, field_validator

from bot.errors import StartupError

KEY_BYTES = 32


def data_dir() -> Path:
    return Path.cwd() / "data"


def env(name: str) -> str | None:
    """A setting from the process environment, else from `.env` (NoneBot's precedence)."""
    value = os.environ.get(name)
    if value is None:
        value = os.environ.get(name.lower())
    if value is None:
        dotenv = _dotenv()
        value = dotenv.get(name, dotenv.get(name.lower()))
    return value if value not in (None, "") else None


@cache
def _dotenv() -> dict[str, str | None]:
    path = Path.cwd() / ".env"
    return dict(dotenv_values(path)) if path.is_file() else {}


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'lianxin.db'}"


def org_path() -> Path:
    given = env("LIANXIN_ORG")
    if given:
        return Path(given)
    own = data_dir() / "org.yaml"
    return own if own.is_file() else data_dir() / "org.example.yaml"


def timezone_name(org_timezone: str | None = None) -> str:
    """TZ wins over the org file's `timezone`; Asia/Shanghai when neither says."""
    return env("TZ") or org_timezone or "Asia/Shanghai"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise StartupError(f"设置 TZ / timezone 有误：未知时区 {name!r}") from None


def secret_key() -> bytes:
    """LIANXIN_SECRET_KEY (hex or urlsafe base64 of 32 bytes), else a key generated once into data/."""
    given = env("LIANXIN_SECRET_KEY")
    if given:
        return _parse_key(given, "环境变量 LIANXIN_SECRET_KEY")
    path = data_dir() / "secret.key"
    try:
        if path.exists():
            return _parse_key(path.read_text().strip(), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(KEY_BYTES)
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        except FileExistsError:
            return _parse_key(path.read_text().strip(), str(path))
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
    except OSError as e:
        raise StartupError(
            f"密钥文件 {path} 无法读写（{e.strerror}）：请设置环境变量 LIANXIN_SECRET_KEY，或让 data/ 可写"
        ) from None
    return bytes.fromhex(value)


def _parse_key(text: str, where: str) -> bytes:
    import base64
    import binascii

    try:
        if len(text) == KEY_BYTES * 2:
            return bytes.fromhex(text)
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise StartupError(f"{where}：密钥应为 32 字节（64 位十六进制或 base64），当前格式不对")
    return raw


_SECRET_NAME = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "KEY")
_URL_NAMES = ("SQLALCHEMY_DATABASE_URL", "LIANXIN_TEST_PG", "DATABASE_URL")


_FEISHU_SECRETS = ("app_secret", "encrypt_key", "verification_token")


def _feishu_entries() -> list[object]:
    raw = env("FEISHU_BOTS")
    if raw is None:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        raise StartupError("设置 FEISHU_BOTS 有误：应为 JSON 列表，如 [{\"app_id\": \"cli_…\", \"app_secret\": \"…\", \"verification_token\": \"…\"}]") from None
    if not isinstance(entries, list):
        raise StartupError("设置 FEISHU_BOTS 有误：应为 JSON 列表（每个飞书应用一项）")
    return entries


def feishu_bots() -> list[dict[str, object]]:
    """FEISHU_BOTS (the Feishu adapter's own setting), checked: one line per mistake, before
    the adapter reads it."""
    bots: list[dict[str, object]] = []
    for n, entry in enumerate(_feishu_entries(), 1):
        if not isinstance(entry, dict):
            raise StartupError(f"设置 FEISHU_BOTS 有误：第 {n} 项应为一个对象")
        for name in ("app_id", "app_secret", "verification_token"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise StartupError(f"设置 FEISHU_BOTS 有误：第 {n} 项缺少 {name}（在飞书开放平台的应用后台可以找到）")
        if entry.get("protocol", "http") not in ("http", "ws"):
            raise StartupError(f"设置 FEISHU_BOTS 有误：第 {n} 项的 protocol 只能是 http（事件回调）或 ws（长连接）")
        bots.append(entry)
    return bots


def secret_values() -> list[str]:
    """Every value in the environment or `.env` that must stay out of the log: settings named
    like a token, secret, password or key, and the password of a database URL (as written and
    decoded)."""
    from urllib.parse import quote, unquote

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    names = {n.upper(): v for n, v in {**_dotenv(), **os.environ}.items() if v}
    values = [v for n, v in names.items() if any(word in n for word in _SECRET_NAME)]
    for name in _URL_NAMES:
        if (url := names.get(name)) is None:
            continue
        try:
            password = make_url(url).password
        except (ArgumentError, ValueError):
            continue
        if password:
            values += [str(password), quote(str(password), safe=""), unquote(str(password))]
    try:
        entries = _feishu_entries()
    except StartupError:
        entries = []  # reported by feishu_bots() at start-up
    for entry in entries:
        if isinstance(entry, dict):
            values += [str(entry[k]) for k in _FEISHU_SECRETS if isinstance(entry.get(k), str) and entry[k]]
    return values


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.strip("[]").lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure() -> None:
    """A OneBot port reachable from other machines without a token lets anyone connect as any
    QQ account and read every leader's queue: refuse, unless the operator says the network is
    trusted."""
    host = env("HOST") or "127.0.0.1"
    if env("ONEBOT_ACCESS_TOKEN") or _is_loopback(host) or (env("LIANXIN_ALLOW_NO_TOKEN") or "").lower() in ("1", "true", "yes"):
        return
    raise StartupError(
        f"HOST={host} 对其他机器开放，但没有设置 ONEBOT_ACCESS_TOKEN：请在 .env 里设置一个随机令牌"
        "（如 python3 -c \"import secrets;print(secrets.token_urlsafe(32))\"），并在 NapCat 里填同一个 token；"
        "确属可信内网可设 LIANXIN_ALLOW_NO_TOKEN=1"
    )


def _blank_is_unset(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# A folder or file setting: empty (`LIANXIN_FONT=` in .env) means not set, as for env().
OptionalPath = Annotated[Path | None, BeforeValidator(_blank_is_unset)]


class Config(BaseModel):
    """The core's settings once NoneBot runs. A bad value is logged and the safe default kept:
    a typo in a pacing setting must not keep the bot from starting."""

    lianxin_send_interval: float = 1.5  # seconds between two broadcast sends of one account
    lianxin_send_jitter: float = 0.5  # plus up to this much, at random
    lianxin_tick_seconds: float | None = None  # one interval for every tick (end-to-end tests)

    @field_validator("lianxin_send_interval", "lianxin_send_jitter", "lianxin_tick_seconds", mode="wrap")
    @classmethod
    def _seconds(cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> float | None:
        from nonebot import logger

        default = cls.model_fields[info.field_name or ""].default
        if value is None or value == "":
            return default
        try:
            seconds = handler(value)
        except ValueError:  # pydantic's ValidationError is one
            seconds = None
        tick = info.field_name == "lianxin_tick_seconds"
        if seconds is None or seconds < 0 or (tick and seconds == 0):
            name = (info.field_name or "").upper()
            if tick:
                logger.warning(f"{name}={value!r} is not a positive number of seconds; ignored")
            else:
                logger.warning(f"{name}={value!r} is not a number of seconds >= 0; using {default}")
            return default
        return float(seconds)


def core() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)
