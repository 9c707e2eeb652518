"""What the executor reports: the manifest's error code and HTTP status, never a stack trace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraiseql_compiler.manifest.models import Manifest


class ExecutionError(Exception):
    """A request the runtime refuses (401/403/422…), as the manifest maps it."""

    def __init__(self, http: int, code: str, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.http = http
        self.code = code
        self.message = message
        self.sqlstate = sqlstate

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "http": self.http, "message": self.message}
        if self.sqlstate:
            out["sqlstate"] = self.sqlstate
        return {"errors": [out]}


def unauthenticated(message: str) -> ExecutionError:
    return ExecutionError(401, "UNAUTHENTICATED", message)


def from_sqlstate(manifest: Manifest, sqlstate: str | None, message: str) -> ExecutionError:
    """The manifest's error for a SQLSTATE. The message of our own states (PTxxx) is the one the generated
    SQL wrote for the caller; PostgreSQL's own (a privilege, a constraint) names tables, views and
    constraints, so the caller gets the manifest's message instead."""
    for entry in manifest.errors:
        if entry.sqlstate == sqlstate:
            shown = message if str(sqlstate).startswith("PT") else entry.message
            return ExecutionError(entry.http, entry.code, shown, sqlstate)
    return ExecutionError(500, "DATABASE_ERROR", message, sqlstate)
