"""Generated views: nested fields must point at table-backed types, and views cannot embed each other."""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.sources import view_cycle
from fraiseql_compiler.diagnostics import Diagnostic, diag
from fraiseql_compiler.ir import ObjectType, Schema


def check_views(schema: Schema, facts: Facts) -> list[Diagnostic]:
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
                        diag(
                            "FQL213",
                            f'list field "{f.name}" of {t.name} lists {target.name}, which is not table-backed',
                            f.span,
                            f'declare {target.name} with table="..." so its rows can be embedded',
                        )
                    )
            elif f.foreign_key is not None:
                single = f.type.kind != "list"
                out.append(
                    diag(
                        "FQL227",
                        f'foreign_key on "{f.name}" of {t.name}: only a list of table-backed objects is joined by a '
                        "foreign key",
                        f.span,
                        "for a single object use fraiseql.field(column=...)"
                        if single
                        else "a list of scalars is read from its own column: remove foreign_key",
                    )
                )
    cycle = view_cycle(facts.view_dependencies)
    if cycle:
        # point at the field that closes the loop: the last type's field embedding the first
        last, first = by_name[cycle[-2]], cycle[-1]
        closing = next((f for f in last.fields if f.type.named().name == first), None)
        out.append(
            diag(
                "FQL211",
                "views embed each other: " + " → ".join(cycle),
                closing.span if closing else last.span,
                f'a view cannot contain itself; remove "{closing.name if closing else first}" '
                "or the field on the other side of the cycle",
            )
        )
    return out
