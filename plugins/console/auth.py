"""Login without passwords: a one-time link sent in private chat opens a session.

- A link carries 256 random bits, is valid for LINK_MINUTES and opens at most one session: it
  is claimed with one conditional UPDATE, so two processes (or two clicks) cannot both win.
- Opening the link shows a button; only pressing it (a POST) uses the link. Chat apps fetch a
  link to show a preview, and that fetch must not use it up.
- A session is a random cookie; its digest is stored with a CSRF token for its forms. It ends
  after IDLE_MINUTES without use, MAX_HOURS after login, on logout, or when revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import update

from bot import clock, runtime
from bot.db import session
from bot.org import Role
from plugins.console.config import config
from plugins.console.models import ConsoleAudit, ConsoleLink, ConsoleSession

LINK_MINUTES = 10
IDLE_MINUTES = 30
MAX_HOURS = 12
COOKIE = "lianxin_console"
# Who the console is for; a worker has nothing to do there.
CONSOLE_ROLES = frozenset({Role.leader, Role.cadre, Role.head, Role.moderator, Role.superuser})


def base_url() -> str | None:
    """The public address of the console (LIANXIN_CONSOLE_URL); None: the console is off."""
    url = config().lianxin_console_url.strip()
    return url.rstrip("/") if url else None


def cookie_path() -> str:
    url = base_url()
    path = urlsplit(url).path if url else ""
    return (path or "") + "/"


def secure_cookie() -> bool:
    url = base_url()
    return bool(url and url.startswith("https://"))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_of(user_id: str) -> frozenset[Role]:
    """Roles as the current org says, plus moderator for anyone who moderates a group."""
    org = runtime.org()
    roles = set(org.roles_of(user_id))
    if any(user_id in g.moderators for g in org.groups.values()):
        roles.add(Role.moderator)
    return frozenset(roles)


def may_use(user_id: str) -> bool:
    return bool(roles_of(user_id) & CONSOLE_ROLES)


async def issue_link(user_id: str) -> str:
    url = base_url()
    if url is None:
        raise RuntimeError("console is off")
    token = secrets.token_urlsafe(32)
    async with session() as s:
        s.add(ConsoleLink(digest=digest(token), user_id=user_id, expires_at=clock.utcnow() + timedelta(minutes=LINK_MINUTES)))
        await s.commit()
    return f"{url}/login?token={token}"


async def link_is_fresh(token: str) -> bool:
    async with session() as s:
        link = await s.get(ConsoleLink, digest(token))
        return link is not None and not link.used and link.expires_at > clock.utcnow()


@dataclass(frozen=True)
class Opened:
    cookie: str
    user_id: str


async def redeem(token: str) -> Opened | None:
    """Use a link once; a session for its person, or None (unknown, used, expired)."""
    now = clock.utcnow()
    async with session() as s:
        claimed = await s.execute(
            update(ConsoleLink)
            .where(ConsoleLink.digest == digest(token), ConsoleLink.used.is_(False), ConsoleLink.expires_at > now)
            .values(used=True)
            .returning(ConsoleLink.user_id)
        )
        user_id = claimed.scalar_one_or_none()
        if user_id is None or not may_use(user_id):
            await s.commit()
            return None
        cookie = secrets.token_urlsafe(32)
        s.add(ConsoleSession(digest=digest(cookie), user_id=user_id, csrf=secrets.token_urlsafe(24), created_at=now, seen_at=now))
        s.add(ConsoleAudit(at=now, user_id=user_id, action="login"))
        await s.commit()
    return Opened(cookie=cookie, user_id=user_id)


@dataclass(frozen=True)
class Viewer:
    user_id: str
    name: str
    roles: frozenset[Role]
    csrf: str
    session_digest: str

    def has(self, *roles: Role) -> bool:
        return Role.superuser in self.roles or bool(self.roles & set(roles))


async def viewer(cookie: str | None) -> Viewer | None:
    """The person behind a session cookie, if the session is alive; touching it keeps it so."""
    if not cookie:
        return None
    now = clock.utcnow()
    async with session() as s:
        row = await s.get(ConsoleSession, digest(cookie))
        if row is None or row.revoked:
            return None
        if now - row.seen_at > timedelta(minutes=IDLE_MINUTES) or now - row.created_at > timedelta(hours=MAX_HOURS):
            row.revoked = True
            await s.commit()
            return None
        roles = roles_of(row.user_id)
        if not roles & CONSOLE_ROLES:
            return None  # no longer a leader, cadre or moderator: the org file changed
        user_id, csrf, key = row.user_id, row.csrf, row.digest
        row.seen_at = now
        await s.commit()
    return Viewer(user_id=user_id, name=runtime.org().display_name(user_id), roles=roles, csrf=csrf, session_digest=key)


def csrf_ok(v: Viewer, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(v.csrf, sent or "")


async def logout(v: Viewer, *, everywhere: bool = False) -> None:
    async with session() as s:
        cond = ConsoleSession.user_id == v.user_id if everywhere else ConsoleSession.digest == v.session_digest
        await s.execute(update(ConsoleSession).where(cond).values(revoked=True))
        s.add(ConsoleAudit(at=clock.utcnow(), user_id=v.user_id, action="logout_all" if everywhere else "logout"))
        await s.commit()


async def audit(user_id: str, action: str, target: str = "") -> None:
    async with session() as s:
        s.add(ConsoleAudit(at=clock.utcnow(), user_id=user_id, action=action, target=target[:64]))
        await s.commit()
