"""Generated views: nested fields must point at table-backed types, and views cannot embed each other."""

from __future__ import annotations

from fraiseql_compiler.errors import Diagnostic, error
from fraiseql_compiler.ir import ObjectType, Query, Schema


def view_dependencies(schema: Schema) -> dict[str, list[str]]:
    """type name → names of table-backed types its view embeds."""
    backed = {t.name for t in schema.types if t.table}
    deps: dict[str, list[str]] = {}
    for t in schema.types:
        if t.table:
            deps[t.name] = sorted(
                {
                    str(f.type.named().name)
                    for f in t.fields
                    if f.type.named().kind == "object" and f.type.named().name in backed
                }
            )
    return deps


def owner_key(t: ObjectType) -> str:
    """The default foreign-key column a child table uses to point at ``t`` (Post → post_id)."""
    from fraiseql_compiler.naming import snake

    return f"{snake(t.python_name)}_id"


def view_columns(schema: Schema) -> dict[str, dict[str, str]]:
    """For each table-backed type, the columns of its generated view besides ``data``:
    view column name → table column.

    Scalar and enum fields, the key column of each embedded object (customer → customer_id), and the
    foreign keys that parents' list fields join on. Row filters may use exactly these.
    """
    list_keys: dict[str, list[str]] = {}
    for parent in schema.types:
        for f in parent.fields if parent.table else ():
            if f.type.kind == "list" and f.type.named().kind == "object":
                list_keys.setdefault(str(f.type.named().name), []).append(f.foreign_key or owner_key(parent))
    out: dict[str, dict[str, str]] = {}
    for t in schema.types:
        if not t.table:
            continue
        columns: dict[str, str] = {}
        for f in t.fields:
            if f.column is None:
                continue
            if f.type.kind in ("scalar", "enum"):
                columns.setdefault(f.name, f.column)
            elif f.type.kind == "object" and f.type.named().kind == "object":
                columns.setdefault(f.column, f.column)
        for key in list_keys.get(t.name, ()):
            columns.setdefault(key, key)
        out[t.name] = columns
    return out


def source_columns(schema: Schema, q: Query, columns: dict[str, dict[str, str]]) -> set[str] | None:
    """Columns of a query's source when the compiler generated it (``columns`` is ``view_columns``);
    None for a view of the user's own, whose columns the compiler cannot know."""
    target = schema.object_type(str(q.returns.named().name))
    if target is None or target.view is None or q.sql_source.rpartition(".")[2] != target.view.rpartition(".")[2]:
        return None
    return set(columns.get(target.name, {}))


def _cycle(deps: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in deps.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state and (found := visit(node)):
            return found
    return None


def check_views(schema: Schema) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_name: dict[str, ObjectType] = {t.name: t for t in schema.types}
    for t in schema.types:
        if not t.table:
            continue
        for f in t.fields:
            target = by_name.get(str(f.type.named().name))
            if f.type.kind == "list" and target is not None and f.type.of and f.type.of.kind != "list":
                if not target.table:
                    out.append(
                        error(
                            "FQL213",
                            f'list field "{f.name}" of {t.name} lists {target.name}, which is not table-backed',
                            f.span,
                            f'declare {target.name} with table="..." so its rows can be embedded',
                        )
                    )
            elif f.foreign_key is not None:
                out.append(
                    error(
                        "FQL213",
                        f'foreign_key on "{f.name}" of {t.name}: only list fields of table-backed types take it',
                        f.span,
                        "for a single object use fraiseql.field(column=...)",
                    )
                )
    cycle = _cycle(view_dependencies(schema))
    if cycle:
        # point at the field that closes the loop: the last type's field embedding the first
        last, first = by_name[cycle[-2]], cycle[-1]
        closing = next((f for f in last.fields if f.type.named().name == first), None)
        out.append(
            error(
                "FQL211",
                "views embed each other: " + " → ".join(cycle),
                closing.span if closing else last.span,
                f'a view cannot contain itself; remove "{closing.name if closing else first}" '
                "or the field on the other side of the cycle",
            )
        )
    return out
