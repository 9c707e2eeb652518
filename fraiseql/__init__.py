"""FraiseQL authoring API: decorators that describe a GraphQL API backed by PostgreSQL.

This package uses the standard library only, so importing a schema module is cheap and safe.
"""

from __future__ import annotations

from fraiseql._decorators import (
    access,
    api_key_required,
    authenticated,
    enum,
    field,
    input,
    middleware,
    mutation,
    public,
    query,
    requires_scope,
    type,
)
from fraiseql.errors import AuthoringError

__all__ = [
    "AuthoringError",
    "access",
    "api_key_required",
    "authenticated",
    "enum",
    "field",
    "input",
    "middleware",
    "mutation",
    "public",
    "query",
    "requires_scope",
    "type",
]
