"""Only relations and functions that are the schema's own to expose.

- FQL232: nothing a schema names (a query's source, a type's table or view, a mutation's function) may live
  in PostgreSQL's system schemas, in ``fraiseql`` (our credential tables and auth functions) or in the API
  schema (which the build owns): granting on them would hand the API roles what they must never touch.
- FQL233: a query may not read a base table the compiler grants column by column (a type's table, the
  ``[auth.login]`` table) as its source: a source is granted whole, which would undo those grants.
- FQL234 (warning): a query reads a relation of the user's own that no ``access=`` rule covers; the build
  cannot see what it returns. The apply-time check (``templates/user_sources.sql.j2``) still refuses one that
  is not a ``security_invoker`` view or a table with row-level security enabled and forced.
"""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.tables import login_columns
from fraiseql_compiler.diagnostics import Diagnostic, Span, diag
from fraiseql_compiler.ir import Schema
from fraiseql_compiler.settings import Settings
from fraiseql_compiler.sql.quoting import qualify, split_qualified

FRAISEQL_SCHEMA = "fraiseql"


def reserved_schema(name: str, settings: Settings) -> str | None:
    """Why the schema of the (possibly unqualified) ``name`` is not the user's to expose, or None."""
    schema = (split_qualified(name)[0] or settings.default_schema).lower()
    if schema in ("pg_catalog", "information_schema") or schema.startswith("pg_"):
        return f"{schema}, PostgreSQL's own schema"
    if schema == FRAISEQL_SCHEMA:
        return "fraiseql, the schema of FraiseQL's credential tables and auth functions"
    if schema == settings.api_schema.lower():
        return f"{schema}, the API schema the build owns"
    return None


def check_reserved_schemas(schema: Schema, facts: Facts) -> list[Diagnostic]:
    settings = facts.settings
    named: list[tuple[str, str, Span, str]] = []  # (what, name, span, the fix)
    for t in schema.types:
        if t.table:
            fix = "map a table of your own schema"
            named.append((f"{t.name} maps the table", t.table, t.table_span or t.span, fix))
        if t.table and t.view:
            fix = "name the view in your own schema"
            named.append((f"{t.name}'s view would be", t.view, t.view_span or t.span, fix))
    for q in schema.queries:
        if q.sql_source:
            fix = 'read a view of your own schema (e.g. sql_source="v_..."), security_invoker over tables with RLS'
            named.append((f'query "{q.name}" reads', q.sql_source, q.sql_source_span or q.span, fix))
    for m in schema.mutations:
        if m.auth_flow is None and m.function:
            fix = 'write the function in your own schema (e.g. function="fn_...")'
            named.append((f'mutation "{m.name}" calls', m.function, m.function_span or m.span, fix))
    out = []
    for what, name, span, fix in named:
        reason = reserved_schema(name, settings)
        if reason is not None:
            out.append(diag("FQL232", f"{what} {name}, in {reason}: the build never exposes it", span, fix))
    return out


def check_query_sources(schema: Schema, facts: Facts) -> list[Diagnostic]:
    settings = facts.settings
    login_table = login_columns(settings)[0]
    views_of = {table.relation: table.types for table in facts.tables.values()}
    out: list[Diagnostic] = []
    for q in schema.queries:
        source = facts.query_sources.get(q.id)
        if source is None or source.generated or reserved_schema(q.sql_source, settings) is not None:
            continue
        span = q.sql_source_span or q.span
        types = views_of.get(source.relation)
        if types is not None or source.relation == login_table:
            t = schema.object_type(types[0]) if types else None
            if t is not None and t.view:
                fix = f'read the view generated for {t.name} instead: sql_source="{t.view}"'
            else:
                fix = 'read a view that selects only what callers may see (security_invoker), e.g. sql_source="v_..."'
            out.append(
                diag(
                    "FQL233",
                    f'query "{q.name}" reads the table {source.relation} directly: a source is granted whole, '
                    "which would undo the table's per-column grants"
                    + (" and expose its credential columns" if source.relation == login_table else ""),
                    span,
                    fix,
                )
            )
            continue
        out.append(
            diag(
                "FQL234",
                f'query "{q.name}" reads {qualify(q.sql_source, settings.default_schema)}, which no access= rule '
                "covers: what it returns is decided by that relation and the policies of the tables it reads",
                span,
                "make it a security_invoker view over tables with row-level security (the generated SQL refuses "
                "anything else when applied), review it, then silence this with # fraiseql: ignore[FQL234]",
            )
        )
    return out
