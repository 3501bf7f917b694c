"""The one place that picks the dialect's INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_unless_taken(s: Session, model, key: str, returning, values: dict):
    """Insert a row unless its unique `key` column is taken: the `returning` column of the new row,
    or None when another row holds the key (one statement, safe between processes)."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=[key]).returning(returning)
    return s.execute(stmt).scalar()


def insert_many_unless_taken(s: Session, model, key: str, returning, rows: list[dict]) -> set:
    """`insert_unless_taken` for many rows, sent as one multi-row statement (SQLAlchemy's "insertmanyvalues"
    for an executemany with RETURNING; the statement is built once and cached): the `returning` values of
    the rows written (a row whose key is taken, or repeats an earlier row's key, is left out)."""
    dialect = s.get_bind().dialect.name
    stmt = _INSERTS.get((model, key, returning, dialect))
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(model.__table__).on_conflict_do_nothing(index_elements=[key]).returning(returning)
        _INSERTS[(model, key, returning, dialect)] = stmt
    return set(s.execute(stmt, rows).scalars())


_INSERTS: dict = {}
