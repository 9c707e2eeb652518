"""Type-level access rules: they need a table, name known columns and known roles."""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.diagnostics import Diagnostic, diag, did_you_mean
from fraiseql_compiler.ir import Schema


def check_access(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for t in schema.types:
        if not t.table:
            if t.access_declared:
                out.append(
                    diag(
                        "FQL215",
                        f"{t.name} declares access= but has no table",
                        t.span,
                        'row-level security guards a table: add table="..." or remove access=',
                    )
                )
            continue
        if not t.access_declared:
            out.append(
                diag(
                    "FQL220",
                    f"{t.name} ({t.table}) declares no access rule: every API role is denied every row",
                    t.table_span or t.span,
                    'declare who may read it, e.g. access={"authenticated": fraiseql.access(read="true")}',
                )
            )
            continue
        view = facts.views.get(t.name)
        known = {c.table_column for c in view.columns.values()} if view is not None else set()
        for policy in t.policies:
            for use in policy.columns:
                if use.name not in known:
                    out.append(
                        diag(
                            "FQL228",
                            f"{policy.action} rule for {policy.role} references unknown column "
                            f'"{use.name}" of {t.table}',
                            use.span,
                            did_you_mean(use.name, known)
                            or f"rules may use the columns the type maps: {', '.join(sorted(known))}",
                        )
                    )
    return out


def check_roles(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """Access rules name API roles by key; the keys come from the configuration ([database.roles])."""
    role_keys = facts.settings.roles.api_role_keys
    out: list[Diagnostic] = []
    for t in schema.types:
        for role in sorted({p.role for p in t.policies}):
            if role not in role_keys:
                span = next(p.span for p in t.policies if p.role == role)
                out.append(
                    diag(
                        "FQL216",
                        f'access rule for unknown role "{role}" on {t.name}',
                        span,
                        did_you_mean(role, role_keys) or "roles: " + ", ".join(role_keys),
                    )
                )
    return out
