"""Counts since start-up, shown by /状态 (the load benchmark reads `handled` there).

Its own module, so /状态 reads it without importing the dispatcher."""

handled = 0  # message events the dispatcher received
