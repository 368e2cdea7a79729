"""Receipt codes (XXXX-XXXX-XXXX: 12 symbols from a 32-symbol alphabet = 60 random bits),
keyed digests of them, and the sealing of reply routes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from functools import cache

from bot import settings
from bot.privacy import Sealer

# No I/O (look like 1/0), no 0/1: what remains cannot be misread when copied by hand.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 12


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def parse_code(text: str) -> str | None:
    """The canonical code from what a person typed (any case, spaces or dashes), else None."""
    raw = "".join(ch for ch in text.upper() if ch not in " -—_－\u3000")
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@cache
def _key() -> bytes:
    return settings.secret_key()


def _mac(label: bytes, value: str) -> str:
    return hmac.new(_key(), label + value.encode(), hashlib.sha256).hexdigest()


def digest(code: str) -> str:
    return _mac(b"receipt:", code)


def person_key(kind: str, user_id: str, extra: str = "") -> str:
    """Keyed hash for short-lived per-person rows (drafts, daily counters); never on a concern."""
    return _mac(f"{kind}:".encode(), f"{user_id}:{extra}")


def seal_route(concern_id: int, platform: str, bot_id: str, user_id: str, code: str) -> bytes:
    """The way back to the submitter, and their code (to quote it in relays), sealed together."""
    plain = json.dumps({"p": platform, "b": bot_id, "u": user_id, "c": code}).encode()
    return Sealer(_key()).seal(plain, f"concern:{concern_id}".encode())


def open_route(concern_id: int, sealed: bytes) -> tuple[str, str, str, str]:
    """(platform, bot account, the submitter's account there, code). Routes sealed before
    Feishu said "onebot" for QQ and held the account as a number."""
    data = json.loads(Sealer(_key()).open(sealed, f"concern:{concern_id}".encode()))
    platform = "qq" if data["p"] == "onebot" else str(data["p"])
    return platform, data["b"], str(data["u"]), data["c"]
