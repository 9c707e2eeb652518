"""Checked predicate tree and its SQL renderer.

The node classes below are the *only* shapes a predicate can take once
:func:`fraiseql_compiler.predicate.parse_predicate` has accepted it. The
renderer only knows these classes, so it cannot emit anything that was not
checked: every piece of output is either a fixed keyword/operator chosen here,
an identifier we quote ourselves, or a literal we escape ourselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# PostgreSQL keywords that cannot (or should not) appear as a bare column
# reference: RESERVED + TYPE_FUNC_NAME + COL_NAME keywords of PostgreSQL 17.
# Quoting a lowercase name never changes which column it denotes, so
# over-quoting is harmless; under-quoting (e.g. a column called `user`, which
# bare means CURRENT_USER) would silently change meaning.
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
# Type names are trusted compiler output, but they are pasted after `::`, so
# we still refuse anything that could carry more than a type name (quotes,
# semicolons, operators, keywords such as OR).
_TYPE_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_TYPE_MOD = r"(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"
_TYPE_TAIL_WORDS = frozenset({"with", "without", "time", "zone", "varying", "precision"})
_TYPE_RE = re.compile(rf"({_TYPE_WORD}(?:\.{_TYPE_WORD})?){_TYPE_MOD}((?: {_TYPE_WORD}{_TYPE_MOD})*)(?:\[\])*\Z")


@dataclass(frozen=True)
class ColumnRef:
    name: str
    offset: int
    length: int


@dataclass(frozen=True)
class Placeholder:
    kind: str
    name: str | None
    offset: int
    length: int


@dataclass(frozen=True)
class Literal:
    kind: str  # "str" | "num" | "bool" | "null"
    value: str  # str: the unescaped content; num: digits as written; bool: "TRUE"/"FALSE"; null: "NULL"


@dataclass(frozen=True)
class Func:
    name: str  # lowercase, one of the allow-listed functions
    args: tuple[Value, ...]


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Value
    right: Value


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class IsTest:
    operand: Node
    test: str  # "NULL" | "TRUE" | "FALSE"
    negated: bool


@dataclass(frozen=True)
class InList:
    operand: Value
    items: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    operand: Value
    op: str  # "LIKE" | "ILIKE"
    pattern: Value
    negated: bool


@dataclass(frozen=True)
class Between:
    operand: Value
    low: Value
    high: Value
    negated: bool


Value = ColumnRef | Literal | Placeholder | Func
Node = Value | Compare | BoolOp | Not | IsTest | InList | Like | Between
VALUE_TYPES = (ColumnRef, Literal, Placeholder, Func)


def quote_ident(name: str) -> str:
    if _PLAIN_IDENT.match(name) and name not in QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    body = value.replace("'", "''")
    if "\\" in value:
        # E'' strings mean the same thing whatever standard_conforming_strings
        # is set to, so a backslash can never turn into an escape that eats
        # the closing quote.
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def check_type(type_name: str) -> str:
    match = _TYPE_RE.match(type_name)
    if not match or any(w.split("(")[0].lower() not in _TYPE_TAIL_WORDS for w in match.group(2).split()):
        raise ValueError(f"invalid PostgreSQL type name {type_name!r}")
    return type_name


class Renderer:
    """Renders a checked tree. One instance per `to_sql` call."""

    def __init__(
        self,
        qualifier: str | None,
        column_types: Mapping[str, str],
        arg_types: Mapping[str, str],
        arg_numbers: Mapping[str, int],
    ) -> None:
        # The qualifier is compiler-produced (a table alias or view name); quote it like a column anyway.
        parts = [] if qualifier is None else [quote_ident(p) + "." for p in qualifier.split(".")]
        self.prefix = "".join(parts)
        self.column_types = column_types
        self.arg_types = arg_types
        self.arg_numbers = arg_numbers

    def render(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            # Parenthesise a nested AND/OR of the other kind even where
            # precedence would not require it, so reviewers never have to
            # remember that AND binds tighter than OR.
            parts = [
                f"({self.render(i)})" if isinstance(i, BoolOp) and i.op != node.op else self.render(i)
                for i in node.items
            ]
            return f" {node.op} ".join(parts)
        if isinstance(node, Not):
            return f"NOT {self.operand(node.operand)}"
        if isinstance(node, Compare):
            return f"{self.typed(node.left, node.right)} {node.op} {self.typed(node.right, node.left)}"
        if isinstance(node, IsTest):
            neg = " NOT" if node.negated else ""
            return f"{self.operand(node.operand)} IS{neg} {node.test}"
        if isinstance(node, InList):
            only = node.items[0]
            if len(node.items) == 1 and isinstance(only, Placeholder) and only.kind != "arg":
                # `x IN ((SELECT ...))` would read as `x IN (subquery)`; `x = (SELECT ...)` is the same test.
                return self.render(Compare("<>" if node.negated else "=", node.operand, only))
            items = ", ".join(self.typed(i, node.operand) for i in node.items)
            neg = "NOT " if node.negated else ""
            return f"{self.render(node.operand)} {neg}IN ({items})"
        if isinstance(node, Like):
            neg = "NOT " if node.negated else ""
            return f"{self.render(node.operand)} {neg}{node.op} {self.typed(node.pattern, node.operand)}"
        if isinstance(node, Between):
            neg = "NOT " if node.negated else ""
            low, high = self.typed(node.low, node.operand), self.typed(node.high, node.operand)
            return f"{self.render(node.operand)} {neg}BETWEEN {low} AND {high}"
        return self.value(node, None)

    def operand(self, node: Node) -> str:
        text = self.render(node)
        return text if isinstance(node, VALUE_TYPES) else f"({text})"

    def typed(self, node: Value, other: Value) -> str:
        """Render `node`; if it is a placeholder compared with a typed column, cast it to that type."""
        ctype = self.column_types.get(other.name) if isinstance(other, ColumnRef) else None
        return self.value(node, ctype)

    def value(self, node: Node, ctype: str | None) -> str:
        if isinstance(node, ColumnRef):
            return self.prefix + quote_ident(node.name)
        if isinstance(node, Literal):
            return quote_literal(node.value) if node.kind == "str" else node.value
        if isinstance(node, Func):
            return f"{node.name}({', '.join(self.value(a, None) for a in node.args)})"
        if isinstance(node, Placeholder):
            return self.placeholder(node, ctype)
        raise TypeError(f"unexpected predicate node {node!r}")  # unreachable for checked trees

    def placeholder(self, ph: Placeholder, ctype: str | None) -> str:
        if ph.kind == "arg":
            assert ph.name is not None
            atype = self.arg_types.get(ph.name, ctype)
            cast = "" if atype is None else f"::{check_type(atype)}"
            return f"${self.arg_numbers[ph.name]}{cast}"
        cast = "" if ctype is None else f"::{check_type(ctype)}"
        if ph.kind == "current_user_id":
            call = "fraiseql.current_user_id()"
        elif ph.kind == "jwt":
            call = f"fraiseql.claim({quote_literal(ph.name or '')})"
        else:
            call = f"fraiseql.has_scope({quote_literal(ph.name or '')})"
        # A scalar subselect of a stable call becomes an initPlan: evaluated
        # once per statement instead of once per row.
        return f"(SELECT {call}{cast})"
