"""Paged list queries through the ``api`` views, as the reference executor sends them, against the same pages
written by hand without row-level security.

Builds a variant of ``examples/blog`` into a temporary directory: a copy of the example (its ``schema.py``,
``fraiseql.toml`` and ``db/migrations/``, not its ``build/``, which others may be rebuilding) with one query
appended to ``schema.py``, so that both paging styles exist behind the same guard (``posts`` pages by offset;
the example's own ``feed`` is keyset too, but public)::

    @fraiseql.query(sql_source="v_post", order_by="-created_at", paging="keyset")
    @authenticated
    def member_feed(first: int = 20) -> list["Post"]: ...

It is built in memory (``fraiseql_compiler.api.analyze``/``emit`` over ``resolve_project``, as
``tests/pg/blogdb.py`` does). Then a throwaway database ``fqlbench_<hex>`` on the server given by
``--database-url`` gets the copy's migrations, every generated ``sql/`` file in name order, and the indexes a
team adds for the orders and filters it declares (the blog's tables have neither): ``tb_post (created_at)``
for the order, and for case 4 ``tb_post (created_at) WHERE published``, a partial index on the order column
for the rows of the ``where`` (a composite index
``(published, created_at)`` serves the same rows, but the planner does not pick it: its correlation is that
of ``published``, so it costs its heap reads as random). It loads ``--rows`` posts over 1,000 users (half
published, one a minute back from now, so ``created_at`` is unique) and comments: 1 to 4 on every one of the
newest 25,000 posts (so every page timed here has non-empty nested lists), one on ~3% of the older ones;
then ``VACUUM ANALYZE``.

Every case times a pair of statements:

* with RLS: the exact statement the reference executor sends (built by the calls ``execute`` makes:
  ``find_operation``, ``bind_arguments``, ``page_request``, ``query_statement``, with the variables a caller
  passes), with its bound parameters, in a transaction with ``SET LOCAL ROLE fraiseql_authenticated``,
  ``set_config('request.jwt.claims', <one user's claims>, true)`` and
  ``set_config('request.jwt.claims_proof', <their proof>, true)`` (docs/claims-proof.md: the HMAC
  ``fraiseql_compiler.claims_proof.prove`` computes with a key generated for the run, installed in
  ``fraiseql.tb_claims_key`` after the generated SQL, as ``fraiseql migrate`` does, and given to the
  executor's walk in its environment): the API view's guard, the helpers (each checking the proof) and the
  tables' policies all apply;
* without RLS: what a backend engineer writes by hand, as the superuser (who bypasses RLS), on
  ``public.v_post`` or the tables, with the visibility rule of ``api.posts`` written out (``published OR
  author_id = '<user id>'``), the same ``ORDER BY``, ``LIMIT``/``OFFSET`` or keyset condition, the same
  columns, and bound parameters like the runtime's.

The cases, all as the caller shape ``posts(orderBy: [{createdAt: DESC}])`` (passed explicitly, so the
statement does not depend on the example's default order, which is its key ``id``) or ``memberFeed``
(ordered the same by default), 20 rows a page:

1. ``posts`` first page: ``api.posts ORDER BY created_at DESC, id LIMIT 20`` (index on ``created_at``),
   against the same over ``public.v_post``;
2. ``memberFeed`` page 500 (rows 9,981 to 10,000) by keyset. The script walks there first: 499 requests through
   ``fraiseql_compiler.executor.run.execute`` itself (as the authenticator role, with a token minted by the
   executor's ``mint``, as its login mints them), each passing the ``endCursor`` of the previous page as
   ``after``; the last cursor is checked against ``encode_cursor`` of the 9,980th visible row's values. The
   timed statement is the one that cursor yields (``LIMIT 21``: the extra row answers ``hasNextPage``), and
   the page it returns is checked against the page ``execute`` returned;
3. ``posts(offset: 9980)``, the same page by offset: reported, not in the verdict. Offset paging walks and
   discards 9,980 visible rows; the executor reads such a page in two steps (the order and key columns,
   skipped and limited, then the JSON of those 20 rows by key), against the same deferred join by hand.
   Keyset is still the answer for deep pages; its rows are checked to be case 2's. 3n, for information, is
   the one-step statement (``… ORDER BY … LIMIT 20 OFFSET 9980`` over ``api.posts``), which builds the JSON
   of every skipped row too (the subplans of ``author`` and ``comments`` run 10,000 times);
4. ``posts(where: {published: {eq: true}})``, 20 rows (the partial index above serves it);
5. ``count(*)`` over the relation the executor reads (``api.posts``, from the manifest; the reference
   executor has no count statement) against ``count(*)`` of ``tb_post`` with the predicate;
6. nested object and nested list: case 1's statement (its JSON holds ``author`` and ``comments``, each
   comment its ``author``), against JSON written by hand from the tables (``jsonb_build_object`` with the
   same correlated subqueries), not through ``v_post``.

Each side gets one warm-up run, then ``--runs`` timed runs (the sides alternate, so drift hits both); the
wall time is measured around execute + fetch on the client, with unprepared statements (psycopg's
``prepare_threshold=None``: each run is planned with its parameter values). JSON is fetched as text (no
decoding on the client). Both sides must return the same rows in the same order: the script compares them
in full, and prints the row count and the total length of the JSON text. Before the table: the plans
(``EXPLAIN (ANALYZE)``) of cases 1 and 2 as the user, the lines that show the JSON is built for the rows of
the page only (the subplans of ``author`` and ``comments`` run once per row returned: ``loops=20``, or 21
for a keyset page, not once per visible row), and how each side of every case reads ``tb_post``. The table
gives best and median, the ratio of the best times, and a verdict against the target ratio <= 1.3 for
cases 1, 2, 4, 5 and 6. ``--explain`` prints every plan.

    python benchmarks/paging.py [--rows 200000] [--runs 7] [--database-url URL] [--keep] [--explain]
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.string import TextLoader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the compiler and executor of this working tree

from fraiseql_compiler import claims_proof  # noqa: E402
from fraiseql_compiler.api import analyze, emit  # noqa: E402
from fraiseql_compiler.executor.paging import encode_cursor, page_request, split_variables  # noqa: E402
from fraiseql_compiler.executor.run import (  # noqa: E402
    Request,
    bind_arguments,
    execute,
    find_operation,
    query_statement,
)
from fraiseql_compiler.executor.tokens import mint  # noqa: E402
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest  # noqa: E402
from fraiseql_compiler.manifest.models import QueryEntry  # noqa: E402
from fraiseql_compiler.project import resolve_project  # noqa: E402

BLOG = ROOT / "examples" / "blog"
TARGET = 1.3
USERS = 1000
SCOPES = ["read:posts", "write:posts"]
PAGE = 20  # the queries' default page size
PAGE_NO = 500  # the deep page of cases 2 and 3
DENSE = 25_000  # the newest posts, each with 1 to 4 comments
SECRET = "bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123"
ROLE = "fraiseql_authenticated"  # the API role the timed statements run as
# The claims key of this run (docs/claims-proof.md): installed in the database after the generated SQL, and
# proving every request's claims, the timed ones' and the executor's (its environment holds it).
KEY = claims_proof.parse_key(claims_proof.new_key())
FEED_OP = "memberFeed"
FEED = '''

@fraiseql.query(sql_source="v_post", order_by="-created_at", paging="keyset")
@authenticated
def member_feed(first: int = 20) -> list["Post"]:
    """Posts newest first, a page at a time, for signed-in callers."""
'''
# The indexes a team adds for the orders and filters it declares (the blog's tables have neither): one on the
# order column (cases 1, 2, 3, 6), and a partial one for `where: {published: {eq: true}}` in that order (case 4).
BENCH_INDEXES = (
    "CREATE INDEX IF NOT EXISTS tb_post_created_at_idx ON public.tb_post (created_at)",
    "CREATE INDEX tb_post_published_created_at_idx ON public.tb_post (created_at) WHERE published",
)
Statement = tuple[str, list[Any]]


@dataclass
class Case:
    key: str
    label: str
    with_rls: Statement  # run as fraiseql_authenticated with the user's claims
    without_rls: Statement  # run as the superuser (bypasses RLS)
    target: bool = True  # counted in the verdict


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.times) * 1000

    @property
    def median(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def summary(self) -> str:
        """Row count and total JSON length, or the value of a one-value answer (count(*))."""
        if len(self.rows) == 1 and len(self.rows[0]) == 1 and not isinstance(self.rows[0][0], str):
            return str(self.rows[0][0])
        return f"{len(self.rows)} rows, {sum(len(r[0]) for r in self.rows)} chars"


# --- the build ----------------------------------------------------------------------------------------------


def build_variant(tmp: Path) -> tuple[Manifest, dict[str, str], Path]:
    """The blog with ``member_feed`` appended, built in memory: (manifest, artifacts by path, project)."""
    project = tmp / "blog"
    shutil.copytree(BLOG, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    with (project / "schema.py").open("a", encoding="utf-8") as fh:
        fh.write(FEED)
    artifacts = {a.path: a.content for a in emit(analyze(resolve_project(project)))}
    return Manifest.model_validate_json(artifacts[MANIFEST_FILE]), artifacts, project


def executor_statement(manifest: Manifest, operation: str, variables: dict[str, Any]) -> Statement:
    """The statement ``execute`` sends for ``operation`` with ``variables``, built by the same calls."""
    op = find_operation(manifest, operation)
    assert isinstance(op, QueryEntry) and op.paging is not None, f"{operation} is not a paged list query"
    args = bind_arguments(manifest, op, variables)
    page = page_request(manifest, op.paging, split_variables(op.paging, variables)[1])
    return query_statement(op, args, page)


# --- database lifecycle -------------------------------------------------------------------------------------


@contextmanager
def throwaway_database(admin_url: str, keep: bool) -> Iterator[str]:
    """Create ``fqlbench_<hex>``; drop it afterwards (even on error) unless ``keep``."""
    name = f"fqlbench_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'").format(
                sql.Identifier(name)
            )
        )
    url = make_conninfo(admin_url, dbname=name)
    try:
        yield url
    finally:
        if keep:
            print(f"\nkept database {name}: {url}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"\ndropped database {name}")


def apply_schema(conn: psycopg.Connection[Any], project: Path, artifacts: dict[str, str]) -> list[str]:
    """The copy's own migrations, then the generated SQL files in name order, then the run's claims key (as
    ``fraiseql migrate`` installs it), then the benchmark's indexes."""
    applied = []
    for path in sorted((project / "db" / "migrations").glob("*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))
        applied.append(str(path.relative_to(project)))
    for name in sorted(p for p in artifacts if p.startswith("sql/")):
        conn.execute(artifacts[name])
        applied.append(f"build/{name}")
    kid, _ = claims_proof.install(conn, KEY)
    applied.append(f"claims key {kid} (fraiseql.tb_claims_key)")
    for index in BENCH_INDEXES:
        conn.execute(index)
    conn.commit()
    return applied


def load_data(conn: psycopg.Connection[Any], rows: int) -> str:
    """Set-based load, then VACUUM ANALYZE; returns the id of the user the benchmark acts as."""
    conn.execute(
        """
        INSERT INTO public.tb_user (email, name, scopes)
        SELECT 'user' || g || '@bench.example', 'User ' || g, %s::text[]
        FROM generate_series(1, %s) AS g
        """,
        (SCOPES, USERS),
    )
    conn.execute(
        """
        INSERT INTO public.tb_post (author_id, title, body, published, created_at)
        SELECT u.ids[1 + floor(random() * u.n)::int],
               'Post ' || g,
               repeat('lorem ipsum dolor sit amet ', 2 + mod(g, 8)),
               random() < 0.5,
               now() - g * interval '1 minute'
        FROM generate_series(1, %s) AS g,
             (SELECT array_agg(id) AS ids, count(*) AS n FROM public.tb_user WHERE email LIKE '%%@bench.example')
                 AS u
        """,
        (rows,),
    )
    # The newest DENSE posts (cases 1, 2, 3, 4, 6 read among them) get 1 to 4 comments each, the others
    # one comment ~3% of the time.
    conn.execute(
        """
        INSERT INTO public.tb_comment (post_id, author_id, body, created_at)
        SELECT p.id, u.ids[1 + floor(random() * u.n)::int], 'Comment ' || k || ' on ' || p.title,
               p.created_at + k * interval '1 second'
        FROM (SELECT id, title, created_at, row_number() OVER (ORDER BY created_at DESC) AS rank
              FROM public.tb_post) AS p
        CROSS JOIN LATERAL generate_series(1, CASE WHEN p.rank <= %s THEN 1 + mod(p.rank, 4)::int
                                                   WHEN random() < 0.03 THEN 1 ELSE 0 END) AS k,
             (SELECT array_agg(id) AS ids, count(*) AS n FROM public.tb_user) AS u
        """,
        (DENSE,),
    )
    conn.commit()
    conn.autocommit = True
    try:
        conn.execute("VACUUM ANALYZE")  # statistics, and a settled visibility map as in a live table
    finally:
        conn.autocommit = False
    row = conn.execute("SELECT id::text FROM public.tb_user WHERE email = 'user1@bench.example'").fetchone()
    conn.rollback()
    assert row is not None
    return str(row[0])


# --- measuring ----------------------------------------------------------------------------------------------


def claims(user: str) -> str:
    """Normalized claims as the runtime sets them (jti and iat pass through for the revocation check)."""
    return json.dumps({"sub": user, "scopes": SCOPES, "auth": "jwt", "jti": "bench-jti-1", "iat": int(time.time())})


@contextmanager
def session(conn: psycopg.Connection[Any], user: str | None) -> Iterator[psycopg.Connection[Any]]:
    """One request: a transaction as the runtime opens it (``user`` given) or as the superuser (None)."""
    with conn.transaction(force_rollback=True):
        if user is not None:
            text = claims(user)
            conn.execute(f"SET LOCAL ROLE {ROLE}")
            conn.execute(
                "SELECT set_config('request.jwt.claims', %s, true), set_config('request.jwt.claims_proof', %s, true)",
                (text, claims_proof.prove(KEY, ROLE, text)),
            )
        yield conn


def run_once(conn: psycopg.Connection[Any], stmt: Statement) -> tuple[float, list[tuple[Any, ...]]]:
    query, params = stmt
    t0 = time.perf_counter()
    rows = conn.execute(query, params).fetchall()
    return time.perf_counter() - t0, rows


def fetch(conn: psycopg.Connection[Any], stmt: Statement, user: str | None) -> list[tuple[Any, ...]]:
    with session(conn, user):
        return run_once(conn, stmt)[1]


def measure(conn: psycopg.Connection[Any], case: Case, user: str, runs: int) -> tuple[Timing, Timing]:
    sides = [(user, case.with_rls), (None, case.without_rls)]
    timings = (Timing(), Timing())
    for i in range(runs + 1):  # run 0 is the warm-up; the sides alternate so drift hits both
        for (as_user, stmt), timing in zip(sides, timings, strict=True):
            with session(conn, as_user):
                elapsed, timing.rows = run_once(conn, stmt)
            if i:
                timing.times.append(elapsed)
    return timings


def explain(conn: psycopg.Connection[Any], stmt: Statement, user: str | None) -> list[str]:
    query, params = stmt
    with session(conn, user):
        rows = conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {query}", params).fetchall()
    return [r[0] for r in rows]


def key_lines(plan: list[str]) -> list[str]:
    """The plan outside its SubPlans and InitPlans (order, limit, scan of tb_post, row filter), and of each
    SubPlan and InitPlan its header and the node under it, with its loops: how many rows got that part of
    their JSON built (or how often a helper ran)."""
    out: list[str] = []
    inside: list[int] = []  # the indentation of the (sub/init)plan headers we are in
    for i, line in enumerate(plan):
        text = line.rstrip()
        indent = len(text) - len(text.lstrip())
        while inside and indent <= inside[-1]:
            inside.pop()
        header = text.strip().startswith(("SubPlan", "InitPlan"))
        if header or not inside or (i and plan[i - 1].strip().startswith(("SubPlan", "InitPlan"))):
            out.append(text)
        if header:
            inside.append(indent)
    return [line for line in out if not line.strip().startswith(("Planning", "Execution"))]


def subplan_loops(plan: list[str]) -> list[int]:
    """The loops of the node under each outermost SubPlan (the post's author, its comments)."""
    headers = [
        (len(line) - len(line.lstrip()), i) for i, line in enumerate(plan[:-1]) if line.strip().startswith("SubPlan")
    ]
    top = min((indent for indent, _ in headers), default=0)
    loops = []
    for indent, i in headers:
        found = re.search(r"loops=(\d+)", plan[i + 1])
        if indent == top and found:
            loops.append(int(found[1]))
    return loops


def scan_lines(plan: list[str]) -> list[str]:
    """How each side reads tb_post: its scan node (index, rows read) and any Gather (parallel workers)."""
    keep = re.compile(r"on tb_post |Gather|Workers Launched|Rows Removed by Filter")
    return [line.strip() for line in key_lines(plan) if keep.search(line)]


# --- the walk to page 500 -----------------------------------------------------------------------------------


def walk(url: str, manifest: Manifest, user: str, pages: int) -> tuple[str, Any, float]:
    """``pages`` requests of ``memberFeed`` through the reference executor, each after the last one's endCursor;
    returns (the cursor after the last of them, the next page as ``execute`` answers it, seconds per request)."""
    environ = {
        manifest.config.auth.jwt.secret_env or "JWT_SECRET": SECRET,
        manifest.config.security.claims_key_env: base64.b64encode(KEY).decode(),  # the runtime proves with it
    }
    bearer = mint(manifest.config, sub=user, scopes=SCOPES, environ=environ)  # as the runtime's login mints it
    cursor: str | None = None
    with psycopg.connect(make_conninfo(url, user="fraiseql_authenticator"), autocommit=True) as conn:
        t0 = time.perf_counter()
        for _ in range(pages):
            variables: dict[str, Any] = {} if cursor is None else {"after": cursor}
            result = execute(conn, manifest, Request(FEED_OP, variables, bearer), environ)
            assert result["pageInfo"]["hasNextPage"], "ran out of posts before the deep page"
            cursor = result["pageInfo"]["endCursor"]
        per_request = (time.perf_counter() - t0) / pages
        assert cursor is not None
        page = execute(conn, manifest, Request(FEED_OP, {"after": cursor}, bearer), environ)
    return cursor, page, per_request


# --- the cases ----------------------------------------------------------------------------------------------

USER_JSON = "jsonb_build_object('id', {0}.id, 'email', {0}.email, 'name', {0}.name, 'createdAt', {0}.created_at)"
HAND_JSON = f"""jsonb_build_object(
        'id', p.id, 'title', p.title, 'body', p.body, 'published', p.published, 'authorId', p.author_id,
        'author', (SELECT {USER_JSON.format("u")} FROM public.tb_user AS u WHERE u.id = p.author_id),
        'comments', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                'id', c.id, 'body', c.body,
                'author', (SELECT {USER_JSON.format("cu")} FROM public.tb_user AS cu WHERE cu.id = c.author_id),
                'createdAt', c.created_at) ORDER BY c.id)
            FROM public.tb_comment AS c WHERE c.post_id = p.id), '[]'::jsonb),
        'createdAt', p.created_at)"""


def cases(manifest: Manifest, user: str, cursor: str, cursor_row: tuple[Any, Any]) -> list[Case]:
    visible = f"(v.published OR v.author_id = '{user}')"
    order = "ORDER BY v.created_at DESC, v.id"
    offset = (PAGE_NO - 1) * PAGE
    created_at, post_id = cursor_row
    newest = {"orderBy": [{"createdAt": "DESC"}]}  # posts ordered by the caller: whatever its default order
    posts = find_operation(manifest, "posts")
    assert isinstance(posts, QueryEntry)
    count_rls = f"SELECT count(*) FROM {posts.executes.relation} AS s"
    return [
        Case("1", "first page, ORDER BY … LIMIT 20", executor_statement(manifest, "posts", newest),
             (f"SELECT v.data FROM public.v_post AS v WHERE {visible} {order} LIMIT %s", [PAGE])),
        Case("2", f"keyset page {PAGE_NO} (memberFeed, after)",
             executor_statement(manifest, FEED_OP, {"after": cursor}),
             (f"SELECT v.data, jsonb_build_array(v.created_at, v.id)::text FROM public.v_post AS v"
              f" WHERE {visible} AND v.created_at <= %s::timestamptz"
              f" AND (v.created_at < %s::timestamptz OR (v.created_at = %s::timestamptz AND v.id > %s::uuid))"
              f" {order} LIMIT %s", [created_at, created_at, created_at, post_id, PAGE + 1])),
        Case("3", f"offset page {PAGE_NO} (OFFSET {offset})",
             executor_statement(manifest, "posts", {**newest, "offset": offset}),
             (f"SELECT v.data FROM (SELECT v.created_at, v.id FROM public.v_post AS v WHERE {visible} {order}"
              f" LIMIT %s OFFSET %s) AS p JOIN public.v_post AS v ON v.id = p.id ORDER BY p.created_at DESC, p.id",
              [PAGE, offset]),
             target=False),
        Case("3n", f"offset page {PAGE_NO}, one step (info)",
             ("SELECT s.data FROM api.posts AS s ORDER BY s.created_at DESC, s.id LIMIT %s OFFSET %s",
              [PAGE, offset]),
             (f"SELECT v.data FROM public.v_post AS v WHERE {visible} {order} LIMIT %s OFFSET %s", [PAGE, offset]),
             target=False),
        Case("4", "where published = true, LIMIT 20",
             executor_statement(manifest, "posts", {**newest, "where": {"published": {"eq": True}}}),
             (f"SELECT v.data FROM public.v_post AS v WHERE {visible} AND v.published = %s::boolean {order} LIMIT %s",
              [True, PAGE])),
        Case("5", "count(*) api.posts", (count_rls, []),
             (f"SELECT count(*) FROM public.tb_post AS v WHERE {visible}", [])),
        Case("6", "nested author + comments, hand JSON", executor_statement(manifest, "posts", newest),
             (f"SELECT {HAND_JSON} AS data FROM public.tb_post AS p WHERE (p.published OR p.author_id = '{user}')"
              f" ORDER BY p.created_at DESC, p.id LIMIT %s", [PAGE])),
    ]  # fmt: skip


def report(table: list[tuple[Case, Timing, Timing]], started: float) -> None:
    header = f"{'case':<42} {'with RLS (ms)':>19} {'without RLS (ms)':>19} {'ratio':>7}  rows (same both sides?)"
    print(header)
    print(f"{'':<42} {'best / median':>19} {'best / median':>19} {'(best)':>7}")
    print("-" * len(header))
    over = []
    for case, with_rls, without_rls in table:
        ratio = with_rls.best / without_rls.best
        same = "yes" if with_rls.rows == without_rls.rows else f"NO: without RLS {without_rls.summary}"
        print(
            f"{case.key + '. ' + case.label:<42} {with_rls.best:8.2f} / {with_rls.median:8.2f} "
            f"{without_rls.best:8.2f} / {without_rls.median:8.2f} {ratio:6.2f}x  {with_rls.summary} ({same})"
        )
        if case.target and (ratio > TARGET or with_rls.rows != without_rls.rows):
            over.append(f"{case.key} ({ratio:.2f}x)")
    checked = ", ".join(c.key for c, _, _ in table if c.target)
    print(f"\nverdict (cases {checked}; target ratio <= {TARGET}x on best times, same rows): ", end="")
    print(f"OVER TARGET: {', '.join(over)}" if over else "OK")
    by_key = {case.key: w for case, w, _ in table}
    print(
        f"keyset vs offset, page {PAGE_NO} with RLS (best): {by_key['2'].best:.2f} ms vs {by_key['3'].best:.2f} ms "
        f"({by_key['3'].best / by_key['2'].best:.0f}x)"
    )
    print(f"total time {time.perf_counter() - started:.1f} s")


# --- main ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="posts to load (default 200000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per statement, after 1 warm-up (default 7)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="do not drop the benchmark database")
    parser.add_argument("--explain", action="store_true", help="print the plan of both sides of every case")
    args = parser.parse_args()

    started = time.perf_counter()
    table: list[tuple[Case, Timing, Timing]] = []
    with tempfile.TemporaryDirectory(prefix="fqlbench_paging_") as tmp:
        manifest, artifacts, project = build_variant(Path(tmp))
        # prepare_threshold=None: plain statements every time, no server-side prepared plans after 5 runs
        with (
            throwaway_database(args.database_url, args.keep) as url,
            psycopg.connect(url, autocommit=False, prepare_threshold=None) as conn,
        ):
            conn.adapters.register_loader("jsonb", TextLoader)  # JSON as text: no decoding on the client
            t0 = time.perf_counter()
            applied = apply_schema(conn, project, artifacts)
            user = load_data(conn, args.rows)
            load_time = time.perf_counter() - t0
            stats = conn.execute(
                """
                SELECT (SELECT count(*) FROM public.tb_user), (SELECT count(*) FROM public.tb_post),
                       (SELECT count(*) FROM public.tb_post WHERE published),
                       (SELECT count(*) FROM public.tb_comment),
                       (SELECT count(*) FROM public.tb_post WHERE author_id = %s::uuid),
                       current_setting('server_version'), current_setting('jit'),
                       current_setting('max_parallel_workers_per_gather')
                """,
                (user,),
            ).fetchone()
            conn.rollback()
            assert stats is not None
            n_users, n_posts, n_published, n_comments, n_own, version, jit, workers = stats
            print(
                f"database {conninfo_to_dict(url).get('dbname')}: PostgreSQL {version}, jit={jit}, "
                f"max_parallel_workers_per_gather={workers}"
            )
            print(f"built examples/blog + query memberFeed (keyset) in {tmp}; applied: {', '.join(applied)}")
            print("benchmark indexes: " + "; ".join(BENCH_INDEXES))
            print(
                f"loaded in {load_time:.1f} s: {n_users} users, {n_posts} posts ({n_published} published), "
                f"{n_comments} comments (1-4 on each of the newest {DENSE}); VACUUM ANALYZE"
            )
            print(f"acting as user {user} ({n_own} own posts), scopes {SCOPES}, role fraiseql_authenticated")
            print(f"{args.runs} timed runs per statement after 1 warm-up; JSON fetched as text\n")

            # Page PAGE_NO of memberFeed: walk there through the executor, and check the cursor against the row's.
            last = (PAGE_NO - 1) * PAGE  # the last row of page PAGE_NO - 1
            row = conn.execute(
                f"""
                SELECT created_at, id, jsonb_build_array(created_at, id)::text FROM public.tb_post
                WHERE published OR author_id = '{user}' ORDER BY created_at DESC, id OFFSET %s LIMIT 1
                """,
                (last - 1,),
            ).fetchone()
            conn.rollback()
            assert row is not None
            cursor, deep_page, per_request = walk(url, manifest, user, PAGE_NO - 1)
            feed = find_operation(manifest, FEED_OP)
            assert isinstance(feed, QueryEntry) and feed.paging is not None
            order = page_request(manifest, feed.paging, {}).order
            computed = encode_cursor(order, row[2])
            print(
                f"walked {PAGE_NO - 1} pages of {FEED_OP} through execute() ({per_request * 1000:.2f} ms a request); "
                f"endCursor of page {PAGE_NO - 1} == encode_cursor(row {last}): {cursor == computed}"
            )

            all_cases = cases(manifest, user, cursor, (row[0], row[1]))
            plans = {c.key: explain(conn, c.with_rls, user) for c in all_cases if c.key in ("1", "2")}
            for case in all_cases:
                if case.key in plans:
                    print(f"\ncase {case.key} as the user: {case.with_rls[0]}")
                    print(f"  parameters: {case.with_rls[1]}")
                    print("  EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF), key lines:")
                    print("\n".join("    " + line for line in key_lines(plans[case.key])))
                    loops, rows = subplan_loops(plans[case.key]), PAGE + (case.key == "2")  # keyset: LIMIT 21
                    verdict = "once per row of the page" if loops and set(loops) == {rows} else f"NOT {rows} times"
                    print(f"  => JSON subplans (author, comments) ran {loops} times: {verdict}")
            print()

            for case in all_cases:
                table.append((case, *measure(conn, case, user, args.runs)))
                if args.explain:
                    for side, stmt, as_user in (("with RLS", case.with_rls, user), ("without", case.without_rls, None)):
                        print(f"--- {case.key} {side}: {stmt[0]}  {stmt[1]}")
                        print("\n".join("  " + line for line in explain(conn, stmt, as_user)))
            if args.explain:
                print()

            print("how each side reads tb_post (EXPLAIN ANALYZE; as the user | as the superuser):")
            for case in all_cases:
                sides = [scan_lines(explain(conn, stmt, as_user))
                         for stmt, as_user in ((case.with_rls, user), (case.without_rls, None))]  # fmt: skip
                print(f"  {case.key}. {'; '.join(sides[0])}\n  {'':<{len(case.key)}}  | {'; '.join(sides[1])}")
            print()

            by_key = {case.key: (w, wo) for case, w, wo in table}
            keyset_rows, offset_rows = by_key["2"][0].rows, by_key["3"][0].rows
            nodes = [json.loads(r[0]) for r in keyset_rows[:PAGE]]
            print(
                f"page {PAGE_NO}: keyset statement == execute()'s page: "
                f"{nodes == [e['node'] for e in deep_page['edges']]}; "
                f"keyset rows == offset rows: {[r[0] for r in keyset_rows[:PAGE]] == [r[0] for r in offset_rows]}"
            )
            comments = sum(len(json.loads(r[0])["comments"]) for r in by_key["1"][0].rows)
            print(f"first page (cases 1, 6): {comments} comments in its {len(by_key['1'][0].rows)} posts\n")
            report(table, started)


if __name__ == "__main__":
    main()
