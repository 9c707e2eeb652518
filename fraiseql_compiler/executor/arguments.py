"""Arguments checked against their GraphQL types before any SQL runs, and translated to the Python names the
SQL side reads.

A value that does not fit its type is a 400 naming the argument (and, inside an input object, the path such as
``input.title``), never a raw PostgreSQL error: an Int is a 32-bit signed integer (as GraphQL defines it), a
Float is finite, text holds no NUL character (PostgreSQL text cannot), a value whose SQL type is uuid, a
timestamp, a date, a time, numeric or jsonb is one PostgreSQL accepts, an enum value is one of its values, a
list is checked element by element, and an input object field by field under the names the SDL declares.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.models import Argument, InputTypeEntry, Manifest, TypeRef

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# PostgreSQL numeric: at most 131072 digits before the decimal point and 16383 after it.
_NUMERIC_INT_DIGITS, _NUMERIC_SCALE = 131072, 16383

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
_OFFSET = r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)"
_DATE_RE = re.compile(rf"^{_DATE}$")
_TIME_RE = re.compile(rf"^{_TIME}$")
_DATETIME_RE = re.compile(rf"^{_DATE}[Tt ]{_TIME}{_OFFSET}$")
_NAIVE_DATETIME_RE = re.compile(rf"^{_DATE}[Tt ]{_TIME}$")
_DECIMAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")

_TIMESTAMPTZ = ("timestamp with time zone", "timestamptz")
_TIMESTAMP = ("timestamp", "timestamp without time zone")
_TIME_TYPES = ("time", "time without time zone")
_UUID_EXAMPLE = "00000000-0000-0000-0000-000000000000"


class _Bad(Exception):
    """A value that does not fit: the reason, completed with the path where it is raised."""


class _Schema:
    """The input types and enums of a manifest, by GraphQL name."""

    def __init__(self, manifest: Manifest) -> None:
        self.inputs = {i.name: i for i in manifest.inputs}
        self.enums = {e.name: [v.name for v in e.values] for e in manifest.enums}


def _show(value: Any) -> str:
    """A value as a message shows it: JSON-like, and short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value if len(value) <= 40 else value[:37] + "...", ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # an unpaired surrogate: shown escaped
            text = json.dumps(value[:40])
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        quoted = f" (as a string: {json.dumps(_show(value))})" if isinstance(value, int | float) else ""
        raise _Bad(f"must be {what}, not {_show(value)}{quoted}")
    if "\x00" in value:
        raise _Bad("contains a NUL character (\\u0000), which PostgreSQL text cannot hold: remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad("contains an unpaired UTF-16 surrogate, which is not text: send valid Unicode") from None
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"must be an Int (a 32-bit signed integer), not {_show(value)}")
    if isinstance(value, float) and not value.is_integer():  # NaN and the infinities too
        raise _Bad(f"must be an Int (a 32-bit signed integer), not {_show(value)}")
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise _Bad(
            f"must be an Int between {INT_MIN} and {INT_MAX} (GraphQL's Int is a 32-bit signed integer), "
            f"not {_show(value)}"
        )
    return number


def _float(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"must be a Float (a number), not {_show(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a double
        finite = False
    if not finite:
        raise _Bad(f"must be a finite Float, not {_show(value)}")
    return value


def _json(value: Any, depth: int = 0) -> None:
    """A JSON value jsonb can hold: no NUL in strings or keys, finite numbers."""
    if depth > 100:
        raise _Bad("is nested more than 100 levels deep")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad(f"holds {_show(value)}, which is not a JSON number")
    elif isinstance(value, str):
        _text(value, "a string")
    elif isinstance(value, list | tuple):
        for item in value:
            _json(item, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _text(key, "a string key")
            _json(item, depth + 1)
    else:
        raise _Bad(f"holds {_show(value)}, which is not a JSON value")


def _decimal(value: Any) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(f'must be a Decimal: a number as a string, e.g. "12.50", not {_show(value)}')
    if isinstance(value, float):
        return _float(value)
    text = str(value)
    if isinstance(value, str) and not _DECIMAL_RE.match(text):
        raise _Bad(f'must be a Decimal: a number as a string, e.g. "12.50", not {_show(value)}')
    number = Decimal(text)
    scale = max(0, -int(number.as_tuple().exponent))
    if scale > _NUMERIC_SCALE or (number != 0 and number.adjusted() >= _NUMERIC_INT_DIGITS):
        raise _Bad(
            f"is out of PostgreSQL numeric's range (up to {_NUMERIC_INT_DIGITS} digits before the decimal point "
            f"and {_NUMERIC_SCALE} after it)"
        )
    return value


def _check_iso(text: str, parse: Callable[[str], object], kind: str, example: str) -> None:
    try:
        parse(text)
    except ValueError:
        raise _Bad(f"must be {kind}, e.g. {example}, not {_show(text)}") from None


def _datetime(text: str, with_zone: bool) -> None:
    example = '"2024-05-01T12:30:00Z"' if with_zone else '"2024-05-01T12:30:00"'
    kind = "an ISO-8601 timestamp with a time zone offset" if with_zone else "an ISO-8601 timestamp"
    match = (_DATETIME_RE if with_zone else _NAIVE_DATETIME_RE).match(text)
    if match is None:
        if with_zone and _NAIVE_DATETIME_RE.match(text):
            raise _Bad(f"must have a time zone offset (Z or +hh:mm), e.g. {example}: {_show(text)} has none")
        raise _Bad(f"must be {kind}, e.g. {example}, not {_show(text)}")
    normalized = text[:10] + "T" + text[11:]
    if with_zone:
        offset = match.group("offset")
        if offset in ("Z", "z"):
            iso = "+00:00"
        else:
            digits = offset[1:].replace(":", "")
            if int(digits[:2]) > 15 or int(digits[2:] or 0) > 59:  # PostgreSQL's range: -15:59 to +15:59
                raise _Bad(f"has the time zone offset {offset}, beyond PostgreSQL's ±15:59, in {_show(text)}")
            iso = f"{offset[0]}{digits[:2]}:{digits[2:] or '00'}"
        normalized = normalized[: match.start("offset")] + iso
    _check_iso(normalized, dt.datetime.fromisoformat, kind, example)


def _scalar(ref: TypeRef, value: Any) -> Any:
    name, sql = ref.name, ref.sql_type
    if name == "Int" or sql in ("integer", "int", "int4"):
        return _int(value)
    if name == "Float" or sql in ("double precision", "float8", "real"):
        return _float(value)
    if name == "Boolean" or sql == "boolean":
        if not isinstance(value, bool):
            raise _Bad(f"must be a Boolean (true or false), not {_show(value)}")
        return value
    if sql in ("jsonb", "json"):
        _json(value)
        return value
    if sql == "numeric":
        return _decimal(value)
    if name == "ID" and sql != "uuid" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # GraphQL: an ID input may be an integer; it is the same ID as a string
    what = f"{'an' if str(name)[:1] in tuple('AEIOU') else 'a'} {name}" + ("" if name == "String" else " (a string)")
    text = _text(value, what)
    if sql == "uuid":
        if not _UUID.match(text):
            raise _Bad(f'must be a UUID such as "{_UUID_EXAMPLE}", not {_show(text)}')
    elif sql in _TIMESTAMPTZ:
        _datetime(text, with_zone=True)
    elif sql in _TIMESTAMP:
        _datetime(text, with_zone=False)
    elif sql == "date":
        if not _DATE_RE.match(text):
            raise _Bad(f'must be an ISO-8601 date, e.g. "2024-05-01", not {_show(text)}')
        _check_iso(text, dt.date.fromisoformat, "an ISO-8601 date", '"2024-05-01"')
    elif sql in _TIME_TYPES:
        if not _TIME_RE.match(text):
            raise _Bad(f'must be an ISO-8601 time of day without offset, e.g. "12:30:00", not {_show(text)}')
        _check_iso(text, dt.time.fromisoformat, "an ISO-8601 time of day", '"12:30:00"')
    return text


def _did_you_mean(key: str, names: list[str], python_names: Mapping[str, str]) -> str:
    if key in python_names:
        return f' (write "{python_names[key]}", its GraphQL name)'
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    return f' (did you mean "{close[0]}"?)' if close else ""


def _input(entry: InputTypeEntry, value: Any, path: str, schema: _Schema) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ExecutionError(
            400, "BAD_ARGUMENT", f'argument "{path}" must be an object ({entry.name}), not {_show(value)}'
        )
    declared = {f.graphql_name: f for f in entry.fields}
    unknown = [k for k in value if k not in declared]
    if unknown:
        names = list(declared)
        python_names = {f.name: f.graphql_name for f in entry.fields if f.name != f.graphql_name}
        listed = ", ".join(f'"{k}"' + _did_you_mean(str(k), names, python_names) for k in unknown)
        raise ExecutionError(
            400,
            "UNKNOWN_ARGUMENT",
            f'unknown field(s) {listed} in argument "{path}": {entry.name} declares '
            + (", ".join(f'"{n}"' for n in names) or "no fields"),
        )
    out: dict[str, Any] = {}
    for f in entry.fields:
        where = f"{path}.{f.graphql_name}"
        if f.graphql_name in value:
            out[f.name] = _coerce(f.type, value[f.graphql_name], where, schema)
        elif f.has_default:
            out[f.name] = f.default
        elif not f.type.nullable:
            raise ExecutionError(400, "MISSING_ARGUMENT", f'field "{where}" ({f.type.graphql}) is required')
    return out


def _coerce(ref: TypeRef, value: Any, path: str, schema: _Schema) -> Any:
    if value is None:
        if not ref.nullable:
            raise ExecutionError(400, "BAD_ARGUMENT", f'argument "{path}" must not be null ({ref.graphql})')
        return None
    if ref.kind == "list":
        assert ref.of is not None
        if not isinstance(value, list | tuple):  # GraphQL: one value stands for a list of one
            return [_coerce(ref.of, value, path, schema)]
        return [_coerce(ref.of, item, f"{path}[{i}]", schema) for i, item in enumerate(value)]
    if ref.kind == "input":
        entry = schema.inputs.get(str(ref.name))
        if entry is None:  # the manifest names an input type it does not define
            raise ExecutionError(500, "MANIFEST_INVALID", f"the manifest does not define the input type {ref.name}")
        return _input(entry, value, path, schema)
    try:
        if ref.kind == "enum":
            values = schema.enums.get(str(ref.name), [])
            if not isinstance(value, str) or value not in values:
                hint = _did_you_mean(value, values, {}) if isinstance(value, str) else ""
                raise _Bad(f"must be one of {ref.name}'s values {', '.join(values)}, not {_show(value)}{hint}")
            return value
        return _scalar(ref, value)
    except _Bad as bad:
        raise ExecutionError(400, "BAD_ARGUMENT", f'argument "{path}" ({ref.graphql}) {bad}') from None


def coerce_arguments(manifest: Manifest, arguments: list[Argument], variables: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments by Python name: given values checked and translated, else defaults; 400 for an unknown,
    missing, doubly given or ill-typed one. A top-level argument may be given by its GraphQL or its Python
    name; a Python name that is another argument's GraphQL name means that other argument (the SDL's)."""
    schema = _Schema(manifest)
    by_graphql = {a.graphql_name: a for a in arguments}
    by_python = {a.name: a for a in arguments if a.name not in by_graphql}
    given: dict[str, str] = {}  # Python name -> the key it was given under
    unknown = []
    for key in variables:
        arg = by_graphql.get(key) or by_python.get(key)
        if arg is None:
            unknown.append(key)
        elif arg.name in given:
            raise ExecutionError(
                400,
                "AMBIGUOUS_ARGUMENT",
                f'argument "{arg.graphql_name}" is given twice, as "{given[arg.name]}" and as "{key}": '
                f'give it once, as "{arg.graphql_name}"',
            )
        else:
            given[arg.name] = key
    if unknown:
        names = [a.graphql_name for a in arguments]
        python_names = {a.name: a.graphql_name for a in arguments if a.name != a.graphql_name}
        listed = ", ".join(f'"{k}"' + _did_you_mean(str(k), names, python_names) for k in unknown)
        known = ", ".join(f'"{n}"' for n in names) or "none"
        raise ExecutionError(400, "UNKNOWN_ARGUMENT", f"unknown argument(s) {listed}; the operation takes {known}")
    values: dict[str, Any] = {}
    for a in arguments:
        if a.name in given:
            key = given[a.name]
            values[a.name] = _coerce(a.type, variables[key], key, schema)
        elif a.has_default:
            values[a.name] = a.default
        elif a.type.nullable:
            values[a.name] = None
        else:
            raise ExecutionError(400, "MISSING_ARGUMENT", f'argument "{a.graphql_name}" ({a.type.graphql}) is required')
    return values


def coerce_value(ref: TypeRef, value: Any, path: str, schema: _Schema) -> Any:
    """One value checked against its type, as an argument is (paging's where values and cursors)."""
    return _coerce(ref, value, path, schema)
