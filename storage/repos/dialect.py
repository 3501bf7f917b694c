"""The one place that picks the dialect's INSERT … ON CONFLICT (SQLite and PostgreSQL).

The statements are built once per dialect and table and run on the session's connection: the hot
path (every command writes an outbox row and claims its delivery) pays neither the statement's
construction nor an ORM autoflush."""
from __future__ import annotations

from functools import cache

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _insert(dialect: str):
    """The dialect's insert(), imported when first used: the PostgreSQL dialect's modules (its asyncpg
    driver glue among them) are ~40 ms of a SQLite process's start-up."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


@cache
def _unless_taken(dialect: str, table: Table, key: str, returning: str):
    return _insert(dialect)(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[returning])


def insert_unless_taken(s: Session, model, key: str, returning, values: dict):
    """Insert a row unless its unique `key` column is taken: the `returning` column of the new row,
    or None when another row holds the key (one statement, safe between processes)."""
    conn = s.connection()
    stmt = _unless_taken(conn.dialect.name, model.__table__, key, returning.key)
    return conn.execute(stmt, values).scalar()


def insert_many_unless_taken(s: Session, model, key: str, returning, rows: list[dict]) -> set:
    """`insert_unless_taken` for many rows, in one statement on the session's connection (one row: a plain
    INSERT; more: SQLAlchemy's "insertmanyvalues" sends an executemany with RETURNING as one multi-row
    INSERT): the `returning` values of the rows written (a row whose key is taken, or repeats an earlier
    row's key, is left out)."""
    if not rows:
        return set()
    conn = s.connection()
    stmt = _unless_taken(conn.dialect.name, model.__table__, key, returning.key)
    if len(rows) == 1:
        return {v for v in [conn.execute(stmt, rows[0]).scalar()] if v is not None}
    return set(conn.execute(stmt, rows).scalars())


@cache
def _insert_or_update(dialect: str, table: Table, key: str, where: tuple, set_: tuple):
    cond = [table.c[col] == value for col, value in where]
    return (_insert(dialect)(table).on_conflict_do_update(index_elements=[key], set_=dict(set_), where=cond[0])
            .returning(table.c[key]))


def insert_or_update(s: Session, model, key: str, values: dict, where: tuple, set_: tuple) -> bool:
    """Insert a row, or when its unique `key` is taken and the row has `where` (one (column, value)), set
    `set_` ((column, value) pairs) on it: True when a row was inserted or changed (one statement)."""
    conn = s.connection()
    stmt = _insert_or_update(conn.dialect.name, model.__table__, key, where, set_)
    return conn.execute(stmt, values).first() is not None
