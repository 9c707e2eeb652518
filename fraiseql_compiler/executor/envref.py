"""Resolving the manifest's ``{"env": NAME, "default": …}`` references at run time: unset means refuse."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fraiseql_compiler.executor.errors import ExecutionError


def resolve(value: Any, environ: Mapping[str, str] | None = None, *, what: str = "setting") -> Any:
    env = os.environ if environ is None else environ
    if isinstance(value, dict) and "env" in value:
        found = env.get(value["env"])
        if found:
            return found
        if "default" in value:
            return value["default"]
        # fail closed: a runtime must not start with an unchecked issuer or audience
        raise ExecutionError(500, "MISCONFIGURED", f"{what}: environment variable {value['env']} is not set")
    return value
