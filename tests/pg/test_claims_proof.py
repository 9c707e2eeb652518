"""Claims that injected SQL cannot forge (issue 13, docs/claims-proof.md), played on the blog.

The runtime's side is played as the runtime plays it: connected as the authenticator, ``SET LOCAL ROLE``, the
claims and their proof (``v1.<kid>.<HMAC>``, made with the tests' key, which the database holds). The
attacker is SQL running on that connection, inside that transaction (an injection through the runtime): it
sets other claims, keeps or drops or replaces the proof, switches roles, replays claims proven elsewhere.
Unless claims and proof are the runtime's own for the role the statement runs as, the request has no
identity: every probe below (the helpers, row-level security, a generated view, the identity view, the API
views and functions, the auth functions) answers exactly as it does for the same role with no claims at all,
errors included, word for word. The honest path, as each role, is an identity; the key table is out of
everyone's reach; ``fraiseql.claims_proven`` answers yes or no and nothing else; the test vectors hold in
the database; ``fraiseql migrate`` installs and rotates the key, and refuses a database it would leave
without one (FQL409).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from fraiseql_compiler import api, claims_proof
from fraiseql_compiler.claims_proof import PROOF_SETTING, key_id, pads, parse_key, prove
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor import run as executor_run
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from tests.cases import REPO
from tests.pg.blogdb import ENV, Blog, build_blog
from tests.pg.sessions import ALICE, BOB, BOB_DRAFT, CLAIMS_KEY, CLAIMS_KEY_TEXT, ROLES
from tests.pg.test_oauth_callback import TOML as OAUTH_TOML
from tests.pg.test_oauth_callback import callback, provider  # noqa: F401  (the fake OAuth provider, a fixture)
from tests.pgserver import PgServer

Conn = psycopg.Connection[Any]
AUTHENTICATOR = "fraiseql_authenticator"
ANON, AUTHED, API_KEY = ROLES["anonymous"], ROLES["authenticated"], ROLES["api_key"]
VECTORS = Path(__file__).resolve().parents[1] / "claims_proof_vectors.json"
PROVEN_NOW = (
    "SELECT fraiseql.claims_proven(CASE current_setting('role') WHEN 'none' THEN session_user::text"
    " ELSE current_setting('role') END, current_setting('request.jwt.claims', true),"
    " current_setting('request.jwt.claims_proof', true))"
)


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> Iterator[Blog]:
    """One blog for the module (its key: the tests' CLAIMS_KEY); every attack runs in a transaction it rolls
    back."""
    url = pg_server.create_database()
    db = build_blog(tmp_path_factory.mktemp("claims-proof"), url)
    try:
        yield db
    finally:
        db.admin.close()
        pg_server.drop_database(url)


@pytest.fixture
def conn(blog: Blog) -> Iterator[Conn]:
    """The runtime's connection, as the authenticator: the one the attacker's SQL reaches."""
    with psycopg.connect(blog.url) as connection:
        yield connection


# --- the runtime, and the attacker -----------------------------------------------------------------------------


def identity_claims(role: str, sub: str = ALICE) -> dict[str, Any]:
    """The claims the runtime sets for an identity of ``sub`` as database role ``role``."""
    if role == API_KEY:
        return {"sub": sub, "auth": "api_key", "scopes": ["read:posts"], "key_id": str(uuid.uuid4())}
    now = int(time.time())
    return {"sub": sub, "auth": "jwt", "scopes": ["read:posts", "write:posts"], "jti": f"jti-{sub[-1]}-proof",
            "iat": now - 60, "exp": now + 600}  # fmt: skip


def runtime_claims(role: str) -> dict[str, Any]:
    """What the runtime sets for Alice's request as ``role`` (the anonymous role carries no identity: {})."""
    return {} if role == ANON else identity_claims(role)


def as_runtime(conn: Conn, role: str, claims: dict[str, Any] | str, key: bytes = CLAIMS_KEY) -> tuple[str, str]:
    """The start of a request, as fraiseql_compiler/executor/run.py makes it: SET LOCAL ROLE (none for the
    authenticator's own requests), then the claims and their proof for that role. (claims text, proof)"""
    if role != AUTHENTICATOR:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    text = claims if isinstance(claims, str) else json.dumps(claims)
    proof = prove(key, role, text)
    conn.execute(
        "SELECT set_config('request.jwt.claims', %s, true), set_config(%s, %s, true)", (text, PROOF_SETTING, proof)
    )
    return text, proof


def inject(conn: Conn, claims: dict[str, Any] | str | None = None, proof: str | None = None) -> None:
    """The attacker's SQL: the claims, the proof, or both (None: left as they are), as set_config sets them."""
    if claims is not None:
        text = claims if isinstance(claims, str) else json.dumps(claims)
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (text,))
    if proof is not None:
        conn.execute("SELECT set_config('request.jwt.claims_proof', %s, true)", (proof,))


def current(conn: Conn) -> tuple[str, str]:
    """The claims and proof set now: what the attacker reads (current_setting is anyone's)."""
    row = conn.execute(
        "SELECT current_setting('request.jwt.claims', true), current_setting('request.jwt.claims_proof', true)"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def who(conn: Conn) -> Any:
    row = conn.execute("SELECT fraiseql.current_user_id()").fetchone()
    assert row is not None
    return row[0]


# What the caller's identity decides, everywhere it is read. Each probe runs in a savepoint rolled back.
PROBES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "helpers": (
        "SELECT fraiseql.current_user_id(), fraiseql.is_authenticated(), fraiseql.auth_method(), fraiseql.claims(),"
        " fraiseql.claim('sub'), fraiseql.scopes(), fraiseql.has_scope('read:posts'),"
        " fraiseql.has_scope('admin:posts'), fraiseql.claims_problem()",
        (),
    ),
    "policies": ("SELECT array_agg(title ORDER BY title) FROM public.tb_post", ()),
    "users": ("SELECT array_agg(email ORDER BY email) FROM public.tb_user", ()),
    "generated view": ("SELECT array_agg(data ->> 'title' ORDER BY data ->> 'title') FROM public.v_post", ()),
    "identity view": ("SELECT subject, revoked FROM fraiseql.request_identity", ()),
    "api.feed": ("SELECT count(*) FROM api.feed", ()),
    "api.me": ("SELECT data ->> 'email' FROM api.me", ()),
    "api.posts": ("SELECT array_agg(data ->> 'title' ORDER BY data ->> 'title') FROM api.posts", ()),
    "api.my_posts": ("SELECT array_agg(data ->> 'title' ORDER BY data ->> 'title') FROM api.my_posts", ()),
    "api.reports": ("SELECT count(*) FROM api.reports", ()),
    "api.create_post": ("SELECT api.create_post(%s::jsonb) ->> 'title'", (json.dumps({"input": {"title": "x"}}),)),
    "api.delete_post": ("SELECT api.delete_post(%s::jsonb)", (json.dumps({"id": BOB_DRAFT}),)),
    "fn_create_api_key": ("SELECT key LIKE 'fql_%%' FROM fraiseql.fn_create_api_key('x', ARRAY['read:posts'])", ()),
    "fn_revoke_token": (
        "SELECT revoked FROM fraiseql.fn_revoke_token('jti-b-proof', pg_catalog.now() + interval '1 hour')",
        (),
    ),
    "fn_revoke_all": ("SELECT fraiseql.fn_revoke_all(%s)", (ALICE,)),
    "token_revoked": ("SELECT fraiseql.token_revoked()", ()),
}
REFUSED = ("error", "PT401", "authentication required", None, None)  # what a request without claims gets
DENIED = "42501"


def outcome(conn: Conn, query: str, params: tuple[Any, ...] = ()) -> Any:
    """The rows, or the error (its SQLSTATE and every text the client sees), in a savepoint rolled back."""
    try:
        with conn.transaction(force_rollback=True):
            return ("rows", conn.execute(query, params).fetchall())
    except psycopg.Error as exc:
        d = exc.diag
        return ("error", exc.sqlstate, d.message_primary, d.message_detail, d.message_hint)


def observe(conn: Conn) -> dict[str, Any]:
    return {name: outcome(conn, query, params) for name, (query, params) in PROBES.items()}


def no_claims(conn: Conn, role: str) -> dict[str, Any]:
    """What ``role`` gets with no claims at all: what every attack must come down to."""
    with conn.transaction(force_rollback=True):
        if role != AUTHENTICATOR:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        inject(conn, "", "")
        return observe(conn)


def other_role(role: str) -> str:
    return API_KEY if role == AUTHED else AUTHED


def flipped(proof: str, part: int) -> str:
    """The proof with the last hex digit of part ``part`` (1: the kid, 2: the mac) changed."""
    parts = proof.split(".")
    parts[part] = parts[part][:-1] + ("0" if parts[part][-1] != "0" else "1")
    return ".".join(parts)


# Each attack: (conn, the request's role, its claims text, its proof), run after the runtime set them.
Attack = Callable[[Conn, str, str, str], None]


def _forged(drop_proof: bool = False, **changes: Any) -> Attack:
    """The request's claims (Alice's, for the anonymous role's {}) with ``changes``, the proof kept (or
    dropped)."""

    def attack(conn: Conn, role: str, text: str, proof: str) -> None:
        claims = json.loads(text) or identity_claims(AUTHED)
        inject(conn, {**claims, **changes}, "" if drop_proof else None)

    return attack


def _other_method(conn: Conn, role: str, text: str, proof: str) -> None:
    _forged(auth="jwt" if role == API_KEY else "api_key")(conn, role, text, proof)


def _bob_replaces_alice(conn: Conn, role: str, text: str, proof: str) -> None:
    """Bob's own claims for this role, under the proof of Alice's request."""
    inject(conn, identity_claims(role if role != ANON else AUTHED, sub=BOB))


def _reserialised(conn: Conn, role: str, text: str, proof: str) -> None:
    """The same JSON value, other bytes: the proof covers the text, not what it means."""
    again = json.dumps(json.loads(text), indent=1, sort_keys=True)
    inject(conn, again if again != text else "{ }")


def _switched(proven_for: str | None) -> Attack:
    """Claims proven, as the runtime proves them, for another API role (None: for the login role, as in an
    auth flow), then RESET ROLE and SET ROLE back to the request's role."""

    def attack(conn: Conn, role: str, text: str, proof: str) -> None:
        source = proven_for or AUTHENTICATOR
        if source == role:
            source = other_role(role)
        conn.execute("RESET ROLE")
        as_runtime(conn, source, identity_claims(API_KEY if source == API_KEY else AUTHED))
        conn.execute("RESET ROLE")
        if role != AUTHENTICATOR:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))

    return attack


def _proof(make: Callable[[str], str]) -> Attack:
    def attack(conn: Conn, role: str, text: str, proof: str) -> None:
        inject(conn, proof=make(proof))

    return attack


ATTACKS: dict[str, Attack] = {
    "forged sub, proof kept": _forged(sub=BOB),
    "forged sub, proof dropped": _forged(drop_proof=True, sub=BOB),
    "forged sub, under the proof of other claims": _bob_replaces_alice,
    "forged scopes": _forged(scopes=["admin:posts", "admin:revoke", "admin:api_keys", "read:posts", "write:posts"]),
    "forged auth method": _other_method,
    "the same claims, re-serialised": _reserialised,
    "claims proven for another API role": _switched(AUTHED),
    "claims proven for the login role": _switched(None),
    "proof: empty": _proof(lambda p: ""),
    "proof: v1..": _proof(lambda p: "v1.."),
    "proof: v2": _proof(lambda p: "v2" + p[2:]),
    "proof: no version": _proof(lambda p: p[3:]),
    "proof: the mac alone": _proof(lambda p: p.split(".")[2]),
    "proof: no mac": _proof(lambda p: p.rsplit(".", 1)[0]),
    "proof: mac one digit short": _proof(lambda p: p[:-1]),
    "proof: mac one digit long": _proof(lambda p: p + "0"),
    "proof: mac in upper case": _proof(lambda p: p[:20] + p[20:].upper()),
    "proof: kid in upper case": _proof(lambda p: "v1." + p[3:19].upper() + p[19:]),
    "proof: a digit of the mac changed": _proof(lambda p: flipped(p, 2)),
    "proof: a kid the database does not hold": _proof(lambda p: flipped(p, 1)),
    "proof: not hex": _proof(lambda p: p[:20] + "g" * 64),
    "proof: a trailing newline": _proof(lambda p: p + "\n"),
    "proof: a leading space": _proof(lambda p: " " + p),
    "proof: SQL": _proof(lambda p: "' OR true --"),
}
CASES = [(role, attack) for role in ROLES.values() for attack in ATTACKS]


# --- each attack, as each API role, and as the authenticator ------------------------------------------------------


def test_with_no_claims_each_role_has_no_identity(conn: Conn) -> None:
    """The reference every attack is compared with, spelled out."""
    helpers: Any = ("rows", [(None, False, None, {}, None, [], False, False, "unauthenticated")])
    for role in ROLES.values():
        seen = no_claims(conn, role)
        assert seen["helpers"] == helpers, role
        assert seen["policies"] == ("rows", [(None,)] if role == API_KEY else [(["Hello"],)]), role  # no draft
        assert seen["generated view"] == seen["policies"], role
        assert seen["api.me"] == ("rows", []), role
        for guarded in ("api.posts", "api.my_posts", "api.create_post", "api.delete_post"):
            assert seen[guarded] == REFUSED, (role, guarded)
        # api.reports reads v_report, which only the api_key role may read
        if role == API_KEY:
            assert seen["api.reports"] == REFUSED
        else:
            assert seen["api.reports"][1] == DENIED, role
        for function, granted in (("fn_create_api_key", {AUTHED}), ("fn_revoke_token", {AUTHED, API_KEY}),
                                  ("fn_revoke_all", {AUTHED})):  # fmt: skip
            if role in granted:
                assert seen[function] == REFUSED, (role, function)
            else:
                assert seen[function][1] == DENIED, (role, function)
    assert no_claims(conn, AUTHED)["identity view"] == ("rows", [(None, False)])


@pytest.mark.parametrize(("role", "attack"), CASES, ids=[f"{r}-{a}" for r, a in CASES])
def test_an_attack_yields_no_identity(conn: Conn, role: str, attack: str) -> None:
    expected = no_claims(conn, role)
    with conn.transaction(force_rollback=True):
        text, proof = as_runtime(conn, role, runtime_claims(role))
        ATTACKS[attack](conn, role, text, proof)
        assert conn.execute("SELECT current_setting('role')").fetchone() == (role,)  # the statements' role
        assert conn.execute(PROVEN_NOW).fetchone() == (False,)
        seen = observe(conn)
    assert seen == expected, {k: (seen[k], expected[k]) for k in seen if seen[k] != expected[k]}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_after_reset_role_yields_nothing_to_the_authenticator(conn: Conn, attack: str) -> None:
    """RESET ROLE goes back to the login role: it may not call the helpers nor reach the API (permission
    denied, everywhere), and the claims it carries prove nothing for it."""
    expected = no_claims(conn, AUTHENTICATOR)
    assert {v[1] for v in expected.values()} == {DENIED}
    with conn.transaction(force_rollback=True):
        text, proof = as_runtime(conn, AUTHED, runtime_claims(AUTHED))
        conn.execute("RESET ROLE")
        assert conn.execute(PROVEN_NOW).fetchone() == (False,)  # Alice's claims, proven for another role
        ATTACKS[attack](conn, AUTHENTICATOR, text, proof)
        assert conn.execute("SELECT current_setting('role')").fetchone() == ("none",)
        assert conn.execute(PROVEN_NOW).fetchone() == (False,)
        seen = observe(conn)
    assert seen == expected


def test_claims_proven_for_the_login_role_are_no_identity_as_an_api_role(conn: Conn) -> None:
    """The runtime proves its own auth flows' claims for the login role: neither SET ROLE nor SET LOCAL ROLE
    carries them to an API role."""
    for role in ROLES.values():
        expected = no_claims(conn, role)
        for statement in ("SET ROLE {}", "SET LOCAL ROLE {}"):
            with conn.transaction(force_rollback=True):
                as_runtime(conn, AUTHENTICATOR, identity_claims(AUTHED))
                assert conn.execute(PROVEN_NOW).fetchone() == (True,)  # as the login role: proven
                conn.execute(sql.SQL(statement).format(sql.Identifier(role)))
                assert observe(conn) == expected, (role, statement)


def test_the_honest_request_is_an_identity_as_each_role(conn: Conn) -> None:
    """The same probes, with the runtime's own claims and proof: what the attacks above would have gained."""
    with conn.transaction(force_rollback=True):
        as_runtime(conn, AUTHED, runtime_claims(AUTHED))
        assert conn.execute(PROVEN_NOW).fetchone() == (True,)
        seen = observe(conn)
    assert seen["helpers"][1][0][:3] == (ALICE, True, "jwt")
    assert seen["helpers"][1][0][6:] == (True, False, None)  # read:posts, not admin:posts, no problem
    assert seen["identity view"] == ("rows", [(ALICE, False)])
    assert seen["api.me"] == ("rows", [("alice@example.com",)])
    assert seen["api.posts"] == seen["api.my_posts"] == ("rows", [(["Hello"],)])  # Bob's draft is his own
    assert seen["api.create_post"] == ("rows", [("x",)])
    assert seen["fn_create_api_key"] == ("rows", [(True,)])
    assert seen["fn_revoke_all"] == ("rows", [(0,)])  # her own subject: allowed
    assert seen != no_claims(conn, AUTHED)
    with conn.transaction(force_rollback=True):
        as_runtime(conn, API_KEY, runtime_claims(API_KEY))
        seen = observe(conn)
    assert seen["helpers"][1][0][:3] == (ALICE, True, "api_key")
    assert seen["policies"] == ("rows", [(["Hello"],)])  # published AND read:posts
    assert seen["api.reports"][0] == "rows"
    assert seen != no_claims(conn, API_KEY)
    with conn.transaction(force_rollback=True):  # Bob, with his own claims, sees his draft
        as_runtime(conn, AUTHED, identity_claims(AUTHED, sub=BOB))
        assert conn.execute("SELECT array_agg(title ORDER BY title) FROM public.tb_post").fetchone() == (
            ["Bob here", "Hello"],
        )
    with conn.transaction(force_rollback=True):  # the runtime setting them again changes nothing
        text, proof = as_runtime(conn, AUTHED, runtime_claims(AUTHED))
        inject(conn, text, proof)
        assert who(conn) == ALICE


def test_proven_claims_are_no_identity_once_their_token_has_expired(conn: Conn) -> None:
    """A proof is a bearer credential for its claims: replayed after the token's exp (beyond the leeway the
    runtime verifies with, 30 s in the blog), the claims are no identity; within the leeway, still one."""
    for exp_ago, expected in ((3600, None), (31 + 5, None), (10, ALICE)):
        claims = identity_claims(AUTHED) | {"exp": int(time.time()) - exp_ago, "iat": int(time.time()) - 7200}
        with conn.transaction(force_rollback=True):
            as_runtime(conn, AUTHED, claims)
            assert conn.execute(PROVEN_NOW).fetchone() == (True,)  # the proof itself holds
            assert who(conn) == expected, exp_ago
    with conn.transaction(force_rollback=True):  # a proven exp that is not a number: no identity either
        as_runtime(conn, AUTHED, identity_claims(AUTHED) | {"exp": "tomorrow"})
        assert who(conn) is None


def test_inside_a_security_definer_function_the_role_proven_is_still_the_requests(conn: Conn, blog: Blog) -> None:
    """fn_revoke_token runs as its owner (current_user changes, current_setting('role') does not), and reads
    the caller's claims there: her own token is hers."""
    definer = blog.admin.execute(
        "SELECT prosecdef FROM pg_proc WHERE oid = 'fraiseql.fn_revoke_token(text, timestamptz, text, text)'"
        "::regprocedure"
    ).fetchone()
    assert definer == (True,)
    with conn.transaction(force_rollback=True):
        text, _ = as_runtime(conn, AUTHED, runtime_claims(AUTHED))
        jti = json.loads(text)["jti"]
        revoke = "SELECT revoked FROM fraiseql.fn_revoke_token(%s, pg_catalog.now() + interval '1 hour')"
        assert conn.execute(revoke, (jti,)).fetchone() == (True,)
        assert conn.execute("SELECT fraiseql.token_revoked(), fraiseql.current_user_id()").fetchone() == (True, None)


def test_a_refusal_says_nothing_of_the_proof(conn: Conn) -> None:
    """Forged claims are refused with the error of a request without claims: nothing tells the attacker which
    part failed, or that there is a proof at all."""
    expected = no_claims(conn, AUTHED)
    guarded = ("api.posts", "api.my_posts", "api.create_post", "api.delete_post", "fn_create_api_key",
               "fn_revoke_token", "fn_revoke_all")  # fmt: skip
    assert {expected[name] for name in guarded} == {REFUSED}
    for attack in ATTACKS:
        with conn.transaction(force_rollback=True):
            text, proof = as_runtime(conn, AUTHED, runtime_claims(AUTHED))
            ATTACKS[attack](conn, AUTHED, text, proof)
            for name in guarded:
                assert outcome(conn, *PROBES[name]) == REFUSED, (attack, name)
            assert conn.execute("SELECT fraiseql.claims_problem()").fetchone() == ("unauthenticated",), attack


# --- the key and fraiseql.claims_proven ---------------------------------------------------------------------------

KEY_TABLE = {
    "SELECT": "SELECT * FROM fraiseql.tb_claims_key",
    "SELECT kid": "SELECT kid FROM fraiseql.tb_claims_key",
    "SELECT count": "SELECT count(*) FROM fraiseql.tb_claims_key",
    "INSERT": "INSERT INTO fraiseql.tb_claims_key (kid, inner_pad, outer_pad) VALUES ('0123456789abcdef', '', '')",
    "UPDATE": "UPDATE fraiseql.tb_claims_key SET added_at = now()",
    "DELETE": "DELETE FROM fraiseql.tb_claims_key",
    "TRUNCATE": "TRUNCATE fraiseql.tb_claims_key",
    "LOCK": "LOCK TABLE fraiseql.tb_claims_key IN ACCESS SHARE MODE",
    "ALTER": "ALTER TABLE fraiseql.tb_claims_key DISABLE ROW LEVEL SECURITY",
    "GRANT": "GRANT SELECT ON fraiseql.tb_claims_key TO PUBLIC",
    "DROP": "DROP TABLE fraiseql.tb_claims_key",
}


@pytest.mark.parametrize("role", [*ROLES.values(), AUTHENTICATOR])
def test_no_api_role_nor_the_authenticator_can_touch_the_key_table(conn: Conn, blog: Blog, role: str) -> None:
    blog.admin.execute("ANALYZE fraiseql.tb_claims_key")  # statistics exist: pg_stats must not show them
    seen = blog.admin.execute(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'fraiseql' AND tablename = 'tb_claims_key'"
    ).fetchone()
    assert seen is not None and seen[0] > 0
    privileges = blog.admin.execute(
        "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p"
        " WHERE has_table_privilege(%s, 'fraiseql.tb_claims_key', p)"
        " OR has_any_column_privilege(%s, 'fraiseql.tb_claims_key', CASE p WHEN 'TRUNCATE' THEN 'SELECT'"
        " WHEN 'TRIGGER' THEN 'SELECT' WHEN 'DELETE' THEN 'SELECT' ELSE p END)",
        (role, role),
    ).fetchall()
    assert privileges == []
    for claims in (None, runtime_claims(role) if role != AUTHENTICATOR else {}):  # with or without an identity
        with conn.transaction(force_rollback=True):
            if claims is None:
                if role != AUTHENTICATOR:
                    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            else:
                as_runtime(conn, role, claims)
            for name, statement in KEY_TABLE.items():
                assert outcome(conn, statement)[:2] == ("error", DENIED), (role, name)
            with (
                pytest.raises(psycopg.errors.InsufficientPrivilege),
                conn.transaction(),
                conn.cursor().copy("COPY fraiseql.tb_claims_key TO STDOUT") as copy,
            ):
                list(copy)
            stats = "SELECT count(*) FROM pg_stats WHERE schemaname = 'fraiseql' AND tablename = 'tb_claims_key'"
            assert outcome(conn, stats) == ("rows", [(0,)]), role


def test_claims_proven_answers_yes_or_no_and_nothing_else(conn: Conn, blog: Blog) -> None:
    """The one way to the key: a SECURITY DEFINER function that returns a boolean, never raises, never notices,
    is not inlined (its plan shows no table), and for which 2^256 guesses are the only way to a true."""
    shape = blog.admin.execute(
        "SELECT prorettype::regtype::text, proretset, prosecdef, proconfig, provolatile, proargmodes IS NULL"
        " FROM pg_proc WHERE oid = 'fraiseql.claims_proven(text, text, text)'::regprocedure"
    ).fetchone()
    assert shape == ("boolean", False, True, ["search_path=pg_catalog, pg_temp"], "s", True)
    text = json.dumps(identity_claims(AUTHED))
    good = prove(CLAIMS_KEY, AUTHED, text)
    kid = key_id(CLAIMS_KEY)
    cases: list[tuple[Any, Any, Any, bool]] = [
        (AUTHED, text, good, True),
        (AUTHED, text + " ", good, False),
        (API_KEY, text, good, False),
        (AUTHED.upper(), text, good, False),
        (None, text, good, False),
        (AUTHED, None, good, False),
        (AUTHED, text, None, False),
        ("", "", "", False),
        (AUTHED, "", prove(CLAIMS_KEY, AUTHED, ""), True),  # '' proven: true, and still no identity (NULLIF)
        (AUTHED, "x" * 1_000_000, prove(CLAIMS_KEY, AUTHED, "x" * 1_000_000), True),
        (AUTHED, text, f"v1.{kid}.{'0' * 64}", False),  # the kid held, any mac
        (AUTHED, text, f"v1.{'0' * 16}.{good[20:]}", False),  # the mac, a kid not held
        (AUTHED, text, f"v1.{kid}.{'zz' * 32}", False),  # no decode() error either
        (AUTHED, text, f"v1.{kid}.{good[20:]}%", False),
        (AUTHED, text, "v1.%.%", False),
        (AUTHED, text, good.replace(".", ".\n", 1), False),
    ]
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    for role in (*ROLES.values(), AUTHENTICATOR):
        with conn.transaction(force_rollback=True):
            if role != AUTHENTICATOR:
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            for r, c, p, expected in cases:
                row = conn.execute("SELECT fraiseql.claims_proven(%s, %s, %s)", (r, c, p)).fetchone()
                assert row == (expected,), (role, r, (c or "")[:40], p)
            plan = conn.execute("EXPLAIN (VERBOSE, COSTS OFF) SELECT fraiseql.claims_proven('a', 'b', 'c')").fetchall()
            assert "tb_claims_key" not in str(plan) and "pad" not in str(plan), plan
    assert notices == []
    with conn.transaction(force_rollback=True):  # '' proven is no identity all the same
        as_runtime(conn, AUTHED, "")
        assert conn.execute(PROVEN_NOW).fetchone() == (True,)
        assert outcome(conn, *PROBES["helpers"]) == no_claims(conn, AUTHED)["helpers"]


def test_the_test_vectors_hold_in_the_database(blog: Blog) -> None:
    """tests/claims_proof_vectors.json, which a runtime in another language checks itself against, against
    the database's own HMAC (each key installed in a transaction rolled back)."""
    admin = blog.admin
    assert admin.execute("SHOW server_encoding").fetchone() == ("UTF8",)
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    assert len(vectors) >= 4
    for v in vectors:
        key = parse_key(v["key"])
        with admin.transaction(force_rollback=True):
            assert claims_proof.install(admin, key)[0] == v["kid"]
            stored = admin.execute(
                "SELECT inner_pad, outer_pad FROM fraiseql.tb_claims_key WHERE kid = %s", (v["kid"],)
            ).fetchone()
            assert stored == pads(key), v["name"]
            check = "SELECT fraiseql.claims_proven(%s, %s, %s)"
            assert admin.execute(check, (v["role"], v["claims"], v["proof"])).fetchone() == (True,), v["name"]
            assert admin.execute(check, (v["role"] + "x", v["claims"], v["proof"])).fetchone() == (False,)
            assert admin.execute(check, (v["role"], v["claims"][:-1], v["proof"])).fetchone() == (False,)
            assert admin.execute(check, (v["role"], v["claims"], flipped(v["proof"], 2))).fetchone() == (False,)


# --- the key's life: rotation, retirement --------------------------------------------------------------------------


def test_claims_copied_from_another_transaction_fail_once_their_key_is_retired(tmp_path: Path, pg_url: str) -> None:
    """A proof is good for as long as the database holds its key: copied out of one request and set in a
    later one, it is Alice's while the key is current or previous, and nobody's once a second rotation retired
    it. At most two keys are held."""
    blog = build_blog(tmp_path, pg_url)  # key A: the tests' key
    admin = blog.admin
    key_a, key_b, key_c, key_d = CLAIMS_KEY, os.urandom(32), os.urandom(48), os.urandom(32)
    kid = {k: key_id(k) for k in (key_a, key_b, key_c, key_d)}
    try:
        with psycopg.connect(blog.url) as conn:
            with conn.transaction(force_rollback=True):  # Alice's request; the attacker copies what it reads
                as_runtime(conn, AUTHED, runtime_claims(AUTHED))
                assert who(conn) == ALICE
                copied = current(conn)

            def replayed() -> Any:
                with conn.transaction(force_rollback=True):
                    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(AUTHED)))
                    inject(conn, *copied)
                    return observe(conn)

            def proven_with(key: bytes) -> Any:
                with conn.transaction(force_rollback=True):
                    as_runtime(conn, AUTHED, runtime_claims(AUTHED), key)
                    return who(conn)

            assert replayed()["helpers"][1][0][0] == ALICE  # a bearer credential while its key is held
            assert proven_with(key_b) is None  # B is not installed yet

            assert claims_proof.install(admin, key_b) == (kid[key_b], [])  # rotation: B current, A previous
            assert claims_proof.installed(admin) == [kid[key_b], kid[key_a]]
            assert replayed()["helpers"][1][0][0] == ALICE
            assert proven_with(key_a) == proven_with(key_b) == ALICE

            assert claims_proof.install(admin, key_c) == (kid[key_c], [kid[key_a]])  # A retired
            assert claims_proof.installed(admin) == [kid[key_c], kid[key_b]]
            assert replayed() == no_claims(conn, AUTHED)
            assert proven_with(key_a) is None
            assert proven_with(key_b) == proven_with(key_c) == ALICE

            assert claims_proof.install(admin, key_c) == (kid[key_c], [])  # the same key again: nothing retired
            # back to B (C abandoned), then a rotation to D: B, the key in use, stays
            assert claims_proof.install(admin, key_b) == (kid[key_b], [])
            assert claims_proof.install(admin, key_d) == (kid[key_d], [kid[key_c]])
            assert claims_proof.installed(admin) == [kid[key_d], kid[key_b]]
            assert proven_with(key_c) is None and proven_with(key_b) == proven_with(key_d) == ALICE

            # a key deleted while a request runs: refused from the next statement on
            with conn.transaction(force_rollback=True):
                as_runtime(conn, AUTHED, runtime_claims(AUTHED), key_b)
                assert who(conn) == ALICE
                admin.execute("DELETE FROM fraiseql.tb_claims_key WHERE kid = %s", (kid[key_b],))
                assert who(conn) is None
    finally:
        admin.close()


# --- the runtime ---------------------------------------------------------------------------------------------------


@pytest.fixture
def proofs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every (role, claims text, proof) the executor makes, as it makes them."""
    made: list[tuple[str, str, str]] = []
    real = executor_run.prove

    def recording(key: bytes, role: str, text: str) -> str:
        made.append((role, text, real(key, role, text)))
        return made[-1][2]

    monkeypatch.setattr(executor_run, "prove", recording)
    return made


def test_the_runtime_proves_each_request_for_the_role_it_runs_as(blog: Blog, proofs: list[Any]) -> None:
    token = blog.token(ALICE, "read:posts", "write:posts")
    assert [p["title"] for p in blog.run("myPosts", token)] == ["Hello"]
    assert proofs[-1][0] == AUTHED and json.loads(proofs[-1][1])["sub"] == ALICE
    key = blog.run("createApiKey", token, name="proof", scopes=["read:posts"])["key"]
    assert isinstance(blog.run("reports", api_key=key), list)
    assert proofs[-1][0] == API_KEY and json.loads(proofs[-1][1])["auth"] == "api_key"
    assert isinstance(blog.run("feed"), dict | list)
    assert proofs[-1][:2] == (ANON, "{}")
    with psycopg.connect(blog.url) as conn:
        for role, text, proof in proofs:
            row = conn.execute("SELECT fraiseql.claims_proven(%s, %s, %s)", (role, text, proof)).fetchone()
            assert row == (True,), role


def test_an_auth_flow_run_as_the_login_role_is_proven_for_it(
    tmp_path: Path, pg_url: str, provider: str, proofs: list[Any]  # noqa: F811
) -> None:
    """oauthCallback runs as the authenticator itself (no SET ROLE): its claims are proven for that role."""
    db = build_blog(tmp_path, pg_url, OAUTH_TOML)
    try:
        payload = callback(db, provider, "google", "code-alice")
        assert not isinstance(payload, ExecutionError), payload.message
        role, text, proof = proofs[-1]
        assert role == AUTHENTICATOR
        with psycopg.connect(db.url) as conn:  # as the login role, no SET ROLE: what the request ran as
            as_runtime(conn, AUTHENTICATOR, text)
            assert current(conn) == (text, proof)
            assert conn.execute(PROVEN_NOW).fetchone() == (True,)
            conn.rollback()
        assert db.run("me", payload["accessToken"])["id"] == ALICE  # and the session it opened is Alice's
    finally:
        db.admin.close()


def test_a_runtime_without_the_databases_key_serves_no_identity(blog: Blog) -> None:
    token = blog.token(ALICE, "read:posts")

    def run(operation: str, env: dict[str, str], token: str | None = token) -> Any:
        with psycopg.connect(blog.url, autocommit=True) as conn:
            try:
                return execute(conn, blog.manifest, Request(operation, {}, token), env)
            except ExecutionError as exc:
                return exc

    other = {**ENV, "FRAISEQL_CLAIMS_KEY": claims_proof.new_key()}  # a key, but not the one installed
    refused = run("myPosts", other)
    assert isinstance(refused, ExecutionError), refused
    without_token = run("myPosts", ENV, None)
    assert isinstance(without_token, ExecutionError)
    # the error of a request without credentials: nothing says the key is wrong
    assert (refused.http, refused.code, refused.message) == (without_token.http, without_token.code,
                                                             without_token.message) == (401, "UNAUTHENTICATED",
                                                                                        "authentication required")
    assert not isinstance(run("feed", other), ExecutionError)  # public queries still answer
    unset = run("myPosts", {k: v for k, v in ENV.items() if k != "FRAISEQL_CLAIMS_KEY"})
    assert isinstance(unset, ExecutionError) and (unset.http, unset.code) == (500, "MISCONFIGURED")
    assert "FRAISEQL_CLAIMS_KEY is not set" in unset.message
    short = base64.b64encode(b"sixteen-byte-key").decode()
    bad = run("myPosts", {**ENV, "FRAISEQL_CLAIMS_KEY": short})
    assert isinstance(bad, ExecutionError) and (bad.http, bad.code) == (500, "MISCONFIGURED")
    assert "holds 16 bytes" in bad.message and short not in bad.message


# --- fraiseql migrate ------------------------------------------------------------------------------------------------


def migrate(project: Path, url: str, *args: str, key: str | None) -> Result:
    """`fraiseql migrate` with FRAISEQL_CLAIMS_KEY set to ``key`` (None: unset)."""
    args = ("migrate", str(project), "--database", url, *args)
    return CliRunner().invoke(app, list(args), env={"FRAISEQL_CLAIMS_KEY": key})


def scalar(url: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        assert row is not None
        return row[0]


def held(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return claims_proof.installed(conn)


def test_migrate_installs_and_rotates_the_key_and_refuses_a_database_left_without_one(
    tmp_path: Path, pg_url: str
) -> None:
    project = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("build"))
    api.build(project)
    nothing_applied = "SELECT to_regclass('public.v_post') IS NULL AND to_regclass('fraiseql.tb_claims_key') IS NULL"
    a, b, c = CLAIMS_KEY_TEXT, claims_proof.new_key(), claims_proof.new_key()
    kid_a, kid_b, kid_c = (key_id(parse_key(k)) for k in (a, b, c))

    # a fresh database and no key: refused, nothing applied (every request would be anonymous)
    refused = migrate(project, pg_url, key=None)
    assert refused.exit_code == 2 and "FQL409" in refused.output, refused.output
    assert "FRAISEQL_CLAIMS_KEY is not set" in refused.output and "openssl rand -base64 32" in refused.output
    assert scalar(pg_url, nothing_applied) is True
    check = migrate(project, pg_url, "--check", key=None)
    assert check.exit_code == 1 and "no claims key" in check.output, check.output
    # not a key: refused, whatever the database holds, and the value is never printed
    for bad, words in (("not a key!", "is not base64"), (base64.b64encode(b"0123456789abcdef").decode(), "16 bytes")):
        result = migrate(project, pg_url, key=bad)
        assert result.exit_code == 2 and "FQL409" in result.output and words in result.output, result.output
        assert bad not in result.output
    assert scalar(pg_url, nothing_applied) is True
    dry = migrate(project, pg_url, "--dry-run", key=a)
    assert dry.exit_code == 0 and f"(kid {kid_a})" in dry.output and "never printed" in dry.output, dry.output
    assert a not in dry.output and scalar(pg_url, nothing_applied) is True

    # installed with the schema, in the same transaction
    first = migrate(project, pg_url, key=a)
    assert first.exit_code == 0 and f"claims key {kid_a} installed" in first.output, first.output
    assert a not in first.output
    inner, outer = pads(parse_key(a))
    assert scalar(pg_url, "SELECT array_agg(kid) FROM fraiseql.tb_claims_key WHERE inner_pad = %s AND outer_pad = %s",
                  (inner, outer)) == [kid_a]  # fmt: skip
    # the same key, or none (the database keeps what it holds): nothing to do
    for key in (a, None):
        again = migrate(project, pg_url, key=key)
        assert again.exit_code == 0 and "up to date" in again.output, again.output
        assert migrate(project, pg_url, "--check", key=key).exit_code == 0
    assert held(pg_url) == [kid_a]

    # a new key is pending; migrating installs it next to the previous one
    pending = migrate(project, pg_url, "--check", key=b)
    assert pending.exit_code == 1 and kid_b in pending.output and b not in pending.output, pending.output
    second = migrate(project, pg_url, key=b)
    assert second.exit_code == 0 and f"claims key {kid_b} installed" in second.output, second.output
    assert "retired" not in second.output and held(pg_url) == [kid_b, kid_a]
    # the next rotation retires the oldest
    third = migrate(project, pg_url, key=c)
    assert third.exit_code == 0 and f"retired {kid_a}" in third.output, third.output
    assert held(pg_url) == [kid_c, kid_b]

    # a runtime on the retired key serves no identity; on either held key, Alice is Alice
    manifest = Manifest.model_validate_json((project / "build" / MANIFEST_FILE).read_text(encoding="utf-8"))
    with psycopg.connect(pg_url, autocommit=True) as admin:
        blog = Blog(psycopg.conninfo.make_conninfo(pg_url, user=AUTHENTICATOR), admin, manifest, project)
        token = blog.token(ALICE, "read:posts")
        for key, ok in ((a, False), (b, True), (c, True)):
            answer: Any
            with psycopg.connect(blog.url, autocommit=True) as conn:
                try:
                    answer = execute(conn, manifest, Request("myPosts", {}, token), {**ENV, "FRAISEQL_CLAIMS_KEY": key})
                except ExecutionError as exc:
                    answer = exc
            if ok:
                assert [p["title"] for p in answer] == ["Hello"], key
            else:
                assert isinstance(answer, ExecutionError) and answer.http == 401, answer
