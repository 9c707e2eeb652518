"""Paging checks: what a schema says about ordering, filtering and page sizes must be something the runtime
can do exactly, and fast (FQL240-FQL244)."""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.paging import (
    KEYSET_ARGUMENTS,
    OFFSET_ARGUMENTS,
    SHAPE_ARGUMENTS,
    allowed_operators,
    column_field,
    is_list_query,
    parse_order,
    sortable,
)
from fraiseql_compiler.diagnostics import Diagnostic, diag
from fraiseql_compiler.diagnostics.model import did_you_mean
from fraiseql_compiler.ir import Schema

WHERE_COMBINATORS = ("and", "or", "not")  # members of every <Type>Where: no field may take their names
_START: dict[str, tuple[object, ...]] = {"offset": (0, None), "after": (None,)}  # the only defaults they can have


def check_field_paging(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """FQL241: ``order=``/``filter=`` on a field that cannot be ordered or filtered that way."""
    out: list[Diagnostic] = []
    for t in schema.types:
        for f in t.fields:
            if not (f.order or f.filter):
                continue
            span = f.option_span or f.span
            what = f"{t.name}.{f.graphql_name}"
            if not column_field(f):
                out.append(
                    diag(
                        "FQL241",
                        f"{what} is not a column ({f.type.graphql()}): list queries cannot order or filter by it",
                        span,
                        "order and filter by scalar and enum fields; to filter by an embedded object, use its key "
                        "column (author → author_id) as a field",
                    )
                )
                continue
            sql_type, kind = str(f.type.sql_type), f.type.kind
            if f.filter and f.graphql_name in WHERE_COMBINATORS:
                out.append(
                    diag(
                        "FQL241",
                        f'{what} cannot be filtered under the name "{f.graphql_name}": {t.name}Where has its own '
                        "and, or and not",
                        span,
                        'give the field another GraphQL name: fraiseql.field(name="...")',
                    )
                )
            if f.order and not sortable(sql_type):
                out.append(
                    diag("FQL241", f"{what} ({sql_type}) has no order callers could rely on", span, "remove order=True")
                )
            allowed = allowed_operators(sql_type, kind)
            if f.filter is True and not allowed:
                out.append(diag("FQL241", f"{what} ({sql_type}) cannot be filtered", span, "remove filter=True"))
            elif isinstance(f.filter, tuple):
                refused = [op for op in f.filter if op not in allowed]
                if refused:
                    ops = ", ".join(refused)
                    out.append(
                        diag(
                            "FQL241",
                            f"{what} ({f.type.graphql()}) does not support the operator(s) {ops}",
                            span,
                            "its type supports: " + (", ".join(allowed) or "none"),
                        )
                    )
    return out


def check_query_paging(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """FQL240 (default order), FQL242 (paging style), FQL243 (page-size arguments)."""
    out: list[Diagnostic] = []
    for q in schema.queries:
        paging = facts.paging.get(q.id)
        if not is_list_query(q):
            for option, span in (("order_by", q.order_by_span), ("max_limit", q.max_limit_span)):
                if getattr(q, option) is not None:
                    out.append(
                        diag(
                            "FQL242",
                            f'query "{q.name}" returns one row: {option}= applies to list queries',
                            span or q.span,
                            f"remove {option}=",
                        )
                    )
            if q.paging_span is not None:
                out.append(
                    diag(
                        "FQL242",
                        f'query "{q.name}" returns one row: paging= applies to list queries',
                        q.paging_span,
                        "remove paging=",
                    )
                )
            continue
        t = schema.object_type(str(q.returns.named().name))
        if paging is None or t is None:
            continue
        for item in q.order_by or ():
            name, _ = parse_order(item)
            f = next((f for f in t.fields if name in (f.name, f.graphql_name)), None)
            if f is None:
                hint = did_you_mean(name, [f.name for f in t.fields])
                out.append(
                    diag(
                        "FQL240",
                        f'order_by names "{name}", which is not a field of {t.name}',
                        q.order_by_span or q.span,
                        hint or "name a scalar field of " + t.name,
                    )
                )
            elif paging.field(f.graphql_name) is None:
                out.append(
                    diag(
                        "FQL240",
                        f"order_by names {t.name}.{f.graphql_name}, which is not a sortable column of {q.sql_source}",
                        q.order_by_span or q.span,
                        "order by scalar or enum fields the query's view exposes",
                    )
                )
        if q.paging == "keyset" and "id" not in {f.name for f in paging.fields}:
            out.append(
                diag(
                    "FQL242",
                    f'query "{q.name}" pages by keyset, but {t.name} has no id field to end its order with',
                    q.paging_span or q.span,
                    "cursors need a unique key: add `id: ID` to the type, or use offset paging",
                )
            )
        own = KEYSET_ARGUMENTS if q.paging == "keyset" else OFFSET_ARGUMENTS
        other = OFFSET_ARGUMENTS if q.paging == "keyset" else KEYSET_ARGUMENTS
        for a in q.arguments:
            if a.graphql_name in SHAPE_ARGUMENTS or a.name in ("order_by",):
                out.append(
                    diag(
                        "FQL243",
                        f'query "{q.name}" declares the argument "{a.graphql_name}", which paging '
                        "adds to every list query",
                        a.span,
                        "remove it: callers pass orderBy and where over the fields declared "
                        "fraiseql.field(order=True, filter=True)",
                    )
                )
            elif a.name in other and not (q.paging == "offset" and a.name == "after"):
                out.append(
                    diag(
                        "FQL243",
                        f'query "{q.name}" pages by {q.paging}, so "{a.name}" means nothing here',
                        a.span,
                        f"page with {' and '.join(own)}",
                    )
                )
            elif a.name in own and (
                a.type.kind != "scalar" or a.type.name != ("String" if a.name == "after" else "Int")
            ):
                want = "str | None" if a.name == "after" else "int"
                out.append(
                    diag(
                        "FQL243",
                        f'paging argument "{a.name}" of "{q.name}" must be {want}',
                        a.span,
                        f"write `{a.name}: {want}`",
                    )
                )
            elif (
                a.name in _START
                and a.has_default
                and not any(a.default is d or (type(a.default) is int and a.default == d) for d in _START[a.name])
            ):  # 0 or None exactly: False == 0 and 0.0 == 0 in Python, not in GraphQL's Int
                # no default of theirs reaches the manifest: a caller who sends none starts at the first row
                start = "int = 0" if a.name == "offset" else "str | None = None"
                out.append(
                    diag(
                        "FQL243",
                        f'paging argument "{a.name}" of "{q.name}" defaults to {a.default!r}, but pages start at '
                        "the first row",
                        a.span,
                        f"write `{a.name}: {start}`, or leave it out",
                    )
                )
        if paging.default_limit > paging.max_limit:
            size = "first" if q.paging == "keyset" else "limit"
            arg = next((a for a in q.arguments if a.name == size), None)
            out.append(
                diag(
                    "FQL243",
                    f'query "{q.name}" defaults to {size} {paging.default_limit}, more than its '
                    f"max_limit {paging.max_limit}",
                    arg.span if arg else q.span,
                    "lower the default, or raise max_limit= (or [paging] max_limit)",
                )
            )
    return out


def check_paging_names(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """FQL244: a type the SDL would generate for paging has the name of one of the schema's own."""
    own = {t.name: t.span for t in schema.types} | {i.name: i.span for i in schema.inputs}
    own |= {e.name: e.span for e in schema.enums}
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for q in schema.queries:
        paging = facts.paging.get(q.id)
        if paging is None:
            continue
        names = ["PageInfo"] if paging.style == "keyset" else []
        if paging.orderable:
            names += ["OrderDirection", paging.order_by_input]
        if paging.filterable:
            names += [paging.where_input, *(f"{f.graphql_type}Filter" for f in paging.filterable)]
        if paging.style == "keyset":
            names += [paging.connection, paging.edge]
        for name in names:
            if name in own and name not in seen:
                seen.add(name)
                out.append(
                    diag(
                        "FQL244",
                        f'the type {name} clashes with the one paging generates for "{q.name}"',
                        own[name],
                        f'rename yours with name="..." (GraphQL name), e.g. name="My{name}"',
                    )
                )
    return out
