"""Errors that stop start-up with one clear message."""


class StartupError(Exception):
    """A bad file or setting: printed as one line naming the file, the entry and the problem."""
