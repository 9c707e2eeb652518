"""Operations: where queries read from, id_arg, scopes, row_filter columns."""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.diagnostics import Diagnostic, diag, did_you_mean
from fraiseql_compiler.ir import Mutation, Query, Schema
from fraiseql_compiler.naming import SCOPE_RE


def check_sql_sources(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out = []
    for q in schema.queries:
        if not q.sql_source:
            returned = q.returns.named().name
            out.append(
                diag(
                    "FQL212",
                    f'query "{q.name}" has no sql_source and {returned} is not table-backed',
                    q.span,
                    f'set @fraiseql.query(sql_source="v_...") or declare {returned} with table="..."',
                )
            )
    return out


def _id_arg_candidates(schema: Schema, q: Query) -> tuple[set[str], set[str]]:
    target = schema.object_type(str(q.returns.named().name))
    return {a.name for a in q.arguments}, ({f.name for f in target.fields} if target else set())


def _bad_id_arg(schema: Schema, q: Query) -> bool:
    args, fields = _id_arg_candidates(schema, q)
    return q.id_arg is not None and q.id_arg not in args and q.id_arg not in fields


def check_id_args(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out = []
    for q in schema.queries:
        if q.id_arg is None:
            continue
        args, fields = _id_arg_candidates(schema, q)
        if _bad_id_arg(schema, q):
            out.append(
                diag(
                    "FQL205",
                    f'id_arg "{q.id_arg}" of query "{q.name}" is neither an argument '
                    f"nor a field of {q.returns.named().name}",
                    q.id_arg_span or q.span,
                    did_you_mean(q.id_arg, args | fields)
                    or f"arguments: {', '.join(sorted(args)) or 'none'}; "
                    f"fields of {q.returns.named().name}: {', '.join(sorted(fields)) or 'none'}",
                )
            )
    return out


def check_public(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """@fraiseql.public says every caller may run the operation: a guard on it says the opposite."""
    out = []
    for op in schema.operations():
        guards = [
            name
            for name, on in (
                ("@authenticated", op.auth.authenticated),
                ("@requires_scope", bool(op.auth.scopes)),
                ("@api_key_required", op.auth.api_key),
            )
            if on
        ]
        if op.auth.public and guards:
            kind = "query" if isinstance(op, Query) else "mutation"
            out.append(
                diag(
                    "FQL238",
                    f'{kind} "{op.name}" is declared @fraiseql.public and guarded by {", ".join(guards)}',
                    op.auth.public_span or op.span,
                    "keep one: @fraiseql.public when every caller may run it, the guards otherwise",
                )
            )
    return out


def check_scopes(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out = []
    for op in schema.operations():
        for scope, span in zip(op.auth.scopes, op.auth.scope_spans, strict=True):
            if not SCOPE_RE.match(scope):
                out.append(
                    diag(
                        "FQL208",
                        f'scope "{scope}" is not of the form action:resource',
                        span,
                        'write scopes like "read:posts", "write:posts" or "admin:*" (lower case)',
                    )
                )
    return out


def check_row_filter_columns(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out = []
    for q in schema.queries:
        source = facts.query_sources.get(q.id)
        columns = source.known_columns if source is not None else None
        if q.row_filter is None or columns is None:
            continue  # a view of the user's own: its columns are not known here
        for use in q.row_filter.columns:
            if use.name not in columns:
                out.append(
                    diag(
                        "FQL203",
                        f'row_filter references unknown column "{use.name}" on {q.sql_source}',
                        use.span,
                        did_you_mean(use.name, columns) or "columns: " + ", ".join(sorted(columns)),
                    )
                )
    return out


def check_query_arguments(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """Every argument must reach SQL; one that nothing would use is refused, not dropped."""
    out = []
    for q in schema.queries:
        if not q.sql_source or _bad_id_arg(schema, q):
            continue  # nothing to bind, or FQL205 already says what is wrong with the arguments
        for problem in facts.bindings[q.id].unbound:
            out.append(
                diag(
                    "FQL214",
                    f'argument "{problem.argument.name}" of query "{q.name}" would be ignored: {problem.reason}',
                    problem.argument.span,
                    f"use it in the row_filter as {{arg:{problem.argument.name}}}, name a column of the source, "
                    "or remove it",
                )
            )
    return out


def check_auth_flows(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """A mutation bound to an auth function must provide what the function needs."""
    out = []
    for m in schema.mutations:
        binding = facts.flows.get(m.id)
        if binding is None:
            continue
        flow = binding.spec
        for name in binding.missing:
            param = next(p for p in flow.params if p.name == name)
            out.append(
                diag(
                    "FQL217",
                    f'mutation "{m.name}" is bound to fraiseql.{flow.function} but has no argument for "{name}"',
                    m.span,
                    "add an argument (or an input field) named "
                    + " or ".join(f'"{s}"' for s in param.sources)
                    + ', or bind it to a function of your own with function="..."',
                )
            )
        out += _flow_guards(m, binding.spec.roles, binding.flow)
        if binding.flow in ("create_api_key", "revoke_api_key"):
            keys = facts.settings.api_keys
            if not keys.enabled or keys.storage != "postgres":
                out.append(
                    diag(
                        "FQL237",
                        f'mutation "{m.name}" manages API keys in the database, but the runtime would never accept '
                        "them: " + ("[security.api_keys] enabled is false" if not keys.enabled else 'storage is "env"'),
                        m.span,
                        'set [security.api_keys] enabled = true with storage = "postgres", or remove the mutation',
                    )
                )
    return out


def _flow_guards(m: Mutation, roles: tuple[str, ...], flow: str) -> list[Diagnostic]:
    """An auth flow's function checks what it needs itself: a guard decorator on its mutation would appear
    in the SDL and the manifest but nothing would enforce it."""
    unenforced = []
    if m.auth.scopes:
        unenforced.append("@requires_scope")
    if m.auth.api_key and roles != ("api_key",):
        unenforced.append("@api_key_required")
    if m.auth.authenticated and "anonymous" in roles:
        unenforced.append("@authenticated")
    if not unenforced:
        return []
    return [
        diag(
            "FQL236",
            f'mutation "{m.name}" is the {flow} auth flow: {", ".join(unenforced)} would not be enforced',
            m.auth.scope_spans[0] if m.auth.scopes and m.auth.scope_spans else m.span,
            "remove it: the flow's function decides who may call it and what they may do (see docs/auth-flows.md); "
            'to guard differently, write a function of your own and bind it with function="..."',
        )
    ]
