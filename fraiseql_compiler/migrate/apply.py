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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.migrate import catalog, history
from fraiseql_compiler.migrate.errors import refused
from fraiseql_compiler.migrate.plan import HAZARDS, REPEATABLE, Action, Plan, closure, drop_order, plan
from fraiseql_compiler.migrate.source import Build
from fraiseql_compiler.migrate.statements import split

LOCK_KEY = "fraiseql migrate"
# Held by the applying transaction itself: a migrate killed mid-run releases LOCK_KEY at once (its lock
# connection dies), but its backend finishes the statement it was running, holding its locks, before it
# notices; the next migrate waits for that transaction to end rather than queueing behind its locks.
APPLY_KEY = "fraiseql migrate: applying"
RETRIES_ON_LOCK_TIMEOUT = 3


@dataclass(frozen=True)
class Options:
    repair: bool = False
    allow: frozenset[str] = frozenset()
    wait_seconds: float = 60.0  # for another migrate to finish (the advisory lock)
    lock_timeout_seconds: float = 5.0  # for a table lock, per statement
    statement_timeout_seconds: float = 300.0
    claims_key: str | None = None  # the claims key (base64); None: from the variable the build names


@dataclass
class Outcome:
    plan: Plan
    applied: list[tuple[Action, float]] = field(default_factory=list)  # (action, seconds)
    healed: list[tuple[Action, float]] = field(default_factory=list)  # re-created after your migrations
    waited_seconds: float = 0.0
    claims_key: str | None = None  # the kid of the claims key the database now holds (installed or kept)
    claims_keys_dropped: list[str] = field(default_factory=list)  # kids retired by a rotation


Progress = Callable[[Action, int, int], None]


def connect(url: str, autocommit: bool = False, options: str | None = None) -> Any:
    import psycopg

    extra: dict[str, Any] = {"options": options} if options else {}
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name="fraiseql migrate", **extra)
    except psycopg.OperationalError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise refused(
            "FQL401",
            f"cannot connect to the database: {message}",
            "pass --database postgresql://user@host:5432/db (or set DATABASE_URL)",
        ) from None


def _desired(build: Build) -> list[tuple[str, Sequence[str]]]:
    return [(o.name, catalog.target_list(o.sql)) for o in build.objects]


def _plan(build: Build, past: history.History, found: dict[str, tuple[str, bool]], repair: bool) -> Plan:
    current = {name: fp for name, (fp, _) in found.items() if name in past.objects}
    exists = {name for name, (_, there) in found.items() if there and name not in past.objects}
    return plan(build, past, current, exists, repair)


def _state(conn: Any, build: Build, repair: bool) -> Plan:
    """Plan against what the database holds now (history and catalog), in one round trip; where migrate never
    ran (its tables do not exist), from the catalog alone."""
    import psycopg

    roles = list(build.roles.values())
    try:
        rows = catalog.state(conn, _desired(build), roles)
    except psycopg.errors.UndefinedTable:
        if not conn.autocommit:
            raise
        return _plan(build, history.History((), {}), catalog.fingerprints(conn, _desired(build), roles), repair)
    past = history.parse(rows)
    found = {row[3]: (row[10], bool(row[11])) for row in rows if row[0] == "print"}
    return _plan(build, past, found, repair)


def inspect(url: str, build: Build, repair: bool = False) -> Plan:
    """The plan, read-only: for --dry-run, --check, --status and the plan printed before applying. The session
    is read-only with an empty search_path (as when applying: the catalog prints names alike) from the start,
    so the state is one query. JIT is off: compiling the catalog query costs ~130 ms, running it ~5 ms."""
    with connect(
        url, autocommit=True, options="-c search_path= -c default_transaction_read_only=on -c jit=off"
    ) as conn:
        return _state(conn, build, repair)


def _lock(conn: Any, wait_seconds: float, key: str = LOCK_KEY, xact: bool = False) -> float:
    """Take an advisory lock, retrying with backoff (never a blocking wait); the seconds waited."""
    started = time.monotonic()
    delay = 0.05
    function = "pg_try_advisory_xact_lock" if xact else "pg_try_advisory_lock"
    while True:
        if conn.execute(f"SELECT pg_catalog.{function}(pg_catalog.hashtextextended(%s, 0))", (key,)).fetchone()[0]:
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


BATCH_CHARACTERS = 200_000


def _batches(actions: Sequence[Action]) -> list[list[Action]]:
    """Generated objects travel together, up to ~200 kB of SQL per round trip (a 1,000-type schema is ~20,000
    statements); a migration of yours or a versioned step travels alone, so its recorded duration is its own."""
    out: list[list[Action]] = []
    batch: list[Action] = []
    size = 0
    for action in actions:
        if action.action in ("user", "versioned"):
            out += [batch] if batch else []
            out.append([action])
            batch, size = [], 0
            continue
        batch.append(action)
        size += len(action.sql)
        if size >= BATCH_CHARACTERS:
            out.append(batch)
            batch, size = [], 0
    return out + ([batch] if batch else [])


def _run_batch(conn: Any, batch: list[Action], around: tuple[str, str]) -> None:
    """One round trip for the batch (behind a savepoint). When it fails, the batch is rolled back to the
    savepoint and run again statement by statement, so the error names the statement, its file and line."""
    import psycopg

    parts = ["SAVEPOINT fraiseql_batch"]
    for action in batch:
        parts += [around[0], action.sql, around[1]] if action.action == "user" else [action.sql]
    parts.append("RELEASE SAVEPOINT fraiseql_batch")
    try:
        conn.execute("\n;\n".join(parts))
        return
    except psycopg.errors.LockNotAvailable:
        raise  # lock_timeout: apply() rolls back and retries, then reports FQL408
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT fraiseql_batch")
        first_error = exc
    for action in batch:
        if action.action == "user":  # your SQL may count on its schema being on the path
            conn.execute(around[0])
        _run(conn, action)
        if action.action == "user":
            conn.execute(around[1])
    raise FraiseQLError(  # it failed together and not alone: say so, with what PostgreSQL said
        [
            diag(
                "FQL407",
                f"{batch[0].name}…{batch[-1].name}: {first_error}; nothing was applied",
                hint="the statements succeeded one by one after failing together: run migrate again",
            )
        ]
    )


def _run(conn: Any, action: Action) -> None:
    import psycopg

    for statement, line in split(action.sql):
        try:
            conn.execute(statement)
        except psycopg.errors.LockNotAvailable:
            raise  # lock_timeout: apply() rolls back and retries, then reports FQL408
        except psycopg.Error as exc:
            where = f"{action.file}:{action.line + line}" if action.file else action.name
            diagnostic = getattr(exc, "diag", None)
            message = (diagnostic.message_primary if diagnostic else None) or str(exc)
            context = (diagnostic.context or "").strip().splitlines()[:1] if diagnostic else []
            code = [text for text in statement.strip().splitlines() if not text.lstrip().startswith("--")]
            first = (code or statement.strip().splitlines())[0][:160]
            raise FraiseQLError(
                [
                    diag(
                        "FQL407",
                        f"{where}: {message} ({action.action} {action.name}); nothing was applied",
                        hint=f"the statement: {first}" + (f" — {context[0]}" if context else ""),
                    )
                ]
            ) from None


def _record(
    conn: Any, build: Build, recorded: Mapping[str, history.Recorded], done: list[tuple[Action, float]]
) -> None:
    """History rows for what ran; the managed objects that were made or changed, as they now are, with their
    fresh fingerprints. Objects that nothing touched keep their rows and fingerprints (a change to one that
    this run did not make stays visible as drift): the work is that of the plan, not of the schema's size."""
    desired = {o.name: o for o in build.objects}
    previous: dict[str, str | None] = {"user": None, "versioned": None}
    for kind in previous:
        row = conn.execute(
            "SELECT chain FROM fraiseql.tb_migration WHERE kind = %s ORDER BY id DESC LIMIT 1", (kind,)
        ).fetchone()
        previous[kind] = row[0] if row else None
    rows = []
    for action, seconds in done:
        kind = "user" if action.action == "user" else ("versioned" if action.action == "versioned" else "object")
        link = None
        if kind != "object":
            link = previous[kind] = history.chain(previous[kind], action.checksum)
        verb = "apply" if kind != "object" else action.action
        rows.append((kind, action.name, verb, action.checksum, link, build.compiler_version, round(seconds * 1000)))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO fraiseql.tb_migration (kind, name, action, checksum, chain, compiler_version, duration_ms)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    gone = [a.name for a, _ in done if a.action == "drop" and a.name not in desired]
    if gone:
        conn.execute("DELETE FROM fraiseql.tb_schema_object WHERE name = ANY(%s::text[])", (gone,))
    from psycopg.types.json import Jsonb

    touched = {a.name for a, _ in done}
    upserts = []
    for o in build.objects:
        if o.kind == "versioned":
            continue
        targets = catalog.target_list(o.sql)
        rec = recorded.get(o.name)
        as_recorded = rec is not None and (rec.kind, rec.hash, rec.drop, rec.depends_on, rec.details, rec.targets) == (
            o.kind,
            o.hash,
            o.drop,
            o.depends_on,
            o.details or None,
            tuple(targets),
        )
        if o.name in touched or not as_recorded:
            upserts.append((o, targets))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO fraiseql.tb_schema_object AS s (name, kind, hash, drop_sql, depends_on, details, targets)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            " hash = excluded.hash, drop_sql = excluded.drop_sql, depends_on = excluded.depends_on,"
            " details = excluded.details, targets = excluded.targets,"
            " applied_at = CASE WHEN s.hash = excluded.hash THEN s.applied_at ELSE pg_catalog.clock_timestamp() END",
            [
                (o.name, o.kind, o.hash, o.drop, list(o.depends_on), Jsonb(o.details) if o.details else None, targets)
                for o, targets in upserts
            ],
        )
    fresh = [(o.name, targets) for o, targets in upserts if o.name in touched or o.name not in recorded]
    catalog.store_fingerprints(conn, fresh, list(build.roles.values()))


def _heal(
    conn: Any, build: Build, recorded: Mapping[str, history.Recorded], done: list[tuple[Action, float]]
) -> list[tuple[Action, float]]:
    """After your migrations ran: the managed objects they changed (a table re-created without its policies,
    a view dropped with CASCADE), re-created from the build with everything depending on them, in the same
    transaction. Never leaves a table that lost its row-level security until someone notices."""
    touched = {a.name for a, _ in done}
    untouched = [(n, r.targets) for n, r in recorded.items() if n not in touched and r.fingerprint is not None]
    found = catalog.fingerprints(conn, untouched, list(build.roles.values()))
    changed = {n for n, (fp, _) in found.items() if fp != recorded[n].fingerprint}
    desired = {o.name: o for o in build.objects if o.kind in REPEATABLE}
    changed &= desired.keys()
    if not changed:
        return []
    graph = {n: o.depends_on for n, o in desired.items()}
    again = closure(changed, graph) & desired.keys()
    why = "changed by a migration of yours"
    actions = [
        Action("drop", n, desired[n].kind, desired[n].drop or "", desired[n].hash, reason=why)
        for n in drop_order(again, graph)
        if desired[n].drop
    ]
    actions += [
        Action("repair", o.name, o.kind, o.sql, o.hash, o.file, o.line, reason=why)
        for o in build.objects
        if o.name in again
    ]
    out = []
    for action in actions:
        started = time.monotonic()
        _run(conn, action)
        out.append((action, time.monotonic() - started))
    return out


def no_claims_key(name: str) -> FraiseQLError:
    """FQL409 for a database that holds no claims key, migrated without the variable."""
    return refused(
        "FQL409",
        f"the database holds no claims key and {name} is not set",
        f"set {name} (openssl rand -base64 32) in migrate's environment and the runtime's: the runtime proves "
        "each request's claims with it, and the database accepts no identity without it",
    )


def _given_key(build: Build, options: Options) -> bytes | None:
    """The claims key given (``options``), else the variable's; None when unset; FQL409 when not a key."""
    import os

    from fraiseql_compiler import claims_proof

    name = build.settings.claims_key_env
    raw = options.claims_key if options.claims_key is not None else os.environ.get(name)
    if not raw:
        return None
    try:
        return claims_proof.parse_key(raw)
    except claims_proof.BadKey as exc:
        raise refused("FQL409", f"{name} {exc}", "set it to 32 random bytes, base64: openssl rand -base64 32") from None


def _claims_key(conn: Any, build: Build, options: Options) -> bytes | None:
    """The claims key to install (docs/claims-proof.md): the one given, else the variable's; none when the
    variable is unset and the database already holds one; refused (FQL409) when it holds none, since every
    request would then be anonymous, or when the value is not a key."""
    from fraiseql_compiler import claims_proof

    key = _given_key(build, options)
    if key is None and not claims_proof.installed(conn):
        raise no_claims_key(build.settings.claims_key_env)
    return key


def claims_key_status(url: str, build: Build, options: Options) -> tuple[str | None, list[str]]:
    """(the kid of the key migrate would install, or None when its variable is unset; the kids the database
    holds, newest first). A malformed key is refused (FQL409) here too, before anything runs."""
    from fraiseql_compiler import claims_proof

    key = _given_key(build, options)
    with connect(url, autocommit=True) as conn:
        return (claims_proof.key_id(key) if key is not None else None), claims_proof.installed(conn)


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
        waited += _lock(conn, options.wait_seconds, APPLY_KEY, xact=True)
        _preflight(conn, build)
        conn.execute("SET LOCAL search_path = ''")
        conn.execute("SET LOCAL jit = off")  # the catalog queries: compiling them costs more than running them
        conn.execute("SET LOCAL standard_conforming_strings = on")
        conn.execute("SET LOCAL client_encoding = 'UTF8'")
        conn.execute(f"SET LOCAL lock_timeout = '{int(options.lock_timeout_seconds * 1000)}ms'")
        conn.execute(f"SET LOCAL statement_timeout = '{int(options.statement_timeout_seconds * 1000)}ms'")
        conn.execute(history.BOOTSTRAP)
        result = _state(conn, build, options.repair)
        _refusals(result, options)
        key = _claims_key(conn, build, options)
        outcome = Outcome(result, waited_seconds=waited)
        from psycopg import sql as pgsql

        user_path = pgsql.SQL("SET LOCAL search_path = {}, public").format(pgsql.Identifier(build.default_schema))
        around = (user_path.as_string(conn), "SET LOCAL search_path = ''")
        done = 0
        for batch in _batches(result.actions):
            if progress is not None:
                progress(batch[0], done, len(result.actions))
            started = time.monotonic()
            _run_batch(conn, batch, around)
            share = (time.monotonic() - started) / len(batch)
            outcome.applied += [(action, share) for action in batch]
            done += len(batch)
        if any(a.action == "user" for a in result.actions):
            outcome.healed = _heal(conn, build, result.recorded, outcome.applied)
            outcome.applied += outcome.healed
        if result.actions or result.drift:
            _record(conn, build, result.recorded, outcome.applied)
        if key is not None:
            from fraiseql_compiler import claims_proof

            outcome.claims_key, outcome.claims_keys_dropped = claims_proof.install(conn, key)
        conn.commit()
        return outcome
