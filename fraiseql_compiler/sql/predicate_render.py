"""Checked predicate tree and its SQL renderer.

The node classes below are the *only* shapes a predicate can take once
:func:`fraiseql_compiler.sql.predicate.parse_predicate` has accepted it. The
renderer only knows these classes, so it cannot emit anything that was not
checked: every piece of output is either a fixed keyword/operator chosen here,
an identifier we quote ourselves, or a literal we escape ourselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fraiseql_compiler.sql.quoting import check_type, quote_ident, quote_literal


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


class Renderer:
    """Renders a checked tree. One instance per `to_sql` call."""

    def __init__(
        self,
        qualifier: str | None,
        column_types: Mapping[str, str],
        arg_types: Mapping[str, str],
        arg_numbers: Mapping[str, int],
        claim_names: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        # The qualifier is compiler-produced (a table alias or view name); quote it like a column anyway.
        parts = [] if qualifier is None else [quote_ident(p) + "." for p in qualifier.split(".")]
        self.prefix = "".join(parts)
        self.column_types = column_types
        self.arg_types = arg_types
        self.arg_numbers = arg_numbers
        self.claim_names = claim_names  # {jwt:<as written>} → the normalized claim it reads

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
            name = ph.name or ""
            call = f"fraiseql.claim({quote_literal(self.claim_names.get(name, name))})"
        else:
            call = f"fraiseql.has_scope({quote_literal(ph.name or '')})"
        # A scalar subselect of a stable call becomes an initPlan: evaluated
        # once per statement instead of once per row.
        return f"(SELECT {call}{cast})"


_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Predicate:
    source: str
    columns: tuple[ColumnRef, ...]
    placeholders: tuple[Placeholder, ...]
    tree: Node = field(repr=False, compare=False)

    def column_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns)

    def arg_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.name for p in self.placeholders if p.kind == "arg" and p.name))

    def to_sql(
        self,
        *,
        qualifier: str | None = None,
        column_types: Mapping[str, str] = _EMPTY,
        arg_types: Mapping[str, str] = _EMPTY,
        claim_names: Mapping[str, str] = _EMPTY,
    ) -> tuple[str, tuple[str, ...]]:
        """Render as PostgreSQL; returns the SQL and the arg names bound to $1, $2, ...
        ``claim_names``: a ``{jwt:...}`` written as the token names a mapped claim → the mapped name."""
        names = self.arg_names()
        numbers = {n: i + 1 for i, n in enumerate(names)}
        renderer = Renderer(qualifier, column_types, arg_types, numbers, claim_names)
        return renderer.render(self.tree), names
