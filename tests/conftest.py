"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from tests.pgserver import NoPostgreSQL, PgServer, find_server

# --- Golden files ---


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files (examples/*/build, tests/golden, tests/errors) from the current output",
    )


@pytest.fixture(autouse=True, scope="session")
def claims_key_in_environment() -> Iterator[None]:
    """`fraiseql migrate` and the runtime read the claims key from the environment (docs/claims-proof.md):
    every test database gets the tests' key unless a test says otherwise."""
    from tests.pg.sessions import CLAIMS_KEY_TEXT

    previous = os.environ.get("FRAISEQL_CLAIMS_KEY")
    os.environ["FRAISEQL_CLAIMS_KEY"] = CLAIMS_KEY_TEXT
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("FRAISEQL_CLAIMS_KEY", None)
        else:
            os.environ["FRAISEQL_CLAIMS_KEY"] = previous


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


# --- PostgreSQL ---
# Real-server fixtures (see tests/pgserver.py for how the server is found).
# A missing server is a test *failure*, never a skip: the SQL we emit must be run.


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL 15+ server (external, or a throwaway cluster)."""
    failure = None
    try:
        server = find_server()
    except NoPostgreSQL as exc:
        failure = str(exc)
    if failure is not None:
        # Failing outside the except block keeps the report to the one line (no exception chain).
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[psycopg.Connection]:
    """A connection (autocommit off) to the test's fresh database."""
    conn = psycopg.connect(pg_url, autocommit=False)
    try:
        yield conn
    finally:
        conn.close()
