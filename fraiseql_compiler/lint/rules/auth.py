"""Auth coverage: who may call each operation, as the decorators say it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.ir import Mutation, ObjectType, Query, Schema
from fraiseql_compiler.lint.rule import Context, Rule


def _guarded(op: Query | Mutation) -> bool:
    return op.auth.authenticated or bool(op.auth.scopes) or op.auth.api_key


class MutationWithoutAuth(Rule):
    """A mutation with no auth decorator and no ``@fraiseql.public``.

    A mutation without ``@authenticated``, ``@requires_scope`` or ``@api_key_required`` may be called by
    every caller, anonymous ones included: the compiled function grants EXECUTE to every API role. That is
    right for a few mutations (sign-up, a newsletter form) and a serious hole for the rest, and the two look
    the same in review. Auth-flow mutations (login, refresh, …) are exempt: their function decides.

    *Anti-pattern*::

        @fraiseql.mutation
        def delete_post(info, id: ID) -> bool: ...

    *Best practice*: guard it, or say that it is open on purpose::

        @fraiseql.mutation
        @authenticated
        @requires_scope("admin:posts")
        def delete_post(info, id: ID) -> bool: ...

        @fraiseql.mutation
        @fraiseql.public
        def subscribe(info, email: str) -> bool: ...
    """

    code = "FQL304"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for m in ctx.analysis.schema.mutations:
            if m.auth_flow is None and not _guarded(m) and not m.auth.public:
                yield self.diag(
                    f'mutation "{m.name}" has no auth decorator: every caller, anonymous ones included, may run it',
                    m.span,
                    "add @authenticated (and @requires_scope(...)), or @fraiseql.public if that is the intent",
                )


_SENSITIVE_PART = frozenset(
    {"password", "passwd", "secret", "token", "hash", "salt", "apikey", "otp", "totp", "ssn", "pin", "cvv"}
)
_SENSITIVE_PAIRS = (("api", "key"), ("private", "key"), ("secret", "key"), ("credit", "card"), ("card", "number"))
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def sensitive(name: str) -> bool:
    """Whether a field name looks like a credential: a word of it (snake_case or camelCase) is one."""
    parts = [p.lower() for p in _WORDS.findall(name)]
    if any(p in _SENSITIVE_PART for p in parts):
        return True
    return any(pair in _SENSITIVE_PAIRS for pair in pairwise(parts))


def _sensitive_paths(schema: Schema, root: ObjectType) -> list[str]:
    """``Type.field`` of every sensitive-looking field reachable from ``root`` through object fields."""
    found, seen, todo = [], {root.name}, [root]
    while todo:
        t = todo.pop()
        for f in t.fields:
            if sensitive(f.name) or sensitive(f.graphql_name):
                found.append(f"{t.name}.{f.name}")
            inner = schema.object_type(str(f.type.named().name))
            if inner is not None and inner.name not in seen:
                seen.add(inner.name)
                todo.append(inner)
    return sorted(found)


class SensitiveFieldsWithoutAuth(Rule):
    """A query that every caller may run returns fields that look like credentials.

    Field names such as ``password_hash``, ``api_key``, ``secret``, ``token`` or ``ssn`` (in the returned
    type or any type it embeds) on a query with no auth decorator: the values are one anonymous request away,
    whatever the row filter says about *which rows*. Row-level security decides rows, not columns.

    *Anti-pattern*: ``def users() -> list[User]`` without ``@authenticated``, where ``User`` has
    ``password_hash``.

    *Best practice*: never expose credential columns as fields (FQL230 refuses the ``[auth.login]`` ones);
    for other sensitive fields, guard the query, or return a type without them.
    """

    code = "FQL305"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        schema = ctx.analysis.schema
        for q in schema.queries:
            if _guarded(q):
                continue
            returned = schema.object_type(str(q.returns.named().name))
            if returned is None:
                continue
            paths = _sensitive_paths(schema, returned)
            if paths:
                yield self.diag(
                    f'query "{q.name}" may be run by anonymous callers and returns {", ".join(paths)}',
                    q.span,
                    "guard it with @authenticated (and a scope), or return a type without these fields",
                )


class ScopeWithoutAuthenticated(Rule):
    """``@requires_scope`` without ``@authenticated``.

    A scope check implies a signed-in caller (the compiled guard refuses anonymous callers first), so this is
    not a hole; but the decorators then say less than the guard does, and a reader who removes the scope
    later may believe the operation is still authenticated.

    *Anti-pattern*: ``@requires_scope("write:posts")`` alone.

    *Best practice*: ``@authenticated`` then ``@requires_scope("write:posts")``.
    """

    code = "FQL306"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for op in ctx.analysis.schema.operations():
            if op.auth.scopes and not op.auth.authenticated and not op.auth.api_key:
                if isinstance(op, Mutation) and op.auth_flow is not None:
                    continue  # FQL236 reports guards on auth flows
                yield self.diag(
                    f'"{op.name}" requires {", ".join(op.auth.scopes)} but is not marked @authenticated',
                    op.auth.scope_spans[0] if op.auth.scope_spans else op.span,
                    "add @authenticated: the guard already requires a signed-in caller; say so",
                )


class UndeclaredScope(Rule):
    """A scope used in code that ``[security] scopes`` does not declare.

    When a project lists its scopes, every ``@requires_scope`` must name one of them: a typo
    (``write:post`` for ``write:posts``) compiles to a guard no token will ever pass, and a new scope should
    be added to the list on purpose (the access matrix shows a column per declared scope).

    *Anti-pattern*: ``scopes = ["read:posts", "write:posts"]`` and ``@requires_scope("write:post")``.

    *Best practice*: declare every scope once in ``fraiseql.toml`` and use only those.
    """

    code = "FQL307"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        declared = set(ctx.analysis.config.security.scopes)
        if not declared:
            return
        from fraiseql_compiler.diagnostics import did_you_mean

        for op in ctx.analysis.schema.operations():
            for i, scope in enumerate(op.auth.scopes):
                if scope not in declared:
                    span = op.auth.scope_spans[i] if i < len(op.auth.scope_spans) else op.span
                    yield self.diag(
                        f'scope "{scope}" of "{op.name}" is not declared in [security] scopes',
                        span,
                        did_you_mean(scope, declared) or "add it to [security] scopes, or use a declared scope",
                    )


class ApiKeyOperationKeysDisabled(Rule):
    """An ``@api_key_required`` operation while API keys are disabled.

    Only an API-key caller passes the guard, and with ``[security.api_keys] enabled = false`` the runtime
    accepts no API key: nobody can ever run the operation.

    *Anti-pattern*: ``@api_key_required`` with ``[security.api_keys]`` absent or disabled.

    *Best practice*: enable API keys (``enabled = true``, ``storage = "postgres"``) or remove the guard.
    """

    code = "FQL308"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if ctx.analysis.settings.api_keys.enabled:
            return
        for op in ctx.analysis.schema.operations():
            if op.auth.api_key and not (isinstance(op, Mutation) and op.auth_flow is not None):
                yield self.diag(
                    f'"{op.name}" requires an API key, but [security.api_keys] enabled is false: nobody can run it',
                    op.span,
                    "set [security.api_keys] enabled = true, or remove @api_key_required",
                )


RULES = (
    MutationWithoutAuth,
    SensitiveFieldsWithoutAuth,
    ScopeWithoutAuthenticated,
    UndeclaredScope,
    ApiKeyOperationKeysDisabled,
)
