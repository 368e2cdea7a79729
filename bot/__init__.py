"""连心 (Lianxin): the application core."""

__version__ = "0.1.0"
