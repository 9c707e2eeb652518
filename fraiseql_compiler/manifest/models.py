"""The runtime manifest as versioned pydantic models: the emitter fills them, the executor (and ``migrate``
and the access review) load them. The JSON file is these models dumped, so the models are its schema.

Fields are declared in alphabetical order, which makes the dumped JSON's keys sorted at every level (the
manifest's determinism rule) without a slow sorting pass; a test checks it. Format history:

1. the first release (string-keyed JSON, read by key);
2. each type's ``policies`` (stable ids, predicate and SQL), each operation's ``reachable_roles``, ids on
   middleware, and every optional member always present (``null`` when unset);
3. each list query's ``paging`` (orderBy, where, limit/offset or first/after, cursors: docs/paging.md); its
   paging arguments are described there, not in ``arguments`` or ``executes.bindings`` (which keep
   ``limit``/``offset`` only for queries that do not page: a single row).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

FORMAT_VERSION: Literal[3] = 3


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- configuration, as the runtime needs it ----------------------------------------------------------


class EnvRef(Model):
    """A value the runtime reads from its environment when it starts: ``{"env": NAME, "default": …}``, or
    ``{"env": FIRST, "template": "https://${AUTH0_DOMAIN}/"}`` whose ``${NAME}``/``${NAME:-default}``
    references the runtime fills in (every one unset without a default: refused)."""

    default: str | None = None
    env: str
    template: str | None = None

    @model_serializer(mode="plain")
    def _serialize(self) -> dict[str, str]:
        out = {"env": self.env}
        if self.default is not None:
            out["default"] = self.default
        if self.template is not None:
            out["template"] = self.template
        return dict(sorted(out.items()))


EnvValue = str | EnvRef
Jwks = dict[str, Any]  # {"keys": [...]}: public keys only, as the JWKS file holds them


class JwtConfig(Model):
    access_token_ttl_seconds: int
    algorithm: EnvValue
    allowed_algorithms: list[str]
    audience: list[EnvValue]
    claims: dict[str, str]  # normalized name → the first-party token's claim (predicates read them)
    issuer: EnvValue
    jwks: Jwks | None
    jwks_file: str | None
    leeway_seconds: int
    max_token_lifetime_seconds: int
    private_key_env: str | None
    refresh_token_ttl_seconds: int
    required_claims: list[str]
    secret_env: str | None
    signing_key_id: str | None  # RS256/ES256: the kid minted tokens carry


class LoginConfig(Model):
    id_column: str
    identifier_column: str
    password_hash_column: str
    scopes_column: str
    table: str


class OAuthProviderConfig(Model):
    """[auth.oauth.<name>]: where oauthCallback exchanges a code, with the variables it reads."""

    authorize_url: EnvValue | None
    client_id: EnvValue
    client_secret_env: str  # the variable holding the client secret
    emails_url: EnvValue | None
    kind: str
    name: str
    redirect_uri: EnvValue
    scopes: list[str]
    token_url: EnvValue | None
    userinfo_url: EnvValue | None


class AuthConfig(Model):
    jwt: JwtConfig
    login: LoginConfig
    oauth: list[OAuthProviderConfig]
    type: list[Literal["jwt", "api_key", "oauth2", "saml"]]


class RolesConfig(Model):
    anonymous: str
    api_key: str
    authenticated: str
    authenticator: str
    extra: list[str]


class DatabaseConfig(Model):
    api_schema: str
    roles: RolesConfig
    schema_: str = Field(alias="schema")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class ProjectConfig(Model):
    name: str | None


class MigrateConfig(Model):
    """[migrate]: read by ``fraiseql migrate`` from the manifest (so it needs no schema, no config models)."""

    lock_timeout_seconds: int
    migrations: str  # relative to fraiseql.toml
    statement_timeout_seconds: int
    wait_seconds: int


class RoleRule(Model):
    claim: str
    db_role: str | None
    operator: Literal["equals", "contains", "exists"]
    role: str
    value: str | int | bool


class ProviderConfig(Model):
    algorithms: list[str]
    audience: list[EnvValue]
    claims: dict[str, str]
    default_db_role: str | None
    default_role: str
    discovery: bool  # jwks_uri (and the login flow's endpoints) from <issuer>/.well-known/openid-configuration
    email_claim: str
    email_verified_claim: str
    issuer: EnvValue
    jwks: Jwks | None
    jwks_file: str | None
    jwks_uri: EnvValue | None
    kind: Literal["auth0", "clerk", "oidc"]
    link: Literal["explicit", "email", "provision"]
    max_token_lifetime_seconds: int
    name: str
    role_rules: list[RoleRule]
    scopes_claim: str
    scopes_format: Literal["space_separated", "array"]
    subject_claim: str


class StaticKey(Model):
    key_hash: str
    name: str
    scopes: list[str]


class ApiKeysConfig(Model):
    default_ttl_days: int
    enabled: bool
    hash_algorithm: Literal["sha256"]
    header: str
    max_ttl_days: int
    prefix: str
    static: list[StaticKey]
    storage: Literal["postgres", "env"]


class TokenRevocationConfig(Model):
    backend: Literal["postgres"]
    enabled: bool
    fail_open: bool
    require_jti: bool


class PkceConfig(Model):
    """[security.pkce]: the login flow's client (its provider is in ``providers`` under ``provider``)."""

    audience: EnvValue | None
    client_id: EnvValue
    client_secret_env: str  # read when set: a confidential client
    code_challenge_method: Literal["S256"]
    issuer_url: EnvValue
    provider: str  # the name of the providers entry it stands for
    redirect_uris: list[EnvValue]
    scopes: list[str]


class RateLimitingConfig(Model):
    lockout_seconds: int
    login_max_attempts: int
    login_window_seconds: int


class SecurityConfig(Model):
    api_keys: ApiKeysConfig
    claims_key_env: str  # the variable holding the key that proves claims (docs/claims-proof.md)
    optional_claims: list[str]  # passed through by this exact name when a token carries one
    pkce: PkceConfig | None
    providers: list[ProviderConfig]
    rate_limiting: RateLimitingConfig
    token_revocation: TokenRevocationConfig


class CorsConfig(Model):
    allow_credentials: bool
    headers: list[str]
    max_age_seconds: int
    methods: list[str]
    origins: list[EnvValue]


class CookieConfig(Model):
    """The access token as an HttpOnly cookie (web apps): Secure, Path=/, no Domain (the __Host- prefix)."""

    enabled: bool
    http_only: Literal[True]
    max_age_seconds: int  # the access token's lifetime
    name: str
    path: Literal["/"]
    same_site: Literal["strict", "lax"]
    secure: Literal[True]


class ServerConfig(Model):
    cookie: CookieConfig
    cors: CorsConfig


class RuntimeConfig(Model):
    """``fraiseql.toml`` as the runtime needs it: every default spelled out, references kept, no secret."""

    auth: AuthConfig
    database: DatabaseConfig
    migrate: MigrateConfig
    project: ProjectConfig
    security: SecurityConfig
    server: ServerConfig


# --- the API -----------------------------------------------------------------------------------------


class TypeRef(Model):
    graphql: str
    kind: Literal["scalar", "object", "input", "enum", "list"]
    name: str | None
    nullable: bool
    of: TypeRef | None
    sql_type: str | None


class OutputField(Model):
    column: str | None  # the table column it reads (table-backed types)
    deprecation_reason: str | None
    description: str | None
    foreign_key: str | None  # list fields of table-backed types: the child's column
    graphql_name: str
    json_key: str  # its key in the view's ``data``
    name: str
    source: str
    type: TypeRef


class InputField(Model):
    default: Any
    deprecation_reason: str | None
    description: str | None
    graphql_name: str
    has_default: bool
    name: str
    source: str
    type: TypeRef


class PolicyEntry(Model):
    """One row-level security policy, keyed by a stable id (``type.Post.policy.authenticated.read``)."""

    action: Literal["read", "insert", "update", "delete"]
    columns: list[str]
    id: str
    predicate: str  # as written
    role: str  # role key
    sql: str  # as compiled into the policy


class ObjectTypeEntry(Model):
    description: str | None
    fields: list[OutputField]
    id: str
    module: str
    name: str
    policies: list[PolicyEntry]
    python_name: str
    source: str
    table: str | None
    view: str | None


class InputTypeEntry(Model):
    description: str | None
    fields: list[InputField]
    id: str
    module: str
    name: str
    python_name: str
    source: str


class EnumValueEntry(Model):
    name: str
    value: Any


class EnumEntry(Model):
    description: str | None
    id: str
    module: str
    name: str
    python_name: str
    source: str
    values: list[EnumValueEntry]


class Argument(Model):
    default: Any
    graphql_name: str
    has_default: bool
    name: str
    source: str
    type: TypeRef


class Auth(Model):
    api_key: bool
    authenticated: bool
    scopes: list[str]


class Binding(Model):
    argument: str
    column: str | None  # "filter": column = value
    kind: Literal["param", "filter", "limit", "offset"]
    position: int | None  # "param": $n of the API function


class QueryExecutes(Model):
    bindings: list[Binding]
    kind: Literal["view", "function"]
    param_types: list[str]  # "function": the SQL types of $1, $2, …
    relation: str
    select: Literal["data"]
    single: bool


class PageFieldEntry(Model):
    """A field a list query may be ordered or filtered by, or that its default order names."""

    column: str  # in the API relation the query reads
    graphql_name: str
    graphql_type: str  # the named GraphQL type of its values
    kind: Literal["scalar", "enum"]
    nullable: bool
    operators: list[str]  # where operators callers may use on it (empty: not filterable)
    order: bool  # callers may order by it
    sql_type: str  # values bind as parameters cast to this type


class OrderKeyEntry(Model):
    direction: Literal["ASC", "DESC"]
    field: str  # GraphQL name
    nulls: Literal["FIRST", "LAST"]


class PagingEntry(Model):
    """How a list query pages (docs/paging.md is the contract a runtime implements):

    * ``arguments``: the paging arguments, by GraphQL name, in the SDL's order (``limit``/``offset`` or
      ``first``/``after``, then ``orderBy`` and ``where`` when fields allow them);
    * the order is the caller's ``orderBy`` (or ``default_order`` when none is given), then every ``key``
      field not already in it, ascending: every page has a defined order;
    * a limit above ``max_limit`` is refused (400), never clamped; a ``where`` is bounded by ``max_in``,
      ``max_depth`` and ``max_conditions``;
    * keyset: a cursor is base64url (no padding) of the JSON ``[1, [[field, direction, nulls], …],
      [value, …]]`` (version, the order it was made for, the row's values in that order).
    """

    arguments: list[str]
    connection: str | None  # keyset: the connection type's GraphQL name
    default_limit: int
    default_order: list[OrderKeyEntry]
    fields: list[PageFieldEntry]
    key: list[str]
    key_unique: bool  # the key is the type's id (a page past an offset may then be read by key)
    max_conditions: int
    max_depth: int
    max_in: int
    max_limit: int
    order_by_input: str | None
    style: Literal["offset", "keyset"]
    where_input: str | None


class RowFilterEntry(Model):
    params: list[str]
    source: str
    sql: str


class QueryEntry(Model):
    arguments: list[Argument]
    auth: Auth
    description: str | None
    executes: QueryExecutes
    graphql_name: str
    id: str
    id_arg: str | None
    module: str
    name: str
    paging: PagingEntry | None  # list queries
    reachable_roles: list[str]  # role keys whose calls pass the guards
    returns: TypeRef
    row_filter: RowFilterEntry | None
    source: str
    sql_source: str


class FunctionExecutes(Model):
    arguments: Literal["jsonb"]  # one jsonb object of all arguments, keyed by their Python names
    calls: str  # the user's function
    function: str  # the API function the runtime calls
    kind: Literal["function"]


class FlowArgument(Model):
    from_: str = Field(alias="from")
    param: str

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class AuthFlowExecutes(Model):
    arguments: list[FlowArgument]
    flow: str
    function: str
    kind: Literal["auth_function"]
    no_row: str | None  # the error to answer, after committing, when the function returns no row
    note: str
    result: Literal["issue_tokens", "return_key_once", "revoked", "count"]
    roles: list[str]  # database roles it may run as
    token_argument: str | None  # an argument holding a token the runtime verifies; "token.x" reads its claims


class MutationEntry(Model):
    arguments: list[Argument]
    auth: Auth
    description: str | None
    executes: Annotated[FunctionExecutes | AuthFlowExecutes, Field(discriminator="kind")]
    graphql_name: str
    id: str
    module: str
    name: str
    reachable_roles: list[str]
    returns: TypeRef
    source: str


class MiddlewareEntry(Model):
    description: str | None
    id: str
    module: str
    name: str
    source: str


class Scalar(Model):
    builtin: bool
    name: str
    sql_type: str


class Compiler(Model):
    name: str
    version: str


class ClaimsProofVector(Model):
    claims: str
    key: str  # as the variable holds it
    proof: str
    role: str


class ClaimsProof(Model):
    """What a runtime computes to prove a request's claims (docs/claims-proof.md), with test vectors."""

    algorithm: Literal["HMAC-SHA256"]
    key: str
    kid: str
    message: str
    proof: str
    role: str
    vectors: list[ClaimsProofVector]


class Database(Model):
    api_schema: str
    claims_proof: ClaimsProof
    claims_setting: str
    proof_setting: str  # where the runtime sets the claims' proof (fraiseql_compiler/claims_proof.py)
    roles: dict[str, str]  # role key → database role, the authenticator included
    schema_: str = Field(alias="schema")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class ErrorEntry(Model):
    code: str
    http: int
    message: str
    sqlstate: str


class SqlObjectEntry(Model):
    """A database object of the build, as ``fraiseql migrate`` manages it (see emit/objects.py): a marked
    block of ``file`` whose text hashes to ``hash``."""

    depends_on: list[str]
    details: dict[str, str] | None  # rls: policy name → what it allows (migrate's hazard checks)
    drop: str | None  # how to remove it when it leaves the build (None: setup and versioned steps)
    file: str
    hash: str
    kind: Literal["setup", "versioned", "view", "rls", "user_sources", "api_view", "api_function", "mutation"]
    name: str


class Endpoint(Model):
    """A plain HTTP endpoint a runtime may serve for an operation (the guide's POST /auth/revoke): the
    request body's members are the operation's arguments, by GraphQL name; the answer is its result."""

    method: Literal["POST"]
    operation: str  # GraphQL name
    path: str


class Manifest(Model):
    artifacts: dict[str, str]  # path → "sha256:…" of every other output file
    compiler: Compiler
    config: RuntimeConfig
    content_hash: str  # sha256 of the canonical JSON (sorted keys, compact) without this member
    database: Database
    endpoints: list[Endpoint]
    enums: list[EnumEntry]
    errors: list[ErrorEntry]
    format_version: Literal[3]
    inputs: list[InputTypeEntry]
    ir_format_version: int
    middleware: list[MiddlewareEntry]
    mutations: list[MutationEntry]
    objects: list[SqlObjectEntry]  # in the order they are applied
    queries: list[QueryEntry]
    scalars: list[Scalar]
    types: list[ObjectTypeEntry]

    def operation(self, name: str) -> QueryEntry | MutationEntry | None:
        """A query or mutation by its GraphQL or Python name."""
        ops: list[QueryEntry | MutationEntry] = [*self.queries, *self.mutations]
        return next((op for op in ops if name in (op.name, op.graphql_name)), None)

    def error(self, code: str) -> ErrorEntry:
        return next(e for e in self.errors if e.code == code)
