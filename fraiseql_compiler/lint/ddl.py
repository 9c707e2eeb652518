"""What the user's migrations say about tables and their indexes, read from the SQL text.

Not a SQL parser: a scanner for the statements that create tables and indexes (``CREATE TABLE``, column and
table ``PRIMARY KEY`` / ``UNIQUE``, ``ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY|UNIQUE``,
``CREATE [UNIQUE] INDEX … ON …``), enough to know which columns lead an index. A table whose ``CREATE TABLE``
is not found is unknown, and nothing is said about it: a lint rule must not guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_CREATE_TABLE = re.compile(
    rf"\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_QNAME})\s*\(",
    re.I,
)
_CREATE_INDEX = re.compile(
    rf"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:(?:IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s+)?ON\s+(?:ONLY\s+)?"
    rf"({_QNAME})\s*(?:USING\s+\w+\s*)?\(",
    re.I,
)
_ALTER_KEY = re.compile(
    rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_QNAME})\s+ADD\s+(?:CONSTRAINT\s+{_IDENT}\s+)?"
    r"(?:PRIMARY\s+KEY|UNIQUE)\s*\(",
    re.I,
)
_TABLE_KEY = re.compile(r"^\s*(?:CONSTRAINT\s+\S+\s+)?(?:PRIMARY\s+KEY|UNIQUE)\s*\(", re.I)
_COLUMN_KEY = re.compile(r"\b(?:PRIMARY\s+KEY|UNIQUE)\b", re.I)
_CONSTRAINT_START = re.compile(r"^\s*(?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|LIKE)\b", re.I)


def _name(text: str) -> str:
    """A (possibly qualified, possibly quoted) name as PostgreSQL folds it."""
    parts = re.findall(_IDENT, text)
    return ".".join(p[1:-1] if p.startswith('"') else p.lower() for p in parts)


def _balanced(text: str, start: int) -> str:
    """The text inside the parentheses opening at ``start - 1`` (quotes respected)."""
    depth, i, quote = 1, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start:i]
        i += 1
    return text[start:]


def _split(body: str) -> list[str]:
    """Top-level comma-separated items of a parenthesised list."""
    items, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(body):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    return [i.strip() for i in items if i.strip()]


def _first_column(item: str) -> str | None:
    """The column an index item or a column definition starts with (an expression, ``lower(a)``: none)."""
    match = re.match(rf"\s*({_IDENT})\s*(\()?", item)
    if match is None or match.group(2):
        return None
    return _name(match.group(1))


@dataclass
class Tables:
    defined: set[str] = field(default_factory=set)  # tables whose CREATE TABLE was seen
    leading: dict[str, set[str]] = field(default_factory=dict)  # table → columns that lead an index

    def knows(self, table: str) -> bool:
        return _key(table) in self.defined

    def indexed(self, table: str, column: str) -> bool:
        return column in self.leading.get(_key(table), set())


def qualified(table: str) -> str:
    """``tb_post`` → ``public.tb_post``: how the tables of the migrations are keyed."""
    return _key(table)


def _key(table: str) -> str:
    name = _name(table)
    return name if "." in name else f"public.{name}"


def read(texts: Iterable[str]) -> Tables:
    out = Tables()
    for raw in texts:
        text = _COMMENTS.sub(" ", raw)
        for m in _CREATE_TABLE.finditer(text):
            table = _key(m.group(1))
            out.defined.add(table)
            for item in _split(_balanced(text, m.end())):
                if _TABLE_KEY.match(item):
                    inner = item[item.index("(") + 1 :]
                    first = _first_column(_balanced(inner, 0))
                    if first:
                        out.leading.setdefault(table, set()).add(first)
                elif not _CONSTRAINT_START.match(item) and _COLUMN_KEY.search(item):
                    column = _first_column(item)
                    if column:
                        out.leading.setdefault(table, set()).add(column)
        for pattern in (_CREATE_INDEX, _ALTER_KEY):
            for m in pattern.finditer(text):
                items = _split(_balanced(text, m.end()))
                first = _first_column(items[0]) if items else None
                if first:
                    out.leading.setdefault(_key(m.group(1)), set()).add(first)
    return out
