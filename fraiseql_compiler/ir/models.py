"""IR models. Everything the user wrote reaches here; emitters read only this."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, InstanceOf

from fraiseql_compiler.diagnostics import Span
from fraiseql_compiler.sql.predicate_render import Predicate

# 2: predicates are parsed trees (rendered to SQL by the analysis, which knows the column types); policies
# have stable ids.
FORMAT_VERSION = 2

TypeKind = Literal["scalar", "object", "input", "enum", "list"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TypeRef(Model):
    """A GraphQL type reference. ``name`` is the GraphQL name for named kinds, ``of`` the item of a list."""

    kind: TypeKind
    nullable: bool
    name: str | None = None
    of: TypeRef | None = None
    sql_type: str | None = None  # for scalars and enums

    def named(self) -> TypeRef:
        """The innermost named type (list[Post | None] → Post)."""
        ref = self
        while ref.of is not None:
            ref = ref.of
        return ref

    def graphql(self) -> str:
        inner = f"[{self.of.graphql()}]" if self.kind == "list" and self.of else str(self.name)
        return inner if self.nullable else inner + "!"


class Field(Model):
    name: str
    graphql_name: str
    type: TypeRef
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    description: str | None = None
    deprecation_reason: str | None = None
    column: str | None = None  # output types: the table column this field reads
    foreign_key: str | None = None  # list fields of table-backed types: the child's column
    has_default: bool = False
    default: Any = None  # input fields: the JSON form of the Python default
    read_only: bool | None = None  # fraiseql.field(read_only=...), as written (None: not written)
    order: bool = False  # fraiseql.field(order=True): list queries may be ordered by it
    filter: bool | tuple[str, ...] = False  # fraiseql.field(filter=...): True, or the operators listed
    option_span: Span | None = None  # the fraiseql.field(...) call, for errors about its options


class ColumnUse(Model):
    name: str
    span: Span


class ClaimUse(Model):
    """A ``{jwt:<claim>}`` placeholder of a predicate: the claim it names, and where."""

    name: str
    span: Span


Action = Literal["read", "insert", "update", "delete"]


class Policy(Model):
    """One row-level security rule: an API role may perform an action on rows matching a predicate."""

    id: str  # type.Post.policy.authenticated.read
    role: str  # role key: anonymous, authenticated, api_key or an extra role
    action: Action
    source: str  # the predicate as written
    predicate: InstanceOf[Predicate]
    columns: tuple[ColumnUse, ...]
    claims: tuple[ClaimUse, ...] = ()
    span: Span


class ObjectType(Model):
    id: str
    name: str
    python_name: str
    module: str
    fields: tuple[Field, ...]
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    description: str | None = None
    table: str | None = None  # as written: [schema.]table
    view: str | None = None  # the view generated for a table-backed type: view= or v_<snake name>
    table_span: Span | None = None
    view_span: Span | None = None
    access_declared: bool = False  # access= given (an empty dict still means "deny everything", knowingly)
    policies: tuple[Policy, ...] = ()


class InputType(Model):
    id: str
    name: str
    python_name: str
    module: str
    fields: tuple[Field, ...]
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    description: str | None = None


class EnumValue(Model):
    name: str
    value: Any
    span: Span


class EnumType(Model):
    id: str
    name: str
    python_name: str
    module: str
    values: tuple[EnumValue, ...]
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    description: str | None = None


class Argument(Model):
    name: str
    graphql_name: str
    type: TypeRef
    span: Span
    has_default: bool = False
    default: Any = None


class Auth(Model):
    authenticated: bool = False
    scopes: tuple[str, ...] = ()
    api_key: bool = False
    public: bool = False  # @fraiseql.public: open on purpose (lint)
    public_span: Span | None = None
    scope_spans: tuple[Span, ...] = ()  # parallel to ``scopes``, for error messages


class RowFilter(Model):
    source: str  # the predicate as written
    predicate: InstanceOf[Predicate]
    params: tuple[str, ...]  # argument names bound to $1, $2, …
    columns: tuple[ColumnUse, ...]
    claims: tuple[ClaimUse, ...] = ()
    span: Span


class Query(Model):
    id: str
    name: str
    graphql_name: str
    module: str
    arguments: tuple[Argument, ...]
    returns: TypeRef
    sql_source: str  # qualified
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    auth: Auth
    description: str | None = None
    id_arg: str | None = None
    row_filter: RowFilter | None = None
    sql_source_span: Span | None = None
    id_arg_span: Span | None = None
    order_by: tuple[str, ...] | None = None  # the default order as written: field names, "-" for descending
    order_by_span: Span | None = None
    paging: Literal["offset", "keyset"] = "offset"
    paging_span: Span | None = None
    max_limit: int | None = None
    max_limit_span: Span | None = None


class Mutation(Model):
    id: str
    name: str
    graphql_name: str
    module: str
    arguments: tuple[Argument, ...]
    returns: TypeRef
    function: str  # the SQL function the mutation calls, as written or fn_<name>
    span: Span
    name_span: Span | None = None  # the name="..." the user wrote, if any
    auth: Auth
    description: str | None = None
    function_span: Span | None = None
    auth_flow: str | None = None  # bound to a generated auth function instead (login, refresh_token, …)


class Middleware(Model):
    id: str
    name: str
    module: str
    span: Span
    description: str | None = None


class Schema(Model):
    """The whole compiled API; ``operations()`` iterates queries then mutations."""

    format_version: int = FORMAT_VERSION
    types: tuple[ObjectType, ...] = ()
    inputs: tuple[InputType, ...] = ()
    enums: tuple[EnumType, ...] = ()
    queries: tuple[Query, ...] = ()
    mutations: tuple[Mutation, ...] = ()
    middleware: tuple[Middleware, ...] = ()

    def operations(self) -> tuple[Query | Mutation, ...]:
        return (*self.queries, *self.mutations)

    @cached_property
    def _types_by_name(self) -> dict[str, ObjectType]:
        return {t.name: t for t in self.types}

    @cached_property
    def _inputs_by_name(self) -> dict[str, InputType]:
        return {i.name: i for i in self.inputs}

    def object_type(self, name: str) -> ObjectType | None:
        return self._types_by_name.get(name)

    def input_type(self, name: str) -> InputType | None:
        return self._inputs_by_name.get(name)
