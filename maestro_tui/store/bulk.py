"""Many rows in one SQLite statement, in statements SQLite has prepared before.

`executemany` binds and steps SQLite once per row; one statement carrying many rows binds
them all, then steps once.

Preparing such a statement costs about as much as running it, so the number of rows per
statement comes from a short ladder of powers of two: as many rows as fit `STATEMENT_PARAMS`,
then the rest in binary (100 rows: 64 + 32 + 4). The same few statement texts recur, and
sqlite3's statement cache (`CACHED_STATEMENTS`) keeps them prepared. Measured on the events
table: 1.94 µs a row with a fresh statement per batch, 1.12 µs with the ladder (executemany:
1.65 µs).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

Statement = tuple[str, list[tuple[Any, ...]]]  # run with executemany

# SQLite's limit on parameters per statement: 32766 by default since 3.32, 999 before.
# Store.open probes which applies and passes it in as `max_vars`.
MAX_VARS = 28_000
OLD_MAX_VARS = 999
STATEMENT_PARAMS = 1024  # at most this many parameters in one statement
CACHED_STATEMENTS = 512  # prepared statements the connection keeps (sqlite3's default: 128)
# UPDATE ... FROM (VALUES ...) needs SQLite 3.33; older ones update one row per step.
UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


def quote(name: str) -> str:
    """An identifier, quoted ("commit" is an SQL keyword)."""
    return f'"{name}"'


@functools.lru_cache(maxsize=256)
def _values(rows: int, cols: int) -> str:
    one = "(" + ",".join("?" * cols) + ")"
    return ",".join([one] * rows)


def ladder(count: int, top: int) -> Iterator[int]:
    """Statement sizes for `count` rows: `top` (a power of two) as often as it fits, then the
    rest in binary, largest first."""
    yield from itertools.repeat(top, count // top)
    rest, size = count % top, top
    while rest:
        size //= 2
        if rest >= size:
            yield size
            rest -= size


def _chunks(
    rows: Sequence[tuple[Any, ...]], cols: int, max_vars: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    fit = max(1, min(max_vars, STATEMENT_PARAMS) // cols)
    top = 1 << (fit.bit_length() - 1)  # the largest power of two that fits
    flat = itertools.chain.from_iterable
    at = 0
    for size in ladder(len(rows), top):
        yield size, tuple(flat(rows[at : at + size]))
        at += size


def insert(
    head: str, cols: int, rows: Sequence[tuple[Any, ...]], max_vars: int
) -> Iterator[Statement]:
    """`head` ("INSERT INTO t (a, b) VALUES ") followed by as many rows as a statement takes."""
    for count, params in _chunks(rows, cols, max_vars):
        yield head + _values(count, cols), [params]


def update(
    table: str,
    keys: tuple[str, ...],
    names: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    max_vars: int,
) -> Iterator[Statement]:
    """Set `names` on the rows whose `keys` match; each row is (*values, *key values)."""
    if not UPDATE_FROM:
        sets = ", ".join(f"{quote(n)} = ?" for n in names)
        where = " AND ".join(f"{quote(k)} = ?" for k in keys)
        yield f"UPDATE {table} SET {sets} WHERE {where}", list(rows)
        return
    cols = len(names) + len(keys)
    # VALUES columns are named column1, column2, … in SQLite.
    sets = ", ".join(f"{quote(n)} = v.column{i}" for i, n in enumerate(names, start=1))
    where = " AND ".join(
        f"{table}.{quote(k)} = v.column{i}" for i, k in enumerate(keys, start=len(names) + 1)
    )
    for count, params in _chunks(rows, cols, max_vars):
        sql = f"UPDATE {table} SET {sets} FROM (VALUES {_values(count, cols)}) AS v WHERE {where}"
        yield sql, [params]


def commit(conn: sqlite3.Connection, statements: list[Statement]) -> None:
    """Run the statements in one transaction (in the writer process)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, rows in statements:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
