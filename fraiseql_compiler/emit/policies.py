"""Row-level security for the tables of table-backed types: ENABLE + FORCE, one policy per role and action,
and privileges column by column (``analysis/tables.py`` says which)."""

from __future__ import annotations

from dataclasses import dataclass

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.tables import TableAccess
from fraiseql_compiler.emit.objects import SqlObject
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Schema
from fraiseql_compiler.sql.quoting import comment_text, quote_ident, quote_literal

# access action → SQL command, and which clauses it takes: UPDATE checks both the rows it may touch
# (USING) and what they may become (WITH CHECK).
COMMANDS = {"read": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


@dataclass(frozen=True)
class RenderedPolicy:
    name: str
    command: str
    role: str
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Grant:
    command: str
    columns: str | None  # "(a, b)"; None: table-wide (DELETE)
    roles: str


def _policies(table: TableAccess, facts: Facts) -> list[RenderedPolicy]:
    out: list[RenderedPolicy] = []
    if table.rules is None:
        return out
    for p in sorted(table.rules.policies, key=lambda p: (p.role, list(COMMANDS).index(p.action))):
        role = facts.settings.roles.by_key(p.role)
        if role is None:  # rejected by checks.access.check_roles before emitting
            continue
        command = COMMANDS[p.action]
        out.append(
            RenderedPolicy(
                name=quote_ident(f"fql_{p.role}_{command.lower()}"),
                command=command,
                role=role.ident,
                using=facts.policies[p.id] if command in ("SELECT", "UPDATE", "DELETE") else None,
                check=facts.policies[p.id] if command in ("INSERT", "UPDATE") else None,
            )
        )
    return out


def _columns(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(quote_ident(n) for n in names) + ")"


def _grants(table: TableAccess, facts: Facts) -> list[Grant]:
    roles = facts.settings.roles

    def idents(keys: tuple[str, ...]) -> str:
        return ", ".join(r.ident for k in keys if (r := roles.by_key(k)) is not None)

    grants = []
    if table.readable:
        grants.append(Grant("SELECT", _columns(table.readable), roles.api_idents))
    for action, columns in (("insert", table.insertable), ("update", table.updatable)):
        keys = table.roles_for(action)
        if keys and columns:
            grants.append(Grant(action.upper(), _columns(columns), idents(keys)))
    if delete := table.roles_for("delete"):
        grants.append(Grant("DELETE", None, idents(delete)))
    return grants


def render_table_security(table: TableAccess, schema: Schema, facts: Facts) -> str:
    types = [t for name in table.types if (t := schema.object_type(name)) is not None]
    rules = table.rules or types[0]
    return render(
        "table_security.sql.j2",
        type_names=", ".join(table.types),
        source=comment_text(f"{rules.span.file}:{rules.span.line}"),
        table=table.relation,
        views=[facts.views[t.name].relation for t in types],
        schema_literal=quote_literal(table.schema),
        table_literal=quote_literal(table.name),
        policies=_policies(table, facts),
        grants=_grants(table, facts),
        never_read=", ".join(table.never_read),
        never_written=", ".join(table.never_written),
        all_roles=facts.settings.roles.api_idents,
    )


def _allows(p: RenderedPolicy) -> str:
    out = f"{p.command} TO {p.role}"
    if p.using:
        out += f" USING ({p.using})"
    if p.check:
        out += f" WITH CHECK ({p.check})"
    return out


def drop_table_security(table: TableAccess, roles: str) -> str:
    """Undo a table's block when no type maps it any more: its generated policies and the API roles'
    privileges go; row-level security stays on (turning it off would be a hazard), so nobody sees a row."""
    return render(
        "table_security_drop.sql.j2",
        table=table.relation,
        table_literal=quote_literal(table.relation),
        schema_literal=quote_literal(table.schema),
        name_literal=quote_literal(table.name),
        all_roles=roles,
    ).strip("\n")


def emit_policies(schema: Schema, facts: Facts) -> list[SqlObject]:
    """One block per table of a table-backed type, in name order."""
    return [
        SqlObject(
            "rls",
            f"rls:{table.relation}",
            render_table_security(table, schema, facts).strip("\n"),
            drop=drop_table_security(table, facts.settings.roles.api_idents),
            depends_on=tuple(f"view:{facts.views[name].relation}" for name in table.types if name in facts.views),
            details=dict(sorted((p.name.strip('"'), _allows(p)) for p in _policies(table, facts))),
        )
        for table in facts.tables.values()
    ]
