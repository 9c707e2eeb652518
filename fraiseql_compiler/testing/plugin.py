"""A pytest plugin: the access tests of ``fraiseql test``, written in Python.

Registered as the ``fraiseql`` entry point of ``pytest11``, so it is loaded into every pytest session of an
environment where fraiseql-compiler is installed. It costs such a session nothing: it adds options and
fixtures, imports nothing heavy until a fixture is used, and touches no database unless a test asks for one.

Options
    ``--fraiseql-project DIR`` (or the ini option ``fraiseql_project``, relative to the ini file): the project,
    the directory holding ``fraiseql.toml``. Default: the rootdir, when it holds ``fraiseql.toml``.

    ``--fraiseql-database URL`` (else ``FRAISEQL_TEST_DATABASE_URL``; never ``DATABASE_URL``): the PostgreSQL
    server to create the throwaway database on, as a role that may ``CREATE DATABASE``. Without one, a test
    using the fixtures fails with one line saying so (never a traceback); tests not using them run as usual.

Fixtures
    ``fraiseql_database`` (session): the project built in memory (no ``build/`` written), a throwaway database
    ``fqltest_<hex>`` created on the server and migrated as ``fraiseql migrate`` does, dropped at the end of
    the session. It has ``.url`` (the migrating role's), ``.name``, ``.root``, ``.artifacts``, ``.environ``
    and ``.manifest``: the build's, with every ``[[security.providers]]`` JWKS replaced by keys made for the
    session, so provider tokens can be signed in tests.

    ``fraiseql_client`` (function): one connection, as the migrating role, in a transaction rolled back when
    the test ends: nothing a test writes (its setup data, what its operations write) is seen by another.
    ``client.sql(statement, params)`` runs setup SQL in that transaction (as the migrating role, which RLS
    does not restrict when it owns the tables or is a superuser) and returns the rows.
    ``client.as_identity(...)`` returns a caller whose ``.run(operation, **variables)`` runs an operation
    through the reference runtime (``executor.run.execute``: token or key verification, the role switch, the
    claims, the API object, the error mapping), as the login role a runtime uses, and returns the data or
    raises :class:`~fraiseql_compiler.executor.errors.ExecutionError` (``.http``, ``.code``, ``.message``,
    ``.sqlstate``); ``.try_run(...)`` returns that error instead of raising it (and the data when there is
    none). Within a test, an operation's writes are kept, as a runtime commits them: a post created by one
    ``run`` is read by the next; they are rolled back with the rest of the test.

Identities (``client.as_identity(...)``, or made once with :func:`identity` and passed to it)::

    client.as_identity("anonymous")                                   # no credentials
    client.as_identity(sub="<user id>", scopes=["read:posts"])        # a first-party token
    client.as_identity(sub="<user id>", revoked=True)                 # ... revoked in the database
    client.as_identity(provider="clerk", claims={"sub": "user_2x"})   # a [[security.providers]] token
    client.as_identity(api_key="<a static key>")                      # a key as the caller sends it
    client.as_identity(api_key_for="<user id>", scopes=["read:posts"])  # a database key made for the test

Example::

    BOB = identity(sub="00000000-0000-0000-0000-00000000000b", scopes=["read:posts"])

    def test_bob_never_sees_alices_draft(fraiseql_client):
        fraiseql_client.sql("INSERT INTO tb_post (author_id, title, body) VALUES (%s, 'Draft', '')", [ALICE])
        titles = {p["title"] for p in fraiseql_client.as_identity(BOB).run("posts")}
        assert "Draft" not in titles

    def test_anonymous_is_refused(fraiseql_client):
        assert fraiseql_client.as_identity("anonymous").try_run("posts").http == 401
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from fraiseql_compiler.diagnostics import FraiseQLError
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.manifest.models import Manifest
    from fraiseql_compiler.testing.cases import Identity
    from fraiseql_compiler.testing.runner import Credentials

CONFIG_FILE = "fraiseql.toml"  # fraiseql_compiler.config.CONFIG_FILE, not imported: that loads pydantic
_ENV_VAR = "FRAISEQL_TEST_DATABASE_URL"  # testing.runner.ENV_VAR


# --- options -----------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fraiseql", "FraiseQL access tests (fraiseql_database, fraiseql_client fixtures)")
    group.addoption(
        "--fraiseql-project",
        dest="fraiseql_project",
        metavar="DIR",
        default=None,
        help="the FraiseQL project (the directory holding fraiseql.toml); default: the ini option "
        "fraiseql_project, else the rootdir when it holds fraiseql.toml",
    )
    group.addoption(
        "--fraiseql-database",
        dest="fraiseql_database",
        metavar="URL",
        default=None,
        help=f"a PostgreSQL server to create the throwaway test database on (default: ${_ENV_VAR})",
    )
    parser.addini(
        "fraiseql_project",
        "the FraiseQL project for the fraiseql_* fixtures, relative to the ini file",
        type="string",
        default="",
    )


def _project_root(config: pytest.Config) -> Path:
    given = config.getoption("fraiseql_project")
    if given:
        root = (config.invocation_params.dir / given).resolve()
        source = f"--fraiseql-project {given}"
    elif ini := str(config.getini("fraiseql_project") or ""):
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        root = (base / ini).resolve()
        source = f"fraiseql_project in {config.inipath or 'the pytest configuration'}"
    elif (config.rootpath / CONFIG_FILE).is_file():
        return config.rootpath
    else:
        _fail(
            f"no FraiseQL project: {config.rootpath} holds no {CONFIG_FILE}; pass --fraiseql-project DIR or set "
            "fraiseql_project in the pytest configuration"
        )
    if root.is_file() and root.name == CONFIG_FILE:
        root = root.parent
    if not (root / CONFIG_FILE).is_file():
        _fail(f"no FraiseQL project at {root}: it holds no {CONFIG_FILE} (from {source})")
    return root


def _server(config: pytest.Config) -> str:
    url = config.getoption("fraiseql_database") or os.environ.get(_ENV_VAR)
    if not url:
        _fail(
            "no PostgreSQL server to create the test database on: pass --fraiseql-database "
            f"postgresql://user@host:5432/postgres (a role that may CREATE DATABASE), or set {_ENV_VAR}"
        )
    return str(url)


def _fail(message: str) -> NoReturn:
    """Fail the test with ``message`` alone: a configuration problem is no traceback."""
    pytest.fail(f"fraiseql: {message}", pytrace=False)


def _fail_with(exc: FraiseQLError, root: Path, outcome: str) -> NoReturn:
    """A FraiseQLError as the command line shows it (file, line, hint); the test fails with that text."""
    from fraiseql_compiler.diagnostics.render import format_plain

    text = format_plain(exc.diagnostics, root, getattr(exc, "secrets", ()), outcome).rstrip("\n")
    pytest.fail(f"fraiseql: cannot set up the test database\n{text}", pytrace=False)


# --- the database ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FraiseQLDatabase:
    """The session's migrated throwaway database (the ``fraiseql_database`` fixture)."""

    url: str  # connects as the role that migrated it
    root: Path  # the project directory
    artifacts: Mapping[str, str]  # the build, by path (never written to the project's build/)
    manifest: Manifest  # the build's, with the providers' JWKS replaced by the session's keys
    credentials: Credentials

    @property
    def name(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        return str(conninfo_to_dict(self.url)["dbname"])

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment operations run with (the JWT secret made for the session when none is set)."""
        return self.credentials.environ


def build(root: Path) -> tuple[dict[str, str], Manifest]:
    """The project's build in memory: (artifacts by path, the manifest), as ``fraiseql build`` makes them."""
    from fraiseql_compiler.api import analyze, emit
    from fraiseql_compiler.manifest import MANIFEST_FILE
    from fraiseql_compiler.manifest.models import Manifest
    from fraiseql_compiler.project import resolve_project

    project = resolve_project(root, cwd=root)
    artifacts = {a.path: a.content for a in emit(analyze(project))}
    return artifacts, Manifest.model_validate_json(artifacts[MANIFEST_FILE])


@pytest.fixture(scope="session")
def fraiseql_database(request: pytest.FixtureRequest) -> Iterator[FraiseQLDatabase]:
    """The project built in memory and migrated into a throwaway database, dropped after the session."""
    from contextlib import ExitStack

    from fraiseql_compiler.diagnostics import FraiseQLError
    from fraiseql_compiler.testing.runner import Credentials, migrate, throwaway_database

    config = request.config
    url = _server(config)
    root = _project_root(config)
    stack = ExitStack()  # drops the database
    failure: FraiseQLError | None = None
    try:
        artifacts, manifest = build(root)
        credentials = Credentials(manifest, os.environ)
        db_url = stack.enter_context(throwaway_database(url))
        migrate(db_url, artifacts, root, claims_key=credentials.environ[manifest.config.security.claims_key_env])
    except FraiseQLError as exc:
        failure = exc
    except BaseException:
        stack.close()
        raise
    if failure is not None:  # failing outside the except block keeps the report to the diagnostics
        stack.close()
        _fail_with(failure, root, "no test ran against the database")
    with stack:
        yield FraiseQLDatabase(db_url, root, artifacts, credentials.manifest, credentials)


# --- identities --------------------------------------------------------------------------------------------


def identity(
    kind: str | None = None,
    /,
    *,
    sub: str | None = None,
    scopes: Sequence[str] = (),
    provider: str | None = None,
    claims: Mapping[str, Any] | None = None,
    api_key: str | None = None,
    api_key_for: str | None = None,
    revoked: bool = False,
    name: str | None = None,
) -> Identity:
    """Who calls: ``identity("anonymous")``, ``identity(sub=…, scopes=[…])``, ``identity(provider=…,
    claims={…})``, ``identity(api_key=…)`` or ``identity(api_key_for=<owner id>, scopes=[…])``; ``revoked``
    for a token the database has revoked. The same arguments as ``fraiseql_client.as_identity``."""
    from fraiseql_compiler.diagnostics import Span
    from fraiseql_compiler.testing.cases import ANONYMOUS, Identity

    if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
        raise TypeError(f"scopes must be a list of strings, not {scopes!r}")
    given = [
        k
        for k, v in (("sub", sub), ("provider", provider), ("api_key", api_key), ("api_key_for", api_key_for))
        if v is not None
    ]
    if kind is not None and (kind != ANONYMOUS or given):
        raise TypeError(
            f'identity({kind!r}): the only positional identity is "anonymous"; '
            "name others by sub=, provider=, api_key= or api_key_for="
        )
    if kind is None and len(given) != 1:
        raise TypeError(
            'an identity is "anonymous" or exactly one of sub=, provider=, api_key=, api_key_for='
            + (f" (given: {', '.join(given)})" if given else "")
        )
    if claims is not None and provider is None:
        raise TypeError("claims= goes with provider= (a first-party token carries sub= and scopes=)")
    if revoked and sub is None and provider is None:
        raise TypeError("revoked=True revokes a token: it goes with sub= or provider=")
    if scopes and sub is None and api_key is None and api_key_for is None:
        raise TypeError("scopes= goes with sub=, api_key= or api_key_for= (a provider's scopes are in its claims)")
    span = Span("<pytest>", 0)
    if kind is not None:
        return Identity(name or ANONYMOUS, "anonymous", span)
    if sub is not None:
        return Identity(name or f"user {sub}", "user", span, sub=sub, scopes=tuple(scopes), revoked=revoked)
    if provider is not None:
        return Identity(
            name or f"{provider} token", "provider", span, provider=provider, claims=dict(claims or {}), revoked=revoked
        )
    if api_key is not None:
        return Identity(name or "static API key", "api_key", span, scopes=tuple(scopes), api_key=api_key)
    return Identity(name or f"API key of {api_key_for}", "api_key", span, scopes=tuple(scopes), key_owner=api_key_for)


# --- the client --------------------------------------------------------------------------------------------

_setups = itertools.count(1)


class FraiseQLClient:
    """One test's connection, in a transaction rolled back when the test ends (the ``fraiseql_client``
    fixture)."""

    def __init__(self, connection: Any, database: FraiseQLDatabase) -> None:
        self.connection = connection  # a psycopg.Connection, as the migrating role
        self.database = database

    @property
    def manifest(self) -> Manifest:
        return self.database.manifest

    def sql(self, statement: Any, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[Any]:
        """Run setup SQL in the test's transaction, as the migrating role; the rows it returns (tuples), if
        any. A failing statement raises, and leaves the test's transaction usable."""
        with self.connection.transaction():
            cursor = self.connection.execute(statement, params)
            return cursor.fetchall() if cursor.description is not None else []

    def as_identity(self, who: Identity | str | None = None, /, **kwargs: Any) -> FraiseQLCaller:
        """A caller running operations as ``who`` (an :func:`identity`, or its arguments). Its credentials are
        made now: a token minted (and revoked in the database when asked), an API key created for its owner in
        the test's transaction."""
        from fraiseql_compiler.testing.cases import Identity, Suite
        from fraiseql_compiler.testing.runner import _setup_identities

        if isinstance(who, Identity) and kwargs:
            raise TypeError("as_identity(an identity) takes no other argument")
        ident = who if isinstance(who, Identity) else identity(who, **kwargs)
        declared = [p.name for p in self.manifest.config.security.providers]
        if ident.kind == "provider" and ident.provider not in declared:
            raise ValueError(
                f'no provider "{ident.provider}" in fraiseql.toml; declared: '
                + (", ".join(declared) or "none ([[security.providers]])")
            )
        if ident.kind == "anonymous":
            return FraiseQLCaller(self, ident)
        credentials = self.database.credentials
        key = f"{ident.name} #{next(_setups)}"  # the session's Credentials are shared: never reuse a slot
        with self.connection.transaction():
            _setup_identities(self.connection, self.manifest, Suite((), {key: ident}), {key}, credentials)
        return FraiseQLCaller(self, ident, credentials.tokens.pop(key, None), credentials.keys.pop(key, None))


class FraiseQLCaller:
    """Runs operations as one identity, through the reference runtime, in the test's transaction."""

    def __init__(
        self, client: FraiseQLClient, ident: Identity, token: str | None = None, api_key: str | None = None
    ) -> None:
        self.client = client
        self.identity = ident
        self.token = token  # what the caller sends as "Authorization: Bearer …"
        self.api_key = api_key  # what it sends in the API key header

    def __repr__(self) -> str:
        return f"<caller {self.identity.describe()}>"

    def run(self, operation: str, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """The operation's data (by its GraphQL or Python name; variables by name, as a mapping and/or keyword
        arguments); raises ExecutionError when the runtime refuses it."""
        outcome = self._execute(operation, {**(variables or {}), **kwargs})
        if isinstance(outcome, _Refusal):
            exc = outcome.error
            exc.add_note(f"{operation} as {self.identity.describe()}: {exc.http} {exc.code}")
            raise exc
        return outcome

    def try_run(self, operation: str, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """The ExecutionError when the runtime refuses the operation, else its data."""
        outcome = self._execute(operation, {**(variables or {}), **kwargs})
        return outcome.error if isinstance(outcome, _Refusal) else outcome

    def _execute(self, operation: str, variables: dict[str, Any]) -> Any:
        """As the login role a runtime uses; what the operation writes is kept (a runtime commits it), and so
        is what a refused auth flow records (a failed login attempt), as the runtime commits those too."""
        from fraiseql_compiler.executor.errors import ExecutionError
        from fraiseql_compiler.executor.run import Request, execute

        conn = self.client.connection
        db = self.client.database
        manifest = db.manifest
        request = Request(operation, variables, token=self.token, api_key=self.api_key)
        result: Any
        with conn.transaction():
            conn.execute(f'SET LOCAL ROLE "{manifest.database.roles["authenticator"]}"')
            try:
                result = execute(conn, manifest, request, db.environ)
            except ExecutionError as exc:
                result = _Refusal(exc)
            # execute's SET LOCAL ROLE and claims outlive its savepoint: back to the migrating role, no claims
            conn.execute("RESET ROLE")
            conn.execute("SELECT set_config(%s, '', true)", (manifest.database.claims_setting,))
        return result


@dataclass(frozen=True)
class _Refusal:
    error: ExecutionError


@pytest.fixture
def fraiseql_client(fraiseql_database: FraiseQLDatabase) -> Iterator[FraiseQLClient]:
    """A connection to the session's database in a transaction rolled back after the test."""
    import psycopg

    conn = psycopg.connect(fraiseql_database.url, autocommit=False, application_name="fraiseql pytest")
    try:
        with conn.transaction(force_rollback=True):
            yield FraiseQLClient(conn, fraiseql_database)
    finally:
        conn.close()


__all__ = ["FraiseQLCaller", "FraiseQLClient", "FraiseQLDatabase", "build", "identity"]
