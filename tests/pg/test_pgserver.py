"""Tests of the real-PostgreSQL test infrastructure (tests/pgserver.py, conftest fixtures)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import pgserver
from tests.pgserver import (
    ENV_VAR,
    NO_PG_MESSAGE,
    NoPostgreSQL,
    PgServer,
    find_bindir,
    find_server,
    start_throwaway_cluster,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _unused_url(password: str = "") -> str:
    """A URL to a local port where (almost certainly) nothing listens."""
    auth = f"postgres:{password}" if password else "postgres"
    return f"postgresql://{auth}@127.0.0.1:{pgserver._free_port()}/postgres"


def _forbid_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any fallback past the env var an immediate test failure."""

    def boom(*_args: object) -> None:
        raise AssertionError("fell back past a configured FRAISEQL_TEST_DATABASE_URL")

    monkeypatch.setattr(pgserver, "_probe_local_server", boom)
    monkeypatch.setattr(pgserver, "find_bindir", boom)
    monkeypatch.setattr(pgserver, "start_throwaway_cluster", boom)


# --- the fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def used_databases(pg_server: PgServer) -> Iterator[list[str]]:
    """Collects pg_url values; after the module's tests (and their teardowns) none may remain."""
    urls: list[str] = []
    yield urls
    leftovers = [url for url in urls if pg_server.database_exists(url)]
    assert not leftovers, f"pg_url databases not dropped: {leftovers}"


def test_pg_url_is_a_fresh_database(pg_server: PgServer, pg_url: str, used_databases: list[str]) -> None:
    used_databases.append(pg_url)
    assert pg_server.version >= 150000
    with psycopg.connect(pg_url, autocommit=True) as conn:
        dbname, version = conn.execute(
            "SELECT current_database(), current_setting('server_version_num')::int"
        ).fetchone()  # type: ignore[misc]
        assert dbname.startswith("fqltest_")
        assert version >= 150000
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone() == (
            0,
        )
        conn.execute("CREATE TABLE t (x int)")
    assert pg_server.database_exists(pg_url)


def test_pg_url_differs_per_test(pg_url: str, used_databases: list[str]) -> None:
    used_databases.append(pg_url)
    assert len(set(used_databases)) == len(used_databases)


def test_pg_conn_is_transactional(pg_conn: psycopg.Connection, pg_url: str) -> None:
    assert pg_conn.autocommit is False
    assert pg_conn.info.dbname == psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    pg_conn.execute("CREATE TABLE t (x int)")
    pg_conn.rollback()
    assert pg_conn.execute("SELECT to_regclass('public.t')").fetchone() == (None,)


def test_drop_database_forces_out_sessions(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    conn = psycopg.connect(url)  # left open on purpose: WITH (FORCE) must still drop
    try:
        conn.execute("SELECT 1")
        pg_server.drop_database(url)
        assert not pg_server.database_exists(url)
    finally:
        conn.close()


def test_drop_database_refuses_non_test_databases(pg_server: PgServer) -> None:
    with pytest.raises(ValueError, match="refusing to drop"):
        pg_server.drop_database(pg_server.admin_url)


# --- throwaway cluster -------------------------------------------------------------


@pytest.mark.slow
def test_throwaway_cluster_lifecycle() -> None:
    bindir = find_bindir()
    if bindir is None:
        # Legitimate on e.g. CI with only FRAISEQL_TEST_DATABASE_URL; the fixture itself never skips.
        pytest.skip("no PostgreSQL server binaries (initdb + pg_ctl) on this machine")
    server = start_throwaway_cluster(bindir)
    tempdir = server.tempdir
    assert server.cluster is not None
    port = server.cluster.port
    try:
        assert tempdir is not None and tempdir.is_dir()
        assert server.version >= 150000
        assert server.admin_url == f"postgresql://postgres@127.0.0.1:{port}/postgres"
        if os.geteuid() == 0:
            assert server.cluster.datadir.stat().st_uid != 0, "cluster must not run as root"
        url = server.create_database()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        server.drop_database(url)
        assert not server.database_exists(url)
    finally:
        server.close()
    server.close()  # idempotent (the atexit hook calls stop again too)
    assert not tempdir.exists()
    assert not pgserver._port_open("127.0.0.1", port)


def test_broken_bindir_fails_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real_mkdtemp = pgserver.tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(pgserver.tempfile, "mkdtemp", recording_mkdtemp)
    with pytest.raises(NoPostgreSQL) as info:
        start_throwaway_cluster(tmp_path / "no-such-bin")
    message = str(info.value)
    assert message.startswith("No PostgreSQL available: could not start a throwaway cluster from ")
    assert "\n" not in message
    assert made and not any(Path(d).exists() for d in made), "temp dir left behind"


# --- FRAISEQL_TEST_DATABASE_URL ------------------------------------------------------


def test_env_url_is_used(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, pg_server.admin_url)
    _forbid_fallbacks(monkeypatch)
    with find_server() as server:
        assert server.admin_url == pg_server.admin_url
        assert server.cluster is None


def test_unreachable_env_url_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, _unused_url(password="s3cret"))
    _forbid_fallbacks(monkeypatch)
    with pytest.raises(NoPostgreSQL) as info:
        find_server()
    message = str(info.value)
    assert message.startswith(f"{ENV_VAR} (postgres@127.0.0.1:")
    assert "is set but unusable" in message
    assert "\n" not in message
    assert "s3cret" not in message


def test_old_server_via_env_url_is_rejected(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, pg_server.admin_url)
    _forbid_fallbacks(monkeypatch)
    monkeypatch.setattr(pgserver, "_server_facts", lambda _conn: (140009, True))
    with pytest.raises(NoPostgreSQL, match=r"points to PostgreSQL 14\.9; version 15 or later is required"):
        find_server()


# --- nothing available ---------------------------------------------------------------


def test_nothing_available_is_exactly_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(pgserver, "LOCAL_PORT", pgserver._free_port())  # nothing listens there
    monkeypatch.setattr(pgserver, "find_bindir", lambda: None)
    with pytest.raises(NoPostgreSQL) as info:
        find_server()
    assert str(info.value) == NO_PG_MESSAGE
    assert NO_PG_MESSAGE == (
        "No PostgreSQL available: set FRAISEQL_TEST_DATABASE_URL, start a server on 127.0.0.1:5432, "
        "or install PostgreSQL 15+ server binaries (e.g. apt-get install postgresql)."
    )


def test_fixture_fails_instead_of_skipping(tmp_path: Path) -> None:
    """End to end: an unusable server turns into a one-line test error, never a skip."""
    (tmp_path / "conftest.py").write_text("from tests.conftest import pg_server, pg_url  # noqa: F401\n")
    (tmp_path / "test_inner.py").write_text("def test_needs_pg(pg_url):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env[ENV_VAR] = _unused_url()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 error" in out, out
    assert "skipped" not in out, out
    # The error section holds just the message line: no traceback, no chained exceptions.
    section = out.split("ERROR at setup of test_needs_pg", 1)[1].split("short test summary", 1)[0]
    lines = [line for line in section.splitlines() if line.strip(" _=")]
    assert len(lines) == 1 and lines[0].startswith(f"{ENV_VAR} (postgres@127.0.0.1:"), out
