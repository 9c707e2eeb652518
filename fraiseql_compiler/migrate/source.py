"""What ``fraiseql migrate`` applies: the committed build, verified, and the user's own migrations folder.

The build is applied as reviewed: every file must hash to what the manifest records, and every object block
(cut at its marker) to the object's hash. A tampered or stale build is refused with how to rebuild it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraiseql_compiler.emit.objects import object_hash, split_blocks
from fraiseql_compiler.manifest import MANIFEST_FILE as MANIFEST
from fraiseql_compiler.migrate.errors import refused

_USER_FILE = re.compile(r"^(\d+)[_-].+\.sql$")
_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_TRANSACTION_CONTROL = re.compile(
    r"(BEGIN|COMMIT|ROLLBACK|END|ABORT|START\s+TRANSACTION|PREPARE\s+TRANSACTION|COMMIT\s+PREPARED)\b", re.I
)


@dataclass(frozen=True)
class Desired:
    """One object of the build."""

    kind: str
    name: str
    sql: str
    hash: str
    drop: str | None
    depends_on: tuple[str, ...]
    file: str  # relative to the build directory
    line: int  # of the block's first line in the file
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class UserMigration:
    """A file of the user's migrations folder: applied once, in order, before the generated objects."""

    name: str  # the file name
    sql: str
    checksum: str
    path: Path


@dataclass(frozen=True)
class Settings:
    """[migrate] of fraiseql.toml, as the build recorded it (the manifest's ``config.migrate``)."""

    migrations: str = "db/migrations"
    wait_seconds: float = 60.0
    lock_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 300.0
    claims_key_env: str = "FRAISEQL_CLAIMS_KEY"  # [security] claims_key_env: the key migrate installs


@dataclass(frozen=True)
class Build:
    objects: tuple[Desired, ...]
    user: tuple[UserMigration, ...]
    compiler_version: str
    manifest_hash: str
    roles: dict[str, str]  # role key → name
    default_schema: str
    directory: Path
    settings: Settings = Settings()


def checksum(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise refused("FQL400", f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise refused("FQL400", f"{path}:{line}: not UTF-8 (byte {exc.start})", "save the file as UTF-8") from None


def load_build(directory: Path, root: Path | None) -> Build:
    """The build in ``directory`` (its manifest and SQL files), checked file by file and object by object, with
    the user migrations of the project in ``root`` (the folder [migrate] migrations names; none without
    ``root``)."""
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise refused(
            "FQL400",
            f"no build in {directory}: {MANIFEST} is missing",
            "run `fraiseql build` first (or `fraiseql migrate --build`)",
        )
    data = json.loads(_read(manifest_path))
    stale = "rebuild it with `fraiseql build` and commit the result (or run `fraiseql migrate --build`)"
    blocks: dict[str, dict[str, tuple[str, int]]] = {}
    for path, expected in sorted(data.get("artifacts", {}).items()):
        if not path.endswith(".sql"):
            continue
        text = _read(directory / path)
        if checksum(text) != expected:
            raise refused("FQL400", f"{path} differs from what the manifest records (edited, or a stale build)", stale)
        blocks[path] = {name: (sql, line) for _, name, sql, line in split_blocks(text)}
    objects = []
    for entry in data.get("objects", []):
        sql, line = blocks.get(entry["file"], {}).get(entry["name"], (None, 0))
        if sql is None or object_hash(sql) != entry["hash"]:
            raise refused("FQL400", f"{entry['file']}: the object {entry['name']} does not match the manifest", stale)
        objects.append(
            Desired(
                kind=entry["kind"],
                name=entry["name"],
                sql=sql,
                hash=entry["hash"],
                drop=entry.get("drop"),
                depends_on=tuple(entry.get("depends_on", ())),
                file=entry["file"],
                line=line,
                details=entry.get("details"),
            )
        )
    config = data["config"]
    roles = data["database"]["roles"]
    recorded = config.get("migrate") or {}
    settings = Settings(
        migrations=str(recorded.get("migrations", Settings.migrations)),
        wait_seconds=float(recorded.get("wait_seconds", Settings.wait_seconds)),
        lock_timeout_seconds=float(recorded.get("lock_timeout_seconds", Settings.lock_timeout_seconds)),
        statement_timeout_seconds=float(recorded.get("statement_timeout_seconds", Settings.statement_timeout_seconds)),
        claims_key_env=str(config.get("security", {}).get("claims_key_env", Settings.claims_key_env)),
    )
    return Build(
        objects=tuple(objects),
        user=user_migrations(root / settings.migrations) if root is not None else (),
        compiler_version=data["compiler"]["version"],
        manifest_hash=data["content_hash"],
        roles=dict(roles),
        default_schema=config["database"]["schema"],
        directory=directory,
        settings=settings,
    )


def user_migrations(folder: Path) -> tuple[UserMigration, ...]:
    """The ``NNNN_name.sql`` files of ``folder``, by number (two files with one number are refused)."""
    if not folder.is_dir():
        return ()
    found: dict[int, UserMigration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _USER_FILE.match(path.name)
        if match is None:
            raise refused(
                "FQL400",
                f"{path}: a migration file is named NNNN_description.sql (e.g. 0001_base_tables.sql)",
                "rename it: the number orders the migrations",
            )
        number = int(match.group(1))
        if number in found:
            raise refused(
                "FQL402",
                f"{found[number].name} and {path.name} have the same number {number}",
                "two branches each added a migration: renumber one of them",
            )
        text = _read(path)
        _no_transaction_control(path, text)
        found[number] = UserMigration(path.name, text, checksum(text), path)
    return tuple(found[n] for n in sorted(found))


def _no_transaction_control(path: Path, text: str) -> None:
    """Migrate runs everything in one transaction: a COMMIT of yours would end it half-way."""
    from fraiseql_compiler.migrate.statements import split

    for statement, line in split(text):
        body = statement[_COMMENTS.match(statement).end() :]  # type: ignore[union-attr]
        if _TRANSACTION_CONTROL.match(body):
            word = body.split(None, 1)[0].rstrip(";").upper()
            raise refused(
                "FQL400",
                f"{path}:{line + 1}: {word}: fraiseql migrate runs your migrations and the build in one "
                "transaction, which a migration may not begin or end",
                "remove the transaction control (everything is atomic already); a statement that cannot run in a "
                "transaction (CREATE INDEX CONCURRENTLY) belongs outside migrate",
            )
