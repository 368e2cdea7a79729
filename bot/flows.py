"""Which guided flows (a /诉求 draft, a quiz) a person has open: one indexed look-up.

A private message that is not a command goes to each plugin's private hook until one takes it
as a step of its flow. Most such messages belong to no flow, and asking every plugin to look
for its own state costs a session each. A hook that only acts on open state declares where
that state is (`while_open`): all those probes run as one SELECT over primary keys, against
the database itself (so a flow opened by another bot process sharing it counts at once), and
only the hooks whose state exists run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from sqlalchemy import ColumnElement, Select, select

from bot import db

if TYPE_CHECKING:
    from bot.commands import Hook


@dataclass(frozen=True, eq=False)  # by identity: comparing SQL clauses builds SQL, not a bool
class Probe:
    """`clause`: an EXISTS over an indexed key, with bind parameters named uniquely;
    `params`: their values for a user (a keyed hash where the state is kept under one)."""

    clause: ColumnElement[bool]
    params: Callable[[str], dict[str, Any]]


_probes: dict[Hook, Probe] = {}
_statements: dict[tuple[Probe, ...], Select[Unpack[tuple[Any, ...]]]] = {}


def while_open(probe: Probe) -> Callable[[Hook], Hook]:
    """Mark a private hook as doing nothing unless `probe` finds the person's state."""

    def deco(hook: Hook) -> Hook:
        _probes[hook] = probe
        return hook

    return deco


def _statement(probes: tuple[Probe, ...]) -> Select[Unpack[tuple[Any, ...]]]:
    stmt = _statements.get(probes)
    if stmt is None:
        stmt = _statements[probes] = select(*(p.clause.label(f"open_{i}") for i, p in enumerate(probes)))
    return stmt


async def hooks_for(user_id: str, hooks: Sequence[Hook]) -> list[Hook]:
    """The hooks to run for this person's private message, in order: those without a probe,
    and those whose state exists."""
    probes = tuple(dict.fromkeys(p for h in hooks if (p := _probes.get(h)) is not None))
    if not probes:
        return list(hooks)
    params: dict[str, Any] = {}
    for p in probes:
        params |= p.params(user_id)
    found = dict(zip(probes, await db.quick_read(_statement(probes), params), strict=True))
    return [h for h in hooks if (p := _probes.get(h)) is None or found[p]]
