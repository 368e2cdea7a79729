"""Small-number suppression: no figure about fewer than 5 people, shown or derivable.

Primary suppression: a count of 1–4 shows as "<5". Zero is shown: it is about nobody.

Complementary suppression: a table with totals is a set of sums (each row, each column, the
row totals to the grand total, the column totals to the grand total). For every sum whose
members are partly hidden, a reader knows the hidden ones' total (total minus visible) and
their bounds: a "<5" cell is 1–4 and a "*" cell is at least 5 (it was a visible, non-zero
count, and visible non-zero counts are never below 5). A sum is unsafe when
  - its total is visible and the hidden members add up to 1–4 (the difference isolates fewer
    than 5 people), or
  - any hidden member (a cell or the total) is pinned to a single value by those bounds, such
    as one hidden cell alone in a row with a visible total, or 4 + 4 behind a difference of 8.
Each unsafe sum hides one more member, the smallest visible non-zero cell (least information
lost), else its total, and every sum is checked again until all are safe. The extra hidden
figures show as "*".

This audits each sum on its own (the way readers usually subtract), not every combination of
sums at once as a full linear-programming audit would; the report's tables are small
(categories × statuses), and the tests cover the row, column and margin cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.reports import TOTAL

SMALL = 5
SHOWN, PRIMARY, SECONDARY = "shown", "primary", "secondary"
SYMBOL = {PRIMARY: "<5", SECONDARY: "*"}

Key = tuple[int | str, int | str]
Sum = tuple[Key, list[Key]]  # (total, its members)


@dataclass
class Protected:
    """A table's counts with the state of every cell, row/column total and the grand total."""

    cells: list[list[int]]
    row_totals: list[int] | None  # None when the table has no "合计" column
    col_totals: list[int] | None  # None when the table has no "合计" row
    grand: int | None  # None when there is no separate grand total cell
    state: dict[Key, str]

    def shows(self, key: Key) -> str:
        value = self.value(key)
        st = self.state[key]
        return str(value) if st == SHOWN else SYMBOL[st]

    def value(self, key: Key) -> int:
        r, c = key
        if r == TOTAL and c == TOTAL:
            assert self.grand is not None
            return self.grand
        if c == TOTAL:
            assert self.row_totals is not None
            return self.row_totals[int(r)]
        if r == TOTAL:
            assert self.col_totals is not None
            return self.col_totals[int(c)]
        return self.cells[int(r)][int(c)]

    def visible(self, key: Key) -> int | None:
        return self.value(key) if self.state[key] == SHOWN else None

    @property
    def hidden(self) -> int:
        return sum(1 for s in self.state.values() if s != SHOWN)


def protect_table(cells: Sequence[Sequence[int]], totals: bool = True) -> Protected:
    """Suppress a table of counts. With `totals`, a row total column is added when there are
    several columns, a column total row when there are several rows, and a grand total when
    there are both (a single column's total row *is* the grand total)."""
    grid = [list(map(int, row)) for row in cells]
    n_rows = len(grid)
    n_cols = len(grid[0]) if grid else 0
    if any(len(r) != n_cols for r in grid):
        raise ValueError("ragged table")
    if any(v < 0 for r in grid for v in r):
        raise ValueError("negative count")
    values: dict[Key, int] = {(r, c): grid[r][c] for r in range(n_rows) for c in range(n_cols)}
    sums: list[Sum] = []
    row_totals = col_totals = None
    grand = None
    if totals and n_rows and n_cols:
        if n_cols > 1:
            row_totals = [sum(r) for r in grid]
            for r in range(n_rows):
                values[(r, TOTAL)] = row_totals[r]
                sums.append(((r, TOTAL), [(r, c) for c in range(n_cols)]))
        if n_rows > 1:
            col_totals = [sum(grid[r][c] for r in range(n_rows)) for c in range(n_cols)]
            for c in range(n_cols):
                values[(TOTAL, c)] = col_totals[c]
                sums.append(((TOTAL, c), [(r, c) for r in range(n_rows)]))
        if n_rows > 1 and n_cols > 1:
            grand = sum(row_totals or [])
            values[(TOTAL, TOTAL)] = grand
            sums.append(((TOTAL, TOTAL), [(r, TOTAL) for r in range(n_rows)]))
            sums.append(((TOTAL, TOTAL), [(TOTAL, c) for c in range(n_cols)]))
    state = protect(values, sums)
    return Protected(grid, row_totals, col_totals, grand, state)


def protect(values: dict[Key, int], sums: list[Sum]) -> dict[Key, str]:
    """The state of every key: shown, primary ("<5") or secondary ("*")."""
    state = {k: PRIMARY if 0 < v < SMALL else SHOWN for k, v in values.items()}
    # Bounds are the tightest any reader could know (the largest figure of the table caps every
    # hidden one), so a sum that looks safe here is at least as safe to a reader.
    ceiling = max(values.values(), default=0)
    changed = True
    while changed:
        changed = False
        for total, members in sums:
            if unsafe(total, members, values, state, ceiling):
                pick = _complement(total, members, values, state)
                if pick is not None:
                    state[pick] = SECONDARY
                    changed = True
    return state


def _bounds(key: Key, state: dict[Key, str], ceiling: int) -> tuple[int, int]:
    return (1, SMALL - 1) if state[key] == PRIMARY else (SMALL, max(ceiling, SMALL))


def unsafe(total: Key, members: list[Key], values: dict[Key, int], state: dict[Key, str], ceiling: int) -> bool:
    signed = [(total, -1)] + [(m, 1) for m in members]
    hidden = [(k, sign) for k, sign in signed if state[k] != SHOWN]
    if not hidden:
        return False
    if state[total] == SHOWN:
        difference = sum(values[m] for m in members if state[m] != SHOWN)
        if 0 < difference < SMALL:
            return True
    # sum(sign * hidden value) = constant, known to the reader from the visible figures.
    constant = -sum(sign * values[k] for k, sign in signed if state[k] == SHOWN)
    ranges = {}
    for k, sign in hidden:
        lo, hi = _bounds(k, state, ceiling)
        ranges[k] = (lo, hi) if sign > 0 else (-hi, -lo)
    for k, sign in hidden:
        rest_lo = sum(ranges[z][0] for z, _ in hidden if z != k)
        rest_hi = sum(ranges[z][1] for z, _ in hidden if z != k)
        lo_k, hi_k = constant - rest_hi, constant - rest_lo  # range of sign * value
        if sign < 0:
            lo_k, hi_k = -hi_k, -lo_k
        own_lo, own_hi = _bounds(k, state, ceiling)
        if max(lo_k, own_lo) >= min(hi_k, own_hi):
            return True
    return False


def _complement(total: Key, members: list[Key], values: dict[Key, int], state: dict[Key, str]) -> Key | None:
    candidates = [m for m in members if state[m] == SHOWN and values[m] > 0]
    if candidates:
        return min(candidates, key=lambda m: (values[m], _order(m)))
    if state[total] == SHOWN and values[total] > 0:
        return total
    return None


def _order(key: Key) -> tuple[int, int]:
    r, c = key
    return (10**9 if r == TOTAL else int(r), 10**9 if c == TOTAL else int(c))


def enough(n: int) -> bool:
    """A statistic (average, rate, median) over n people is shown only when n >= 5."""
    return n >= SMALL
