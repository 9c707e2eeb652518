"""Frozen specs that decorators attach to user objects as ``__fraiseql_spec__``.

Specs hold exactly what the user wrote (plus where), nothing derived: introspection turns them into IR.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

SPEC_ATTR = "__fraiseql_spec__"
PENDING_AUTH_ATTR = "__fraiseql_auth__"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True)
class AuthSpec:
    """Auth requirements collected from stacked decorators; order-independent by construction."""

    authenticated: bool = False
    scopes: tuple[str, ...] = ()
    api_key: bool = False
    public: bool = False  # @fraiseql.public: open to every caller, on purpose
    # (decorator, scope or "", location) for error messages; sorted so stacking order never matters
    origins: tuple[tuple[str, str, Location], ...] = ()

    def merge(self, other: AuthSpec) -> AuthSpec:
        return AuthSpec(
            authenticated=self.authenticated or other.authenticated,
            scopes=tuple(sorted(set(self.scopes) | set(other.scopes))),
            api_key=self.api_key or other.api_key,
            public=self.public or other.public,
            origins=tuple(sorted(set(self.origins) | set(other.origins), key=lambda o: (o[2], o[0], o[1]))),
        )


@dataclass(frozen=True)
class FieldOptions:
    """Per-field options, attached with ``typing.Annotated[T, fraiseql.field(...)]``."""

    name: str | None = None
    description: str | None = None
    column: str | None = None
    foreign_key: str | None = None
    deprecation_reason: str | None = None
    # Whether API roles may not write the field's column (None: the key field `id` is read-only, others not)
    read_only: bool | None = None
    order: bool = False  # callers may order list queries by it
    filter: bool | tuple[str, ...] = False  # callers may filter on it: True (the type's operators) or a list
    location: Location | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.filter, list):
            object.__setattr__(self, "filter", tuple(self.filter))


ACCESS_ACTIONS = ("read", "insert", "update", "delete")

# The generated auth functions a mutation can bind to with ``auth_flow=``, and the mutation names that bind
# by convention (the authentication guide's names). The compiler describes each flow
# (fraiseql_compiler.analysis.authflows.FLOWS); a test keeps the two equal.
AUTH_FLOWS = (
    "login",
    "refresh_token",
    "oauth_callback",
    "create_api_key",
    "revoke_token",
    "revoke_all",
    "revoke_api_key",
)
AUTH_FLOW_CONVENTIONS: dict[str, str] = {**{flow: flow for flow in AUTH_FLOWS}, "logout": "revoke_token"}


@dataclass(frozen=True)
class AccessSpec:
    """Row-level access for one API role: a predicate per action (None: the action is denied)."""

    read: str | None = None
    insert: str | None = None
    update: str | None = None
    delete: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TypeSpec:
    kind: Literal["type", "input", "enum"]
    python_name: str
    name: str
    location: Location
    description: str | None = None
    table: str | None = None
    view: str | None = None
    access: tuple[tuple[str, AccessSpec], ...] | None = None  # (role key, rules), as written


@dataclass(frozen=True)
class OperationSpec:
    kind: Literal["query", "mutation"]
    python_name: str
    location: Location
    name: str | None = None
    description: str | None = None
    sql_source: str | None = None
    id_arg: str | None = None
    row_filter: str | None = None
    order_by: tuple[str, ...] | None = None  # default order of a list query: field names, "-" for descending
    paging: str | None = None  # "offset" (default) or "keyset"
    max_limit: int | None = None
    function: str | None = None
    auth_flow: str | None = None
    auth: AuthSpec = AuthSpec()

    def with_auth(self, auth: AuthSpec) -> OperationSpec:
        return replace(self, auth=self.auth.merge(auth))


@dataclass(frozen=True)
class MiddlewareSpec:
    python_name: str
    location: Location
    description: str | None = None


Spec = TypeSpec | OperationSpec | MiddlewareSpec
