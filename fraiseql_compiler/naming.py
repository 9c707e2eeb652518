"""Name conventions shared by the builder, the checks and the emitters."""

from __future__ import annotations

import re

IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The scope grammar: action:resource, e.g. read:posts, admin:*, write:reports/daily
SCOPE_RE = re.compile(r"^[a-z][a-z0-9_.-]*:([a-z0-9_.*-]+)(/[a-z0-9_.*-]+)*$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# PostgreSQL reserved key words (and those that need quoting as column names); from the manual's
# appendix C. Identifiers are validated against IDENT_RE first, so only these need quoting.
RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)


def camel(name: str) -> str:
    """snake_case → camelCase (the GraphQL convention); leading underscores are kept."""
    stripped = name.lstrip("_")
    head, *rest = stripped.split("_")
    return "_" * (len(name) - len(stripped)) + head + "".join(p[:1].upper() + p[1:] for p in rest if p)


def snake(name: str) -> str:
    """CamelCase → snake_case (BlogPost → blog_post)."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def quote_ident(name: str) -> str:
    """Quote an already-validated identifier only when PostgreSQL requires it."""
    if IDENT_RE.match(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def split_qualified(name: str) -> tuple[str | None, str]:
    schema, _, obj = name.rpartition(".")
    return (schema or None, obj)


def qualify(name: str, default_schema: str = "public") -> str:
    schema, obj = split_qualified(name)
    return f"{quote_ident(schema or default_schema)}.{quote_ident(obj)}"


def sql_literal(value: str) -> str:
    """A standard-conforming SQL string literal (standard_conforming_strings is on since 9.1)."""
    if "\x00" in value:
        raise ValueError("NUL cannot appear in a SQL string")
    return "'" + value.replace("'", "''") + "'"
