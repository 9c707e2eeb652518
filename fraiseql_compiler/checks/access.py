"""Type-level access rules: they need a table, name known columns and known roles."""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.tables import field_column, login_columns
from fraiseql_compiler.diagnostics import Diagnostic, Related, diag, did_you_mean
from fraiseql_compiler.ir import Schema


def check_access(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    policed = {name for table in facts.tables.values() if table.rules is not None for name in table.types}
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
            if t.name in policed:
                continue  # another type on the same table declares the rules
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


def check_tables(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """One set of access rules per table, and no field on the [auth.login] password hash or scopes."""
    out: list[Diagnostic] = []
    _, secret, _ = login_columns(facts.settings)
    for table in facts.tables.values():
        types = [t for name in table.types if (t := schema.object_type(name)) is not None]
        declaring = [t for t in types if t.access_declared]
        for t in declaring[1:]:
            first = declaring[0]
            out.append(
                diag(
                    "FQL231",
                    f"{first.name} and {t.name} both declare access rules for {table.relation}",
                    t.table_span or t.span,
                    f"row-level security belongs to the table: keep the rules on {first.name} and remove them "
                    f"from {t.name} (its rows follow the same rules)",
                    related=(Related(first.table_span or first.span, f"{first.name} declares them here"),),
                )
            )
        if not table.never_read:
            continue
        for t in types:
            for f in t.fields:
                if field_column(f) in secret:
                    out.append(
                        diag(
                            "FQL230",
                            f'field "{f.name}" of {t.name} would expose {table.relation}.{f.column}, a credential '
                            "column of [auth.login]",
                            f.span,
                            "remove the field: the password hash and the scopes stay with the auth functions "
                            "(scopes reach the API in the caller's claims)",
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
