"""A blog database built from a (possibly re-configured) copy of examples/blog, and helpers to call
the reference executor against it as the authenticator role, exactly as a runtime would."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import psycopg

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO
from tests.pg.sessions import CLAIMS_KEY_TEXT, install_claims_key

SECRET = "test-secret-0123456789abcdef0123456789abcdef0123456789abcdef012345"  # 64 bytes: HS512 too
ENV = {"JWT_SECRET": SECRET, "FRAISEQL_CLAIMS_KEY": CLAIMS_KEY_TEXT}


@dataclass
class Blog:
    url: str  # as the authenticator
    admin: psycopg.Connection[Any]
    manifest: Manifest
    project: Path

    def run(self, operation: str, token: str | None = None, api_key: str | None = None, **variables: Any) -> Any:
        """The operation's data, or the ExecutionError it was refused with."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:
                return execute(conn, self.manifest, Request(operation, variables, token, api_key), ENV)
            except ExecutionError as exc:
                return exc

    def token(self, sub: str, *scopes: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "sub": sub,
            "scopes": list(scopes),
            "iss": "your-app",
            "aud": "your-api",
            "iat": now,
            "exp": now + 600,
            "jti": f"jti-{sub}-{now}-{len(scopes)}",
        }
        claims.update(overrides)
        algorithm = claims.pop("alg", "HS256")
        key = claims.pop("key", SECRET)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


def build_blog(
    tmp: Path, pg_url: str, toml_extra: str = "", files: dict[str, str] | None = None, toml_replace: str | None = None
) -> Blog:
    project = tmp / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("build"))
    if toml_replace is not None:
        (project / "fraiseql.toml").write_text(toml_replace, encoding="utf-8")
    for name, content in (files or {}).items():
        (project / name).write_text(content, encoding="utf-8")
    if toml_extra:
        with (project / "fraiseql.toml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + toml_extra)
    artifacts = {a.path: a.content for a in emit(analyze(resolve_project(project)))}
    admin = psycopg.connect(pg_url, autocommit=True)
    for migration in sorted((project / "db" / "migrations").glob("*.sql")):  # the user's own, in order
        admin.execute(migration.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for path in sorted(p for p in artifacts if p.startswith("sql/")):
        admin.execute(artifacts[path])  # type: ignore[arg-type]
    install_claims_key(admin)
    url = psycopg.conninfo.make_conninfo(pg_url, user="fraiseql_authenticator")
    return Blog(url, admin, Manifest.model_validate_json(artifacts[MANIFEST_FILE]), project)
