"""The blog example: users, posts and comments, with the queries and mutations of the FraiseQL
authentication guide, written as the guide writes them."""

import os
from datetime import datetime, timedelta
from typing import Annotated

import jwt

import fraiseql
from fraiseql.auth import api_key_required, authenticated, requires_scope
from fraiseql.scalars import ID, DateTime, Email

# --- read model: table-backed types (each gets a JSONB view v_<name>) -----------------------------------


# Row-level security, enforced by PostgreSQL whatever the runtime does. An action not listed is denied.
@fraiseql.type(
    table="tb_user",
    access={
        "authenticated": fraiseql.access(read="true", update="id = {current_user_id}"),
        "api_key": fraiseql.access(read="{scope:read:users}"),
    },
)
class User:
    """A registered user."""

    id: ID
    email: Email
    name: str
    created_at: Annotated[DateTime, fraiseql.field(read_only=True)]  # set by the database


@fraiseql.type(
    table="tb_comment",
    access={
        "anonymous": fraiseql.access(read="true"),
        "authenticated": fraiseql.access(
            read="true",
            insert="author_id = {current_user_id}",
            delete="author_id = {current_user_id} OR {scope:admin:posts}",
        ),
    },
)
class Comment:
    """A comment on a post."""

    id: ID
    body: str
    author: User
    created_at: Annotated[DateTime, fraiseql.field(read_only=True)]  # set by the database


@fraiseql.type(
    table="tb_post",
    access={
        "anonymous": fraiseql.access(read="published"),
        "authenticated": fraiseql.access(
            read="published OR author_id = {current_user_id}",
            insert="author_id = {current_user_id} AND {scope:write:posts}",
            update="author_id = {current_user_id}",
            delete="author_id = {current_user_id} OR {scope:admin:posts}",
        ),
        "api_key": fraiseql.access(read="published AND {scope:read:posts}"),
    },
)
class Post:
    """A blog post."""

    id: ID
    title: str
    body: str
    published: Annotated[bool, fraiseql.field(filter=True)]  # list queries take where: {published: {eq: true}}
    author_id: ID
    author: Annotated[User, fraiseql.field(description="Who wrote the post.")]
    comments: list[Comment]
    # set by the database; list queries take orderBy: [{createdAt: DESC}] (index the columns you order by)
    created_at: Annotated[DateTime, fraiseql.field(read_only=True, order=True)]


@fraiseql.type
class Report:
    """Posts per author, read from the hand-written view v_report."""

    author_id: ID
    author_name: str
    post_count: int


# --- auth payloads ---------------------------------------------------------------------------------------


@fraiseql.input
class LoginInput:
    email: Email
    password: str


@fraiseql.type
class AuthPayload:
    access_token: str
    expires_in: int
    token_type: str


@fraiseql.type
class RevokeResult:
    """What POST /auth/revoke answers."""

    revoked: bool
    expires_at: DateTime | None


@fraiseql.type
class RevokeAllResult:
    """What POST /auth/revoke-all answers."""

    revoked_count: int


@fraiseql.input
class RefreshInput:
    refresh_token: str


@fraiseql.type
class ApiKey:
    """An API key; `key` is shown once, at creation."""

    id: ID
    name: str
    key: str | None
    scopes: list[str]


@fraiseql.input
class OAuthCallbackInput:
    code: str
    provider: str  # "google", "github", etc.


@fraiseql.input
class CreatePostInput:
    title: str
    body: str
    published: bool = False


@fraiseql.input
class IngestInput:
    source: str
    rows: list[str]


# --- middleware ------------------------------------------------------------------------------------------


@fraiseql.middleware
def set_user_context(request, next):
    """Make verified JWT claims available to queries and mutations."""
    if request.auth:
        request.context["current_user_id"] = request.auth.claims.get("sub")
        request.context["user_scopes"] = request.auth.claims.get("scopes", [])
    return next(request)


# --- queries ---------------------------------------------------------------------------------------------


@fraiseql.query(
    sql_source="v_user",
    id_arg="id",
    row_filter="id = {current_user_id}"
)
def me() -> "User | None":
    """Get the currently authenticated user."""
    pass


@fraiseql.query(sql_source="v_post")
@authenticated
def posts(limit: int = 20) -> list["Post"]:
    """Requires valid JWT."""
    pass


@fraiseql.query(sql_source="v_post", row_filter="author_id = {current_user_id}")
@fraiseql.authenticated
def my_posts(limit: int = 20) -> list["Post"]:
    """Get the current user's posts."""
    pass


@fraiseql.query(sql_source="v_post", order_by="-created_at", paging="keyset")
@fraiseql.public
def feed(first: int = 20) -> list["Post"]:
    """Posts, newest first, a page at a time (a Relay connection): everyone sees the published ones."""
    pass


# v_report (db/migrations/0001_base.sql) is a security_invoker view: tb_user's and tb_post's policies decide its rows.
@fraiseql.query(sql_source="v_report")  # fraiseql: ignore[FQL234]
@api_key_required
def reports(limit: int = 100) -> list["Report"]:
    """Requires a valid API key."""
    pass


# --- mutations -------------------------------------------------------------------------------------------


@fraiseql.mutation
def login(info, input: LoginInput) -> AuthPayload:
    """Authenticate and issue a JWT."""
    # fn_login validates credentials and returns user_id + scopes
    # (implemented as a PostgreSQL function)
    pass


@fraiseql.mutation
def refresh_token(info, input: RefreshInput) -> AuthPayload:
    """Exchange a refresh token for a new access token."""
    # fn_refresh_token validates the refresh token and returns new claims
    pass


@fraiseql.mutation
def oauth_callback(info, input: OAuthCallbackInput) -> "AuthPayload":
    """Exchange an OAuth code for a FraiseQL JWT.

    FraiseQL exchanges the code for the provider's token,
    fetches user info, and calls fn_upsert_oauth_user.
    """
    pass


@fraiseql.mutation
@fraiseql.authenticated
def create_api_key(info, name: str, scopes: list[str]) -> "ApiKey":
    """Create a new API key for the current user."""
    # The key value is returned once and never stored in plaintext
    # fn_create_api_key stores a hash and returns the full key for display
    pass


@fraiseql.mutation
@authenticated
def logout(info) -> bool:
    """Revoke the caller's own token (POST /auth/revoke in the guide)."""
    pass


@fraiseql.mutation
@authenticated
def revoke_token(info, token: str) -> RevokeResult:
    """POST /auth/revoke: revoke a token of one's own, or anyone's with scope admin:revoke."""
    pass


@fraiseql.mutation
@authenticated
def revoke_all(info, sub: ID) -> RevokeAllResult:
    """POST /auth/revoke-all: every token of a user, one's own or anyone's with scope admin:revoke."""
    pass


@fraiseql.mutation
@authenticated
@requires_scope("write:posts")
def create_post(info, input: "CreatePostInput") -> "Post":
    """Requires valid JWT with write:posts scope."""
    pass


@fraiseql.mutation
@authenticated
@requires_scope("admin:posts")
def delete_post(info, id: "ID") -> bool:
    """Requires admin:posts scope."""
    pass


@fraiseql.mutation
@api_key_required
@requires_scope("write:data")
def ingest_data(info, payload: "IngestInput") -> bool:
    """Requires an API key with write:data scope."""
    pass


# Token minting as the guide shows it; the runtime does this with the manifest's JWT settings.
def create_token(user_id: str, scopes: list[str]) -> str:
    return jwt.encode(
        {
            "sub": user_id,
            "scopes": scopes,
            "iss": "your-app",
            "aud": "your-api",
            "iat": datetime.utcnow(),
            "exp": datetime.utcnow() + timedelta(hours=1),
        },
        os.environ["JWT_SECRET"],
        algorithm="HS256",
    )
