"""The one clock every schedule and deadline reads.

Tests control it: in-process with `set_now`, and across a process boundary (end-to-end tests
against `python -m bot`) with LIANXIN_CLOCK_FILE, a file holding an ISO datetime. Time then
runs on from that instant at normal speed, counted from the file's modification. Production
sets neither and reads the system clock.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

_zone: ZoneInfo = ZoneInfo("Asia/Shanghai")
_fixed: datetime | None = None
_file_cache: tuple[float, datetime] | None = None


def set_zone(zone: ZoneInfo) -> None:
    global _zone
    _zone = zone


def zone() -> ZoneInfo:
    return _zone


def set_now(when: datetime | None) -> None:
    """Freeze the clock (tests); None returns to the real clock."""
    global _fixed
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=_zone)
    _fixed = when


def now() -> datetime:
    """Aware 'now' in the organisation's time zone."""
    if _fixed is not None:
        return _fixed.astimezone(_zone)
    path = os.environ.get("LIANXIN_CLOCK_FILE")
    if path:
        from_file = _from_file(Path(path))
        if from_file is not None:
            return from_file.astimezone(_zone)
    return datetime.now(_zone)


def utcnow() -> datetime:
    return now().astimezone(UTC)


def _from_file(path: Path) -> datetime | None:
    global _file_cache
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    if _file_cache is None or _file_cache[0] != mtime:
        try:
            base = datetime.fromisoformat(path.read_text().strip())
        except (OSError, ValueError):
            return None
        if base.tzinfo is None:
            base = base.replace(tzinfo=_zone)
        _file_cache = (mtime, base)
    return _file_cache[1] + timedelta(seconds=max(0.0, time.time() - mtime))
