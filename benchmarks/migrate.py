"""``fraiseql migrate`` as a user runs it: the real CLI, cold, against a real PostgreSQL.

Two projects, each in a throwaway database ``fqlbench_<hex>`` of the server given by ``--database-url``
(dropped at the end unless ``--keep``):

* ``examples/blog`` (as committed: its build and ``db/migrations/``): the first ``fraiseql migrate`` of an
  empty database, then ``--runs`` times an up-to-date ``fraiseql migrate --check`` (target: <= 300 ms,
  process start included, one round trip to the database) and an up-to-date ``fraiseql migrate``;
* a generated schema of ``--types`` types (default 1,000; ``build_scale.generate(N, 2N)``: N table-backed types
  embedding each other, N row-filtered queries, N mutations), with a user migration
  ``db/migrations/0001_tables.sql`` that creates its N tables and the N ``fn_m*`` functions the mutations
  call. Built once (untimed), then timed: the first ``fraiseql migrate`` (the tables and functions of the
  user migration, then every generated object: ~5N objects), an up-to-date ``migrate --check``, and after
  one row filter changed and the schema rebuilt, the ``migrate`` that re-creates that one query.

Every run is a fresh subprocess: interpreter start, imports, reading and verifying the build, the database
work and the output (captured). Wall time around ``subprocess.run``. The check's round trips are counted
from the server's side: ``pg_stat_database`` transactions of the database, read from another database before
and after one run (each statement of an autocommit session is one transaction), less those of a bare
connection (a backend's start runs one). Prints figures and verdicts; asserts nothing.

    python benchmarks/migrate.py [--types 1000] [--runs 7] [--database-url URL] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from build_scale import fraiseql_command, generate  # noqa: E402

TARGET_CHECK = 0.300  # s, median cold `fraiseql migrate --check`, up to date


def url_for(admin_url: str, database: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": database})


@contextmanager
def throwaway_database(admin_url: str, keep: bool) -> Iterator[str]:
    import psycopg

    name = f"fqlbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield url_for(admin_url, name)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def run(args: list[str], cwd: Path, expect: set[int] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*fraiseql_command(), *args], cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (expect or {0}):
        sys.exit(f"`fraiseql {' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed, done.stdout


def transactions(admin_url: str, database: str) -> int:
    """The database's committed and rolled-back transactions, read from another database (so that the
    reading adds nothing to the count)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
        return int(row[0]) if row else 0


def round_trips(admin_url: str, url: str, args: list[str], cwd: Path) -> int:
    """Statements the server ran in the database for one `fraiseql …` run (each statement of an autocommit
    session is a transaction): the difference of its transaction count, read before and after, less what a
    bare connection adds (a backend's start runs one transaction)."""
    from psycopg.conninfo import conninfo_to_dict

    database = str(conninfo_to_dict(url)["dbname"])
    import psycopg

    def counted(action: Any) -> int:
        time.sleep(1.1)  # a backend reports its counts when it exits, or at most every second
        before = transactions(admin_url, database)
        action()
        time.sleep(1.1)
        return transactions(admin_url, database) - before

    connecting = counted(lambda: psycopg.connect(url).close())  # the backend's start is a transaction too
    return counted(lambda: run(args, cwd)) - connecting


def timed(label: str, args: list[str], cwd: Path, runs: int, target: float | None = None) -> float:
    times = [run(args, cwd)[0] for _ in range(runs)]
    median = statistics.median(times)
    verdict = ""
    if target is not None:
        verdict = f"   target <= {target * 1000:.0f} ms: {'met' if median <= target else 'MISSED'}"
    print(f"  {label:<44} median {median * 1000:7.0f} ms   min {min(times) * 1000:7.0f} ms{verdict}")
    return median


def user_migration(types: int, operations: int) -> str:
    lines = ["-- the tables and functions behind the generated schema (benchmarks/migrate.py)"]
    for i in range(types):
        parent = f",\n    parent_id uuid REFERENCES public.tb_t{i - 1} (id)" if i else ""
        lines.append(
            f"CREATE TABLE public.tb_t{i} (\n    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
            "    name text NOT NULL,\n"
            f"    count integer NOT NULL DEFAULT 0,\n    created_at timestamptz NOT NULL DEFAULT now(),\n"
            f"    note text{parent}\n);"
        )
    for j in range(1, operations, 2):
        i = j % types
        lines.append(
            f"CREATE FUNCTION public.fn_m{j}(caller_id text, args jsonb) RETURNS public.tb_t{i}\n"
            f"LANGUAGE sql AS $$ INSERT INTO public.tb_t{i} (id, name, count) VALUES "
            f"(gen_random_uuid(), args->>'name', coalesce((args->>'count')::int, 1)) RETURNING * $$;"
        )
    return "\n".join(lines) + "\n"


def blog(admin_url: str, runs: int, keep: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "blog"
        shutil.copytree(ROOT / "examples" / "blog", project)
        with throwaway_database(admin_url, keep) as url:
            db = ["--database", url]
            first, _ = run(["migrate", *db], project)
            print("examples/blog (its committed build and db/migrations/):")
            print(f"  {'first migrate of an empty database':<44} {first * 1000:13.0f} ms")
            timed("migrate --check, up to date", ["migrate", "--check", *db], project, runs, TARGET_CHECK)
            timed("migrate, up to date (nothing to apply)", ["migrate", *db], project, runs)
            trips = round_trips(admin_url, url, ["migrate", "--check", *db], project)
            print(f"  {'statements the server ran for one --check':<44} {trips:10d}   target: 1")


def scale(admin_url: str, types: int, runs: int, keep: bool) -> None:
    operations = 2 * types
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        schema = generate(types, operations)
        (project / "schema.py").write_text(schema)
        (project / "fraiseql.toml").write_text('[schema]\nmodules = ["schema.py"]\n')
        (project / "db" / "migrations").mkdir(parents=True)
        (project / "db" / "migrations" / "0001_tables.sql").write_text(user_migration(types, operations))
        run(["build"], project)
        objects = len(__import__("json").loads((project / "build" / "fraiseql.manifest.json").read_text())["objects"])
        with throwaway_database(admin_url, keep) as url:
            db = ["--database", url]
            print(f"generated schema: {types} types, {types} queries, {types} mutations ({objects} objects):")
            first, out = run(["migrate", *db], project)
            print(
                f"  {'first migrate (user migration + objects)':<44} {first * 1000:13.0f} ms   ({out.splitlines()[-1]})"
            )
            timed("migrate --check, up to date", ["migrate", "--check", *db], project, max(3, runs // 2))
            (project / "schema.py").write_text(schema.replace("name <> 'n0'", "name <> 'changed'", 1))
            run(["build"], project)
            changed, out = run(["migrate", *db], project)
            print(
                f"  {'migrate after one row filter changed':<44} {changed * 1000:13.0f} ms   ({out.splitlines()[-1]})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--types", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FRAISEQL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a role that may create databases (default: $FRAISEQL_TEST_DATABASE_URL or the local postgres)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway databases")
    ns = parser.parse_args()
    print(f"fraiseql: {' '.join(fraiseql_command())}   python {sys.version.split()[0]}")
    blog(ns.database_url, ns.runs, ns.keep)
    scale(ns.database_url, ns.types, ns.runs, ns.keep)


if __name__ == "__main__":
    main()
