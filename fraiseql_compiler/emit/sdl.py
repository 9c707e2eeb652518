"""GraphQL SDL of the compiled API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fraiseql_compiler.analysis.paging import Paging
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.sdl_paging import paging_arguments, paging_blocks
from fraiseql_compiler.ir import Argument, Auth, Field, Query, Schema, TypeRef
from fraiseql_compiler.scalars import BY_GRAPHQL

DIRECTIVES = {
    "authenticated": '"""Requires an authenticated caller (JWT or API key)."""\n'
    "directive @authenticated on FIELD_DEFINITION",
    "requiresScope": '"""Requires every listed scope."""\n'
    "directive @requiresScope(scopes: [String!]!) on FIELD_DEFINITION",
    "apiKeyRequired": '"""Requires an API key."""\ndirective @apiKeyRequired on FIELD_DEFINITION',
}


def _description(text: str | None, indent: str = "") -> str:
    if not text:
        return ""
    body = text.replace('"""', '\\"""')
    if "\n" in body:
        inner = "\n".join(indent + line if line else "" for line in body.splitlines())
        return f'{indent}"""\n{inner}\n{indent}"""\n'
    return f'{indent}"""{body}"""\n'


def _literal(value: Any, ref: TypeRef) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        item = ref.of or ref
        return "[" + ", ".join(_literal(v, item) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v, ref)}" for k, v in value.items()) + "}"
    if ref.named().kind == "enum" and isinstance(value, str):
        return value
    return json.dumps(value)


def _auth_directives(auth: Auth) -> str:
    parts = []
    if auth.authenticated:
        parts.append("@authenticated")
    if auth.api_key:
        parts.append("@apiKeyRequired")
    if auth.scopes:
        parts.append("@requiresScope(scopes: [" + ", ".join(json.dumps(s) for s in auth.scopes) + "])")
    return "".join(" " + p for p in parts)


def _args(args: tuple[Argument, ...]) -> str:
    if not args:
        return ""
    rendered = []
    for a in args:
        default = f" = {_literal(a.default, a.type)}" if a.has_default else ""
        rendered.append(f"{a.graphql_name}: {a.type.graphql()}{default}")
    return "(" + ", ".join(rendered) + ")"


def _field(f: Field, input_: bool) -> str:
    default = f" = {_literal(f.default, f.type)}" if input_ and f.has_default else ""
    deprecated = ""
    if f.deprecation_reason:
        deprecated = f" @deprecated(reason: {json.dumps(f.deprecation_reason)})"
    return _description(f.description, "  ") + f"  {f.graphql_name}: {f.type.graphql()}{default}{deprecated}\n"


def render_sdl(schema: Schema, paging: Mapping[str, Paging] | None = None) -> str:
    paging = paging or {}
    blocks: list[str] = []
    used_scalars: set[str] = set()
    used_directives: set[str] = set()

    def note(ref: TypeRef) -> None:
        named = ref.named()
        if named.kind == "scalar" and named.name and not BY_GRAPHQL[named.name].builtin:
            used_scalars.add(named.name)

    for e in schema.enums:
        values = "".join(f"  {v.name}\n" for v in e.values)
        blocks.append(_description(e.description) + f"enum {e.name} {{\n{values}}}\n")
    for i in schema.inputs:
        for f in i.fields:
            note(f.type)
        blocks.append(
            _description(i.description) + f"input {i.name} {{\n" + "".join(_field(f, True) for f in i.fields) + "}\n"
        )
    for t in schema.types:
        for f in t.fields:
            note(f.type)
        blocks.append(
            _description(t.description) + f"type {t.name} {{\n" + "".join(_field(f, False) for f in t.fields) + "}\n"
        )
    for title, ops in (("Query", schema.queries), ("Mutation", schema.mutations)):
        if not ops:
            continue
        lines = []
        for op in ops:
            note(op.returns)
            for a in op.arguments:
                note(a.type)
            directives = _auth_directives(op.auth)
            used_directives.update(d for d in DIRECTIVES if f"@{d}" in directives)
            p = paging.get(op.id) if isinstance(op, Query) else None
            if p is None:
                args, returns = _args(op.arguments), op.returns.graphql()
            else:
                own = tuple(a for a in op.arguments if a.name not in p.declared)
                rendered = [_args((a,))[1:-1] for a in own]
                rendered += paging_arguments(p, {a.name: a for a in op.arguments}, _literal)
                args = "(" + ", ".join(rendered) + ")"
                returns = f"{p.connection}!" if p.style == "keyset" else op.returns.graphql()
            lines.append(_description(op.description, "  ") + f"  {op.graphql_name}{args}: {returns}{directives}\n")
        blocks.append(f"type {title} {{\n" + "".join(lines) + "}\n")
    blocks.extend(paging_blocks(schema, paging))
    head = [_description(BY_GRAPHQL[s].description) + f"scalar {s}\n" for s in sorted(used_scalars)]
    head += [DIRECTIVES[d] + "\n" for d in sorted(used_directives)]
    schema_block = (
        "schema {\n"
        + ("  query: Query\n" if schema.queries else "")
        + ("  mutation: Mutation\n" if schema.mutations else "")
        + "}\n"
    )
    parts = [schema_block, *head, *blocks] if (schema.queries or schema.mutations) else [*head, *blocks]
    return "# Generated by fraiseql-compiler. Do not edit.\n\n" + "\n".join(parts)


def emit_sdl(schema: Schema, paging: Mapping[str, Paging] | None = None) -> list[Artifact]:
    return [Artifact("schema.graphql", render_sdl(schema, paging))]
