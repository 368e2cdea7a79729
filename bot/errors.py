"""Errors that stop start-up with one clear message, and the one way a handler says no."""

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class StartupError(Exception):
    """A bad file or setting: printed as one line naming the file, the entry and the problem."""


class Refusal(Exception):
    """A polite no, raised anywhere under a handler: the dispatcher (and the console) shows
    `text` to the person as it is. Never logged: the text may quote what the person wrote."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# Handler or hook -> what the person is told when the database fails under it.
_unsaved: dict[Callable[..., Any], str] = {}


def when_not_saved(text: str) -> Callable[[F], F]:
    """Mark a command handler or private hook: the dispatcher answers a database failure under
    it with `text` instead of the general apology (logged the same way, by class name)."""

    def deco(fn: F) -> F:
        _unsaved[fn] = text
        return fn

    return deco


def unsaved_text(fn: object) -> str | None:
    return _unsaved.get(fn) if callable(fn) else None
