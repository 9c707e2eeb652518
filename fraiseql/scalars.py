"""Scalar types for annotations. Each is a ``NewType`` so type checkers see the underlying Python type."""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import uuid as _uuid
from typing import Any, NewType

ID = NewType("ID", str)
Email = NewType("Email", str)
URL = NewType("URL", str)
UUID = NewType("UUID", _uuid.UUID)
DateTime = NewType("DateTime", _dt.datetime)
Date = NewType("Date", _dt.date)
Time = NewType("Time", _dt.time)
JSON = NewType("JSON", dict[str, Any])
Decimal = NewType("Decimal", _decimal.Decimal)

__all__ = ["ID", "JSON", "URL", "UUID", "Date", "DateTime", "Decimal", "Email", "Time"]
