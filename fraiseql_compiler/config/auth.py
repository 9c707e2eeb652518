"""``[auth.jwt]`` (the tokens the runtime verifies and mints) and ``[auth.login]`` (the user table)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fraiseql_compiler.config.base import (
    ClaimName,
    PlainStr,
    QualifiedIdent,
    RelPath,
    Section,
    SqlIdent,
    claim_mapping,
    one_of,
    problem,
    refused,
    unique,
)
from fraiseql_compiler.config.envref import EnvName, EnvRef, EnvStr, parse_env_str, static_value
from fraiseql_compiler.config.jwks import config_root, load_jwks, usable
from fraiseql_compiler.config.oauth import AuthType, OAuthProvider, oauth_names

JWT_ALGORITHMS = ("HS256", "RS256", "ES256")


def audience_list(value: Any) -> Any:
    """``audience`` is a string or a list of strings; the models always hold a tuple."""
    return (value,) if isinstance(value, str | EnvRef) else value


def nonempty_audience(value: tuple[str | EnvRef, ...]) -> tuple[str | EnvRef, ...]:
    if not value:
        raise problem("needs at least one audience")
    if any(v == "" for v in value):
        raise problem("an audience cannot be empty")
    return value


Audience = Annotated[tuple[EnvStr, ...], BeforeValidator(audience_list)]


class JwtSection(Section):
    """Tokens the runtime verifies and mints (its own login, refresh and API flows)."""

    algorithm: EnvStr = EnvRef("JWT_ALGORITHM", "HS256")
    issuer: EnvStr = EnvRef("JWT_ISSUER")
    audience: Audience = (EnvRef("JWT_AUDIENCE"),)
    secret_env: EnvName = "JWT_SECRET"
    private_key_env: EnvName = "JWT_PRIVATE_KEY"
    jwks_file: RelPath | None = None
    signing_key_id: PlainStr | None = None
    leeway_seconds: Annotated[StrictInt, Field(ge=0, le=300)] = 30
    required_claims: tuple[ClaimName, ...] = ("sub", "exp", "iat")
    access_token_ttl_seconds: Annotated[StrictInt, Field(ge=60, le=86_400)] = 3600
    max_token_lifetime_seconds: Annotated[StrictInt, Field(ge=60, le=31_536_000)] = 86_400
    refresh_token_ttl_seconds: Annotated[StrictInt, Field(ge=60, le=31_536_000)] = 1_209_600
    # Claims of first-party tokens (minted by your own code) that predicates read: {jwt:org_id} → "org_id".
    claims: dict[str, ClaimName] = {}

    _jwks: dict[str, Any] | None = PrivateAttr(None)
    _signing_kid: str | None = PrivateAttr(None)

    @field_validator("algorithm")
    @classmethod
    def _algorithm(cls, value: str | EnvRef) -> str | EnvRef:
        known = static_value(value)
        if known is None:
            raise problem(
                "an environment reference for the algorithm needs a default",
                hint='write "${JWT_ALGORITHM:-HS256}": the algorithm decides at build time which keys are '
                "required, and the runtime accepts no other algorithm",
            )
        if known.lower() == "none":
            raise problem(
                '"none" (unsigned tokens) is never accepted',
                hint="use HS256 (a shared secret), RS256 or ES256 (a key pair)",
            )
        one_of(known, JWT_ALGORITHMS)
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | EnvRef) -> str | EnvRef:
        if value == "":
            raise problem("cannot be empty: the runtime writes it into the tokens it mints and checks it")
        return value

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: tuple[str | EnvRef, ...]) -> tuple[str | EnvRef, ...]:
        return nonempty_audience(value)

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, value: str, info: ValidationInfo) -> str:
        algorithm = _family(info.data.get("algorithm"))
        if algorithm and algorithm != "HS256":
            raise refused(
                f"secret_env is not used with {algorithm}: tokens are signed with the private key named by "
                "private_key_env and verified with jwks_file",
                hint="remove secret_env",
            )
        return value

    @field_validator("private_key_env")
    @classmethod
    def _private_key_env(cls, value: str, info: ValidationInfo) -> str:
        if _family(info.data.get("algorithm")) == "HS256":
            raise refused(
                "private_key_env is not used with HS256: tokens are signed and verified with the shared secret "
                "named by secret_env",
                hint='remove private_key_env, or set algorithm = "RS256" (or "ES256") with a jwks_file',
            )
        return value

    @field_validator("jwks_file")
    @classmethod
    def _jwks_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        algorithm = _family(info.data.get("algorithm"))
        if value is None or algorithm is None:
            return value
        if algorithm == "HS256":
            raise refused(
                "jwks_file is refused with HS256: HS256 tokens are verified with the shared secret named by "
                "secret_env, so nothing would read the keys",
                hint='remove jwks_file, or set algorithm = "RS256" (or "ES256")',
            )
        load_jwks(config_root(info), value, [algorithm])
        return value

    @field_validator("claims")
    @classmethod
    def _claims(cls, value: dict[str, str]) -> dict[str, str]:
        return claim_mapping(value)

    @field_validator("required_claims")
    @classmethod
    def _required_claims(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unique(value, "claim")
        if "exp" not in value:
            raise problem('must include "exp": a token without an expiry would be valid forever')
        return value

    @field_validator("max_token_lifetime_seconds")
    @classmethod
    def _max_lifetime(cls, value: int, info: ValidationInfo) -> int:
        ttl = info.data.get("access_token_ttl_seconds")
        if isinstance(ttl, int) and value < ttl:
            raise problem(f"must be at least access_token_ttl_seconds ({ttl})")
        return value

    @model_validator(mode="after")
    def _keys(self, info: ValidationInfo) -> Self:
        if self.algorithm_value == "HS256":
            if self.signing_key_id is not None:
                raise refused(
                    "signing_key_id is not used with HS256: HS256 tokens are signed with the shared secret named "
                    "by secret_env",
                    hint='remove signing_key_id, or set algorithm = "RS256" (or "ES256") with a jwks_file',
                    key=("signing_key_id",),
                )
            return self
        if self.jwks_file is None:
            raise problem(
                f"{self.algorithm_value} needs jwks_file: the public keys that verify the tokens",
                hint='write jwks_file = "keys/jwks.json" (relative to fraiseql.toml); the private key stays in '
                "the runtime's environment, named by private_key_env",
                key=("jwks_file",),
            )
        self._jwks = load_jwks(config_root(info), self.jwks_file, [self.algorithm_value])
        self._signing_kid = signing_kid(self._jwks, self.jwks_file, self.algorithm_value, self.signing_key_id)
        return self

    @property
    def algorithm_value(self) -> str:
        """The algorithm known at build time (the literal, or the reference's default)."""
        return static_value(self.algorithm) or "HS256"

    @property
    def jwks(self) -> dict[str, Any] | None:
        """The public keys read from ``jwks_file`` (RS256/ES256)."""
        return self._jwks

    @property
    def signing_kid(self) -> str | None:
        """The kid of the key that signs minted tokens (RS256/ES256): ``signing_key_id``, or the only key's."""
        return self._signing_kid


def signing_kid(jwks: dict[str, Any], relative: str, algorithm: str, wanted: str | None) -> str:
    """The kid minted tokens carry: every key of a first-party JWKS needs a distinct kid (a token names the key
    that verifies it, so a new key can be published next to the old one), and with several keys
    ``signing_key_id`` says which one signs."""
    keys: list[dict[str, Any]] = jwks["keys"]
    kids = [k.get("kid") for k in keys]
    if not all(isinstance(kid, str) and kid for kid in kids):
        raise problem(
            f'every key in "{relative}" needs a "kid": the runtime writes it into the tokens it mints, so that a '
            "new key can be published next to the old one and keys rotated without downtime",
            hint='add "kid": "<a name of your choice, e.g. 2025-01>" to each key (tokens already minted without a '
            "kid keep verifying while the file holds one key)",
            key=("jwks_file",),
        )
    duplicates = sorted({str(kid) for kid in kids if kids.count(kid) > 1})
    if duplicates:
        raise problem(
            f'"{relative}" has several keys with kid "{duplicates[0]}": a token could not name its key',
            hint="give each key its own kid",
            key=("jwks_file",),
        )
    listed = ", ".join(f'"{kid}"' for kid in kids)
    if wanted is None:
        if len(keys) > 1:
            raise problem(
                f'"{relative}" holds {len(keys)} keys ({listed}): say which one signs the tokens the runtime mints',
                hint='write signing_key_id = "<kid>" in [auth.jwt]: during a rotation, the key whose private half '
                "is in private_key_env (see docs/configuration.md, key rotation)",
                key=("jwks_file",),
            )
        wanted = str(kids[0])
    key = next((k for k in keys if k.get("kid") == wanted), None)
    if key is None:
        raise problem(
            f'signing_key_id "{wanted}" is not a kid in "{relative}" (its keys: {listed})',
            hint="name one of the file's keys, or add the new public key to the file first",
            key=("signing_key_id",),
        )
    if not usable(key, algorithm):
        raise problem(
            f'the key "{wanted}" in "{relative}" cannot sign {algorithm} tokens',
            hint='RS256 needs an RSA key (n, e), ES256 an EC key on P-256 (x, y), with no other "use" than '
            '"sig" and no other "alg"',
            key=("signing_key_id",),
        )
    return wanted


def _family(algorithm: object) -> str | None:
    if not isinstance(algorithm, str | EnvRef):
        return None
    return static_value(parse_env_str(algorithm))


class LoginSection(Section):
    """The table ``fn_login`` reads: who may log in, with which password hash and scopes."""

    table: QualifiedIdent = "tb_user"
    id_column: SqlIdent = "id"
    identifier_column: SqlIdent = "email"
    password_hash_column: SqlIdent = "password_hash"
    scopes_column: SqlIdent = "scopes"
    # The bcrypt cost of the stored hashes: an unknown user is checked against a dummy hash of this
    # cost, so a failed login takes as long whether or not the account exists.
    bcrypt_cost: int = Field(12, ge=4, le=31)

    @field_validator("identifier_column", "password_hash_column", "scopes_column")
    @classmethod
    def _distinct(cls, value: str, info: ValidationInfo) -> str:
        for other, column in info.data.items():
            if other != "table" and column == value:
                raise problem(f'"{value}" is already {other}; each column has one role')
        return value

    def qualified_table(self, default_schema: str) -> tuple[str, str]:
        """(schema, table), with ``[database] schema`` for an unqualified name."""
        schema, _, table = self.table.rpartition(".")
        return (schema or default_schema, table)


class AuthSection(Section):
    # The guide's strategy table (type = "jwt" | "api_key" | "oauth2" | "saml", or a list): each needs its
    # sections, checked with the whole file (Config._auth_types).
    type: Annotated[tuple[AuthType, ...], BeforeValidator(audience_list)] = ("jwt",)
    jwt: JwtSection = JwtSection()
    login: LoginSection = LoginSection()
    oauth: Annotated[dict[str, OAuthProvider], AfterValidator(oauth_names)] = {}

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.type)
