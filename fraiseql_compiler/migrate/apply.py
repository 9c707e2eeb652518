"""Applying a plan: one session-level advisory lock per database, one transaction, pinned settings.

- The lock is taken with ``pg_try_advisory_lock`` on a dedicated connection, retried with backoff until
  ``wait_seconds``: never a blocking wait (which deadlocks with ``CREATE INDEX CONCURRENTLY``). Concurrent
  runs apply one at a time; the later ones plan again under the lock and find nothing to do.
- Everything runs in one transaction with ``search_path``, ``standard_conforming_strings``,
  ``client_encoding``, ``lock_timeout`` and ``statement_timeout`` pinned (``SET LOCAL``). A statement that
  waits for a lock longer than ``lock_timeout`` rolls the transaction back; the run is retried a few times.
- A failure anywhere rolls everything back: the database is never half-migrated. The failing statement is
  reported with its file and line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.migrate import catalog, history
from fraiseql_compiler.migrate.errors import refused
from fraiseql_compiler.migrate.plan import HAZARDS, Action, Plan, plan
from fraiseql_compiler.migrate.source import Build
from fraiseql_compiler.migrate.statements import split

LOCK_KEY = "fraiseql migrate"
RETRIES_ON_LOCK_TIMEOUT = 3


@dataclass(frozen=True)
class Options:
    repair: bool = False
    allow: frozenset[str] = frozenset()
    wait_seconds: float = 60.0  # for another migrate to finish (the advisory lock)
    lock_timeout_seconds: float = 5.0  # for a table lock, per statement
    statement_timeout_seconds: float = 300.0


@dataclass
class Outcome:
    plan: Plan
    applied: list[tuple[Action, float]] = field(default_factory=list)  # (action, seconds)
    waited_seconds: float = 0.0


Progress = Callable[[Action, int, int], None]


def connect(url: str, autocommit: bool = False) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, autocommit=autocommit, application_name="fraiseql migrate")
    except psycopg.OperationalError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise refused(
            "FQL401",
            f"cannot connect to the database: {message}",
            "pass --database postgresql://user@host:5432/db (or set DATABASE_URL)",
        ) from None


def _state(conn: Any, build: Build, repair: bool) -> Plan:
    """Plan against what the database holds now (history and catalog)."""
    past = history.read(conn)
    targets: list[tuple[str, Sequence[str]]] = [(name, rec.targets) for name, rec in past.objects.items()]
    targets += [(o.name, catalog.target_list(o.sql)) for o in build.objects if o.name not in past.objects]
    found = catalog.fingerprints(conn, targets, list(build.roles.values()))
    current = {name: fp for name, (fp, _) in found.items() if name in past.objects}
    exists = {name for name, (_, there) in found.items() if there and name not in past.objects}
    return plan(build, past, current, exists, repair)


def inspect(url: str, build: Build, repair: bool = False) -> Plan:
    """The plan, read-only: for --dry-run, --check, --status and the plan printed before applying."""
    with connect(url) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SET LOCAL search_path = ''")  # as when applying: the catalog prints names alike
        result = _state(conn, build, repair)
        conn.rollback()
        return result


def _lock(conn: Any, wait_seconds: float) -> float:
    """Take the advisory lock, retrying with backoff; the seconds waited."""
    started = time.monotonic()
    delay = 0.05
    while True:
        if conn.execute(
            "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended(%s, 0))", (LOCK_KEY,)
        ).fetchone()[0]:
            return time.monotonic() - started
        waited = time.monotonic() - started
        if waited >= wait_seconds:
            raise refused(
                "FQL408",
                f"another fraiseql migrate has held this database's migration lock for {waited:.0f} s",
                "wait for it to finish, or raise --lock-timeout; pg_stat_activity shows the holder "
                "(application_name = 'fraiseql migrate')",
            )
        time.sleep(min(delay, max(wait_seconds - waited, 0.01)))
        delay = min(delay * 2, 1.0)


def _preflight(conn: Any, build: Build) -> None:
    """Before anything runs: roles that must be created, and who owns the credential tables."""
    names = sorted(set(build.roles.values()))
    missing = [
        r[0]
        for r in conn.execute(
            "SELECT n FROM pg_catalog.unnest(%s::text[]) AS n WHERE NOT EXISTS "
            "(SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = n)",
            (names,),
        ).fetchall()
    ]
    if missing:
        can = conn.execute(
            "SELECT rolcreaterole OR rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        if not can:
            raise refused(
                "FQL405",
                f"the roles {', '.join(missing)} do not exist, and {conn.info.user} may not create roles "
                "(no CREATEROLE)",
                "roles are cluster-wide: have a role administrator create them once (CREATE ROLE … NOLOGIN; the "
                "authenticator LOGIN NOINHERIT), or grant CREATEROLE to the migrating role",
            )
    owner = conn.execute(
        "SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class AS c "
        "WHERE c.oid = pg_catalog.to_regclass('fraiseql.tb_api_key')"
    ).fetchone()
    if owner is not None and owner[0] != conn.execute("SELECT current_user").fetchone()[0]:
        raise refused(
            "FQL406",
            f"the credential tables (fraiseql.tb_api_key …) belong to {owner[0]}, not to {conn.info.user}",
            f"migrate as {owner[0]}: their owner policy (fqlauth_owner) is TO the role that created them, and the "
            "auth functions run as it; or transfer them (ALTER TABLE … OWNER TO) and re-create the policy",
        )


def _refusals(result: Plan, options: Options) -> None:
    if result.drift and not options.repair:
        names = ", ".join(d.name for d in result.drift)
        raise refused(
            "FQL403",
            f"changed by hand since migrate made them: {names}",
            "look at what changed (fraiseql migrate --status), then re-create them from the build with --repair, "
            "or change the schema so that the build says what you want",
        )
    blocked = sorted({h.id for h in result.hazards} - options.allow)
    if blocked:
        allow = f"--allow {','.join(blocked)}"
        raise FraiseQLError(
            [
                diag(
                    "FQL404", f"{h.object} {HAZARDS[h.id]} [{h.id}]: {h.what}", hint=f"review it; to go ahead: {allow}"
                )
                for h in result.hazards
                if h.id in blocked
            ]
        )


def _run(conn: Any, action: Action) -> None:
    import psycopg

    for statement, line in split(action.sql):
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            where = f"{action.file}:{action.line + line}" if action.file else action.name
            diagnostic = getattr(exc, "diag", None)
            message = (diagnostic.message_primary if diagnostic else None) or str(exc)
            context = (diagnostic.context or "").strip().splitlines()[:1] if diagnostic else []
            first = statement.strip().splitlines()[0][:160]
            raise FraiseQLError(
                [
                    diag(
                        "FQL407",
                        f"{where}: {message} ({action.action} {action.name}); nothing was applied",
                        hint=f"the statement: {first}" + (f" — {context[0]}" if context else ""),
                    )
                ]
            ) from None


def _record(conn: Any, build: Build, done: list[tuple[Action, float]]) -> None:
    """History rows for what ran, the managed objects as they now are, and their fresh fingerprints."""
    desired = {o.name: o for o in build.objects}
    previous: dict[str, str | None] = {"user": None, "versioned": None}
    for kind in previous:
        row = conn.execute(
            "SELECT chain FROM fraiseql.tb_migration WHERE kind = %s ORDER BY id DESC LIMIT 1", (kind,)
        ).fetchone()
        previous[kind] = row[0] if row else None
    for action, seconds in done:
        kind = "user" if action.action == "user" else ("versioned" if action.action == "versioned" else "object")
        link = None
        if kind != "object":
            link = previous[kind] = history.chain(previous[kind], action.checksum)
        conn.execute(
            "INSERT INTO fraiseql.tb_migration (kind, name, action, checksum, chain, compiler_version, duration_ms)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                kind,
                action.name,
                "apply" if kind != "object" else action.action,
                action.checksum,
                link,
                build.compiler_version,
                round(seconds * 1000),
            ),
        )
        if action.action == "drop" and action.name not in desired:
            conn.execute("DELETE FROM fraiseql.tb_schema_object WHERE name = %s", (action.name,))
    from psycopg.types.json import Jsonb

    for o in build.objects:
        if o.kind == "versioned":
            continue
        conn.execute(
            "INSERT INTO fraiseql.tb_schema_object AS s (name, kind, hash, drop_sql, depends_on, details, targets)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            " hash = excluded.hash, drop_sql = excluded.drop_sql, depends_on = excluded.depends_on,"
            " details = excluded.details, targets = excluded.targets,"
            " applied_at = CASE WHEN s.hash = excluded.hash THEN s.applied_at ELSE pg_catalog.clock_timestamp() END",
            (
                o.name,
                o.kind,
                o.hash,
                o.drop,
                list(o.depends_on),
                Jsonb(o.details) if o.details else None,
                catalog.target_list(o.sql),
            ),
        )
    found = catalog.fingerprints(
        conn,
        [(o.name, catalog.target_list(o.sql)) for o in build.objects if o.kind != "versioned"],
        list(build.roles.values()),
    )
    for name, (fp, _) in found.items():
        conn.execute("UPDATE fraiseql.tb_schema_object SET fingerprint = %s WHERE name = %s", (fp, name))


def apply(url: str, build: Build, options: Options, progress: Progress | None = None) -> Outcome:
    """Plan under the lock and apply, in one transaction; retried when a statement's lock wait times out."""
    import psycopg

    lock_conn = connect(url, autocommit=True)
    try:
        waited = _lock(lock_conn, options.wait_seconds)
        for attempt in range(RETRIES_ON_LOCK_TIMEOUT + 1):
            try:
                return _apply_once(url, build, options, progress, waited)
            except psycopg.errors.LockNotAvailable:
                if attempt == RETRIES_ON_LOCK_TIMEOUT:
                    raise refused(
                        "FQL408",
                        f"a statement waited longer than lock_timeout ({options.lock_timeout_seconds:g} s) for a "
                        f"table lock, {RETRIES_ON_LOCK_TIMEOUT + 1} times; nothing was applied",
                        "retry when the traffic holding the lock is over, or raise [migrate] lock_timeout_seconds",
                    ) from None
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")
    finally:
        lock_conn.close()  # ends the session: the advisory lock goes with it


def _apply_once(url: str, build: Build, options: Options, progress: Progress | None, waited: float) -> Outcome:
    with connect(url) as conn:
        _preflight(conn, build)
        conn.execute("SET LOCAL search_path = ''")
        conn.execute("SET LOCAL standard_conforming_strings = on")
        conn.execute("SET LOCAL client_encoding = 'UTF8'")
        conn.execute(f"SET LOCAL lock_timeout = '{int(options.lock_timeout_seconds * 1000)}ms'")
        conn.execute(f"SET LOCAL statement_timeout = '{int(options.statement_timeout_seconds * 1000)}ms'")
        conn.execute(history.BOOTSTRAP)
        result = _state(conn, build, options.repair)
        _refusals(result, options)
        outcome = Outcome(result, waited_seconds=waited)
        from psycopg import sql as pgsql

        user_path = pgsql.SQL("SET LOCAL search_path = {}, public").format(pgsql.Identifier(build.default_schema))
        for i, action in enumerate(result.actions):
            if progress is not None:
                progress(action, i, len(result.actions))
            started = time.monotonic()
            if action.action == "user":  # the user's SQL may count on its schema being on the path
                conn.execute(user_path)
            _run(conn, action)
            if action.action == "user":
                conn.execute("SET LOCAL search_path = ''")
            outcome.applied.append((action, time.monotonic() - started))
        if result.actions or result.drift:
            _record(conn, build, outcome.applied)
        conn.commit()
        return outcome
