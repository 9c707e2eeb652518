"""What the API roles may do to each base table, column by column: one definition, from which the SQL
grants are emitted and against which the tests compare what PostgreSQL actually allows.

- SELECT: the columns the generated views read (a view runs as its caller, so the caller needs them), which
  include every column a row filter or an access rule may name. Nothing else: not a column that is no field
  of any type (``password_hash``), and never the ``[auth.login]`` password hash or scopes columns.
- INSERT and UPDATE: to the roles whose access rules allow the action, on the columns of writable fields:
  not ``read_only`` ones, not the key ``id`` (insertable only with ``read_only=False``, never updated), and
  never the ``[auth.login]`` identifier, password hash or scopes: a function that is allowed to changes those.
  The foreign key a parent's list field joins on (``post_id`` of a comment) is insertable, not updatable.
- DELETE: table-wide (PostgreSQL has no column DELETE), to the roles whose rules allow it.

Row-level security decides which rows; these privileges decide which columns. A table several types map
shares one set of rules: the columns are the union of theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraiseql_compiler.analysis.sources import Source
from fraiseql_compiler.ir import Field, ObjectType, Schema
from fraiseql_compiler.settings import Settings
from fraiseql_compiler.sql.quoting import qualify, split_qualified

KEY_FIELD = "id"


@dataclass(frozen=True)
class TableAccess:
    relation: str  # qualified and quoted
    schema: str  # raw names, for literals
    name: str
    types: tuple[str, ...]  # the types mapping it, in name order
    rules: ObjectType | None  # the type whose access= rules police it (None: no rule, every row denied)
    readable: tuple[str, ...]  # raw column names, sorted
    insertable: tuple[str, ...]
    updatable: tuple[str, ...]
    never_read: tuple[str, ...]  # [auth.login] columns on this table API roles may never read ...
    never_written: tuple[str, ...]  # ... and never write (the identifier is readable when a field shows it)

    def roles_for(self, action: str) -> tuple[str, ...]:
        """Role keys with an access rule for ``action`` (read, insert, update, delete)."""
        policies = self.rules.policies if self.rules is not None else ()
        return tuple(sorted({p.role for p in policies if p.action == action}))


def field_column(f: Field) -> str | None:
    """The table column a field reads and writes: scalars and enums, and an embedded object's key."""
    if f.column is None or f.type.kind == "list":
        return None
    return f.column


def _writable(f: Field) -> tuple[bool, bool]:
    """(insertable, updatable) as the field's options say, credentials aside."""
    if f.name == KEY_FIELD:
        return f.read_only is False, False
    return not f.read_only, not f.read_only


def login_columns(settings: Settings) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The [auth.login] table (qualified), the columns never readable, and the columns never writable."""
    login = settings.login
    secret = (login.password_hash_column, login.scopes_column)
    return qualify(login.table, settings.default_schema), secret, (*secret, login.identifier_column)


def table_access(schema: Schema, views: Mapping[str, Source], settings: Settings) -> dict[str, TableAccess]:
    """qualified table → its access, for every table a type maps."""
    login_table, unreadable, unwritable = login_columns(settings)
    grouped: dict[str, list[ObjectType]] = {}
    for t in schema.types:
        if t.table and t.name in views:
            grouped.setdefault(qualify(t.table, settings.default_schema), []).append(t)
    out: dict[str, TableAccess] = {}
    for relation, types in sorted(grouped.items()):
        readable: set[str] = set()
        insertable: set[str] = set()
        updatable: set[str] = set()
        for t in types:
            for c in views[t.name].columns.values():
                readable.add(c.table_column)
                if c.origin == "list_key":  # a child row names its parent when it is created
                    insertable.add(c.table_column)
            if any(f.type.kind == "list" and f.type.named().kind == "object" for f in t.fields):
                readable.add(KEY_FIELD)  # the parent key a list field joins on (c.<fk> = t.id)
            for f in t.fields:
                column = field_column(f)
                if column is not None:
                    readable.add(column)
                    can_insert, can_update = _writable(f)
                    if can_insert:
                        insertable.add(column)
                    if can_update:
                        updatable.add(column)
        is_login = relation == login_table
        never_read, never_written = (unreadable, unwritable) if is_login else ((), ())
        schema_name, name = split_qualified(str(types[0].table))
        out[relation] = TableAccess(
            relation=relation,
            schema=schema_name or settings.default_schema,
            name=name,
            types=tuple(sorted(t.name for t in types)),
            rules=next((t for t in sorted(types, key=lambda t: t.name) if t.access_declared), None),
            readable=tuple(sorted(readable - set(never_read))),
            insertable=tuple(sorted(insertable - set(never_written))),
            updatable=tuple(sorted(updatable - set(never_written))),
            never_read=tuple(never_read),
            never_written=tuple(never_written),
        )
    return out
