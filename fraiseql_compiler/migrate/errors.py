"""Migrate's refusals: diagnostics of the FQL4xx family (exit code 2), each with what to do."""

from __future__ import annotations

from fraiseql_compiler.diagnostics import FraiseQLError, diag


def refused(code: str, message: str, hint: str | None = None) -> FraiseQLError:
    return FraiseQLError([diag(code, message, hint=hint)])
