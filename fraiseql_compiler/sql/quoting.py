"""The one place that turns names and values into SQL text: identifiers, string literals, type names,
comments. Every emitter and the predicate renderer quote through here.

Generated files also pin ``standard_conforming_strings`` (see ``templates/file.sql.j2``), but a literal
must not depend on it: a backslash makes it an ``E''`` string, which means the same under either setting.
"""

from __future__ import annotations

import re
from functools import lru_cache

# PostgreSQL keywords that cannot (or should not) appear as a bare identifier: RESERVED, TYPE_FUNC_NAME
# and COL_NAME keywords of PostgreSQL 17. Quoting a lowercase name never changes what it denotes, so
# over-quoting is harmless; under-quoting (a column called `user`, which bare means CURRENT_USER) would
# silently change meaning.
_QUOTED_KEYWORDS_TEXT = """
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign from
    grant group having in initially intersect into lateral leading limit localtime localtimestamp
    not null offset on only or order placing primary references returning select session_user some
    symmetric system_user table then to trailing true union unique user using variadic when where
    window with
    authorization binary collation concurrently cross current_schema freeze full ilike inner is
    isnull join left like natural notnull outer overlaps right similar tablesample verbose
    between bigint bit boolean char character coalesce dec decimal exists extract float greatest
    grouping inout int integer interval json json_array json_arrayagg json_exists json_object
    json_objectagg json_query json_scalar json_serialize json_table json_value least merge_action
    national nchar none normalize nullif numeric out overlay position precision real row setof
    smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement
    xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
"""
QUOTED_KEYWORDS = frozenset(_QUOTED_KEYWORDS_TEXT.split())

_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Type names are compiler output, but they are pasted after `::`, so anything that could carry more than a
# type name (quotes, semicolons, operators, keywords such as OR) is refused.
_TYPE_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_TYPE_MOD = r"(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"
_TYPE_TAIL_WORDS = frozenset({"with", "without", "time", "zone", "varying", "precision"})
_TYPE_RE = re.compile(rf"({_TYPE_WORD}(?:\.{_TYPE_WORD})?){_TYPE_MOD}((?: {_TYPE_WORD}{_TYPE_MOD})*)(?:\[\])*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@lru_cache(maxsize=8192)
def quote_ident(name: str) -> str:
    """An identifier, double-quoted only when PostgreSQL requires it (keywords, other characters).
    Cached: a large build quotes the same few thousand names tens of thousands of times."""
    if "\x00" in name:
        raise ValueError("NUL cannot appear in a SQL identifier")
    if _PLAIN_IDENT.match(name) and name not in QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=8192)
def quote_literal(value: str) -> str:
    """A string literal that means ``value`` whatever ``standard_conforming_strings`` is set to."""
    if "\x00" in value:
        raise ValueError("NUL cannot appear in a SQL string")
    body = value.replace("'", "''")
    if "\\" in value:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def split_qualified(name: str) -> tuple[str | None, str]:
    schema, _, obj = name.rpartition(".")
    return (schema or None, obj)


def qualify(name: str, default_schema: str = "public") -> str:
    """``schema.name`` quoted, with ``default_schema`` for an unqualified name."""
    schema, obj = split_qualified(name)
    return f"{quote_ident(schema or default_schema)}.{quote_ident(obj)}"


def check_type(type_name: str) -> str:
    """``type_name`` unchanged if it is only a type name (``uuid``, ``timestamp with time zone``,
    ``numeric(10, 2)``, ``text[]``); ValueError otherwise."""
    match = _TYPE_RE.match(type_name)
    if not match or any(w.split("(")[0].lower() not in _TYPE_TAIL_WORDS for w in match.group(2).split()):
        raise ValueError(f"invalid PostgreSQL type name {type_name!r}")
    return type_name


def comment_text(text: str) -> str:
    """``text`` made safe for a ``--`` comment: a line break (a file name can hold one) would end the
    comment and turn the rest of the line into SQL."""
    return _CONTROL.sub("?", text)
