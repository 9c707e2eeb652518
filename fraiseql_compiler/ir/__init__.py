"""The intermediate representation: plain, frozen pydantic models with a source span on every node."""

from __future__ import annotations

from fraiseql_compiler.ir.models import (
    FORMAT_VERSION,
    Argument,
    Auth,
    ClaimUse,
    ColumnUse,
    EnumType,
    EnumValue,
    Field,
    InputType,
    Middleware,
    Mutation,
    ObjectType,
    Policy,
    Query,
    RowFilter,
    Schema,
    TypeRef,
)

__all__ = [
    "FORMAT_VERSION",
    "Argument",
    "Auth",
    "ClaimUse",
    "ColumnUse",
    "EnumType",
    "EnumValue",
    "Field",
    "InputType",
    "Middleware",
    "Mutation",
    "ObjectType",
    "Policy",
    "Query",
    "RowFilter",
    "Schema",
    "TypeRef",
]
