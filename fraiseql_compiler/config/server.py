"""``[server.cors]``: which browser origins may call the API, and with what."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fraiseql_compiler.config.base import Section, problem
from fraiseql_compiler.config.envref import EnvRef, EnvStr, static_value
from fraiseql_compiler.config.security import header_name

_ORIGIN_RE = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?$")
CORS_METHODS = ("GET", "POST")


def check_origin(value: str | None, key: tuple[str | int, ...]) -> None:
    if value is None or value == "*":
        return
    if value != value.lower() and _ORIGIN_RE.match(value.lower()):
        raise problem(f'"{value}" must be lowercase, as browsers send it', key=key)
    if not _ORIGIN_RE.match(value):
        stripped = re.match(r"^(https?://[^/?#]+)[/?#]", value)
        raise problem(
            f'"{value}" is not an origin: scheme://host[:port], with no path',
            hint=f'write "{stripped.group(1)}"' if stripped else 'e.g. "https://app.example.com"',
            key=key,
        )


def cors_method(value: str) -> str:
    if value not in CORS_METHODS:
        raise problem(
            f'"{value}" is not allowed: the GraphQL endpoint answers GET and POST only (preflight OPTIONS '
            "requests are answered without being listed)"
        )
    return value


class CorsSection(Section):
    origins: tuple[EnvStr, ...] = ()
    allow_credentials: StrictBool = False
    methods: tuple[Annotated[StrictStr, AfterValidator(cors_method)], ...] = CORS_METHODS
    headers: tuple[Annotated[StrictStr, AfterValidator(header_name)], ...] = ("Authorization", "Content-Type")
    max_age_seconds: Annotated[StrictInt, Field(ge=0, le=86_400)] = 600

    @field_validator("origins")
    @classmethod
    def _origins(cls, value: tuple[str | EnvRef, ...]) -> tuple[str | EnvRef, ...]:
        seen: set[str | EnvRef] = set()
        for i, origin in enumerate(value):
            check_origin(static_value(origin), (i,))
            if origin == "*" and len(value) > 1:
                raise problem('"*" allows every origin, so it must be the only one', key=(i,))
            if origin in seen:
                raise problem(f'"{origin}" is listed twice', key=(i,))
            seen.add(origin)
        return value

    @field_validator("allow_credentials")
    @classmethod
    def _credentials(cls, value: bool, info: ValidationInfo) -> bool:
        if value and any(static_value(o) == "*" for o in info.data.get("origins", ())):
            raise problem(
                'allow_credentials = true with the wildcard origin "*" would let any website send requests '
                "with the user's cookies",
                hint='list the frontend origins explicitly, e.g. origins = ["https://app.example.com"]',
            )
        return value

    @field_validator("methods", "headers")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        lowered = [v.lower() for v in value]
        for i, v in enumerate(lowered):
            if v in lowered[:i]:
                raise problem(f'"{value[i]}" is listed twice', key=(i,))
        return value


_FIXED_COOKIE = {
    "domain": "a __Host- cookie has no Domain: it is sent back to exactly the host that set it",
    "path": "a __Host- cookie has Path=/",
    "secure": "the cookie is always Secure (the __Host- prefix requires it)",
    "http_only": "the cookie is always HttpOnly: scripts never read the access token",
}


class CookieSection(Section):
    """``[server.cookie]``: the access token in an HttpOnly cookie for web apps (the guide's
    ``__Host-access_token``: Secure, Path=/, no Domain, so a subdomain cannot override it)."""

    enabled: StrictBool = False
    name: StrictStr = "__Host-access_token"
    same_site: Literal["strict", "lax"] = "lax"

    @model_validator(mode="before")
    @classmethod
    def _fixed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, why in _FIXED_COOKIE.items():
                if key in data:
                    raise problem(f"{key} cannot be set: {why}", hint=f"remove {key}", key=(key,))
            if data.get("same_site") == "none":
                raise problem(
                    'same_site = "none" would send the token with cross-site requests (CSRF)',
                    hint='use "lax" (the default) or "strict"; a frontend on another origin sends the '
                    "Authorization header instead",
                    key=("same_site",),
                )
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.startswith("__Host-") or not re.fullmatch(r"__Host-[A-Za-z0-9_.-]+", value):
            raise problem(
                f'"{value}" must start with "__Host-" (letters, digits, "_", ".", "-" after it): browsers then '
                "refuse it unless it is Secure, has Path=/ and no Domain",
                hint='use "__Host-access_token"',
            )
        return value


class ServerSection(Section):
    cors: CorsSection = CorsSection()
    cookie: CookieSection = CookieSection()
