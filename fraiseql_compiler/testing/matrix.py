"""``fraiseql test --matrix``: every operation run as every identity the cases declare, the outcome compared
with what ``fraiseql access`` predicts from the rules for that identity. The rules and the database are then
checked against each other: a difference fails the run.

An operation runs with the variables of the first case that runs it (none when no case does). Its guards
are what is observed: a success, or a refusal after them (404, 409, 422…), means the identity got through;
401 and 403 mean it did not. A 400 means the arguments were refused before any guard ran: the cell is not
compared (write a case with valid variables). Revoked identities are left out: the rules cannot know a
token was revoked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fraiseql_compiler.manifest.models import Manifest
from fraiseql_compiler.testing.cases import Identity, Suite


@dataclass(frozen=True)
class Cell:
    operation: str
    identity: str
    predicted: bool | None  # None: the rules say nothing for this identity (an unknown role)
    observed: str  # "allowed", "denied", or "not compared"
    detail: str  # the answer, in short

    @property
    def differs(self) -> bool:
        return (
            self.observed in ("allowed", "denied")
            and self.predicted is not None
            and ((self.observed == "allowed") != self.predicted)
        )


@dataclass
class ObservedMatrix:
    operations: list[str]
    identities: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    @property
    def differences(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.differs]


def _role_key(manifest: Manifest, db_role: str) -> str:
    return next((k for k, v in manifest.database.roles.items() if v == db_role), db_role)


def observe(conn: Any, manifest: Manifest, suite: Suite, creds: Any, environ: Any) -> ObservedMatrix:
    """Run in one transaction rolled back after it (``conn`` as the migrating role, credentials ready)."""
    from fraiseql_compiler.access.matrix import Facts, evaluate
    from fraiseql_compiler.access.matrix import Identity as MatrixIdentity
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.run import authenticate
    from fraiseql_compiler.testing.cases import Case, Expectation
    from fraiseql_compiler.testing.runner import request_for, run_one

    facts = Facts(manifest)
    ops = [op for _, op in facts.operations()]
    idents = [i for i in suite.identities.values() if not i.revoked]
    used = {c.identity for c in suite.cases}
    idents = [i for i in idents if i.name in used or i.kind == "anonymous"]
    variables: dict[str, dict[str, Any]] = {}
    for case in suite.cases:
        variables.setdefault(case.operation, dict(case.variables))
    matrix = ObservedMatrix([op.graphql_name for op in ops], [i.name for i in idents])
    for ident in idents:
        probe = Case("matrix", "", ident.span, ident.name, ops[0].graphql_name if ops else "", {}, Expectation())
        predicted_identity = _predicted_identity(
            conn,
            manifest,
            ident,
            request_for(probe, ident, creds),
            environ,
            authenticate,
            ExecutionError,
            MatrixIdentity,
        )
        for op in ops:
            case = Case(
                "matrix", "", ident.span, ident.name, op.graphql_name, variables.get(op.graphql_name, {}), Expectation()
            )
            _, error = run_one(conn, manifest, request_for(case, ident, creds), environ)
            predicted = evaluate(facts, op, predicted_identity).allowed if predicted_identity is not None else None
            if error is None:
                observed, detail = "allowed", "ok"
            elif error["http"] in (401, 403):
                observed, detail = "denied", f"{error['http']} {error['code']}"
            elif error["http"] == 400:
                observed, detail = "not compared", f"400 {error['code']}: {error['message']}"
            else:
                observed, detail = "allowed", f"{error['http']} {error['code']} (past the guards)"
            matrix.cells[(op.graphql_name, ident.name)] = Cell(op.graphql_name, ident.name, predicted, observed, detail)
    return matrix


def _predicted_identity(
    conn: Any,
    manifest: Manifest,
    ident: Identity,
    request: Any,
    environ: Any,
    authenticate: Any,
    error_type: Any,
    matrix_identity: Any,
) -> Any:
    """The identity as ``fraiseql access`` sees it: its role and its exact scopes, as the runtime maps them."""
    if ident.kind == "anonymous":
        return matrix_identity("anonymous", "anonymous", "anonymous", (), False, ident.describe())
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(f'SET LOCAL ROLE "{manifest.database.roles["authenticator"]}"')
            claims, db_role = authenticate(conn, manifest, request, environ)
    except error_type:
        return None
    scopes = tuple(sorted(claims.get("scopes") or ()))
    role = _role_key(manifest, db_role)
    return matrix_identity(ident.name, ident.name, role, scopes, False, ident.describe())


def render_matrix(matrix: ObservedMatrix, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(matrix_json(matrix), indent=2, sort_keys=True) + "\n"
    width = max([len(o) for o in matrix.operations] + [9])
    cols = [max(len(i), 7) for i in matrix.identities]
    lines = ["", "observed access (✓ ran, ✗ refused by a guard, ? not compared; ! differs from `fraiseql access`):"]
    header = "  ".join(i.ljust(w) for i, w in zip(matrix.identities, cols, strict=True))
    lines.append(("operation".ljust(width) + "  " + header).rstrip())
    for op in matrix.operations:
        row = []
        for ident, w in zip(matrix.identities, cols, strict=True):
            c = matrix.cells[(op, ident)]
            mark = {"allowed": "✓", "denied": "✗"}.get(c.observed, "?") + ("!" if c.differs else "")
            row.append(mark.ljust(w))
        lines.append(op.ljust(width) + "  " + "  ".join(row).rstrip())
    for c in matrix.differences:
        said = "allows" if c.predicted else "refuses"
        lines.append(
            f"DIFFERS {c.operation} as {c.identity}: the rules say it {said}; the database answered {c.detail}"
        )
    if not matrix.differences:
        lines.append("the database agrees with the rules on every compared cell")
    return "\n".join(lines) + "\n"


def matrix_json(matrix: ObservedMatrix) -> dict[str, Any]:
    return {
        "identities": matrix.identities,
        "operations": matrix.operations,
        "cells": [
            {
                "operation": c.operation,
                "identity": c.identity,
                "predicted": c.predicted,
                "observed": c.observed,
                "detail": c.detail,
                "differs": c.differs,
            }
            for c in matrix.cells.values()
        ],
        "differences": len(matrix.differences),
    }
