"""The SDL of paging: a list query's paging arguments, and the inputs and types they need (OrderDirection,
``<Type>OrderBy``, ``<Type>Where``, ``<Scalar>Filter``, and for keyset paging ``<Type>Connection``,
``<Type>Edge`` and ``PageInfo``), each emitted once, in name order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fraiseql_compiler.analysis.paging import ALL_OPERATORS, Paging
from fraiseql_compiler.ir import Argument, Schema

_OPERATOR_DOCS = {
    "eq": "Equal to.",
    "neq": "Not equal to (rows where the field is null are not returned).",
    "lt": "Less than.",
    "lte": "Less than or equal to.",
    "gt": "Greater than.",
    "gte": "Greater than or equal to.",
    "in": "Equal to one of.",
    "isNull": "true: the field is null; false: it is not.",
    "like": "Matches the SQL LIKE pattern (% any text, _ one character).",
    "ilike": "Matches the SQL LIKE pattern, ignoring case.",
}

_DIRECTIONS = '''"""The direction of one key of an order; ASC sorts nulls last, DESC nulls first."""
enum OrderDirection {
  ASC
  ASC_NULLS_FIRST
  ASC_NULLS_LAST
  DESC
  DESC_NULLS_FIRST
  DESC_NULLS_LAST
}
'''

_PAGE_INFO = '''"""Where a page of a connection sits in its order."""
type PageInfo {
  """The cursor of the page's last row: pass it as after for the next page."""
  endCursor: String
  """Whether rows follow this page, in its order."""
  hasNextPage: Boolean!
  """Whether rows precede this page: true when it was asked for after a cursor."""
  hasPreviousPage: Boolean!
  """The cursor of the page's first row."""
  startCursor: String
}
'''


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def paging_arguments(paging: Paging, declared: Mapping[str, Argument], literal: Callable[[Any, Any], str]) -> list[str]:
    """The paging arguments as the SDL declares them, after the query's own."""
    out = []
    for name in paging.arguments:
        if name in ("limit", "first"):
            out.append(f"{name}: Int = {paging.default_limit}")
        elif name == "offset":
            arg = declared.get("offset")
            given = arg is not None and arg.has_default and arg.default is not None  # FQL243: then it is 0
            default = literal(arg.default, arg.type) if arg is not None and given else "0"
            out.append(f"offset: Int = {default}")
        elif name == "after":
            out.append("after: String")
        elif name == "orderBy":
            out.append(f"orderBy: [{paging.order_by_input}!]")
        elif name == "where":
            out.append(f"where: {paging.where_input}")
    return out


def _filter_block(graphql_type: str, ops: set[str]) -> str:
    lines = []
    for op in (o for o in ALL_OPERATORS if o in ops):
        value = {"in": f"[{graphql_type}!]", "isNull": "Boolean", "like": "String", "ilike": "String"}.get(op)
        lines.append(f'  """{_OPERATOR_DOCS[op]}"""\n  {op}: {value or graphql_type}\n')
    return (
        f'"""Conditions on {_article(graphql_type)} {graphql_type} field: all those given must hold."""\n'
        f"input {graphql_type}Filter {{\n" + "".join(lines) + "}\n"
    )


def paging_blocks(schema: Schema, paging: Mapping[str, Paging]) -> list[str]:
    blocks: dict[str, str] = {}
    filters: dict[str, set[str]] = {}
    for q in schema.queries:
        p = paging.get(q.id)
        if p is None:
            continue
        if p.orderable:
            blocks.setdefault("OrderDirection", _DIRECTIONS)
            keys = "".join(f"  {f.graphql_name}: OrderDirection\n" for f in p.orderable)
            blocks.setdefault(
                p.order_by_input,
                f'"""One key of an order over {p.type_name}: give exactly one field per object."""\n'
                f"input {p.order_by_input} {{\n{keys}}}\n",
            )
        if p.filterable:
            lines = "".join(f"  {f.graphql_name}: {f.graphql_type}Filter\n" for f in p.filterable)
            lines += f"  and: [{p.where_input}!]\n  or: [{p.where_input}!]\n  not: {p.where_input}\n"
            blocks.setdefault(
                p.where_input,
                f'"""Conditions on {p.type_name}: every one given must hold (not: exactly the rows its '
                f'condition does not return)."""\n'
                f"input {p.where_input} {{\n{lines}}}\n",
            )
            for f in p.filterable:
                filters.setdefault(f.graphql_type, set()).update(f.operators)
        if p.style == "keyset":
            blocks.setdefault("PageInfo", _PAGE_INFO)
            blocks.setdefault(
                p.edge,
                f'"""{_article(p.type_name).capitalize()} {p.type_name} row of a page, with its place in the '
                'order."""\n'
                f'type {p.edge} {{\n  """Pass it as after to read the rows that follow."""\n'
                f"  cursor: String!\n  node: {p.type_name}!\n}}\n",
            )
            blocks.setdefault(
                p.connection,
                f'"""A page of {p.type_name} rows, in order."""\n'
                f"type {p.connection} {{\n  edges: [{p.edge}!]!\n  pageInfo: PageInfo!\n}}\n",
            )
    for graphql_type, ops in filters.items():
        blocks.setdefault(f"{graphql_type}Filter", _filter_block(graphql_type, ops))
    return [blocks[name] for name in sorted(blocks)]
