"""Row-level security overhead of the generated SQL, measured as the runtime runs it.

Creates a throwaway database ``fqlbench_<hex>`` on the server given by ``--database-url``, applies
``examples/blog/db/migrations/*.sql`` and then every file of ``examples/blog/build/sql/`` in name order (whatever
the build holds when it runs), loads ``--rows`` posts over 1,000 users, and times pairs of statements:

* with RLS: as the runtime runs a request, in a transaction with ``SET LOCAL ROLE fraiseql_authenticated``,
  ``set_config('request.jwt.claims', <one real user's claims>, true)`` and
  ``set_config('request.jwt.claims_proof', <their proof>, true)`` (docs/claims-proof.md: the HMAC
  ``fraiseql_compiler.claims_proof.prove`` computes with a key generated for the run, which the script
  installs in ``fraiseql.tb_claims_key`` after the build's SQL, as ``fraiseql migrate`` does), so the API
  view's guard, its row filter and the tables' policies all apply, and every helper checks the proof;
* without RLS: as the superuser (who bypasses RLS) on the same base view or table, with the predicate
  written by hand (the user id as a literal).

Every case but c0 and d* goes through the ``api`` objects a runtime calls, against what a backend engineer
would write by hand without RLS: a ``api.my_posts`` (guard + row_filter + policy), b ``api.posts`` (guard +
policy: published OR own), a20 (for information) the page of 20 the reference executor asks for by
default, c ``count(*)`` over ``api.posts`` (against a count on the base table: parallel plans must survive
the guards and helpers), c0 ``count(*)`` of ``tb_post`` (the policy alone, no view), e an ordered page
(``ORDER BY created_at DESC LIMIT 20`` over ``api.posts``: the JSON is built for the 20 rows returned, not
for every visible row, now that API views carry no ``security_barrier``); d1-d3, for contrast, the
anti-pattern of DESIGN.md: copies of tb_post whose policy calls the helpers bare (once per row) against the
same policy wrapped. Before the table, the script prints the plan lines of ``api.my_posts`` that show the
guard and helpers as initPlans (loops=1), what one initPlan of each helper costs per statement, what one
check of the claims' proof (``fraiseql.claims_proven``, which every helper runs) costs per statement, and
whether the count through ``api.posts`` runs in parallel.

Each side gets one warm-up run, then ``--runs`` timed runs (the sides alternate, so drift hits both);
the wall time is measured around execute + fetch on the client, with plain (unprepared) statements.
Prints best and median, the ratio of the best times, and a verdict against the target ratio <= 1.3
for cases a, b, c, c0 and e (a20, a page of 20, is printed with the fixed cost per statement that dominates
it).

A JSON statement is timed as ``SELECT count(*), sum(length(data::text)) FROM (<statement>) AS q``: the
server still builds and serialises every row's JSON (the cost the runtime pays), but nothing crosses the
wire, so transfer and the driver's JSON decoding -- identical on both sides, and bigger than the query
itself at 100k rows -- do not dilute the ratio. The pair of results (rows, total JSON length) doubles as a
check that both sides see the same rows. ``--fetch`` fetches every row instead, as a client would.

    python benchmarks/rls_overhead.py [--rows 200000] [--runs 7] [--database-url URL] [--keep] [--fetch]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the compiler of this working tree

from fraiseql_compiler import claims_proof  # noqa: E402

BLOG = ROOT / "examples" / "blog"
ROLE = "fraiseql_authenticated"  # the API role the benchmark's requests run as
# The claims key of this run (docs/claims-proof.md): installed in the database after the build's SQL, and
# proving every request's claims, as a runtime's key does.
KEY = claims_proof.parse_key(claims_proof.new_key())
TARGET = 1.3
USERS = 1000
SCOPES = ["read:posts", "write:posts"]  # not admin:posts: the has_scope term of case d2 is false

# Copies of tb_post for the anti-pattern of DESIGN.md (helpers called bare in a policy: once per row), and
# the wrapped form the compiler emits. Each returns exactly the rows of case c for the benchmark user.
CONTRAST_POLICIES = {
    # the generated policy of tb_post, unwrapped
    "tb_post_bare_uid": "published OR author_id = fraiseql.current_user_id()::uuid",
    # the design doc's example: has_scope first, then the owner test
    "tb_post_bare": "fraiseql.has_scope('admin:posts') OR published OR author_id = fraiseql.current_user_id()::uuid",
    "tb_post_wrapped": (
        "(SELECT fraiseql.has_scope('admin:posts')) OR published"
        " OR author_id = (SELECT fraiseql.current_user_id()::uuid)"
    ),
}


@dataclass
class Case:
    key: str
    label: str
    with_rls: str  # run as fraiseql_authenticated with the user's claims
    without_rls: str  # run as the superuser (bypasses RLS)
    json: bool = False  # returns `data`: aggregated (default) or fetched (--fetch)
    target: bool = False  # counted in the verdict
    slow: bool = False  # one timed run, no warm-up: a bare-helper policy costs seconds per statement


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def best(self) -> float:
        return min(self.times) * 1000

    @property
    def median(self) -> float:
        return statistics.median(self.times) * 1000


def cases(user: str) -> list[Case]:
    own = f"author_id = '{user}'"
    visible = f"published OR author_id = '{user}'"
    count_plain = f"SELECT count(*) FROM public.tb_post WHERE {visible}"
    return [
        Case("a", "my posts: api.my_posts", "SELECT data FROM api.my_posts",
             f"SELECT data FROM public.v_post WHERE {own}", json=True, target=True),
        # for information: the statement the reference executor sends for myPosts with its default limit,
        # where the fixed cost per statement (three helper initPlans) is most of the time
        Case("a20", "my posts, LIMIT 20 (info)", "SELECT s.data FROM api.my_posts AS s LIMIT 20",
             f"SELECT s.data FROM public.v_post AS s WHERE {own} LIMIT 20", json=True),
        Case("b", "visible posts: api.posts", "SELECT data FROM api.posts",
             f"SELECT data FROM public.v_post WHERE {visible}", json=True, target=True),
        Case("c", "count(*) api.posts", "SELECT count(*) FROM api.posts", count_plain, target=True),
        Case("c0", "count(*) tb_post, policy only", "SELECT count(*) FROM public.tb_post", count_plain, target=True),
        Case("e", "api.posts ORDER BY … LIMIT 20",
             "SELECT s.data FROM api.posts AS s ORDER BY s.created_at DESC LIMIT 20",
             f"SELECT s.data FROM public.v_post AS s WHERE {visible} ORDER BY s.created_at DESC LIMIT 20", json=True,
             target=True),
        Case("d1", "count(*), c's policy BARE", "SELECT count(*) FROM public.tb_post_bare_uid", count_plain,
             slow=True),
        Case("d2", "count(*), has_scope+uid BARE", "SELECT count(*) FROM public.tb_post_bare", count_plain,
             slow=True),
        Case("d3", "count(*), d2's policy wrapped", "SELECT count(*) FROM public.tb_post_wrapped", count_plain),
    ]  # fmt: skip


# --- database lifecycle -----------------------------------------------------------------------------------


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


def apply_schema(conn: psycopg.Connection[Any]) -> list[str]:
    """The example's own migrations, then every generated file in name order (whatever the build holds now),
    then the run's claims key, as ``fraiseql migrate`` installs it."""
    files = [*sorted((BLOG / "db" / "migrations").glob("*.sql")), *sorted((BLOG / "build" / "sql").glob("*.sql"))]
    for path in files:
        conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    kid, _ = claims_proof.install(conn, KEY)
    conn.commit()
    return [*(str(p.relative_to(BLOG)) for p in files), f"claims key {kid} (fraiseql.tb_claims_key)"]


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
    # A few comments (~3% of posts get one), so the `comments` subquery of v_post sometimes finds rows.
    conn.execute(
        """
        INSERT INTO public.tb_comment (post_id, author_id, body)
        SELECT p.id, u.ids[1 + floor(random() * u.n)::int], 'Comment on ' || p.title
        FROM public.tb_post AS p, (SELECT array_agg(id) AS ids, count(*) AS n FROM public.tb_user) AS u
        WHERE random() < 0.03
        """
    )
    for name, using in CONTRAST_POLICIES.items():
        conn.execute(
            f"""
            CREATE TABLE public.{name} AS SELECT * FROM public.tb_post;
            ALTER TABLE public.{name} ADD PRIMARY KEY (id);
            CREATE INDEX ON public.{name} (author_id);
            ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.{name} FORCE ROW LEVEL SECURITY;
            CREATE POLICY bench_select ON public.{name} AS PERMISSIVE FOR SELECT TO fraiseql_authenticated
                USING ({using});
            GRANT SELECT ON public.{name} TO fraiseql_authenticated;
            """  # type: ignore[arg-type]
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


# --- measuring --------------------------------------------------------------------------------------------


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


def statement(query: str, json_query: bool, fetch: bool) -> str:
    """The statement actually timed: JSON rows are aggregated on the server unless --fetch."""
    if json_query and not fetch:
        return f"SELECT count(*), sum(length(data::text)) FROM ({query}) AS q"
    return query


def run_once(conn: psycopg.Connection[Any], stmt: str, json_rows: bool) -> tuple[float, Any]:
    t0 = time.perf_counter()
    rows = conn.execute(stmt).fetchall()  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    if json_rows:  # --fetch: summarise the rows the same way the aggregate does
        return elapsed, (len(rows), sum(len(json.dumps(r[0], separators=(", ", ": "))) for r in rows))
    return elapsed, tuple(rows[0])


def measure(conn: psycopg.Connection[Any], case: Case, user: str, runs: int, fetch: bool) -> tuple[Timing, Timing]:
    sides = [(user, statement(case.with_rls, case.json, fetch)), (None, statement(case.without_rls, case.json, fetch))]
    timings = (Timing(), Timing())
    first, last = (1, 1) if case.slow else (0, runs)
    for i in range(first, last + 1):  # run 0 is the warm-up; the sides alternate so drift hits both
        for (as_user, stmt), timing in zip(sides, timings, strict=True):
            with session(conn, as_user):
                elapsed, timing.result = run_once(conn, stmt, case.json and fetch)
            if i:
                timing.times.append(elapsed)
    return timings


HELPERS = [
    "fraiseql.require_authenticated()",
    "fraiseql.current_user_id()::uuid",
    "fraiseql.has_scope('read:posts')",
]
# The proof check alone, with the arguments every helper passes it (each helper runs it itself, and again
# through fraiseql.request_identity, which it reads when the claims pass the other checks).
PROOF_CHECK = (
    "fraiseql.claims_proven((CASE pg_catalog.current_setting('role') WHEN 'none' THEN SESSION_USER::text"
    " ELSE pg_catalog.current_setting('role') END), pg_catalog.current_setting('request.jwt.claims', true),"
    " pg_catalog.current_setting('request.jwt.claims_proof', true))"
)


def helper_costs(conn: psycopg.Connection[Any], user: str, rounds: int = 200) -> dict[str, float]:
    """What one initPlan of each helper, and of the proof check, adds to a statement (ms): best of ``rounds``
    minus ``SELECT 1``."""
    stmts = ["SELECT 1", *(f"SELECT (SELECT {h})" for h in (*HELPERS, PROOF_CHECK))]
    best = dict.fromkeys(stmts, float("inf"))
    for _ in range(rounds):  # round-robin, so load on the machine hits every statement alike
        for stmt in stmts:
            with session(conn, user):
                elapsed, _ = run_once(conn, stmt, False)
            best[stmt] = min(best[stmt], elapsed)
    return {h: (best[f"SELECT (SELECT {h})"] - best["SELECT 1"]) * 1000 for h in (*HELPERS, PROOF_CHECK)}


def proven(conn: psycopg.Connection[Any], user: str) -> bool:
    """Whether the database accepts the claims a request of ``user`` sets (the proof check, as the user)."""
    with session(conn, user):
        row = conn.execute(f"SELECT {PROOF_CHECK}").fetchone()
    return bool(row and row[0])


def proof_checks(conn: psycopg.Connection[Any], user: str, query: str) -> int:
    """How many times one run of ``query`` evaluates ``fraiseql.claims_proven``, as the user (the function's
    call count in this transaction, ``track_functions = 'all'``; the query runs once before, so that its
    plans and the helpers' are cached as in a warm session)."""
    counter = (
        "SELECT pg_catalog.pg_stat_get_xact_function_calls('fraiseql.claims_proven(text, text, text)'::regprocedure)"
    )
    calls = 0
    for _ in range(2):
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL track_functions = 'all'")  # before the role switch: a superuser's setting
            with session(conn, user):
                before = conn.execute(counter).fetchone()
                conn.execute(query).fetchall()
                after = conn.execute(counter).fetchone()
        calls = (after[0] if after and after[0] else 0) - (before[0] if before and before[0] else 0)
    return calls


def explain(conn: psycopg.Connection[Any], query: str, user: str | None, verbose: bool = False) -> list[str]:
    options = "ANALYZE, TIMING OFF, COSTS OFF" + (", VERBOSE" if verbose else "")
    with session(conn, user):
        rows = conn.execute(f"EXPLAIN ({options}) {query}").fetchall()  # type: ignore[arg-type]
    return [r[0] for r in rows]


def guard_lines(plan: list[str]) -> list[str]:
    """The lines of a plan that show where the guard and the helpers run (and how often)."""
    keep = re.compile(r"InitPlan|One-Time Filter|fraiseql\.|\$\d|Scan on (public\.)?tb_post ")
    out = []
    for i, line in enumerate(plan):
        if keep.search(line) or (i and "InitPlan" in plan[i - 1]):  # the InitPlan's node: loops=1
            out.append(line.rstrip())
    return out


def report(table: list[tuple[Case, Timing, Timing]], started: float) -> None:
    header = f"{'case':<36} {'with RLS (ms)':>19} {'without RLS (ms)':>19} {'ratio':>7}  rows (same both sides?)"
    print(header)
    print(f"{'':<36} {'best / median':>19} {'best / median':>19} {'(best)':>7}")
    print("-" * len(header))
    over = []
    for case, with_rls, without_rls in table:
        ratio = with_rls.best / without_rls.best
        same = "yes" if with_rls.result == without_rls.result else f"NO: {with_rls.result} vs {without_rls.result}"
        print(
            f"{case.key + '. ' + case.label:<36} {with_rls.best:8.2f} / {with_rls.median:8.2f} "
            f"{without_rls.best:8.2f} / {without_rls.median:8.2f} {ratio:6.2f}x  {with_rls.result[0]} ({same})"
        )
        if case.target and ratio > TARGET:
            over.append(f"{case.key} ({ratio:.2f}x)")
    by_key = {case.key: (w, wo) for case, w, wo in table}
    checked = ", ".join(c.key for c, _, _ in table if c.target)
    print(f"\nverdict (cases {checked}; target ratio <= {TARGET}x on best times): ", end="")
    print(f"OVER TARGET: {', '.join(over)}" if over else "OK")
    a20, a20_plain = by_key["a20"]
    print(
        f"fixed cost per statement of guard + helpers + policy (a20, best with - without): "
        f"{a20.best - a20_plain.best:.2f} ms; a20 (not in the verdict) is {a20.best / a20_plain.best:.2f}x"
    )
    bare, wrapped = by_key["d2"][0], by_key["d3"][0]
    print(f"bare vs wrapped helpers in the same policy (d2 / d3): {bare.best / wrapped.best:.0f}x slower")
    print(f"total time {time.perf_counter() - started:.1f} s")


# --- main -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="posts to load (default 200000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per statement, after 1 warm-up (default 7)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="do not drop the benchmark database")
    parser.add_argument("--fetch", action="store_true", help="fetch every JSON row instead of aggregating them")
    parser.add_argument("--explain", action="store_true", help="print the plan of both sides of every case")
    args = parser.parse_args()

    started = time.perf_counter()
    table: list[tuple[Case, Timing, Timing]] = []
    # prepare_threshold=None: plain statements every time, no server-side prepared plans after 5 runs
    with (
        throwaway_database(args.database_url, args.keep) as url,
        psycopg.connect(url, autocommit=False, prepare_threshold=None) as conn,
    ):
        t0 = time.perf_counter()
        applied = apply_schema(conn)
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
        print(f"applied (examples/blog/): {', '.join(applied)}")
        print(
            f"loaded in {load_time:.1f} s: {n_users} users, {n_posts} posts ({n_published} published), "
            f"{n_comments} comments; VACUUM ANALYZE"
        )
        print(f"acting as user {user} ({n_own} own posts), scopes {SCOPES}, role fraiseql_authenticated")
        mode = "every row fetched" if args.fetch else "server-side count(*), sum(length(data::text))"
        print(f"{args.runs} timed runs per statement after 1 warm-up (d1, d2: 1 run); JSON rows: {mode}\n")

        # The guard and the helpers of api.my_posts are initPlans (one is the One-Time Filter): loops=1.
        print("EXPLAIN (ANALYZE, VERBOSE) SELECT data FROM api.my_posts -- guard and helpers, once per statement:")
        for line in guard_lines(explain(conn, "SELECT data FROM api.my_posts", user, verbose=True)):
            print("  " + line)
        print()

        plan = explain(conn, "SELECT count(*) FROM api.posts", user)
        workers = [line.strip() for line in plan if "Workers Launched" in line or "Gather" in line]
        print(f"count(*) through api.posts, as the user: {'; '.join(workers) or 'NO PARALLEL PLAN'}\n")

        # The proof must hold, or every case below would measure an anonymous caller.
        accepted = proven(conn, user)
        print(f"claims proven for {ROLE} (fraiseql.claims_proven as the user): {accepted}")
        assert accepted, "the claims' proof does not check: the cases would run as no identity"
        print("per-statement cost of one helper initPlan (best of 200, minus SELECT 1), as the user:")
        for helper, cost in helper_costs(conn, user).items():
            name = "fraiseql.claims_proven(role, claims, proof)" if helper == PROOF_CHECK else helper
            print(f"  {'(SELECT ' + name + ')':<52} {cost:6.3f} ms")
        print("evaluations of fraiseql.claims_proven in one statement, as the user (track_functions):")
        for query in ("SELECT (SELECT fraiseql.current_user_id())", "SELECT data FROM api.my_posts"):
            print(f"  {query:<52} {proof_checks(conn, user, query):6d}")
        print()

        for case in cases(user):
            table.append((case, *measure(conn, case, user, args.runs, args.fetch)))
            if args.explain:
                for side, query, as_user in (("with RLS", case.with_rls, user), ("without", case.without_rls, None)):
                    stmt = statement(query, case.json, args.fetch)
                    print(f"--- {case.key} {side}: {stmt}")
                    print("\n".join("  " + line for line in explain(conn, stmt, as_user)))
        if args.explain:
            print()
        report(table, started)


if __name__ == "__main__":
    main()
