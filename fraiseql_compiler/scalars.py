"""The scalar table: Python annotation → GraphQL scalar and PostgreSQL type."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from fraiseql import scalars as s


@dataclass(frozen=True)
class ScalarInfo:
    graphql: str
    sql_type: str
    builtin: bool  # a GraphQL built-in scalar (no `scalar X` declaration in the SDL)
    description: str | None = None


_TABLE: tuple[tuple[Any, ScalarInfo], ...] = (
    (str, ScalarInfo("String", "text", True)),
    (int, ScalarInfo("Int", "integer", True)),
    (float, ScalarInfo("Float", "double precision", True)),
    (bool, ScalarInfo("Boolean", "boolean", True)),
    (s.ID, ScalarInfo("ID", "uuid", True)),
    (s.UUID, ScalarInfo("UUID", "uuid", False, "A UUID in canonical text form.")),
    (uuid.UUID, ScalarInfo("UUID", "uuid", False, "A UUID in canonical text form.")),
    (s.Email, ScalarInfo("Email", "text", False, "An e-mail address.")),
    (s.URL, ScalarInfo("URL", "text", False, "An absolute URL.")),
    (
        s.DateTime,
        ScalarInfo("DateTime", "timestamp with time zone", False, "An ISO-8601 timestamp with time zone."),
    ),
    (
        dt.datetime,
        ScalarInfo("DateTime", "timestamp with time zone", False, "An ISO-8601 timestamp with time zone."),
    ),
    (s.Date, ScalarInfo("Date", "date", False, "An ISO-8601 calendar date.")),
    (dt.date, ScalarInfo("Date", "date", False, "An ISO-8601 calendar date.")),
    (s.Time, ScalarInfo("Time", "time", False, "An ISO-8601 time of day.")),
    (dt.time, ScalarInfo("Time", "time", False, "An ISO-8601 time of day.")),
    (s.JSON, ScalarInfo("JSON", "jsonb", False, "Any JSON value.")),
    (dict, ScalarInfo("JSON", "jsonb", False, "Any JSON value.")),
    (s.Decimal, ScalarInfo("Decimal", "numeric", False, "An exact decimal number, as a string.")),
    (decimal.Decimal, ScalarInfo("Decimal", "numeric", False, "An exact decimal number, as a string.")),
)

SCALARS: dict[int, ScalarInfo] = {id(obj): info for obj, info in _TABLE}
BY_GRAPHQL: dict[str, ScalarInfo] = {info.graphql: info for _, info in _TABLE}
# Names a schema module may write in a forward reference without importing them.
SCALAR_NAMES: dict[str, Any] = {name: getattr(s, name) for name in s.__all__}


def scalar_for(annotation: Any) -> ScalarInfo | None:
    return SCALARS.get(id(annotation))
