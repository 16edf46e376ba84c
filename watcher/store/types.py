"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timestamp type: SQLAlchemy stores text and hands back naive datetimes, so a value
written as 12:00+00:00 would come back as a naive 12:00 and compare wrongly with aware values.
`UtcDateTime` stores UTC and always returns an aware UTC datetime, on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp. Naive datetimes are refused: their zone is a guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse a naive datetime; SQLite gets naive UTC so its text compares in time order."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: watcher stores aware UTC datetimes")
        value = value.astimezone(UTC)
        # SQLite compares the stored text, so every value must be in one zone and one format.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime whatever the dialect stored."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# None is stored as SQL NULL, not as the JSON text 'null', so `IS NULL` finds it.
JsonDict: Any = JSON(none_as_null=True)
