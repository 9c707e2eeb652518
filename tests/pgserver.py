"""Find (or start) a PostgreSQL 15+ server for the test suite.

Order of preference:

1. ``FRAISEQL_TEST_DATABASE_URL`` -- a libpq URL to an existing database on a
   server where the role may CREATE DATABASE.  A configured URL that does not
   work is an error; we never silently fall back to something else.
2. A server on ``127.0.0.1:5432`` (as ``postgres``, then as the OS user).
3. A throwaway cluster started from local server binaries (``initdb`` +
   ``pg_ctl``), removed again at the end of the session.

If none is usable, :class:`NoPostgreSQL` is raised with a single-line message.
Only the standard library and psycopg 3 are used.
"""

from __future__ import annotations

import atexit
import getpass
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ENV_VAR = "FRAISEQL_TEST_DATABASE_URL"
MIN_VERSION_NUM = 150000
LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 5432
DB_PREFIX = "fqltest_"
NO_PG_MESSAGE = (
    f"No PostgreSQL available: set {ENV_VAR}, start a server on {LOCAL_HOST}:{LOCAL_PORT}, "
    "or install PostgreSQL 15+ server binaries (e.g. apt-get install postgresql)."
)

# Only names we generated may ever be dropped: the env var may point at a real server.
_TEST_DB_RE = re.compile(rf"^{DB_PREFIX}[0-9a-f]+$")
# Unprivileged accounts tried (in order) for running a cluster when we are root.
_UNPRIVILEGED_USERS = ("nobody", "postgres", "daemon")


class NoPostgreSQL(Exception):
    """No usable PostgreSQL server; ``str()`` is always exactly one line."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


def _one_line(text: str) -> str:
    """Collapse whitespace (including newlines from server errors) to single spaces."""
    return " ".join(str(text).split())


def _connect(url: str, timeout: int, **kwargs: object) -> psycopg.Connection:
    """Connect with a default ``connect_timeout`` unless the URL sets its own."""
    if "connect_timeout" not in conninfo_to_dict(url):
        kwargs.setdefault("connect_timeout", timeout)
    return psycopg.connect(url, **kwargs)  # type: ignore[arg-type]


def _describe(url: str) -> str:
    """``user@host:port/dbname`` for messages -- never includes a password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "<unparsable URL>"
    user = params.get("user", "")
    host = params.get("host", "<default host>")
    port = params.get("port", "5432")
    dbname = params.get("dbname", "")
    return f"{user + '@' if user else ''}{host}:{port}/{dbname}"


def _format_version(version_num: int) -> str:
    """150020 -> '15.20', 90624 -> '9.6.24'."""
    if version_num >= 100000:
        return f"{version_num // 10000}.{version_num % 10000}"
    return f"{version_num // 10000}.{version_num // 100 % 100}.{version_num % 100}"


def _server_facts(conn: psycopg.Connection) -> tuple[int, bool]:
    """Return (server_version_num, role may create databases)."""
    row = conn.execute(
        "SELECT current_setting('server_version_num')::int,"
        " coalesce((SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user), false)"
    ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


@dataclass
class _Cluster:
    """A throwaway cluster we started; :meth:`stop` is idempotent."""

    bindir: Path
    tempdir: Path
    run_as: str | None
    port: int
    stopped: bool = False

    @property
    def datadir(self) -> Path:
        return self.tempdir / "data"

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if (self.datadir / "postmaster.pid").exists():
            _run_pg_tool(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                self.run_as,
                self.tempdir,
                check=False,
            )
        shutil.rmtree(self.tempdir, ignore_errors=True)


@dataclass
class PgServer:
    """A reachable PostgreSQL server on which the tests may create databases."""

    admin_url: str
    version: int  # server_version_num, e.g. 150020
    cluster: _Cluster | None = field(default=None, repr=False)
    _admin: psycopg.Connection | None = field(default=None, repr=False)

    @property
    def tempdir(self) -> Path | None:
        """Directory of the throwaway cluster, or None for an external server."""
        return self.cluster.tempdir if self.cluster else None

    def admin(self) -> psycopg.Connection:
        """The (lazily re-opened) autocommit admin connection."""
        if self._admin is None or self._admin.closed or self._admin.broken:
            self._admin = _connect(self.admin_url, 10, autocommit=True)
        return self._admin

    def database_url(self, dbname: str) -> str:
        """The admin URL with its database replaced by ``dbname``."""
        parts = urlsplit(self.admin_url)
        if parts.scheme in ("postgresql", "postgres"):
            return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
        # A key=value DSN (not a URL): keep that form.
        return make_conninfo(self.admin_url, dbname=dbname)

    def create_database(self) -> str:
        """Create an empty ``fqltest_<hex>`` database and return its URL."""
        name = f"{DB_PREFIX}{secrets.token_hex(8)}"
        # template0 + C locale: nothing leaks in from template1 and collation is the
        # same on every machine (and matches the throwaway cluster's --locale=C).
        self.admin().execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(sql.Identifier(name))
        )
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, terminating its sessions."""
        name = conninfo_to_dict(url).get("dbname", "")
        if not _TEST_DB_RE.match(str(name)):
            raise ValueError(f"refusing to drop {name!r}: not a test database ({DB_PREFIX}<hex>)")
        self.admin().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def database_exists(self, url_or_name: str) -> bool:
        """Whether a database (given by name or URL) exists on this server."""
        name = url_or_name
        if "://" in url_or_name or "=" in url_or_name:
            name = str(conninfo_to_dict(url_or_name).get("dbname", ""))
        row = self.admin().execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the admin connection and stop the throwaway cluster, if we own one."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.cluster is not None:
            self.cluster.stop()

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- locating a server -------------------------------------------------------


def _server_from_env(url: str) -> PgServer:
    """Use the configured URL or raise -- a broken configuration must be loud."""
    where = f"{ENV_VAR} ({_describe(url)})"
    try:
        with _connect(url, 5, autocommit=True) as conn:
            version, can_create = _server_facts(conn)
    except psycopg.Error as exc:
        raise NoPostgreSQL(f"{where} is set but unusable: {exc}") from exc
    if version < MIN_VERSION_NUM:
        raise NoPostgreSQL(
            f"{where} points to PostgreSQL {_format_version(version)}; version 15 or later is required."
        )
    if not can_create:
        raise NoPostgreSQL(f"{where} is set but its role may not CREATE DATABASE.")
    return PgServer(admin_url=url, version=version)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _local_users() -> list[str]:
    users = ["postgres"]
    try:
        me = getpass.getuser()
    except (KeyError, OSError):  # no login name in env and no passwd entry
        me = ""
    if me and me not in users:
        users.append(me)
    return users


def _probe_local_server(notes: list[str]) -> PgServer | None:
    """A usable server on LOCAL_HOST:LOCAL_PORT, or None (with a note if one is there but unusable)."""
    if not _port_open(LOCAL_HOST, LOCAL_PORT):
        return None  # nothing listening: not worth mentioning
    problems: list[str] = []
    for user in _local_users():
        url = f"postgresql://{quote(user, safe='')}@{LOCAL_HOST}:{LOCAL_PORT}/postgres"
        try:
            with _connect(url, 2, autocommit=True) as conn:
                version, can_create = _server_facts(conn)
        except psycopg.Error as exc:
            problems.append(f"as {user}: {_one_line(str(exc))}")
            continue
        if version < MIN_VERSION_NUM:
            notes.append(
                f"{LOCAL_HOST}:{LOCAL_PORT} runs PostgreSQL {_format_version(version)}; "
                "15 or later is required"
            )
            return None
        if not can_create:
            problems.append(f"as {user}: role may not CREATE DATABASE")
            continue
        return PgServer(admin_url=url, version=version)
    notes.append(f"{LOCAL_HOST}:{LOCAL_PORT} is not usable ({'; '.join(problems)})")
    return None


def _major_from_dirname(path: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version>/bin ('9.6' < '15' < '16')."""
    try:
        return tuple(int(p) for p in path.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_bindir() -> Path | None:
    """A directory holding ``initdb`` and ``pg_ctl``: ``pg_config --bindir``, else the newest Debian one."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_from_dirname, reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return bindir
    return None


def find_server() -> PgServer:
    """Find a PostgreSQL 15+ server (see the module docstring) or raise NoPostgreSQL."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return _server_from_env(url)
    notes: list[str] = []
    server = _probe_local_server(notes)
    if server is not None:
        return server
    bindir = find_bindir()
    if bindir is not None:
        return start_throwaway_cluster(bindir)
    message = NO_PG_MESSAGE
    if notes:
        message += " (" + "; ".join(notes) + ")"
    raise NoPostgreSQL(message)


# --- throwaway cluster ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])


def _unprivileged_user() -> str:
    for name in _UNPRIVILEGED_USERS:
        try:
            if pwd.getpwnam(name).pw_uid != 0:
                return name
        except KeyError:
            continue
    raise NoPostgreSQL(
        "No PostgreSQL available: running as root and no unprivileged user "
        f"({', '.join(_UNPRIVILEGED_USERS)}) exists to run a throwaway cluster."
    )


def _traversable_by_all(path: Path) -> bool:
    """Every directory up to ``path`` is world-executable (so another user can reach it)."""
    for part in [path, *path.parents]:
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _tool_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGOPTIONS, ...) must not steer our private cluster.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run_pg_tool(
    cmd: list[str], run_as: str | None, cwd: Path, *, check: bool = True, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, as ``run_as`` (via runuser, else su) when given."""
    tool = Path(cmd[0]).name
    if run_as is not None:
        if shutil.which("runuser"):
            cmd = ["runuser", "-u", run_as, "--", *cmd]
        else:
            cmd = ["su", "-s", "/bin/sh", run_as, "-c", shlex.join(cmd)]
    result = subprocess.run(
        cmd, cwd=cwd, env=_tool_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise RuntimeError(f"{tool} failed: {output[-1] if output else f'exit {result.returncode}'}")
    return result


def _binaries_major(bindir: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(bindir / "initdb"), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def _log_tail(logfile: Path) -> str:
    try:
        lines = [line for line in logfile.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def start_throwaway_cluster(bindir: Path) -> PgServer:
    """initdb + start a private cluster on a free 127.0.0.1 port; stopped at exit or by ``close()``."""
    bindir = Path(bindir)
    fail = f"No PostgreSQL available: could not start a throwaway cluster from {bindir}"
    major = _binaries_major(bindir)
    if major is not None and major < 15:
        raise NoPostgreSQL(f"{fail}: its binaries are PostgreSQL {major}; 15 or later is required.")

    # initdb refuses to run as root, so as root the cluster belongs to an unprivileged user.
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    parent: str | None = None
    if run_as is not None and not _traversable_by_all(Path(tempfile.gettempdir())):
        parent = "/tmp"
    tempdir = Path(tempfile.mkdtemp(prefix="fqltest-pg-", dir=parent))
    cluster = _Cluster(bindir=bindir, tempdir=tempdir, run_as=run_as, port=0)
    atexit.register(cluster.stop)  # also covers a session that dies before the finalizer
    try:
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(tempdir, entry.pw_uid, entry.pw_gid)
        _run_pg_tool(
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.datadir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
            tempdir,
        )
        logfile = tempdir / "postgres.log"
        last_error = ""
        for _attempt in range(3):  # the free port may be taken before the postmaster binds it
            cluster.port = _free_port()
            options = (
                f"-p {cluster.port} -c listen_addresses={LOCAL_HOST} "
                f"-c unix_socket_directories={shlex.quote(str(tempdir))} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = _run_pg_tool(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(cluster.datadir),
                    "-l",
                    str(logfile),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                run_as,
                tempdir,
                check=False,
            )
            if result.returncode == 0:
                break
            last_error = _log_tail(logfile) or result.stderr.strip() or f"pg_ctl exit {result.returncode}"
        else:
            raise RuntimeError(last_error)

        url = f"postgresql://postgres@{LOCAL_HOST}:{cluster.port}/postgres"
        with _connect(url, 10, autocommit=True) as conn:
            version, _ = _server_facts(conn)
        if version < MIN_VERSION_NUM:
            raise RuntimeError(f"server is PostgreSQL {_format_version(version)}; 15 or later is required")
    except NoPostgreSQL:
        cluster.stop()
        raise
    except (OSError, RuntimeError, subprocess.SubprocessError, psycopg.Error) as exc:
        cluster.stop()
        raise NoPostgreSQL(f"{fail}: {exc}") from exc
    return PgServer(admin_url=url, version=version, cluster=cluster)
