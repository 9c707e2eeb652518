"""``${NAME}`` / ``${NAME:-default}`` references: kept as references, never expanded at build time.

The compiler never reads the environment. A reference reaches the manifest as ``{"env": "NAME"}`` (or
``{"env": "NAME", "default": "..."}``) and the runtime resolves it when it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

from fraiseql_compiler.config.base import problem

ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_REF_RE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::-(?P<default>[^}]*))?\}")
REF_FORMS = "${NAME} or ${NAME:-default} (NAME in capitals, digits and underscores)"


@dataclass(frozen=True)
class EnvRef:
    """A value the runtime reads from its environment when it starts: one variable, or (``template``) a
    string with references inside it, such as ``https://${AUTH0_DOMAIN}/``."""

    name: str  # the variable (a template's first)
    default: str | None = None
    template: str | None = None

    def __str__(self) -> str:
        if self.template is not None:
            return self.template
        return f"${{{self.name}}}" if self.default is None else f"${{{self.name}:-{self.default}}}"


def is_reference(value: str) -> bool:
    return "${" in value


def parse_env_str(value: Any) -> str | EnvRef:
    """A literal string, or a whole-value ``${...}`` reference; anything else with ``${`` is an error."""
    if isinstance(value, EnvRef):
        return value
    if not isinstance(value, str):
        raise problem(f"expected a string, got {_kind(value)}")
    if "${" not in value:
        return value
    match = _REF_RE.fullmatch(value)
    if match:
        return EnvRef(match["name"], match["default"])
    first = _REF_RE.search(value)
    if first is not None and "${" not in _REF_RE.sub("", value):
        return EnvRef(first["name"], None, value)  # references inside a string: the runtime fills them in
    raise problem(f"malformed environment reference: expected {REF_FORMS}")


def static_value(value: str | EnvRef) -> str | None:
    """What is known at build time: the literal, or the reference's default (None when it has none; for a
    template, None unless every reference in it has one)."""
    if not isinstance(value, EnvRef):
        return value
    if value.template is None:
        return value.default
    refs = list(_REF_RE.finditer(value.template))
    if any(m["default"] is None for m in refs):
        return None
    return _REF_RE.sub(lambda m: m["default"], value.template)


def fill(template: str, lookup: Any) -> str:
    """``template`` with each reference replaced by ``lookup(name, default)``."""
    return _REF_RE.sub(lambda m: lookup(m["name"], m["default"]), template)


def to_json(value: str | EnvRef | None) -> str | dict[str, str] | None:
    """The form the manifest writes (``fraiseql_compiler.manifest.models.EnvRef``), for dumping a Config."""
    if not isinstance(value, EnvRef):
        return value
    if value.template is not None:
        return {"env": value.name, "template": value.template}
    return {"env": value.name} if value.default is None else {"default": value.default, "env": value.name}


def _kind(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


# A string setting that may come from the runtime's environment.
EnvStr = Annotated[str | EnvRef, PlainValidator(parse_env_str), PlainSerializer(to_json)]


def parse_env_name(value: Any) -> str:
    """The NAME of a variable that holds a secret (``secret_env = "JWT_SECRET"``), never the secret."""
    if not isinstance(value, str):
        raise problem(f"expected a variable name (a string), got {_kind(value)}")
    if ENV_NAME_RE.match(value):
        return value
    bare = value.removeprefix("$").removeprefix("{").removesuffix("}")
    if value.startswith("$") and ENV_NAME_RE.match(bare):
        raise problem(
            "write the variable's name, not a reference to it",
            hint=f'write "{bare}": the runtime reads the secret from that variable',
        )
    raise problem(
        "is not an environment variable name; it names the variable that holds the secret, never the secret",
        code="FQL133",
        secret_input=True,
        hint='name the variable (e.g. "JWT_SECRET", capitals, digits and underscores) and set the secret in '
        "the runtime's environment; if this value was a real secret, rotate it",
    )


EnvName = Annotated[str, PlainValidator(parse_env_name)]
