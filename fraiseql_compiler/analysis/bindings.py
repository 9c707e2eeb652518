"""How each query argument reaches SQL. One definition, used by the check that refuses an argument
nothing would use (a silently dropped argument is a bug) and by the manifest the runtime follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fraiseql_compiler.analysis.sources import Source
from fraiseql_compiler.ir import Argument, Query

BindKind = Literal["param", "filter", "limit", "offset"]


@dataclass(frozen=True)
class Binding:
    argument: str
    kind: BindKind
    position: int | None = None  # "param": $n of the API function
    column: str | None = None  # "filter": column = value


@dataclass(frozen=True)
class Unbound:
    argument: Argument
    reason: str


@dataclass(frozen=True)
class QueryBindings:
    bound: tuple[Binding, ...]
    unbound: tuple[Unbound, ...]


def bind_query(q: Query, source: Source | None, paging: tuple[str, ...] = ()) -> QueryBindings:
    """Each argument binds as the row_filter's ``$n``, as ``limit``/``offset``, as the ``id_arg`` filter, or
    as an equality filter on a column of the source with its name; anything else is unbound. ``paging``
    names the arguments a list query's paging owns (see analysis/paging.py): they are not bound here."""
    params = q.row_filter.params if q.row_filter else ()
    columns = source.known_columns if source is not None else None
    bound: list[Binding] = []
    unbound: list[Unbound] = []
    for a in q.arguments:
        if a.name in paging:
            continue
        scalar = a.type.kind in ("scalar", "enum")
        if a.name in params:
            bound.append(Binding(a.name, "param", position=params.index(a.name) + 1))
        elif a.name in ("limit", "offset") and a.type.kind == "scalar" and a.type.name == "Int":
            bound.append(Binding(a.name, "limit" if a.name == "limit" else "offset"))
        elif a.name == q.id_arg and scalar:
            bound.append(Binding(a.name, "filter", column="id" if columns is None or "id" in columns else a.name))
        elif scalar and (columns is None or a.name in columns):
            bound.append(Binding(a.name, "filter", column=a.name))
        else:
            where = f"a column of {q.sql_source}" if scalar else "a scalar"
            unbound.append(
                Unbound(
                    a, f"it is not {where}, not used as {{arg:{a.name}}} in the row_filter, and not a paging argument"
                )
            )
    return QueryBindings(tuple(bound), tuple(unbound))
