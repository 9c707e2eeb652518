"""Migrate's own tables in the ``fraiseql`` schema: what was applied, and the objects it manages.

``tb_migration`` is the history: one row per action (a user migration or versioned step applied, an object
created, replaced, re-run, dropped or repaired), with its checksum, the compiler version, who, when and how
long. User migrations and versioned steps carry a chained checksum (each covers the previous one), so two
branches that each add a step conflict visibly. ``tb_schema_object`` holds the objects fraiseql created, by
name: their hash, the SQL that removes them, what they depend on, and the catalog fingerprint taken right
after they were made (drift is a fingerprint that changed since). Nothing is granted on either to anyone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS fraiseql;
CREATE TABLE IF NOT EXISTS fraiseql.tb_migration (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('user', 'versioned', 'object')),
    name text NOT NULL,
    action text NOT NULL CHECK (action IN ('apply', 'create', 'replace', 'rerun', 'drop', 'repair')),
    checksum text NOT NULL,
    chain text,
    compiler_version text NOT NULL,
    applied_by text NOT NULL DEFAULT current_user,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    duration_ms integer NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tb_migration_once ON fraiseql.tb_migration (kind, name)
    WHERE kind IN ('user', 'versioned');
CREATE TABLE IF NOT EXISTS fraiseql.tb_schema_object (
    name text PRIMARY KEY,
    kind text NOT NULL,
    hash text NOT NULL,
    drop_sql text,
    depends_on text[] NOT NULL DEFAULT '{}',
    details jsonb,
    targets text[] NOT NULL DEFAULT '{}',
    fingerprint text,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
REVOKE ALL ON fraiseql.tb_migration, fraiseql.tb_schema_object FROM PUBLIC;
"""

# One round trip: what was applied, and every managed object with its stored fingerprint.
READ = """
SELECT 'step', id, kind, name, checksum, chain, NULL::text[], NULL::text, NULL::jsonb, NULL::text[]
FROM fraiseql.tb_migration WHERE kind IN ('user', 'versioned')
UNION ALL
SELECT 'object', 0, kind, name, hash, fingerprint, depends_on, drop_sql, details, targets
FROM fraiseql.tb_schema_object
ORDER BY 1, 2, 4
"""


@dataclass(frozen=True)
class Step:
    """A user migration or a versioned step, as applied."""

    kind: str
    name: str
    checksum: str
    chain: str | None


@dataclass(frozen=True)
class Recorded:
    """An object fraiseql created, as recorded."""

    kind: str
    name: str
    hash: str
    fingerprint: str | None
    depends_on: tuple[str, ...]
    drop: str | None
    details: dict[str, Any] | None
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    steps: tuple[Step, ...]
    objects: dict[str, Recorded]


def chain(previous: str | None, checksum: str) -> str:
    return "sha256:" + hashlib.sha256(f"{previous or ''}|{checksum}".encode()).hexdigest()


def parse(rows: Any) -> History:
    """The history from the ``step`` and ``object`` rows of :data:`READ` (or of ``catalog.STATE``)."""
    steps, objects = [], {}
    for what, _, kind, name, checksum, extra, depends, drop, details, targets, *_ in rows:
        if what == "step":
            steps.append(Step(kind, name, checksum, extra))
        elif what == "object":
            objects[name] = Recorded(
                kind, name, checksum, extra, tuple(depends or ()), drop, details, tuple(targets or ())
            )
    return History(tuple(steps), objects)


def read(conn: Any) -> History:
    """The history; empty when migrate never ran here (the tables do not exist yet)."""
    exists = conn.execute("SELECT pg_catalog.to_regclass('fraiseql.tb_schema_object') IS NOT NULL").fetchone()[0]
    if not exists:
        return History((), {})
    return parse(conn.execute(READ).fetchall())
