"""SQL migration files: the ``fraiseql`` schema and its claim helpers, then the JSONB read views."""

from __future__ import annotations

from dataclasses import dataclass

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.sources import Source, owner_key
from fraiseql_compiler.emit.api_objects import emit_api_objects
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.auth_sql import AUTH_TITLE, auth_objects
from fraiseql_compiler.emit.objects import SqlObject
from fraiseql_compiler.emit.policies import emit_policies
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Field, ObjectType, Schema
from fraiseql_compiler.naming import SCOPE_RE
from fraiseql_compiler.settings import Settings
from fraiseql_compiler.sql.quoting import comment_text, qualify, quote_ident, quote_literal

# jsonb_build_object takes at most 100 arguments: 50 key/value pairs per call.
_PAIRS_PER_CALL = 50

HELPER_FUNCTIONS = (
    "claims_problem()",
    "claims()",
    "claim(text)",
    "current_user_id()",
    "auth_method()",
    "is_authenticated()",
    "scopes()",
    "scope_covers(text, text)",
    "has_scope(text)",
    "authenticated_claims()",
    "require_authenticated()",
    "require_scope(text)",
    "require_api_key()",
)


def _file(title: str, statements: list[str]) -> str:
    return render("file.sql.j2", title=title, statements=[s.rstrip("\n") for s in statements])


def data_schemas(schema: Schema, settings: Settings) -> list[str]:
    """Schemas holding the user's tables and views: the API roles need USAGE on them."""
    names = {settings.default_schema}
    for t in schema.types:
        for name in (t.table, t.view):
            if name and "." in name:
                names.add(name.rpartition(".")[0])
    for q in schema.queries:
        if "." in q.sql_source:
            names.add(q.sql_source.rpartition(".")[0])
    return [quote_ident(n) for n in sorted(names)]


def emit_fraiseql_schema(schema: Schema, settings: Settings, identity_view: bool = True) -> str:
    """The roles, schemas, claim helpers and guards (0001's one object). ``identity_view``: whether 0002
    (which creates fraiseql.request_identity) is part of the build."""
    return render(
        "fraiseql_schema.sql.j2",
        roles=settings.roles,
        api_schema=quote_ident(settings.api_schema),
        data_schemas=data_schemas(schema, settings),
        revocation=settings.revocation,
        states=settings.states,
        functions=HELPER_FUNCTIONS,
        scope_pattern=quote_literal(SCOPE_RE.pattern),
        providers=", ".join(quote_literal(p) for p in settings.providers),
        identity_view=identity_view,
        # claims whose token has expired (beyond the leeway the runtime verified with) are no identity: a
        # proven request's claims cannot be replayed after their token's end
        leeway=int(settings.jwt.leeway_seconds),
    ).strip("\n")


def _has_id(t: ObjectType) -> bool:
    return any(f.name == "id" for f in t.fields)


def _value(f: Field, t: ObjectType, by_name: dict[str, ObjectType], default_schema: str) -> str:
    """The JSON value of one field in the ``data`` column, read from alias ``t``."""
    named = f.type.named()
    target = by_name.get(str(named.name)) if named.kind == "object" else None
    if target is not None and target.table and target.view:
        view = qualify(target.view, default_schema)
        if f.type.kind == "list":
            fk = quote_ident(f.foreign_key or owner_key(t))
            order = " ORDER BY c.id" if _has_id(target) else ""
            agg = f"(SELECT jsonb_agg(c.data{order}) FROM {view} AS c WHERE c.{fk} = t.id)"
            return agg if f.type.nullable else f"COALESCE({agg}, '[]'::jsonb)"
        return f"(SELECT c.data FROM {view} AS c WHERE c.id = t.{quote_ident(str(f.column))})"
    return f"t.{quote_ident(str(f.column))}"


def render_view(t: ObjectType, view: Source, by_name: dict[str, ObjectType], default_schema: str) -> str:
    columns = []
    for name, column in view.columns.items():
        col, alias = quote_ident(column.table_column), quote_ident(name)
        columns.append(f"t.{col}" if col == alias else f"t.{col} AS {alias}")
    pairs = [f"{quote_literal(f.graphql_name)}, {_value(f, t, by_name, default_schema)}" for f in t.fields]
    calls = []
    for start in range(0, max(len(pairs), 1), _PAIRS_PER_CALL):
        chunk = pairs[start : start + _PAIRS_PER_CALL]
        calls.append("jsonb_build_object(\n" + ",\n".join("        " + p for p in chunk) + "\n    )")
    return render(
        "view.sql.j2",
        type_name=t.name,
        source=comment_text(f"{t.span.file}:{t.span.line}"),
        view=view.relation,
        table=qualify(str(t.table), default_schema),
        columns=columns,
        data=" || ".join(calls),
    )


@dataclass(frozen=True)
class SqlOutput:
    artifacts: list[Artifact]
    objects: list[tuple[str, SqlObject]]  # (file, object), in the order they are applied


FILES = (
    (
        "sql/0001_fraiseql_schema.sql",
        "Roles, schemas, and the claim helpers and guards every generated predicate reads through.",
    ),
    ("sql/0002_auth.sql", AUTH_TITLE),
    ("sql/0003_views.sql", "JSONB read views, one per table-backed type."),
    ("sql/0004_row_security.sql", "Row-level security and privileges for every table-backed type."),
    (
        "sql/0005_api.sql",
        "The API: one object per query and mutation, with its checks; the only things API roles call.",
    ),
)


def _view_object(t: ObjectType, facts: Facts, by_name: dict[str, ObjectType]) -> SqlObject:
    view = facts.views[t.name]
    sql = render_view(t, view, by_name, facts.settings.default_schema).strip("\n")
    depends = tuple(
        f"view:{facts.views[d].relation}" for d in facts.view_dependencies.get(t.name, ()) if d in facts.views
    )
    return SqlObject("view", f"view:{view.relation}", sql, f"DROP VIEW IF EXISTS {view.relation};", depends)


def sql_objects(schema: Schema, facts: Facts) -> dict[str, list[SqlObject]]:
    """file → its objects, in order."""
    settings = facts.settings
    setup = SqlObject("setup", "setup:fraiseql", emit_fraiseql_schema(schema, settings, facts.needs_auth_functions))
    by_name = {t.name: t for t in schema.types}
    files: dict[str, list[SqlObject]] = {FILES[0][0]: [setup]}
    if facts.needs_auth_functions:
        files[FILES[1][0]] = auth_objects(settings)
    views = [_view_object(by_name[n], facts, by_name) for n in facts.view_order]
    if views:
        files[FILES[2][0]] = views
        files[FILES[3][0]] = emit_policies(schema, facts)
    api = emit_api_objects(schema, facts)
    if api:
        files[FILES[4][0]] = api
    return files


def emit_sql(schema: Schema, facts: Facts) -> SqlOutput:
    titles = dict(FILES)
    artifacts, objects = [], []
    for path, objs in sql_objects(schema, facts).items():
        artifacts.append(Artifact(path, _file(titles[path], [o.block() for o in objs])))
        objects += [(path, o) for o in objs]
    return SqlOutput(artifacts, objects)
