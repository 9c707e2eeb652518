"""``fraiseql migrate`` as processes: ten at once against one database, one killed with SIGKILL while it
applies, and the two waits it bounds (another migrate's advisory lock, a table lock held by other traffic).

Each test runs the real command in a subprocess on a copy of examples/blog with its committed build, against
a fresh database, and reads the outcome from the database itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fraiseql_compiler import api
from tests.cases import REPO

APP = "fraiseql migrate"  # the application_name of migrate's sessions
SLOW = "0002_slow.sql"


def project(tmp_path: Path, toml_extra: str = "") -> Path:
    """A copy of examples/blog, its committed build included (built again when its configuration changes)."""
    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root)
    if toml_extra:
        with (root / "fraiseql.toml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + toml_extra + "\n")
        api.build(root)  # the build as it would be committed with that configuration
    return root


def command(root: Path, url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "fraiseql_compiler.cli", "migrate", str(root), "--database", url, *args]


def migrate(root: Path, url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(root, url, *args), capture_output=True, text=True, timeout=timeout, cwd=root)


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def dbname(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])


def migrate_sessions(url: str, like: str = "%") -> list[tuple[Any, ...]]:
    sessions = "SELECT pid, state, query FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
    return query(url, sessions + " AND query LIKE %s", (dbname(url), APP, like))


def nothing_applied(url: str) -> None:
    """No trace of migrate, of the generated objects, nor of the user's base tables."""
    (schema, history, table, views, policies) = query(
        url,
        "SELECT pg_catalog.to_regnamespace('fraiseql'), pg_catalog.to_regclass('fraiseql.tb_migration'),"
        " pg_catalog.to_regclass('public.tb_user'),"
        " (SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'v\\_%%' AND relkind = 'v'),"
        " (SELECT count(*) FROM pg_catalog.pg_policy)",
    )[0]
    assert (schema, history, table, views, policies) == (None, None, None, 0, 0)


def up_to_date(root: Path, url: str) -> None:
    check = migrate(root, url, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "up to date" in check.stdout


# --- ten at once ------------------------------------------------------------------------------------------


def test_ten_concurrent_migrates_apply_once(tmp_path: Path, pg_url: str) -> None:
    root = project(tmp_path)
    runs = [
        subprocess.Popen(command(root, pg_url, "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(10)
    ]
    outputs = [(*p.communicate(timeout=90), p.returncode) for p in runs]
    for out, err, code in outputs:
        assert code == 0, out + err
    applied = [json.loads(out)["applied"] for out, _, _ in outputs]
    doers = [a for a in applied if a]
    assert len(doers) == 1, [len(a) for a in applied]  # exactly one applied; the others found nothing to do
    steps = doers[0]
    assert steps[0]["name"] == "0001_base.sql" and len(steps) > 10

    duplicates = query(
        pg_url,
        "SELECT kind, name, action, count(*) FROM fraiseql.tb_migration GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    assert duplicates == []
    rows = query(pg_url, "SELECT kind, name, action FROM fraiseql.tb_migration ORDER BY id")
    assert [name for _, name, _ in rows] == [s["name"] for s in steps]  # one row per step, no more
    assert [(k, n) for k, n, a in rows if k in ("user", "versioned")] == [
        ("user", "0001_base.sql"),
        ("versioned", "versioned:auth.0001"),
    ]
    assert {a for k, _, a in rows if k == "object"} == {"create"}  # each object created once, never replaced
    objects = query(pg_url, "SELECT count(*) FROM fraiseql.tb_schema_object")[0][0]
    assert objects == len([r for r in rows if r[0] == "object"])
    assert query(pg_url, "SELECT count(*) FROM public.tb_user")[0][0] == 2  # the seed ran once
    up_to_date(root, pg_url)


# --- killed while applying --------------------------------------------------------------------------------


def test_sigkill_while_applying_leaves_the_database_unchanged(tmp_path: Path, pg_url: str) -> None:
    root = project(tmp_path)
    slow = root / "db" / "migrations" / SLOW
    slow.write_text("SELECT pg_sleep(30);\n", encoding="utf-8")
    # A backend notices a vanished client only when it next talks to it, or, with this, within 100 ms even
    # while it sleeps: the transaction is rolled back then (a server setting of this database, not of migrate).
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{dbname(pg_url)}" SET client_connection_check_interval = 100')

    proc = subprocess.Popen(command(root, pg_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for("0002_slow.sql to run", lambda: bool(migrate_sessions(pg_url, "%pg_sleep%")))
        # 0001_base.sql ran in the same transaction: nobody else sees its tables yet
        assert query(pg_url, "SELECT pg_catalog.to_regclass('public.tb_user')") == [(None,)]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    wait_for("migrate's sessions to end", lambda: not migrate_sessions(pg_url), timeout=10)
    nothing_applied(pg_url)

    slow.unlink()
    done = migrate(root, pg_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^applied \d+ step\(s\)", done.stdout, re.M), done.stdout
    assert query(pg_url, "SELECT name FROM fraiseql.tb_migration WHERE kind = 'user'") == [("0001_base.sql",)]
    up_to_date(root, pg_url)


# --- bounded waits ----------------------------------------------------------------------------------------


@pytest.mark.slow  # four attempts of one second each, with backoff between them: about seven seconds
def test_a_table_lock_held_elsewhere_times_out_with_fql408_and_nothing_applied(tmp_path: Path, pg_url: str) -> None:
    root = project(tmp_path, "[migrate]\nlock_timeout_seconds = 1")
    # The base tables exist (0001_base.sql is idempotent; migrate applies it again, as it never recorded it),
    # and the application holds tb_post, on which the first migrate creates policies.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute((root / "db" / "migrations" / "0001_base.sql").read_text(encoding="utf-8"))  # type: ignore[arg-type]
    before = query(pg_url, "SELECT count(*) FROM public.tb_post")[0][0]
    holder = psycopg.connect(pg_url)
    try:
        holder.execute("LOCK TABLE public.tb_post IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        refused = migrate(root, pg_url, timeout=60)
        elapsed = time.monotonic() - started
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "FQL408" in refused.stderr and "lock_timeout (1 s)" in refused.stderr, refused.stderr
        assert "4 times" in refused.stderr and "nothing was applied" in refused.stderr
        assert 4 <= elapsed < 20, elapsed  # four waits of a second, bounded: never queued indefinitely
        assert migrate_sessions(pg_url) == []  # and it did not stay behind in the lock queue
    finally:
        holder.rollback()
        holder.close()
    found = query(
        pg_url,
        "SELECT pg_catalog.to_regnamespace('fraiseql'), (SELECT count(*) FROM pg_catalog.pg_policy),"
        " (SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'public.tb_post'::regclass),"
        " (SELECT count(*) FROM public.tb_post)",
    )
    assert found == [(None, 0, False, before)]

    done = migrate(root, pg_url)  # the lock is gone
    assert done.returncode == 0, done.stdout + done.stderr
    policies = query(pg_url, "SELECT count(*) FROM pg_catalog.pg_policy WHERE polrelid = 'public.tb_post'::regclass")
    assert policies[0][0] > 0
    up_to_date(root, pg_url)


def test_another_migrates_advisory_lock_is_waited_for_no_longer_than_lock_timeout(tmp_path: Path, pg_url: str) -> None:
    root = project(tmp_path)
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('fraiseql migrate', 0))")
        started = time.monotonic()
        refused = migrate(root, pg_url, "--lock-timeout", "1")
        elapsed = time.monotonic() - started
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "FQL408" in refused.stderr and "migration lock" in refused.stderr, refused.stderr
        assert 1 <= elapsed < 5, elapsed  # about a second, plus the process start
        nothing_applied(pg_url)
    done = migrate(root, pg_url, "--lock-timeout", "1")  # the holder's session ended, and its lock with it
    assert done.returncode == 0, done.stdout + done.stderr
    up_to_date(root, pg_url)
