"""Start-up checks of the data files: one rule for all of them.

The core registers the org file's loader; each plugin registers the loaders of its own files
(materials, greetings, lexicons, clarifications) when it is imported. bot.app.boot runs them all
once, after the plugins are loaded and before anything connects. A loader raises StartupError
with one Chinese line naming the file (and the line, where known); the first failure stops
start-up on the path the org file always used.
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[], object]

_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> Check:
    """Add (or replace: a re-imported module) the loader of one kind of file; run in order."""
    _checks[name] = check
    return check


def names() -> list[str]:
    return list(_checks)


def run_all() -> None:
    """Load and validate every registered data file; StartupError stops start-up."""
    for check in list(_checks.values()):
        check()
