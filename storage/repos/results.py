"""What an UPDATE or DELETE reports: the rows it touched (SQLAlchemy types `execute` as a plain Result)."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult


def rowcount(result: Any) -> int:
    """How many rows the statement changed (psycopg and sqlite3 both report it for UPDATE/DELETE)."""
    return cast(CursorResult, result).rowcount
