"""Run access cases against a real database, through the reference runtime, as a runtime would.

One throwaway database per run (``fqltest_<hex>`` on the server given, dropped after), migrated with the
build exactly as ``fraiseql migrate`` does. Each case file runs in one transaction that is rolled back: its
data is loaded, the database API keys and revocations its identities need are made, and every case runs in a
savepoint of its own, rolled back after it, so cases never see each other's writes. A case runs as the login
role the runtime uses (``SET LOCAL ROLE <authenticator>``), then through ``executor.run.execute``: token or
key verification, the role switch, the claims, the API object, the error mapping.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.manifest.models import Manifest
from fraiseql_compiler.testing.cases import Case, CaseFile, Expectation, Identity, Suite

ENV_VAR = "FRAISEQL_TEST_DATABASE_URL"


@dataclass
class Outcome:
    case: Case
    identity: Identity
    passed: bool
    seconds: float
    problems: list[str] = field(default_factory=list)  # what differs from the expectation, one per line
    result: Any = None  # the data, when the operation succeeded
    error: dict[str, Any] | None = None  # {"http", "code", "message", "sqlstate"?}, when it was refused


@dataclass
class Report:
    outcomes: list[Outcome]
    seconds: float
    setup_seconds: float = 0.0
    matrix: Any = None  # testing.matrix.ObservedMatrix, with --matrix

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def passed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.passed]


# --- the database ------------------------------------------------------------------------------------------


def server_url(given: str | None, environ: Mapping[str, str]) -> str:
    # Never DATABASE_URL: it names the application's database, and a run creates databases on its server.
    url = given or environ.get(ENV_VAR)
    if not url:
        raise FraiseQLError(
            [
                diag(
                    "FQL505",
                    "no PostgreSQL server to run the access tests on",
                    hint=f"pass --database postgresql://user@host:5432/postgres (a role that may CREATE DATABASE), "
                    f"or set {ENV_VAR}",
                )
            ]
        )
    return url


def _with_dbname(url: str, name: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=name)


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """A new empty database on ``url``'s server, dropped afterwards whatever happens."""
    import psycopg
    from psycopg import sql

    name = f"fqltest_{secrets.token_hex(8)}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise FraiseQLError(
            [
                diag(
                    "FQL505",
                    f"cannot connect to {_shown(url)}: {first}",
                    hint="check the URL; the server must be PostgreSQL 15 or later",
                )
            ]
        ) from None
    try:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise FraiseQLError(
                [
                    diag(
                        "FQL505",
                        f"cannot create a throwaway database on {_shown(url)}: {exc.diag.message_primary or exc}",
                        hint="use a role that may CREATE DATABASE (and create roles, for the first run)",
                    )
                ]
            ) from None
        try:
            yield _with_dbname(url, name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


def _shown(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "the server"
    return f"{parts.get('user', '')}@{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"


def migrate(url: str, artifacts: Mapping[str, str], root: Path, claims_key: str | None = None) -> None:
    """Apply the user's migrations and the build, as ``fraiseql migrate`` does (with the run's claims key)."""
    import tempfile

    from fraiseql_compiler.migrate import Options, apply, load_build

    with tempfile.TemporaryDirectory(prefix="fraiseql-test-") as tmp:
        build_dir = Path(tmp)
        for path, content in artifacts.items():
            target = build_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        apply(url, load_build(build_dir, root), Options(claims_key=claims_key))


# --- credentials -------------------------------------------------------------------------------------------


class Credentials:
    """What each identity sends: tokens minted with the manifest's settings (a random HS secret when the
    environment has none: the run both mints and verifies), provider tokens signed with keys made for the run
    (the manifest's provider JWKS are replaced by their public halves), and API keys."""

    def __init__(self, manifest: Manifest, environ: Mapping[str, str]) -> None:
        env = dict(environ)
        jwt_cfg = manifest.config.auth.jwt
        if jwt_cfg.secret_env and not env.get(jwt_cfg.secret_env):
            env[jwt_cfg.secret_env] = secrets.token_urlsafe(48)
        key_env = manifest.config.security.claims_key_env
        if not env.get(key_env):  # the run's database gets the same key (migrate(claims_key=...))
            from fraiseql_compiler.claims_proof import new_key

            env[key_env] = new_key()
        self.environ = env
        self._provider_keys: dict[str, tuple[Any, str, str]] = {}  # name -> (private key, kid, algorithm)
        providers = []
        for p in manifest.config.security.providers:
            algorithm = next((a for a in p.algorithms if a.startswith(("RS", "ES", "PS"))), "RS256")
            private, jwk = _keypair(algorithm, f"fraiseql-test-{p.name}")
            self._provider_keys[p.name] = (private, jwk["kid"], algorithm)
            providers.append(
                p.model_copy(update={"jwks": {"keys": [jwk]}, "jwks_uri": None, "jwks_file": None, "discovery": False})
            )
        security = manifest.config.security.model_copy(update={"providers": providers})
        self.manifest = manifest.model_copy(
            update={"config": manifest.config.model_copy(update={"security": security})}
        )
        self.tokens: dict[str, str] = {}
        self.keys: dict[str, str] = {}

    def token(self, identity: Identity) -> str:
        from fraiseql_compiler.executor.tokens import mint

        if identity.kind == "provider":
            return self._provider_token(identity)
        assert identity.sub is not None
        return mint(self.manifest.config, sub=identity.sub, scopes=list(identity.scopes), environ=self.environ)

    def _provider_token(self, identity: Identity) -> str:
        import jwt

        from fraiseql_compiler.executor.envref import resolve

        p = next(p for p in self.manifest.config.security.providers if p.name == identity.provider)
        private, kid, algorithm = self._provider_keys[p.name]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": resolve(p.issuer, self.environ, what=f"provider {p.name} issuer"),
            "iat": now,
            "exp": now + min(600, p.max_token_lifetime_seconds),
            "jti": str(uuid.uuid4()),
        }
        if p.audience:
            claims["aud"] = resolve(p.audience[0], self.environ, what=f"provider {p.name} audience")
        claims.update(identity.claims)
        return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid})


def _keypair(algorithm: str, kid: str) -> tuple[Any, dict[str, Any]]:
    import json

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
        private: Any = ec.generate_private_key(curve)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": algorithm})
    return private, jwk


# --- running -----------------------------------------------------------------------------------------------


def _setup_failed(exc: Exception, span: Any, what: str) -> FraiseQLError:
    """A database error while preparing a file (its data, an identity's key): the user's input, at its line."""
    detail = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc).strip().splitlines()[0]
    return FraiseQLError(
        [
            diag(
                "FQL504",
                f"{what} failed: {detail}",
                span,
                "fix the data (columns, constraints, the row-level security the migrating role meets) or the identity",
            )
        ]
    )


def _load_data(conn: Any, f: CaseFile) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.types.json import Jsonb

    for path, span in f.sql:
        try:
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
        except psycopg.Error as exc:
            raise _setup_failed(exc, span, f"loading {path.name}") from None
    for rows in f.rows:
        columns = sorted({c for v in rows.values for c in v})
        table = sql.SQL(".").join(sql.Identifier(p) for p in rows.table.split("."))
        statement = sql.SQL(
            "INSERT INTO {t} ({cols}) SELECT {cols} FROM jsonb_populate_recordset(NULL::{t}, %s)"
        ).format(t=table, cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        try:
            with conn.transaction():
                conn.execute(statement, (Jsonb(list(rows.values)),))
        except psycopg.Error as exc:
            raise _setup_failed(exc, rows.span, f"inserting the rows of {rows.table}") from None


def _setup_identities(conn: Any, manifest: Manifest, suite: Suite, names: set[str], creds: Credentials) -> None:
    """Within the file's transaction: a token per user identity (revoked ones revoked), a database key per
    owned API key."""
    import psycopg

    from fraiseql_compiler.executor.errors import ExecutionError

    for name in sorted(names):
        ident = suite.identities[name]
        try:
            _setup_identity(conn, manifest, name, ident, creds)
        except psycopg.Error as exc:
            raise _setup_failed(exc, ident.span, f'setting up identity "{name}"') from None
        except ExecutionError as exc:
            raise FraiseQLError(
                [
                    diag(
                        "FQL505",
                        f'cannot make the credentials of identity "{name}": {exc.message}',
                        ident.span,
                        "the runtime's settings (fraiseql.toml, the environment) must let "
                        "it mint and verify this identity's token",
                    )
                ]
            ) from None


def _setup_identity(conn: Any, manifest: Manifest, name: str, ident: Identity, creds: Credentials) -> None:
    """The credentials of ``ident``, kept in ``creds`` under ``name``."""
    from fraiseql_compiler.executor.run import set_claims
    from fraiseql_compiler.executor.tokens import unverified_parts

    roles = manifest.database.roles
    if ident.kind in ("user", "provider"):
        token = creds.token(ident)
        creds.tokens[name] = token
        if ident.revoked:
            _, claims = unverified_parts(token)
            conn.execute(
                "INSERT INTO fraiseql.tb_revoked_token (jti, subject, exp) VALUES (%s, %s, to_timestamp(%s))",
                (claims["jti"], claims.get("sub"), claims["exp"]),
            )
    elif ident.kind == "api_key" and ident.key_owner is not None:
        claims = {"sub": ident.key_owner, "scopes": list(ident.scopes), "auth": "jwt", "jti": str(uuid.uuid4())}
        with conn.transaction():
            conn.execute(f'SET LOCAL ROLE "{roles["authenticated"]}"')
            set_claims(conn, manifest, roles["authenticated"], claims, creds.environ)
            row = conn.execute(
                "SELECT key FROM fraiseql.fn_create_api_key(%s, %s)", (f"fraiseql test: {name}", list(ident.scopes))
            ).fetchone()
            conn.execute("RESET ROLE")
            conn.execute("SELECT set_config(%s, '', true)", (manifest.database.claims_setting,))
        creds.keys[name] = row[0]
    elif ident.kind == "api_key":
        assert ident.api_key is not None
        creds.keys[name] = ident.api_key


def request_for(case: Case, identity: Identity, creds: Credentials) -> Any:
    from fraiseql_compiler.executor.run import Request

    return Request(
        case.operation,
        dict(case.variables),
        token=creds.tokens.get(identity.name) if identity.kind in ("user", "provider") else None,
        api_key=creds.keys.get(identity.name) if identity.kind == "api_key" else None,
    )


def run_one(
    conn: Any, manifest: Manifest, request: Any, environ: Mapping[str, str]
) -> tuple[Any, dict[str, Any] | None]:
    """(data, None) or (None, the error as the runtime answers it), in a savepoint rolled back after it."""
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.run import execute

    with conn.transaction(force_rollback=True):
        conn.execute(f'SET LOCAL ROLE "{manifest.database.roles["authenticator"]}"')
        try:
            return execute(conn, manifest, request, environ), None
        except ExecutionError as exc:
            return None, exc.as_json()["errors"][0]


def run_suite(
    suite: Suite,
    manifest: Manifest,
    url: str,
    environ: Mapping[str, str] | None = None,
    on_outcome: Any = None,
    matrix: bool = False,
) -> Report:
    """Run every case of ``suite`` in the migrated database at ``url`` (connected as its migrating role)."""
    import psycopg

    started = time.perf_counter()
    creds = Credentials(manifest, os.environ if environ is None else environ)
    manifest = creds.manifest
    outcomes: list[Outcome] = []
    with psycopg.connect(url, autocommit=False, application_name="fraiseql test") as conn:
        for f in suite.files:
            if not f.cases:
                continue
            with conn.transaction(force_rollback=True):
                _load_data(conn, f)
                _setup_identities(conn, manifest, suite, {c.identity for c in f.cases}, creds)
                for case in f.cases:
                    identity = suite.identities[case.identity]
                    t0 = time.perf_counter()
                    data, error = run_one(conn, manifest, request_for(case, identity, creds), creds.environ)
                    problems = compare(case.expect, data, error)
                    outcome = Outcome(case, identity, not problems, time.perf_counter() - t0, problems, data, error)
                    outcomes.append(outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
        observed = None
        if matrix:
            from fraiseql_compiler.testing.matrix import observe

            with conn.transaction(force_rollback=True):
                _setup_identities(conn, manifest, suite, {c.identity for c in suite.cases}, creds)
                observed = observe(conn, manifest, suite, creds, creds.environ)
    return Report(outcomes, time.perf_counter() - started, matrix=observed)


# --- expectations ------------------------------------------------------------------------------------------


def rows_of(data: Any) -> list[Any]:
    """The rows a result holds: a list's items, a connection's nodes, one object, or none."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("edges"), list):
        return [e.get("node") for e in data["edges"] if isinstance(e, dict)]
    if isinstance(data, dict):
        return [data]
    return []


def matches(row: Any, pattern: Any) -> bool:
    """``pattern``'s fields have these values in ``row`` (tables match as subsets, recursively)."""
    if isinstance(pattern, dict):
        return isinstance(row, dict) and all(k in row and matches(row[k], v) for k, v in pattern.items())
    if isinstance(pattern, float) or isinstance(row, float):
        return isinstance(row, int | float) and not isinstance(row, bool) and float(row) == float(pattern)
    return bool(row == pattern and type(row) is type(pattern))


def shown(value: Any, limit: int = 300) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare(expect: Expectation, data: Any, error: dict[str, Any] | None) -> list[str]:
    problems: list[str] = []
    if error is not None:
        if not expect.expects_error:
            return [f"expected success, got {error['http']} {error['code']}: {error['message']}"]
        if isinstance(expect.error, int) and error["http"] != expect.error:
            problems.append(f"expected error {expect.error}, got {error['http']} {error['code']}: {error['message']}")
        if isinstance(expect.error, str) and error["code"] != expect.error:
            problems.append(f"expected error {expect.error}, got {error['http']} {error['code']}: {error['message']}")
        if expect.sqlstate is not None and error.get("sqlstate") != expect.sqlstate:
            problems.append(
                f"expected SQLSTATE {expect.sqlstate}, got {error.get('sqlstate') or 'none'} "
                f"({error['http']} {error['code']}: {error['message']})"
            )
        return problems
    rows = rows_of(data)
    if expect.expects_error:
        what = expect.error if expect.error is not None else f"SQLSTATE {expect.sqlstate}"
        return [f"expected error {what}, got success: {len(rows)} row(s) {shown(data)}"]
    if expect.has_result and data != expect.result:
        problems.append(f"expected the result {shown(expect.result)}, got {shown(data)}")
    for pattern in expect.rows_include:
        if not any(matches(r, pattern) for r in rows):
            problems.append(f"missing row {shown(pattern)}: none of the {len(rows)} row(s) has those values")
    for pattern in expect.rows_exclude:
        for r in rows:
            if matches(r, pattern):
                problems.append(f"leaked row {shown(pattern)}: {shown(r)}")
    if expect.count is not None and len(rows) != expect.count:
        problems.append(f"expected {expect.count} row(s), got {len(rows)}")
    return problems
