"""The analysis → the :class:`Manifest`. It names (and hashes) the other artifacts, so it is built last."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from fraiseql_compiler import __version__
from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.bindings import Binding
from fraiseql_compiler.analysis.paging import Paging
from fraiseql_compiler.claims_proof import PROOF_SETTING
from fraiseql_compiler.config import Config
from fraiseql_compiler.diagnostics import Span
from fraiseql_compiler.emit.api_objects import api_relation, param_types
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.objects import SqlObject
from fraiseql_compiler.ir import Argument, Auth, Field, Mutation, Query, Schema, TypeRef
from fraiseql_compiler.manifest import models as m
from fraiseql_compiler.manifest.config import runtime_config
from fraiseql_compiler.scalars import BY_GRAPHQL
from fraiseql_compiler.sql.quoting import qualify
from fraiseql_compiler.sql.sqlstates import SQLSTATES

CLAIMS_SETTING = "request.jwt.claims"


def _source(span: Span) -> str:
    return f"{span.file}:{span.line}"


@lru_cache(maxsize=4096)
def _type(ref: TypeRef) -> m.TypeRef:
    """Memoized: a schema repeats a few type references (``ID!``, ``String``) thousands of times, and the
    models are immutable, so one instance serves every place."""
    return m.TypeRef(
        graphql=ref.graphql(),
        kind=ref.kind,
        name=ref.name,
        nullable=ref.nullable,
        of=_type(ref.of) if ref.of is not None else None,
        sql_type=ref.sql_type,
    )


def _output_field(f: Field) -> m.OutputField:
    return m.OutputField(
        column=f.column,
        deprecation_reason=f.deprecation_reason,
        description=f.description,
        foreign_key=f.foreign_key,
        graphql_name=f.graphql_name,
        json_key=f.graphql_name,
        name=f.name,
        source=_source(f.span),
        type=_type(f.type),
    )


def _input_field(f: Field) -> m.InputField:
    return m.InputField(
        default=f.default,
        deprecation_reason=f.deprecation_reason,
        description=f.description,
        graphql_name=f.graphql_name,
        has_default=f.has_default,
        name=f.name,
        source=_source(f.span),
        type=_type(f.type),
    )


def _argument(a: Argument) -> m.Argument:
    return m.Argument(
        default=a.default,
        graphql_name=a.graphql_name,
        has_default=a.has_default,
        name=a.name,
        source=_source(a.span),
        type=_type(a.type),
    )


@lru_cache(maxsize=256)
def _auth(auth: Auth) -> m.Auth:
    return m.Auth(api_key=auth.api_key, authenticated=auth.authenticated, scopes=list(auth.scopes))


@lru_cache(maxsize=1024)
def _binding(b: Binding) -> m.Binding:
    return m.Binding(argument=b.argument, column=b.column, kind=b.kind, position=b.position)


def _claims_proof() -> m.ClaimsProof:
    from fraiseql_compiler.claims_proof import SPEC, vectors

    return m.ClaimsProof(
        algorithm="HMAC-SHA256",
        key=SPEC["key"],
        kid=SPEC["kid"],
        message=SPEC["message"],
        proof=SPEC["proof"],
        role=SPEC["role"],
        vectors=[m.ClaimsProofVector(**v) for v in vectors()],
    )


def _paging(p: Paging) -> m.PagingEntry:
    return m.PagingEntry(
        arguments=list(p.arguments),
        connection=p.connection if p.style == "keyset" else None,
        default_limit=p.default_limit,
        default_order=[
            m.OrderKeyEntry(direction=k.direction, field=k.field, nulls="FIRST" if k.nulls_first else "LAST")
            for k in p.default_order
        ],
        fields=[
            m.PageFieldEntry(
                column=f.column,
                graphql_name=f.graphql_name,
                graphql_type=f.graphql_type,
                kind=f.kind,
                nullable=f.nullable,
                operators=list(f.operators),
                order=f.order,
                sql_type=f.sql_type,
            )
            for f in p.fields
        ],
        key=list(p.key),
        key_unique=p.key_unique,
        max_conditions=p.max_conditions,
        max_depth=p.max_depth,
        max_in=p.max_in,
        max_limit=p.max_limit,
        order_by_input=p.order_by_input if p.orderable else None,
        style=p.style,
        where_input=p.where_input if p.filterable else None,
    )


def _query(q: Query, facts: Facts) -> m.QueryEntry:
    settings = facts.settings
    function = q.row_filter is not None and bool(q.row_filter.params)
    bound = sorted(facts.bindings[q.id].bound, key=lambda b: (b.kind, b.position or 0, b.argument))
    paging = facts.paging.get(q.id)
    declared = paging.declared if paging is not None else ()
    return m.QueryEntry(
        arguments=[_argument(a) for a in q.arguments if a.name not in declared],
        auth=_auth(q.auth),
        description=q.description,
        executes=m.QueryExecutes(
            bindings=[_binding(b) for b in bound],
            kind="function" if function else "view",
            param_types=param_types(q) if function else [],
            relation=api_relation(q.name, settings),
            select="data",
            single=q.returns.kind != "list",
        ),
        graphql_name=q.graphql_name,
        id=q.id,
        id_arg=q.id_arg,
        module=q.module,
        name=q.name,
        paging=_paging(paging) if paging is not None else None,
        reachable_roles=list(facts.roles[q.id]),
        returns=_type(q.returns),
        row_filter=(
            m.RowFilterEntry(params=list(q.row_filter.params), source=q.row_filter.source, sql=facts.row_filters[q.id])
            if q.row_filter is not None
            else None
        ),
        source=_source(q.span),
        sql_source=qualify(q.sql_source, settings.default_schema),
    )


def _mutation(mu: Mutation, facts: Facts) -> m.MutationEntry:
    settings = facts.settings
    flow = facts.flows.get(mu.id)
    executes: m.FunctionExecutes | m.AuthFlowExecutes
    if flow is not None:
        spec = flow.spec
        executes = m.AuthFlowExecutes(
            arguments=[
                m.FlowArgument(from_=flow.arguments[p.name], param=p.name)
                for p in spec.params
                if p.name in flow.arguments
            ],
            flow=flow.flow,
            function=f"fraiseql.{spec.function}",
            kind="auth_function",
            no_row=spec.no_row,
            note=spec.note,
            result=spec.result,
            roles=[settings.roles.name_of(key) for key in spec.roles],
            token_argument=flow.token_argument,
        )
    else:
        executes = m.FunctionExecutes(
            arguments="jsonb",
            calls=qualify(mu.function, settings.default_schema),
            function=api_relation(mu.name, settings),
            kind="function",
        )
    return m.MutationEntry(
        arguments=[_argument(a) for a in mu.arguments],
        auth=_auth(mu.auth),
        description=mu.description,
        executes=executes,
        graphql_name=mu.graphql_name,
        id=mu.id,
        module=mu.module,
        name=mu.name,
        reachable_roles=list(facts.roles[mu.id]),
        returns=_type(mu.returns),
        source=_source(mu.span),
    )


def _all_refs(schema: Schema) -> list[TypeRef]:
    refs = [f.type for t in schema.types for f in t.fields] + [f.type for i in schema.inputs for f in i.fields]
    for op in schema.operations():
        refs.append(op.returns)
        refs.extend(a.type for a in op.arguments)
    return refs


# The guide's plain HTTP endpoints, for the mutations bound to their flows (the first by name serves).
ENDPOINT_PATHS = {"revoke_token": "/auth/revoke", "revoke_all": "/auth/revoke-all"}


def _endpoints(schema: Schema, facts: Facts) -> list[m.Endpoint]:
    served: dict[str, m.Endpoint] = {}
    for mu in sorted(schema.mutations, key=lambda mu: mu.graphql_name):
        flow = facts.flows.get(mu.id)
        path = ENDPOINT_PATHS.get(flow.flow) if flow is not None else None
        if path is not None and path not in served:
            # the endpoint takes {"token": …}: only a mutation that takes one serves /auth/revoke
            if path == "/auth/revoke" and flow is not None and flow.token_argument is None:
                continue
            served[path] = m.Endpoint(method="POST", operation=mu.graphql_name, path=path)
    return [served[p] for p in sorted(served)]


def build_manifest(
    schema: Schema,
    facts: Facts,
    config: Config,
    artifacts: Sequence[Artifact],
    objects: Sequence[tuple[str, SqlObject]] = (),
) -> m.Manifest:
    """The manifest of a build whose other outputs are ``artifacts``, with ``content_hash`` left empty
    (:func:`fraiseql_compiler.manifest.io.dumps` fills it in)."""
    settings = facts.settings
    default_schema = settings.default_schema
    scalars = sorted({str(ref.named().name) for ref in _all_refs(schema) if ref.named().kind == "scalar"})
    return m.Manifest(
        artifacts={
            a.path: "sha256:" + hashlib.sha256(a.content.encode()).hexdigest()
            for a in sorted(artifacts, key=lambda a: a.path)
        },
        compiler=m.Compiler(name="fraiseql-compiler", version=__version__),
        config=runtime_config(config, any(f.flow == "oauth_callback" for f in facts.flows.values())),
        content_hash="",
        database=m.Database(
            api_schema=settings.api_schema,
            claims_proof=_claims_proof(),
            claims_setting=CLAIMS_SETTING,
            proof_setting=PROOF_SETTING,
            roles=dict(sorted((r.key, r.name) for r in (settings.roles.authenticator, *settings.roles.api))),
            schema_=default_schema,
        ),
        endpoints=_endpoints(schema, facts),
        enums=[
            m.EnumEntry(
                description=e.description,
                id=e.id,
                module=e.module,
                name=e.name,
                python_name=e.python_name,
                source=_source(e.span),
                values=[m.EnumValueEntry(name=v.name, value=v.value) for v in e.values],
            )
            for e in schema.enums
        ],
        errors=[m.ErrorEntry(code=s.code, http=s.http, message=s.message, sqlstate=s.sqlstate) for s in SQLSTATES],
        format_version=m.FORMAT_VERSION,
        inputs=[
            m.InputTypeEntry(
                description=i.description,
                fields=[_input_field(f) for f in i.fields],
                id=i.id,
                module=i.module,
                name=i.name,
                python_name=i.python_name,
                source=_source(i.span),
            )
            for i in schema.inputs
        ],
        ir_format_version=schema.format_version,
        middleware=[
            m.MiddlewareEntry(description=w.description, id=w.id, module=w.module, name=w.name, source=_source(w.span))
            for w in schema.middleware
        ],
        objects=[
            m.SqlObjectEntry(
                depends_on=list(o.depends_on),
                details=o.details,
                drop=o.drop,
                file=path,
                hash=o.hash,
                kind=o.kind,
                name=o.name,
            )
            for path, o in objects
        ],
        mutations=[_mutation(mu, facts) for mu in schema.mutations],
        queries=[_query(q, facts) for q in schema.queries],
        scalars=[
            m.Scalar(builtin=BY_GRAPHQL[s].builtin, name=s, sql_type=BY_GRAPHQL[s].sql_type) for s in scalars if s
        ],
        types=[
            m.ObjectTypeEntry(
                description=t.description,
                fields=[_output_field(f) for f in t.fields],
                id=t.id,
                module=t.module,
                name=t.name,
                policies=[
                    m.PolicyEntry(
                        action=p.action,
                        columns=[c.name for c in p.columns],
                        id=p.id,
                        predicate=p.source,
                        role=p.role,
                        sql=facts.policies[p.id],
                    )
                    for p in t.policies
                ],
                python_name=t.python_name,
                source=_source(t.span),
                table=qualify(t.table, default_schema) if t.table else None,
                view=qualify(t.view, default_schema) if t.view else None,
            )
            for t in schema.types
        ],
    )
