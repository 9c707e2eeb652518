"""Schema hygiene: names, descriptions, what is declared and never used, what is deprecated and still read."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fraiseql_compiler.diagnostics import Diagnostic, Span
from fraiseql_compiler.ir import Mutation, Query, Schema, TypeRef
from fraiseql_compiler.lint.rule import Context, Rule

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
SNAKE = re.compile(r"^[a-z_][a-z0-9_]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
PREFIXES = {"table": ("tb_",), "view": ("v_", "tv_", "mv_"), "function": ("fn_",)}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"')


class NamingConvention(Rule):
    """A name against the conventions the compiler's users share.

    Types, inputs and enums are PascalCase; operations and fields are snake_case in Python (their GraphQL
    names are camelCase, derived; a ``name=`` override should be camelCase too); tables start with ``tb_``,
    views with ``v_`` (``tv_``, ``mv_``), the functions behind mutations with ``fn_``. The prefixes tell a
    reader of the SQL what an object is, and keep generated views (``v_post``) apart from tables
    (``tb_post``).

    *Anti-pattern*: ``@fraiseql.type(table="posts") class post_row: ...``

    *Best practice*: ``@fraiseql.type(table="tb_post") class Post: ...``
    """

    code = "FQL319"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        schema = ctx.analysis.schema
        for kind, definitions in (("type", schema.types), ("input", schema.inputs), ("enum", schema.enums)):
            for d in definitions:
                if not PASCAL.match(d.name):
                    yield self.diag(f'{kind} "{d.name}" is not PascalCase', d.name_span or d.span, None)
        for t in schema.types:
            if t.table and not _last(t.table).startswith(PREFIXES["table"]):
                yield self.diag(f'table "{t.table}" of {t.name} does not start with tb_', t.table_span or t.span, None)
            if t.view and t.view_span is not None and not _last(t.view).startswith(PREFIXES["view"]):
                yield self.diag(f'view "{t.view}" of {t.name} does not start with v_', t.view_span, None)
            for f in t.fields:
                if not SNAKE.match(f.name):
                    yield self.diag(f'field "{t.name}.{f.name}" is not snake_case', f.span, None)
        for op in schema.operations():
            yield from self._operation(op)

    def _operation(self, op: Query | Mutation) -> Iterator[Diagnostic]:
        kind = "query" if isinstance(op, Query) else "mutation"
        if not SNAKE.match(op.name):
            yield self.diag(f'{kind} "{op.name}" is not snake_case in Python', op.span, None)
        if op.name_span is not None and not CAMEL.match(op.graphql_name):
            yield self.diag(f'{kind} GraphQL name "{op.graphql_name}" is not camelCase', op.name_span, None)
        if isinstance(op, Query):
            generated = op.sql_source_span is None
            if not generated and not _last(op.sql_source).startswith(PREFIXES["view"] + PREFIXES["table"]):
                yield self.diag(
                    f'sql_source "{op.sql_source}" of query "{op.name}" does not start with v_',
                    op.sql_source_span,
                    None,
                )
        elif op.auth_flow is None and op.function_span is not None and not _last(op.function).startswith("fn_"):
            yield self.diag(
                f'function "{op.function}" of mutation "{op.name}" does not start with fn_', op.function_span, None
            )


class MissingDocstring(Rule):
    """A query or mutation without a description.

    The docstring of an operation becomes its description in the GraphQL schema: what API clients, their
    generated code and GraphiQL show. An operation without one is documented only by its name.

    *Anti-pattern*: ``def posts(limit: int = 20) -> list[Post]: ...``

    *Best practice*: ``def posts(...) -> list[Post]: \"\"\"Published posts, newest first.\"\"\"``
    """

    code = "FQL320"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for op in ctx.analysis.schema.operations():
            if not (op.description or "").strip():
                kind = "query" if isinstance(op, Query) else "mutation"
                yield self.diag(f'{kind} "{op.name}" has no docstring (its GraphQL description)', op.span, None)


def _used(schema: Schema) -> set[str]:
    """GraphQL names of every type, input and enum an operation reaches (through fields, transitively)."""
    seen: set[str] = set()
    todo: list[TypeRef] = []
    for op in schema.operations():
        todo.append(op.returns)
        todo += [a.type for a in op.arguments]
    while todo:
        name = todo.pop().named().name
        if name is None or name in seen:
            continue
        seen.add(name)
        found = schema.object_type(name) or schema.input_type(name)
        if found is not None:
            todo += [f.type for f in found.fields]
    return seen


class UnusedDefinition(Rule):
    """A type, input or enum that no operation reaches.

    A definition that no query returns, no mutation takes or returns, and no used type embeds does not appear
    in the API, but its table still gets a view, policies and grants: dead code in the schema and privileges
    in the database.

    *Anti-pattern*: a ``LegacyPost`` type left behind after its query was removed.

    *Best practice*: delete it, or add the operation that uses it.
    """

    code = "FQL321"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        schema = ctx.analysis.schema
        used = _used(schema)
        for kind, definitions in (("type", schema.types), ("input", schema.inputs), ("enum", schema.enums)):
            for d in definitions:
                if d.name not in used:
                    yield self.diag(
                        f'{kind} "{d.name}" is used by no query or mutation',
                        d.span,
                        "delete it, or add the operation that uses it",
                    )


class DeprecatedInUse(Rule):
    """A deprecated field that the schema itself still reads.

    A field marked deprecated (``fraiseql.field(deprecation_reason=...)``) tells clients to stop using it,
    but a row filter, an access rule or an ``id_arg`` that still reads its column keeps it load-bearing: it
    cannot be removed when clients have moved on.

    *Anti-pattern*: ``owner_id`` deprecated in favour of ``author_id``, while the access rule reads
    ``owner_id = {current_user_id}``.

    *Best practice*: move the filters and rules to the replacement first.
    """

    code = "FQL322"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        schema = ctx.analysis.schema
        for t in schema.types:
            deprecated = {f.column or f.name: f for f in t.fields if f.deprecation_reason}
            if not deprecated:
                continue
            for p in t.policies:
                for use in p.columns:
                    if use.name in deprecated:
                        yield self._found(t.name, deprecated[use.name].name, f"the {p.role} {p.action} rule", use.span)
        for q in schema.queries:
            returned = schema.object_type(str(q.returns.named().name))
            if returned is None:
                continue
            t = returned
            deprecated = {f.name: f for f in t.fields if f.deprecation_reason}  # the view's columns
            if q.row_filter is not None:
                for use in q.row_filter.columns:
                    if use.name in deprecated:
                        what = f'the row_filter of query "{q.name}"'
                        yield self._found(t.name, deprecated[use.name].name, what, use.span)
            if q.id_arg is not None and q.id_arg in {f.name for f in deprecated.values()}:
                yield self._found(t.name, q.id_arg, f'the id_arg of query "{q.name}"', q.id_arg_span or q.span)

    def _found(self, type_name: str, field: str, what: str, span: Span) -> Diagnostic:
        return self.diag(
            f"{type_name}.{field} is deprecated, but {what} still reads it",
            span,
            "move it to the field that replaces it, then remove the deprecated one",
        )


RULES = (NamingConvention, MissingDocstring, UnusedDefinition, DeprecatedInUse)
