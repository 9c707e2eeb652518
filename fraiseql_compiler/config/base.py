"""Shared pieces of the configuration models: the strict base class, problems with codes, common value types.

A validator reports a problem with :func:`problem`, which carries the diagnostic code (FQL132 by default),
an optional hint, and optionally the key the problem belongs to when a model-level check spots it, so that
``load_config`` can point at the right line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, ValidationError, ValidatorFunctionWrapHandler
from pydantic_core import InitErrorDetails, PydanticCustomError

from fraiseql_compiler.naming import IDENT_RE
from fraiseql_compiler.sql.quoting import QUOTED_KEYWORDS

Key = tuple[str | int, ...]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def problem(
    message: str, *, code: str = "FQL132", hint: str | None = None, key: Key = (), secret_input: bool = False
) -> PydanticCustomError:
    """An error for a validator to raise. ``key`` is appended to the location pydantic reports;
    ``secret_input`` marks the rejected value as a possible secret, masked wherever the file is shown."""
    ctx = {"message": message, "code": code, "hint": hint, "key": key, "secret_input": secret_input}
    return PydanticCustomError("fraiseql", "{message}", ctx)


def validate_also(value: Any, handler: ValidatorFunctionWrapHandler, extra: list[PydanticCustomError]) -> Any:
    """Run a wrap validator's ``handler`` and report ``extra`` problems together with its own, so that a
    check on the whole value does not hide the problems inside it (or the reverse)."""
    details = [InitErrorDetails(type=p, loc=(), input=value) for p in extra]
    try:
        result = handler(value)
    except ValidationError as exc:
        if not extra:
            raise
        for e in exc.errors():
            kind = PydanticCustomError(e["type"], "{message}", e["ctx"]) if e["type"] == "fraiseql" else e["type"]
            details.append(InitErrorDetails(type=kind, loc=e["loc"], input=e["input"], ctx=e.get("ctx", {})))
    if details:
        raise ValidationError.from_exception_data("fraiseql.toml", details)
    return result


def refused(message: str, *, hint: str | None = None, key: Key = ()) -> PydanticCustomError:
    """FQL134: a setting that nothing enforces (yet) is refused rather than silently ignored."""
    return problem(message, code="FQL134", hint=hint, key=key)


def no_reference(value: str) -> str:
    if "${" in value:
        raise problem(
            "cannot be an environment reference: it is used at build time (compiled into SQL or checked "
            "against files), and the compiler never reads the environment"
        )
    return value


def sql_ident(value: str) -> str:
    no_reference(value)
    if not IDENT_RE.match(value):
        raise problem(f'"{value}" is not a lowercase SQL identifier')
    return value


def qualified_ident(value: str) -> str:
    """``table`` or ``schema.table``."""
    no_reference(value)
    parts = value.split(".")
    if len(parts) > 2 or not all(IDENT_RE.match(p) for p in parts):
        raise problem(f'"{value}" is not a lowercase SQL identifier (optionally schema-qualified: "app.tb_user")')
    return value


def schema_name(value: str) -> str:
    sql_ident(value)
    if value == "fraiseql" or value.startswith("pg_") or value == "information_schema":
        raise problem(
            f'"{value}" is reserved: "fraiseql" holds the generated helper functions, and pg_* and '
            "information_schema belong to PostgreSQL"
        )
    return value


_NOT_ROLES = frozenset({"postgres", "public", "none", "current_user", "session_user", "current_role"})


def role_name(value: str) -> str:
    sql_ident(value)
    if value in _NOT_ROLES or value.startswith("pg_") or value in QUOTED_KEYWORDS:
        raise problem(
            f'"{value}" cannot be an API role name: postgres, public, none, reserved words and pg_* names '
            "belong to PostgreSQL",
            hint='use a name of your own, e.g. "app_authenticated"',
        )
    return value


SqlIdent = Annotated[StrictStr, AfterValidator(sql_ident)]
QualifiedIdent = Annotated[StrictStr, AfterValidator(qualified_ident)]
SchemaName = Annotated[StrictStr, AfterValidator(schema_name)]
RoleName = Annotated[StrictStr, AfterValidator(role_name)]
PlainStr = Annotated[StrictStr, AfterValidator(no_reference)]

_CLAIM_RE = re.compile(r"^\S+$")


def claim_name(value: str) -> str:
    """A claim as the provider names it: ``sub``, ``org_role``, or a namespaced ``https://example.com/roles``."""
    no_reference(value)
    if not _CLAIM_RE.match(value):
        raise problem("a claim name is a non-empty string without spaces")
    return value


ClaimName = Annotated[StrictStr, AfterValidator(claim_name)]

# Normalized claims the runtime computes itself; a claim mapping cannot overwrite them.
RESERVED_CLAIMS = frozenset({"sub", "scopes", "auth", "jti", "iat", "exp", "nbf", "iss", "aud", "role"})
_MAPPED_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def claim_mapping(value: dict[str, str]) -> dict[str, str]:
    """``claims = { org_id = "https://example.com/org_id" }``: the name predicates use (``{jwt:org_id}``) →
    the claim as the token carries it."""
    for name in value:
        if not _MAPPED_NAME_RE.match(name):
            raise problem(f'"{name}" is not a lowercase claim name (letters, digits, underscores)', key=(name,))
        if name in RESERVED_CLAIMS:
            raise problem(
                f'"{name}" is a claim the runtime sets itself',
                hint="use subject_claim and scopes_claim for sub and scopes; pick another name",
                key=(name,),
            )
    return value


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_url(value: str | None, *, what: str = "URL", allow_local_http: bool = True, key: Key = ()) -> None:
    """https (http only for localhost), a host, no credentials, no fragment. Placeholders such as
    ``https://{your-auth0-domain}.auth0.com/`` pass: the host is not resolved at build time."""
    if value is None:  # a reference without a default: checked by the runtime once resolved
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        parts, host = urlsplit(""), ""
    if any(c.isspace() for c in value) or not host:
        raise problem(f"{what} must be an absolute URL such as https://example.com/", key=key)
    if "@" in parts.netloc:
        raise problem(f"{what} must not carry credentials (user:password@)", code="FQL133", key=key)
    if parts.fragment:
        raise problem(f"{what} must not have a #fragment", key=key)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_local_http and host in _LOCAL_HOSTS:
        return
    raise problem(
        f"{what} must use https" + (" (http only for localhost)" if allow_local_http else ""),
        hint="tokens and keys fetched over plain http can be swapped in transit",
        key=key,
    )


def relative_path(value: str) -> str:
    """A path relative to fraiseql.toml, written with forward slashes so builds match across machines."""
    no_reference(value)
    if not value or PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() or "\\" in value:
        raise problem(
            "must be a path relative to fraiseql.toml, written with forward slashes",
            hint='e.g. "keys/jwks.json": absolute paths make the build depend on the machine',
        )
    return PurePosixPath(value).as_posix()


RelPath = Annotated[StrictStr, AfterValidator(relative_path)]


def one_of(value: Any, allowed: Iterable[str], what: str = "") -> None:
    options = list(allowed)
    if value not in options:
        listed = ", ".join(f'"{o}"' for o in options)
        shown = f' (got "{value}")' if isinstance(value, str) and len(value) <= 40 else ""
        raise problem(f"{what + ' ' if what else ''}must be one of {listed}{shown}")


def unique(values: Iterable[Any], what: str) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise problem(f'{what} "{v}" is listed twice', key=(i,))
        seen.add(v)
