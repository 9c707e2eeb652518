"""Row-level security for table-backed types: ENABLE + FORCE, one policy per role and action, grants."""

from __future__ import annotations

from dataclasses import dataclass

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import ObjectType, Schema
from fraiseql_compiler.sql.quoting import comment_text, qualify, quote_ident, quote_literal, split_qualified

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


def _policies(t: ObjectType, facts: Facts) -> list[RenderedPolicy]:
    out = []
    for p in sorted(t.policies, key=lambda p: (p.role, list(COMMANDS).index(p.action))):
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


def render_table_security(t: ObjectType, facts: Facts) -> str:
    assert t.table is not None and t.view is not None
    settings = facts.settings
    schema_name, table_name = split_qualified(t.table)
    policies = _policies(t, facts)
    writes = []
    for command in ("INSERT", "UPDATE", "DELETE"):
        roles = sorted({p.role for p in policies if p.command == command})
        if roles:
            writes.append((command, ", ".join(roles)))
    return render(
        "table_security.sql.j2",
        type_name=t.name,
        source=comment_text(f"{t.span.file}:{t.span.line}"),
        table=qualify(t.table, settings.default_schema),
        view=facts.views[t.name].relation,
        schema_literal=quote_literal(schema_name or settings.default_schema),
        table_literal=quote_literal(table_name),
        policies=policies,
        writes=writes,
        all_roles=settings.roles.api_idents,
    )


def emit_policies(schema: Schema, facts: Facts) -> list[str]:
    """One block per table-backed type, in name order."""
    return [render_table_security(t, facts) for t in schema.types if t.name in facts.views]
