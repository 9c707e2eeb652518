"""Who can run what: the access matrix of a manifest, for reviewers.

Rows are the operations (queries, then mutations, by GraphQL name); columns are *identities*, the kinds
of caller a reviewer thinks in:

- ``anonymous``: a request without credentials;
- ``authenticated``: a signed-in user holding no scope;
- ``authenticated+<scope>``: a signed-in user holding exactly that one scope, one column per scope some
  operation's ``@requires_scope`` names. ``@requires_scope`` needs every scope it lists, so an operation
  asking for two scopes is denied in each single-scope column, with the scopes still missing in the cell
  (``needs``): nobody holding only one of them runs it;
- ``api_key`` and each extra role (``[database.roles] extra``): a caller of that role whose credential
  holds the scopes each operation asks for. An API key's scopes (and a provider token's) are chosen when
  the key is created, so the cell says which the key must hold (``needs``) rather than splitting the
  column per scope.

The facts come from the manifest only: each operation's ``reachable_roles`` (the roles whose calls pass
its guards, ``analysis/reach.py``) and ``auth.scopes``; each query's ``row_filter`` and ``sql_source``;
each type's row-level security ``policies``. An auth-flow mutation (login, refreshToken, …) has no guards
to pass: its function decides, and the runtime (``executor/run.py``, ``_flow_role``) runs it as the
caller's role when the flow is granted to it, else as ``anonymous`` when the flow is granted to anonymous
(a refresh with an expired token), else as the authenticator when the flow is granted to it (an OAuth
callback), and refuses it otherwise. The matrix follows that rule and says which role the flow runs as.

A query that reads a table-backed type's generated view reads rows through that table's policies: the
cell carries the caller's ``read`` predicate, or ``no_rows`` when its role has none (row-level security is
forced and an action not listed is denied). A query reading a relation of your own, and a mutation's
function, touch tables the manifest does not name: their cells carry no policy; the second table (the
policies per table, role and action) shows what each role may do to each table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from fraiseql_compiler.manifest.models import AuthFlowExecutes, Manifest, MutationEntry, PolicyEntry, QueryEntry
from fraiseql_compiler.scopes import covers

Operation = QueryEntry | MutationEntry

ACTIONS: tuple[Literal["read", "insert", "update", "delete"], ...] = ("read", "insert", "update", "delete")
OperationKind = Literal["query", "mutation"]
ANONYMOUS, AUTHENTICATED, API_KEY, AUTHENTICATOR = "anonymous", "authenticated", "api_key", "authenticator"


@dataclass(frozen=True)
class Identity:
    """A column of the matrix: a kind of caller."""

    key: str  # "anonymous", "authenticated", "authenticated+write:posts", "api_key", an extra role's name
    label: str  # "authenticated + write:posts"
    role: str  # the API role key its requests run as
    scopes: tuple[str, ...]  # the scopes it holds (an exact identity)
    # True: any credential of the role holding the scopes each operation asks for (api_key, extra roles);
    # False: exactly the scopes in ``scopes`` (anonymous, authenticated, authenticated + one scope).
    scoped_credential: bool
    description: str


@dataclass(frozen=True)
class Cell:
    """Whether one identity can run one operation, and what it then sees."""

    identity: str  # Identity.key
    allowed: bool
    # allowed, scoped credential: the scopes the credential must hold; denied, exact identity: the scopes it
    # lacks (its role passes the guards); empty otherwise
    needs: tuple[str, ...] = ()
    runs_as: str | None = None  # an auth flow run as another role than the caller's ("anonymous", "authenticator")
    row_filter: str | None = None  # the query's row_filter, as written
    read_policy: str | None = None  # the role's read predicate on the table the query reads, as written
    no_rows: bool = False  # the query reads a table on which the role has no read policy: it sees no row


@dataclass(frozen=True)
class OperationRow:
    id: str  # "query.posts", "mutation.createPost"
    name: str  # GraphQL name
    kind: OperationKind
    auth_flow: str | None  # the generated auth function it is bound to ("login", "refresh_token", …)
    scopes: tuple[str, ...]  # @requires_scope: every one is needed
    guards: tuple[
        str, ...
    ]  # as a reviewer reads them: "authenticated", "api_key", "scope write:posts", "auth flow login"
    reachable_roles: tuple[str, ...]
    reads: str | None  # a query's sql_source
    table: str | None  # the table-backed type's table whose generated view the query reads
    row_filter: str | None
    cells: tuple[Cell, ...]  # one per identity, in Matrix.identities order

    def cell(self, identity: str) -> Cell:
        for c in self.cells:
            if c.identity == identity:
                return c
        raise KeyError(f"no identity {identity!r}")


@dataclass(frozen=True)
class PolicyRule:
    id: str  # "type.Post.policy.anonymous.read"
    type: str  # the type that declares it
    role: str
    action: Literal["read", "insert", "update", "delete"]
    predicate: str  # as written
    sql: str  # as compiled


@dataclass(frozen=True)
class TablePolicies:
    """The row-level security of one table: a rule per role and action, the rest denied."""

    table: str
    types: tuple[str, ...]  # the types mapping it (only one of them declares the rules)
    roles: tuple[str, ...]  # the API role keys, in the matrix's order
    rules: tuple[PolicyRule, ...]

    def rule(self, role: str, action: str) -> PolicyRule | None:
        return next((r for r in self.rules if r.role == role and r.action == action), None)


@dataclass(frozen=True)
class Matrix:
    project: str | None
    identities: tuple[Identity, ...]
    operations: tuple[OperationRow, ...]
    policies: tuple[TablePolicies, ...]

    def row(self, operation: str) -> OperationRow:
        """An operation by its GraphQL name or its id (``query.posts``)."""
        for r in self.operations:
            if operation in (r.name, r.id):
                return r
        raise KeyError(f"no operation {operation!r}")

    def cell(self, operation: str, identity: str) -> Cell:
        return self.row(operation).cell(identity)

    def identity(self, key: str) -> Identity:
        for i in self.identities:
            if i.key == key:
                return i
        raise KeyError(f"no identity {key!r}")


# --- the facts of one manifest ---------------------------------------------------------------------------


class Facts:
    """What the cells of one manifest are computed from (also used by the diff, for any identity)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        roles = manifest.config.database.roles
        self.api_roles: tuple[str, ...] = (ANONYMOUS, AUTHENTICATED, API_KEY, *roles.extra)
        self.extra_roles: tuple[str, ...] = tuple(roles.extra)
        self.view_table: dict[str, str] = {t.view: t.table for t in manifest.types if t.view and t.table}
        self.table_policies: dict[str, list[tuple[str, PolicyEntry]]] = {}
        self.table_types: dict[str, list[str]] = {}
        for t in manifest.types:
            if t.table is None:
                continue
            self.table_types.setdefault(t.table, []).append(t.name)
            self.table_policies.setdefault(t.table, []).extend((t.name, p) for p in t.policies)

    def operations(self) -> list[tuple[OperationKind, Operation]]:
        queries: list[tuple[OperationKind, Operation]] = [
            ("query", q) for q in sorted(self.manifest.queries, key=lambda q: q.graphql_name)
        ]
        mutations: list[tuple[OperationKind, Operation]] = [
            ("mutation", m) for m in sorted(self.manifest.mutations, key=lambda m: m.graphql_name)
        ]
        return queries + mutations

    def read_policy(self, table: str, role: str) -> str | None:
        return next(
            (p.predicate for _, p in self.table_policies.get(table, ()) if p.role == role and p.action == "read"),
            None,
        )


def auth_flow(op: Operation) -> str | None:
    return op.executes.flow if isinstance(op.executes, AuthFlowExecutes) else None


def guarded_scopes(op: Operation) -> tuple[str, ...]:
    """The scopes the operation's guards require (an auth flow's function decides alone: FQL236)."""
    return () if auth_flow(op) is not None else tuple(op.auth.scopes)


def guards(op: Operation) -> tuple[str, ...]:
    flow = auth_flow(op)
    if flow is not None:
        return (f"auth flow {flow}",)
    out = [API_KEY] if op.auth.api_key else []
    out += [AUTHENTICATED] if op.auth.authenticated else []
    return (*out, *(f"scope {s}" for s in op.auth.scopes))


def source_table(facts: Facts, op: Operation) -> tuple[str | None, str | None]:
    """(sql_source, the table whose generated view it is) of a query; (None, None) for a mutation."""
    if not isinstance(op, QueryEntry):
        return None, None
    return op.sql_source, facts.view_table.get(op.sql_source)


def evaluate(facts: Facts, op: Operation, identity: Identity) -> Cell:
    """The cell of ``op`` for ``identity``: the guards (or the flow's roles), then what a query's rows are."""
    key = identity.key
    if identity.role not in facts.api_roles:
        return Cell(key, False)
    reachable = set(op.reachable_roles)
    runs_as: str | None = None
    needs: tuple[str, ...] = ()
    if auth_flow(op) is not None:
        if identity.role in reachable:
            role = identity.role
        elif ANONYMOUS in reachable:
            role = runs_as = ANONYMOUS
        elif AUTHENTICATOR in reachable:
            role = runs_as = AUTHENTICATOR
        else:
            return Cell(key, False)
    else:
        if identity.role not in reachable:
            return Cell(key, False)
        role = identity.role
        needs = tuple(sorted(s for s in guarded_scopes(op) if not _held(identity.scopes, s)))
        if needs and not identity.scoped_credential:
            return Cell(key, False, needs=needs)
    row_filter = op.row_filter if isinstance(op, QueryEntry) else None
    _, table = source_table(facts, op)
    policy = facts.read_policy(table, role) if table is not None else None
    return Cell(
        key,
        True,
        needs=needs,
        runs_as=runs_as,
        row_filter=row_filter.source if row_filter is not None else None,
        read_policy=policy,
        no_rows=table is not None and policy is None,
    )


def _held(scopes: Iterable[str], required: str) -> bool:
    return any(covers(s, required) for s in scopes)


# --- the matrix ------------------------------------------------------------------------------------------


def identities(manifest: Manifest, facts: Facts | None = None) -> tuple[Identity, ...]:
    """The matrix's columns, in order: anonymous, authenticated, authenticated + each scope (sorted),
    api_key, the extra roles in configuration order."""
    facts = facts or Facts(manifest)
    scopes = sorted({s for _, op in facts.operations() for s in guarded_scopes(op)})
    keys_enabled = manifest.config.security.api_keys.enabled
    out = [
        Identity(ANONYMOUS, ANONYMOUS, ANONYMOUS, (), False, "a request without credentials"),
        Identity(AUTHENTICATED, AUTHENTICATED, AUTHENTICATED, (), False, "a signed-in user holding no scope"),
        *(
            Identity(
                f"{AUTHENTICATED}+{s}",
                f"{AUTHENTICATED} + {s}",
                AUTHENTICATED,
                (s,),
                False,
                f"a signed-in user holding {s} (and no other scope)",
            )
            for s in scopes
        ),
        Identity(
            API_KEY,
            API_KEY,
            API_KEY,
            (),
            True,
            "an API key holding the scopes the operation asks for"
            + ("" if keys_enabled else " ([security.api_keys] is disabled: the runtime accepts none)"),
        ),
        *(
            Identity(r, r, r, (), True, f"a caller given the extra role {r}, holding the scopes the operation asks for")
            for r in facts.extra_roles
        ),
    ]
    return tuple(out)


def access_matrix(manifest: Manifest) -> Matrix:
    facts = Facts(manifest)
    columns = identities(manifest, facts)
    rows = []
    for kind, op in facts.operations():
        reads, table = source_table(facts, op)
        row_filter = op.row_filter if isinstance(op, QueryEntry) else None
        rows.append(
            OperationRow(
                id=op.id,
                name=op.graphql_name,
                kind=kind,
                auth_flow=auth_flow(op),
                scopes=guarded_scopes(op),
                guards=guards(op),
                reachable_roles=tuple(op.reachable_roles),
                reads=reads,
                table=table,
                row_filter=row_filter.source if row_filter is not None else None,
                cells=tuple(evaluate(facts, op, i) for i in columns),
            )
        )
    return Matrix(
        project=manifest.config.project.name,
        identities=columns,
        operations=tuple(rows),
        policies=table_policies(facts),
    )


def table_policies(facts: Facts) -> tuple[TablePolicies, ...]:
    out = []
    for table in sorted(facts.table_types):
        entries = facts.table_policies.get(table, [])
        order = {(r, a): i for i, (r, a) in enumerate((r, a) for r in facts.api_roles for a in ACTIONS)}
        rules = sorted(
            (PolicyRule(p.id, t, p.role, p.action, p.predicate, p.sql) for t, p in entries),
            key=lambda r: (order.get((r.role, r.action), len(order)), r.role, r.action, r.id),
        )
        roles = _ordered(facts.api_roles, (r.role for r in rules))
        out.append(TablePolicies(table, tuple(facts.table_types[table]), roles, tuple(rules)))
    return tuple(out)


def _ordered(first: Sequence[str], more: Iterable[str]) -> tuple[str, ...]:
    """``first``, then any other of ``more`` (a rule for a role the configuration no longer has), sorted."""
    return (*first, *sorted(set(more) - set(first)))


__all__ = [
    "ACTIONS",
    "Cell",
    "Facts",
    "Identity",
    "Matrix",
    "OperationRow",
    "PolicyRule",
    "TablePolicies",
    "access_matrix",
    "evaluate",
    "identities",
]
