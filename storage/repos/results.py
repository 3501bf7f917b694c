"""What an UPDATE or DELETE reports (the rows it touched), and SELECTs of columns run without the ORM."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Result
from sqlalchemy.orm import Session


def rowcount(result: Any) -> int:
    """How many rows the statement changed (psycopg and sqlite3 both report it for UPDATE/DELETE)."""
    return cast(CursorResult, result).rowcount


def columns(s: Session, stmt: Executable, params: dict) -> Result:
    """A SELECT of columns (not objects) on the session's connection, after a flush of what the
    transaction changed so far: the rows the session's own execution returns (its autoflush included)
    in half the time — the ORM would prepare a context for objects that are not there."""
    s.flush()
    return s.connection().execute(stmt, params)
