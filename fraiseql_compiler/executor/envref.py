"""Resolving the manifest's ``{"env": NAME, "default": …}`` references at run time: unset means refuse."""

from __future__ import annotations

import os
from collections.abc import Mapping

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.models import EnvRef, EnvValue


def resolve(value: EnvValue, environ: Mapping[str, str] | None = None, *, what: str = "setting") -> str:
    env = os.environ if environ is None else environ
    if isinstance(value, EnvRef) and value.template is not None:
        from fraiseql_compiler.config.envref import fill

        def lookup(name: str, default: str | None) -> str:
            found = env.get(name)
            if found:
                return found
            if default is not None:
                return default
            raise ExecutionError(500, "MISCONFIGURED", f"{what}: environment variable {name} is not set")

        return fill(value.template, lookup)
    if isinstance(value, EnvRef):
        found = env.get(value.env)
        if found:
            return found
        if value.default is not None:
            return value.default
        # fail closed: a runtime must not start with an unchecked issuer or audience
        raise ExecutionError(500, "MISCONFIGURED", f"{what}: environment variable {value.env} is not set")
    return value
