"""Paging as the manifest describes it (``QueryEntry.paging``, docs/paging.md): the caller's ``orderBy``,
``where``, ``limit``/``offset`` or ``first``/``after`` checked against what the schema declared, and turned
into SQL over the API relation where every value is a bound parameter and every name comes from the
manifest (checked as a plain name before it reaches SQL).

Any problem with the input is a 400 naming the argument and the path inside it; nothing the caller sends
reaches SQL as text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fraiseql_compiler.executor.arguments import INT_MAX, _Schema, coerce_value
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.models import Manifest, PageFieldEntry, PagingEntry, TypeRef

CURSOR_VERSION = 1
# A cursor holds a row's order values verbatim, long text included; the bound keeps decoding cheap.
MAX_CURSOR = 1 << 20
_NUMBER_TYPES = ("numeric", "double precision", "real", "float8", "float4")
# Dates and timestamps PostgreSQL may hold, and write in a cursor, though no argument may name them.
_INFINITE_TYPES = ("date", "timestamp", "timestamp with time zone", "timestamp without time zone", "timestamptz")
_INFINITIES = ("infinity", "-infinity")
_JSON_SPACE = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|\s')  # a JSON string, or a space outside one
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE = re.compile(r"^[a-z][a-z0-9_ ]*$")
_DIRECTIONS = {
    "ASC": ("ASC", False),
    "ASC_NULLS_FIRST": ("ASC", True),
    "ASC_NULLS_LAST": ("ASC", False),
    "DESC": ("DESC", True),
    "DESC_NULLS_FIRST": ("DESC", True),
    "DESC_NULLS_LAST": ("DESC", False),
}
_COMPARE = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
PAGING_ARGUMENTS = ("limit", "offset", "first", "after", "orderBy", "where")


def bad(message: str, code: str = "BAD_ARGUMENT") -> ExecutionError:
    return ExecutionError(400, code, message)


@dataclass(frozen=True)
class Key:
    field: PageFieldEntry
    direction: str  # ASC or DESC
    nulls_first: bool

    @property
    def signature(self) -> list[str]:
        return [self.field.graphql_name, self.direction, "FIRST" if self.nulls_first else "LAST"]


@dataclass
class Page:
    """A validated paging request: what the SQL and the answer's shape need."""

    paging: PagingEntry
    order: list[Key]
    limit: int
    offset: int = 0
    after: list[Any] | None = None  # the cursor's values, in the order's order
    where_sql: str = ""
    params: list[Any] = field(default_factory=list)


def _column(f: PageFieldEntry, alias: str = "s") -> str:
    if not _COLUMN.match(f.column) or not _TYPE.match(f.sql_type):
        raise ExecutionError(500, "MANIFEST_INVALID", f"manifest paging field {f.graphql_name!r} is not plain SQL")
    return f'{alias}."{f.column}"'


def _ref(f: PageFieldEntry) -> TypeRef:
    return TypeRef(
        graphql=f.graphql_type, kind=f.kind, name=f.graphql_type, nullable=False, of=None, sql_type=f.sql_type
    )


def _integral(name: str, value: Any) -> int:
    """An Int as any argument takes one: a JSON integer, or a Float without a fraction."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise bad(f'argument "{name}" must be an Int (a 32-bit signed integer), not {_shown(value)}')
    return int(value)


def _page_size(name: str, value: Any, paging: PagingEntry) -> int:
    if value is None:
        return paging.default_limit
    size = _integral(name, value)
    if not 0 <= size <= paging.max_limit:  # refused, never clamped: however far above it (2**31 included)
        raise bad(
            f'argument "{name}" must be between 0 and {paging.max_limit} (this query\'s max_limit), not {size}',
            "LIMIT_TOO_LARGE" if size > paging.max_limit else "BAD_ARGUMENT",
        )
    return size


def _offset(value: Any) -> int:
    offset = _integral("offset", value)
    if not 0 <= offset <= INT_MAX:
        raise bad(f'argument "offset" must be an Int between 0 and {INT_MAX}, not {offset}')
    return offset


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _order(paging: PagingEntry, given: Any) -> list[Key]:
    by_name = {f.graphql_name: f for f in paging.fields}
    keys: list[Key] = []
    if given is None or (isinstance(given, list | tuple) and not given):  # no order asked for: the default
        for k in paging.default_order:
            keys.append(Key(by_name[k.field], k.direction, k.nulls == "FIRST"))
    else:
        items = given if isinstance(given, list | tuple) else [given]  # GraphQL: one value for a list of one
        orderable = [f.graphql_name for f in paging.fields if f.order]
        if len(items) > len(orderable):
            raise bad(f'argument "orderBy" has {len(items)} keys; at most {len(orderable)} fields can be ordered by')
        for i, item in enumerate(items):
            path = f"orderBy[{i}]"
            if not isinstance(item, Mapping) or len(item) != 1:
                raise bad(
                    f'argument "{path}" must be an object with exactly one field, e.g. {{"{orderable[0]}": "DESC"}}'
                    if orderable
                    else f'argument "{path}": nothing can be ordered by here'
                )
            ((name, direction),) = item.items()
            f = by_name.get(name)
            if f is None or not f.order:
                raise bad(
                    f'argument "{path}": cannot order by "{name}"; this query orders by '
                    + (", ".join(f'"{n}"' for n in orderable) or "nothing"),
                    "UNKNOWN_ARGUMENT",
                )
            if not isinstance(direction, str) or direction not in _DIRECTIONS:  # a list or an object is no key
                raise bad(f'argument "{path}.{name}" must be one of {", ".join(_DIRECTIONS)}, not {_shown(direction)}')
            if any(k.field.graphql_name == name for k in keys):
                raise bad(f'argument "{path}": "{name}" is ordered by twice')
            plain, nulls_first = _DIRECTIONS[direction]
            keys.append(Key(f, plain, nulls_first))
    for name in paging.key:
        if all(k.field.graphql_name != name for k in keys):
            keys.append(Key(by_name[name], "ASC", False))
    # A column that holds no NULL sorts the same with either placement: PostgreSQL's own (ASC: last, DESC:
    # first), so that a plain index serves it, forwards or backwards.
    return [Key(k.field, k.direction, k.direction == "DESC") if not k.field.nullable else k for k in keys]


class _Where:
    def __init__(self, paging: PagingEntry, schema: _Schema) -> None:
        self.paging = paging
        self.schema = schema
        self.fields = {f.graphql_name: f for f in paging.fields if f.operators}
        self.conditions = 0
        self.params: list[Any] = []

    def node(self, value: Any, path: str, depth: int) -> str:
        if depth > self.paging.max_depth:  # the where object is level 1, each and/or/not one more
            raise bad(f'argument "{path}" nests and/or/not deeper than {self.paging.max_depth} levels')
        if not isinstance(value, Mapping):
            raise bad(f'argument "{path}" must be an object of conditions, not {_shown(value)}')
        parts = [self.member(str(key), item, f"{path}.{key}", depth) for key, item in value.items()]
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"

    def member(self, key: str, value: Any, path: str, depth: int) -> str:
        if key in ("and", "or"):
            items = value if isinstance(value, list | tuple) else [value]
            parts = [self.node(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(items)]
            if not parts:
                return "TRUE" if key == "and" else "FALSE"
            return "(" + f" {key.upper()} ".join(parts) + ")"
        if key == "not":
            return f"({self.node(value, path, depth + 1)} IS NOT TRUE)"
        f = self.fields.get(key)
        if f is None:
            names = ", ".join(f'"{n}"' for n in self.fields) or "nothing"
            raise bad(
                f'argument "{path}": cannot filter on "{key}"; this query filters on {names} (and, or, not)',
                "UNKNOWN_ARGUMENT",
            )
        if not isinstance(value, Mapping) or not value:
            ops = ", ".join(f.operators)
            raise bad(f'argument "{path}" must be an object of operators ({ops}), not {_shown(value)}')
        return " AND ".join(self.condition(f, str(op), item, f"{path}.{op}") for op, item in value.items())

    def condition(self, f: PageFieldEntry, op: str, value: Any, path: str) -> str:
        self.conditions += 1
        if self.conditions > self.paging.max_conditions:
            raise bad(f'argument "where" has more than {self.paging.max_conditions} conditions')
        if op not in f.operators:
            raise bad(
                f'argument "{path}": {f.graphql_name} takes the operators {", ".join(f.operators)}, not "{op}"',
                "UNKNOWN_ARGUMENT",
            )
        column = _column(f)
        if op == "isNull":
            if not isinstance(value, bool):
                raise bad(f'argument "{path}" must be true or false, not {_shown(value)}')
            return f"({column} IS {'' if value else 'NOT '}NULL)"
        if value is None:
            raise bad(f'argument "{path}" must not be null: to match missing values, use isNull')
        if op == "in":
            items = value if isinstance(value, list | tuple) else [value]
            if len(items) > self.paging.max_in:
                raise bad(f'argument "{path}" lists {len(items)} values; at most {self.paging.max_in} are allowed')
            checked = [coerce_value(_ref(f), item, f"{path}[{i}]", self.schema) for i, item in enumerate(items)]
            if f.sql_type in _NUMBER_TYPES:  # one array binds one element type: numbers as their exact text
                checked = [str(v) for v in checked]
            self.params.append(checked)
            return f"({column} = ANY(%s::{f.sql_type}[]))"
        if op in ("like", "ilike"):
            if not isinstance(value, str):
                raise bad(f'argument "{path}" must be a pattern (a String), not {_shown(value)}')
            if (len(value) - len(value.rstrip("\\"))) % 2:  # PostgreSQL refuses it, as it reads it
                raise bad(f'argument "{path}" ends with the escape character \\: write \\\\ to match a backslash')
            self.params.append(coerce_value(_ref(f), value, path, self.schema))
            return f"({column} {op.upper()} %s)"
        self.params.append(coerce_value(_ref(f), value, path, self.schema))
        return f"({column} {_COMPARE[op]} %s::{f.sql_type})"


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = json.dumps(value) if _jsonable(value) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


# --- cursors ------------------------------------------------------------------------------------------


def encode_cursor(order: list[Key], values_json: str) -> str:
    """``values_json``: the row's order values as PostgreSQL wrote them (a JSON array), kept exact."""
    text = "[" + str(CURSOR_VERSION) + "," + json.dumps([k.signature for k in order], separators=(",", ":"))
    text += "," + _compact(values_json) + "]"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _compact(values_json: str) -> str:
    """PostgreSQL's JSON text without the spaces between its elements; the text of a string value (which
    may hold ", ") as it is."""
    return _JSON_SPACE.sub(lambda m: m.group(1) or "", values_json)


def decode_cursor(cursor: Any, order: list[Key], schema: _Schema) -> list[Any]:
    invalid = bad(
        'argument "after" is not a cursor of this query in this order: pass an endCursor or a cursor it '
        "returned, with the same orderBy",
        "INVALID_CURSOR",
    )
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode(), parse_float=Decimal)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[…
        raise invalid from None
    if not (isinstance(data, list) and len(data) == 3 and data[0] == CURSOR_VERSION):
        raise invalid
    _, signature, values = data
    if signature != [k.signature for k in order] or not isinstance(values, list) or len(values) != len(order):
        raise invalid
    out: list[Any] = []
    for key, value in zip(order, values, strict=True):
        if value is None:
            if not key.field.nullable:
                raise invalid
            out.append(None)
            continue
        if isinstance(value, Decimal):
            value = str(value) if key.field.sql_type == "numeric" else float(value)
        if value in _INFINITIES and key.field.sql_type in _INFINITE_TYPES:  # as PostgreSQL writes them in JSON
            out.append(value)
            continue
        try:
            out.append(coerce_value(_ref(key.field), value, "after", schema))
        except ExecutionError:
            raise invalid from None
    return out


def _after_sql(order: list[Key], values: list[Any], params: list[Any]) -> str:
    """Rows strictly after the cursor's row in ``order``: for each key, (every earlier key equal) AND (this
    key after), NULLs placed as the order places them. The first key's "at or after" bound is added as its
    own condition, so an index on it starts at the cursor instead of reading the pages before it."""
    ors: list[str] = []
    equal: list[tuple[str, list[Any]]] = []
    for key, value in zip(order, values, strict=True):
        column, cast = _column(key.field), key.field.sql_type
        if value is None:
            after = f"{column} IS NOT NULL" if key.nulls_first else "FALSE"
            same = f"{column} IS NULL"
            after_params: list[Any] = []
        else:
            op = "<" if key.direction == "DESC" else ">"
            nulls_follow = key.field.nullable and not key.nulls_first
            after = f"{column} {op} %s::{cast}" + (f" OR {column} IS NULL" if nulls_follow else "")
            same = f"{column} = %s::{cast}"
            after_params = [value]
        ors.append("(" + " AND ".join([*(e for e, _ in equal), f"({after})"]) + ")")
        params.extend([p for _, ps in equal for p in ps] + after_params)
        equal.append((same, [] if value is None else [value]))
    first, value = order[0], values[0]
    bound = ""
    if value is not None and not (first.field.nullable and not first.nulls_first):
        op = "<=" if first.direction == "DESC" else ">="
        bound = f"{_column(first.field)} {op} %s::{first.field.sql_type} AND "
        params.insert(0, value)
    return bound + "(" + " OR ".join(ors) + ")"


# --- the request ----------------------------------------------------------------------------------------


def split_variables(paging: PagingEntry | None, variables: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the query's own arguments, its paging arguments)."""
    if paging is None:
        return dict(variables), {}
    names = set(paging.arguments)
    own = {k: v for k, v in variables.items() if k not in names}
    return own, {k: v for k, v in variables.items() if k in names}


def page_request(manifest: Manifest, paging: PagingEntry, given: Mapping[str, Any]) -> Page:
    schema = _Schema(manifest)
    keyset = paging.style == "keyset"
    size = _page_size("first" if keyset else "limit", given.get("first" if keyset else "limit"), paging)
    order = _order(paging, given.get("orderBy"))
    page = Page(paging, order, size)
    if not keyset:
        offset = given.get("offset")
        if offset is not None:
            page.offset = _offset(offset)
    where = given.get("where")
    conditions: list[str] = []
    if where is not None:
        builder = _Where(paging, schema)
        conditions.append(builder.node(where, "where", 1))
        page.params.extend(builder.params)
    if keyset and given.get("after") is not None:
        page.after = decode_cursor(given["after"], order, schema)
        after_params: list[Any] = []
        conditions.append("(" + _after_sql(order, page.after, after_params) + ")")
        page.params.extend(after_params)
    page.where_sql = " AND ".join(conditions)
    return page


def page_sql(
    page: Page, source: str, params: list[Any], filters: list[str], *, by_key: bool = True
) -> tuple[str, list[Any]]:
    """The statement for one page over ``source`` (the API relation, aliased ``s``), after the query's own
    ``filters`` (and their ``params``).

    A page past an offset is read in two steps when the key is unique and ``by_key`` (a view, whose
    ``source`` takes no parameters): the rows' order and key columns, skipped and limited, then the JSON of
    those rows only, by key. Read in one step, PostgreSQL would build the JSON of every skipped row."""
    keyset = page.paging.style == "keyset"
    conditions = [*filters, *([page.where_sql] if page.where_sql else [])]
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    all_params = [*params, *page.params, page.limit + 1 if keyset else page.limit]
    if page.offset:
        all_params.append(page.offset)
    tail = " OFFSET %s" if page.offset else ""

    def order_by(alias: str) -> str:
        return ", ".join(
            f"{_column(k.field, alias)} {k.direction} NULLS {'FIRST' if k.nulls_first else 'LAST'}" for k in page.order
        )

    if page.offset and by_key and page.paging.key_unique and not keyset:
        keys = {f.graphql_name: f for f in page.paging.fields if f.graphql_name in page.paging.key}
        inner = list(dict.fromkeys([_column(k.field) for k in page.order] + [_column(f) for f in keys.values()]))
        join = " AND ".join(f"{_column(f)} = {_column(f, 'p')}" for f in keys.values())
        sql = (
            f"SELECT s.data FROM (SELECT {', '.join(inner)} FROM {source} AS s{where} ORDER BY {order_by('s')} "
            f"LIMIT %s{tail}) AS p JOIN {source} AS s ON {join} ORDER BY {order_by('p')}"
        )
        return sql, all_params
    columns = "s.data"
    if keyset:
        values = ", ".join(_column(k.field) for k in page.order)
        columns += f", pg_catalog.jsonb_build_array({values})::text"
    sql = f"SELECT {columns} FROM {source} AS s{where} ORDER BY {order_by('s')} LIMIT %s{tail}"
    return sql, all_params


def page_result(page: Page, rows: list[tuple[Any, ...]]) -> Any:
    if page.paging.style != "keyset":
        return [r[0] for r in rows]
    edges = [{"cursor": encode_cursor(page.order, r[1]), "node": r[0]} for r in rows[: page.limit]]
    # Paging forwards, rows precede the page exactly when it starts after a cursor (Relay lets a server
    # answer hasPreviousPage this way when counting them would cost a query).
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": len(rows) > page.limit,
            "hasPreviousPage": page.after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
        },
    }
