"""Column types that mean the same thing on SQLite and PostgreSQL.

:class:`UTCDateTime` is the type of every time column. PostgreSQL's ``timestamptz``
keeps the instant of an aware datetime, but SQLite has no time type: SQLAlchemy's
``DateTime`` writes the wall-clock digits and drops the offset, so ``06:31+05:00``
came back as ``06:31`` and was read as UTC — five hours late. Converting every value
to UTC before it is written, and marking what is read as UTC, gives the same instant
on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; read back aware, in UTC, on every database.

    Writing a naive datetime raises :class:`ValueError`: a time without a zone names no
    instant, and guessing one is how deadlines went wrong. Services check what people
    enter first and say how to fix it (see :func:`commonplan.services.rounds.open_round`).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"a naive datetime ({value.isoformat()}) cannot be stored: give it a time zone"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: the digits written above, which are UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
