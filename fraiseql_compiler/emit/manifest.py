"""The runtime manifest: deterministic JSON (sorted keys, stable order, no timestamps), content-hashed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fraiseql_compiler import __version__
from fraiseql_compiler.checks.views import view_columns
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.context import SqlContext
from fraiseql_compiler.errors import Span
from fraiseql_compiler.ir import Argument, Auth, Field, Mutation, Query, Schema, TypeRef
from fraiseql_compiler.scalars import BY_GRAPHQL
from fraiseql_compiler.sql.quoting import qualify
from fraiseql_compiler.sql.sqlstates import SQLSTATES

MANIFEST_FILE = "fraiseql.manifest.json"
MANIFEST_FORMAT = 1


def _source(span: Span) -> str:
    return f"{span.file}:{span.line}"


def _type(ref: TypeRef) -> dict[str, Any]:
    out: dict[str, Any] = {"graphql": ref.graphql(), "kind": ref.kind, "nullable": ref.nullable}
    if ref.name is not None:
        out["name"] = ref.name
    if ref.sql_type is not None:
        out["sql_type"] = ref.sql_type
    if ref.of is not None:
        out["of"] = _type(ref.of)
    return out


def _field(f: Field, with_default: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name,
        "graphql_name": f.graphql_name,
        "type": _type(f.type),
        "description": f.description,
        "deprecation_reason": f.deprecation_reason,
        "source": _source(f.span),
    }
    if with_default:
        out["has_default"] = f.has_default
        if f.has_default:
            out["default"] = f.default
    else:
        out["json_key"] = f.graphql_name
        out["column"] = f.column
        if f.foreign_key is not None or (f.type.kind == "list" and f.type.named().kind == "object"):
            out["foreign_key"] = f.foreign_key
    return out


def _argument(a: Argument) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": a.name,
        "graphql_name": a.graphql_name,
        "type": _type(a.type),
        "has_default": a.has_default,
        "source": _source(a.span),
    }
    if a.has_default:
        out["default"] = a.default
    return out


def _auth(auth: Auth) -> dict[str, Any]:
    return {"authenticated": auth.authenticated, "scopes": list(auth.scopes), "api_key": auth.api_key}


def _query_executes(schema: Schema, q: Query, ctx: SqlContext, columns: dict[str, dict[str, str]]) -> dict[str, Any]:
    from fraiseql_compiler.bindings import query_bindings
    from fraiseql_compiler.emit.api_objects import api_relation, param_types

    bound, _ = query_bindings(schema, q, columns)
    function = q.row_filter is not None and bool(q.row_filter.params)
    return {
        "kind": "function" if function else "view",
        "relation": api_relation(q.name, ctx),
        "param_types": param_types(q) if function else [],
        "select": "data",
        "single": q.returns.kind != "list",
        "bindings": [
            {k: v for k, v in vars(b).items() if v is not None}
            for b in sorted(bound, key=lambda b: (b.kind, b.position or 0, b.argument))
        ],
    }


def _mutation_executes(schema: Schema, m: Mutation, ctx: SqlContext) -> dict[str, Any]:
    from fraiseql_compiler.authflows import FLOWS, flow_arguments
    from fraiseql_compiler.emit.api_objects import api_relation

    if m.auth_flow is not None:
        flow = FLOWS[m.auth_flow]
        arguments, _ = flow_arguments(m, schema)
        return {
            "kind": "auth_function",
            "flow": m.auth_flow,
            "function": f"fraiseql.{flow.function}",
            "roles": [_role_name(ctx, key) for key in flow.roles],
            "arguments": [{"param": p.name, "from": arguments[p.name]} for p in flow.params if p.name in arguments],
            "result": flow.result,
            "no_row": flow.no_row,
            "note": flow.note,
        }
    return {
        "kind": "function",
        "function": api_relation(m.name, ctx),
        "arguments": "jsonb",  # one jsonb object of all arguments, keyed by their Python names
        "calls": qualify(m.function, ctx.default_schema),
    }


def _role_name(ctx: SqlContext, key: str) -> str:
    if key == "authenticator":
        return ctx.roles.authenticator.name
    role = ctx.roles.by_key(key)
    return role.name if role else key


def manifest_data(schema: Schema, config: dict[str, Any], ctx: SqlContext, artifacts: list[Artifact]) -> dict[str, Any]:
    default_schema = ctx.default_schema
    columns = view_columns(schema)
    scalars = sorted({str(ref.named().name) for ref in _all_refs(schema) if ref.named().kind == "scalar"})
    data: dict[str, Any] = {
        "format_version": MANIFEST_FORMAT,
        "ir_format_version": schema.format_version,
        "compiler": {"name": "fraiseql-compiler", "version": __version__},
        "config": config,
        "scalars": [
            {"name": s, "sql_type": BY_GRAPHQL[s].sql_type, "builtin": BY_GRAPHQL[s].builtin} for s in scalars if s
        ],
        "types": [
            {
                "id": t.id,
                "name": t.name,
                "python_name": t.python_name,
                "module": t.module,
                "description": t.description,
                "table": qualify(t.table, default_schema) if t.table else None,
                "view": qualify(t.view, default_schema) if t.view else None,
                "fields": [_field(f, with_default=False) for f in t.fields],
                "source": _source(t.span),
            }
            for t in schema.types
        ],
        "inputs": [
            {
                "id": i.id,
                "name": i.name,
                "python_name": i.python_name,
                "module": i.module,
                "description": i.description,
                "fields": [_field(f, with_default=True) for f in i.fields],
                "source": _source(i.span),
            }
            for i in schema.inputs
        ],
        "enums": [
            {
                "id": e.id,
                "name": e.name,
                "python_name": e.python_name,
                "module": e.module,
                "description": e.description,
                "values": [{"name": v.name, "value": v.value} for v in e.values],
                "source": _source(e.span),
            }
            for e in schema.enums
        ],
        "queries": [
            {
                "id": q.id,
                "name": q.name,
                "graphql_name": q.graphql_name,
                "module": q.module,
                "description": q.description,
                "arguments": [_argument(a) for a in q.arguments],
                "returns": _type(q.returns),
                "sql_source": qualify(q.sql_source, default_schema),
                "id_arg": q.id_arg,
                "row_filter": (
                    {
                        "source": q.row_filter.source,
                        "sql": q.row_filter.sql,
                        "params": list(q.row_filter.params),
                    }
                    if q.row_filter
                    else None
                ),
                "auth": _auth(q.auth),
                "executes": _query_executes(schema, q, ctx, columns),
                "source": _source(q.span),
            }
            for q in schema.queries
        ],
        "mutations": [
            {
                "id": m.id,
                "name": m.name,
                "graphql_name": m.graphql_name,
                "module": m.module,
                "description": m.description,
                "arguments": [_argument(a) for a in m.arguments],
                "returns": _type(m.returns),
                "auth": _auth(m.auth),
                "executes": _mutation_executes(schema, m, ctx),
                "source": _source(m.span),
            }
            for m in schema.mutations
        ],
        "middleware": [
            {"name": m.name, "module": m.module, "description": m.description, "source": _source(m.span)}
            for m in schema.middleware
        ],
        "artifacts": {a.path: "sha256:" + hashlib.sha256(a.content.encode()).hexdigest() for a in artifacts},
        "database": {
            "schema": default_schema,
            "api_schema": ctx.api_schema,
            "roles": {
                "authenticator": ctx.roles.authenticator.name,
                **{r.key: r.name for r in ctx.roles.api},
            },
            "claims_setting": "request.jwt.claims",
        },
        "errors": [{"sqlstate": s.sqlstate, "http": s.http, "code": s.code, "message": s.message} for s in SQLSTATES],
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data["content_hash"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return data


def _all_refs(schema: Schema) -> list[TypeRef]:
    refs = [f.type for t in schema.types for f in t.fields] + [f.type for i in schema.inputs for f in i.fields]
    for op in schema.operations():
        refs.append(op.returns)
        refs.extend(a.type for a in op.arguments)
    return refs


def emit_manifest(schema: Schema, config: dict[str, Any], ctx: SqlContext, artifacts: list[Artifact]) -> list[Artifact]:
    """The manifest names (and hashes) the other artifacts, so it is emitted last."""
    data = manifest_data(schema, config, ctx, artifacts)
    return [Artifact(MANIFEST_FILE, json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n")]
