"""Reading fraiseql.toml: parse, scan for secrets, validate, and report every problem at once with its line."""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fraiseql_compiler.config.envref import static_value
from fraiseql_compiler.config.lines import LineIndex, Loc, dotted
from fraiseql_compiler.config.model import Config
from fraiseql_compiler.config.secrets import find_secrets
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, Span, diag, did_you_mean, scrub


class ConfigError(FraiseQLError):
    """Problems in fraiseql.toml. ``secrets`` are the values to mask wherever the file's lines are shown
    (pass them to ``render.format_all``): a message never contains them, but a source excerpt would."""

    def __init__(self, diagnostics: list[Diagnostic], secrets: tuple[str, ...] = ()) -> None:
        super().__init__(diagnostics)
        self.secrets = secrets


def load_config(path: Path | None) -> Config:
    """The configuration in ``path`` (a fraiseql.toml), or the defaults when ``path`` is None."""
    if path is None:
        return Config()
    text = path.read_text(encoding="utf-8")
    config = parse_config(text, file=path.name, root=path.parent)
    return config.with_source(path, config.warnings)


def parse_config(text: str, file: str = "fraiseql.toml", root: Path | None = None) -> Config:
    """Validate TOML text; ``root`` is where relative paths (jwks_file) are resolved. Raises ConfigError.
    The result has ``warnings`` but no ``path`` (``load_config`` sets it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+), column (\d+)", str(exc))
        span = Span(file, int(match.group(1)), int(match.group(2)), 1) if match else Span(file, 1)
        raise ConfigError([diag("FQL130", f"{file} is not valid TOML: {exc}", span)]) from None
    lines = LineIndex(text)
    findings = find_secrets(data)
    secrets = [f.value for f in findings]
    diagnostics = [diag("FQL133", f.message, Span(file, lines.line_of(f.loc)), f.hint) for f in findings]
    flagged = [f.loc for f in findings]
    try:
        config = Config.model_validate(data, context={"root": root or Path.cwd()})
    except ValidationError as exc:
        for item in exc.errors():
            ctx = (item.get("ctx") or {}) if item["type"] == "fraiseql" else {}  # raised by config.base.problem
            loc: Loc = (*item["loc"], *ctx.get("key", ()))
            if any(loc[: len(f)] == f for f in flagged):
                continue  # the secret is reported once, as FQL133, without its value
            code = ctx.get("code", "FQL132")
            if ctx.get("secret_input") and isinstance(item.get("input"), str):
                secrets.append(item["input"])
            diagnostics.append(_diagnostic(item, loc, code, ctx.get("hint"), Span(file, lines.line_of(loc))))
    else:
        if not diagnostics:
            return config.with_source(None, _warnings(config, lines, file))
    masked = tuple(sorted(set(secrets), key=len, reverse=True))
    raise ConfigError([_scrubbed(d, masked) for d in diagnostics], masked)


def _diagnostic(item: Any, loc: Loc, code: str, hint: str | None, span: Span) -> Diagnostic:
    name = dotted(loc)
    if item["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = did_you_mean(str(loc[-1]), known) if known else None
        return diag("FQL131", f'unknown setting "{name}"', span, close or "remove it or check its spelling")
    if item["type"] == "missing":
        return diag("FQL132", f'invalid setting "{name}": required, but missing', span, hint)
    message = str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return diag(code, f'invalid setting "{name}": {message}', span, hint)


def _scrubbed(d: Diagnostic, secrets: tuple[str, ...]) -> Diagnostic:
    hint = scrub(d.hint, secrets) if d.hint else None
    return Diagnostic(d.code, scrub(d.message, secrets), d.span, hint, d.severity)


def _known_keys(loc: Loc) -> list[str]:
    """The setting names of the table at ``loc`` (for "did you mean")."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        fields = model.model_fields
        field = next((f for n, f in fields.items() if (f.alias or n) == part), None)
        model = _model_in(field.annotation) if field else None
        if model is None:
            return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None


def _warnings(config: Config, lines: LineIndex, file: str) -> tuple[Diagnostic, ...]:
    out: list[Diagnostic] = []
    for i, provider in enumerate(config.security.providers):
        issuer = static_value(provider.issuer)
        span = Span(file, lines.line_of(("security", "providers", i, "issuer")))
        if issuer is None:
            continue
        if provider.kind == "auth0" and not issuer.endswith("/"):
            out.append(
                diag(
                    "FQL301",
                    f'Auth0 issuer "{issuer}" has no trailing slash: Auth0 writes "iss" as '
                    '"https://<tenant>.auth0.com/" (with the slash) and the issuer is compared exactly, so every '
                    "token would be rejected",
                    span,
                    f'write issuer = "{issuer}/"',
                )
            )
        if provider.kind == "clerk" and issuer.endswith("/"):
            out.append(
                diag(
                    "FQL301",
                    f'Clerk issuer "{issuer}" ends with a slash: Clerk writes "iss" as '
                    '"https://<instance>.clerk.accounts.dev" (no trailing slash) and the issuer is compared '
                    "exactly, so every token would be rejected",
                    span,
                    f'write issuer = "{issuer.rstrip("/")}"',
                )
            )
    if config.security.api_keys.static:
        out.append(
            diag(
                "FQL302",
                "static API keys are for tests and CI: they cannot be revoked or expire without a rebuild",
                Span(file, lines.line_of(("security", "api_keys", "static", 0))),
                'in production, keep keys in PostgreSQL (storage = "postgres") and create them with fn_create_api_key',
            )
        )
    return tuple(out)
