"""Arguments through the reference executor and ``fraiseql query``: checked against their GraphQL types before
any SQL runs (a bad one is a 400 naming it, never a raw PostgreSQL error), input objects accepted under the
names the SDL declares and handed to SQL under their Python names."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.manifest.io import dumps
from tests.cases import REPO
from tests.pg.blogdb import ENV, Blog, build_blog
from tests.pg.sessions import ALICE

# A mutation that echoes the jsonb its SQL function receives, after casting every value to its SQL type: what
# the executor accepts, PostgreSQL accepts too.
PROBE_SCHEMA = '''

# --- tests only: a mutation whose SQL function echoes its arguments -----------------------------------------

import enum

from fraiseql.scalars import JSON, URL, UUID, Date, Decimal, Time


@fraiseql.enum
class Mood(enum.Enum):
    HAPPY = "happy"
    GRUMPY = "grumpy"


@fraiseql.input
class TagInput:
    tag_name: str
    weight: int = 1


@fraiseql.input
class ProbeInput:
    post_title: str
    main_tag: TagInput
    extra_tags: list[TagInput]
    note: str | None = None


@fraiseql.mutation
@authenticated
def probe(
    info,
    probe_input: ProbeInput | None = None,
    count: int | None = None,
    ratio: float | None = None,
    ref: UUID | None = None,
    when: DateTime | None = None,
    day: Date | None = None,
    at: Time | None = None,
    amount: Decimal | None = None,
    extra: JSON | None = None,
    link: URL | None = None,
    mood: Mood | None = None,
    labels: list[str] | None = None,
) -> JSON:
    """Echo the arguments as fn_probe receives them."""
    pass
'''

PROBE_SQL = """
CREATE OR REPLACE FUNCTION public.fn_probe(caller_id text, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM (args ->> 'count')::integer, (args ->> 'ratio')::double precision, (args ->> 'ref')::uuid,
        (args ->> 'when')::timestamptz, (args ->> 'day')::date, (args ->> 'at')::time,
        (args ->> 'amount')::numeric, (args ->> 'link')::text, (args ->> 'mood')::text,
        (args -> 'probe_input' ->> 'post_title')::text;
    RETURN args;
END
$fn$;
"""


@pytest.fixture
def blog(tmp_path: Path, pg_url: str) -> Any:
    example = REPO / "examples" / "blog"
    files = {
        "schema.py": (example / "schema.py").read_text(encoding="utf-8") + PROBE_SCHEMA,
        "db/migrations/0001_base.sql": (example / "db" / "migrations" / "0001_base.sql").read_text(encoding="utf-8")
        + PROBE_SQL,
    }
    db = build_blog(tmp_path, pg_url, files=files)
    yield db
    db.admin.close()


def probe(blog: Blog, **variables: Any) -> Any:
    return blog.run("probe", blog.token(ALICE), **variables)


def bad(result: Any, code: str, *words: str) -> bool:
    """A 400 with ``code`` whose message holds every word."""
    assert isinstance(result, ExecutionError), result
    assert (result.http, result.code) == (400, code), result.message
    assert all(w in result.message for w in words), result.message
    return True


# --- item 3: input objects under their SDL names ----------------------------------------------------------


def test_refresh_token_by_its_sdl_name(blog: Blog) -> None:
    first = blog.run("login", input={"email": "alice@example.com", "password": "alice-password"})["refreshToken"]
    second = blog.run("refreshToken", input={"refreshToken": first})
    assert second["accessToken"] and second["refreshToken"] != first


def test_refresh_token_by_its_python_name_is_400_naming_the_sdl_name(blog: Blog) -> None:
    first = blog.run("login", input={"email": "alice@example.com", "password": "alice-password"})["refreshToken"]
    result = blog.run("refreshToken", input={"refresh_token": first})
    assert bad(result, "UNKNOWN_ARGUMENT", '"refresh_token"', 'write "refreshToken"', '"input"', "RefreshInput")
    assert blog.run("refreshToken", input={"refreshToken": first})["accessToken"]  # the token was not spent


def test_unknown_input_fields_are_400(blog: Blog) -> None:
    token = blog.token(ALICE, "write:posts")
    typo = blog.run("createPost", token, input={"titel": "t", "body": "b"})
    assert bad(typo, "UNKNOWN_ARGUMENT", '"titel"', 'did you mean "title"?', "CreatePostInput")
    extra = blog.run("createPost", token, input={"title": "t", "body": "b", "author_id": ALICE, "x": 1})
    assert bad(extra, "UNKNOWN_ARGUMENT", '"author_id"', '"x"')
    login = blog.run("login", input={"email": "alice@example.com", "password": "alice-password", "otp": "1"})
    assert bad(login, "UNKNOWN_ARGUMENT", '"otp"', "LoginInput")
    assert blog.admin.execute("SELECT count(*) FROM public.tb_post WHERE title = 't'").fetchone() == (0,)


def test_create_post_reaches_its_function_under_python_names(blog: Blog) -> None:
    token = blog.token(ALICE, "write:posts")
    post = blog.run("createPost", token, input={"title": "shown", "body": "text", "published": True})
    assert (post["title"], post["body"], post["published"]) == ("shown", "text", True)
    row = blog.admin.execute("SELECT body, published FROM public.tb_post WHERE title = 'shown'").fetchone()
    assert row == ("text", True)
    default = blog.run("createPost", token, input={"title": "draft", "body": "b"})
    assert default["published"] is False  # the SDL's default, = false


def test_nested_inputs_and_lists_of_inputs_are_translated(blog: Blog) -> None:
    given = {
        "postTitle": "t",
        "mainTag": {"tagName": "main"},
        "extraTags": [{"tagName": "a", "weight": 3}, {"tagName": "b"}],
    }
    echoed = probe(blog, probeInput=given)
    assert echoed["probe_input"] == {
        "post_title": "t",
        "main_tag": {"tag_name": "main", "weight": 1},
        "extra_tags": [{"tag_name": "a", "weight": 3}, {"tag_name": "b", "weight": 1}],
        "note": None,
    }  # absent fields get their SDL defaults (`weight: Int! = 1`, `note: String = null`)
    assert probe(blog, probe_input=given)["probe_input"] == echoed["probe_input"]  # a top-level Python name too


def test_nested_input_problems_name_their_path(blog: Blog) -> None:
    base: dict[str, Any] = {"postTitle": "t", "mainTag": {"tagName": "m"}, "extraTags": []}
    python_names = probe(blog, probeInput={**base, "extraTags": [{"tagName": "a"}, {"tag_name": "b"}]})
    assert bad(python_names, "UNKNOWN_ARGUMENT", '"tag_name"', 'write "tagName"', '"probeInput.extraTags[1]"')
    wrong_type = probe(blog, probeInput={**base, "extraTags": [{"tagName": "a", "weight": "3"}]})
    assert bad(wrong_type, "BAD_ARGUMENT", '"probeInput.extraTags[0].weight"', "Int")
    missing = probe(blog, probeInput={**base, "mainTag": {}})
    assert bad(missing, "MISSING_ARGUMENT", '"probeInput.mainTag.tagName"', "String!")
    null = probe(blog, probeInput={**base, "postTitle": None})
    assert bad(null, "BAD_ARGUMENT", '"probeInput.postTitle"', "must not be null")
    not_object = probe(blog, probeInput={**base, "mainTag": "m"})
    assert bad(not_object, "BAD_ARGUMENT", '"probeInput.mainTag"', "TagInput")
    nul = probe(blog, probeInput={**base, "mainTag": {"tagName": "a\x00b"}})
    assert bad(nul, "BAD_ARGUMENT", '"probeInput.mainTag.tagName"', "NUL")


def test_an_argument_given_under_both_names_is_ambiguous(blog: Blog) -> None:
    given = {"postTitle": "t", "mainTag": {"tagName": "m"}, "extraTags": []}
    assert bad(probe(blog, probeInput=given, probe_input=given), "AMBIGUOUS_ARGUMENT", '"probeInput"')
    assert bad(probe(blog, probeInpt=given), "UNKNOWN_ARGUMENT", '"probeInpt"', 'did you mean "probeInput"?')


# --- item 2: values against their types ---------------------------------------------------------------------


ACCEPTED = [
    ("count", 2147483647, 2147483647),
    ("count", -2147483648, -2147483648),
    ("count", 7.0, 7),  # an integral JSON number is an Int
    ("ratio", 1.5, 1.5),
    ("ratio", 3, 3),
    ("ref", "0A1B2C3D-0000-4000-8000-00000000000F", "0A1B2C3D-0000-4000-8000-00000000000F"),
    ("when", "2024-05-01T12:30:00Z", None),
    ("when", "2024-05-01 12:30:00.123456+05:30", None),
    ("when", "2024-05-01T12:30-0800", None),
    ("day", "2024-02-29", None),
    ("at", "23:59:59.999999", None),
    ("at", "12:30", None),
    ("amount", "12.50", None),
    ("amount", "-1e5", None),
    ("amount", ".5", None),
    ("amount", 12, None),
    ("extra", {"a": [1, "x", None, {"b": True}], "n": 1.5}, None),
    ("extra", "just a string", None),
    ("link", "https://example.com/a?b=c", None),
    ("mood", "HAPPY", None),
    ("labels", ["a", "b"], None),
    ("labels", "one", ["one"]),  # GraphQL: one value where a list is expected is a list of one
]


@pytest.mark.parametrize(("name", "value", "expected"), ACCEPTED, ids=[f"{a[0]}={a[1]!r}" for a in ACCEPTED])
def test_values_of_their_type_reach_sql(blog: Blog, name: str, value: Any, expected: Any) -> None:
    echoed = probe(blog, **{name: value})
    assert not isinstance(echoed, ExecutionError), echoed.message
    assert echoed[name] == (value if expected is None else expected)


REFUSED = [
    ("count", 2**31, "between -2147483648 and 2147483647"),
    ("count", -(2**31) - 1, "32-bit"),
    ("count", 1e20, "32-bit"),
    ("count", 1.5, "Int"),
    ("count", "1", "Int"),
    ("count", True, "Int"),
    ("count", math.nan, "NaN"),
    ("ratio", math.nan, "finite"),
    ("ratio", math.inf, "finite"),
    ("ratio", 10**400, "finite"),
    ("ratio", "1.5", "Float"),
    ("ratio", False, "Float"),
    ("ref", "notauuid", "UUID"),
    ("ref", "{0a1b2c3d-0000-4000-8000-00000000000f}", "UUID"),
    ("ref", 12, "string"),
    ("when", "2024-05-01T12:30:00", "time zone offset"),
    ("when", "2024-13-01T00:00:00Z", "ISO-8601"),
    ("when", "2024-05-01", "ISO-8601"),
    ("when", "yesterday", "ISO-8601"),
    ("when", "infinity", "ISO-8601"),
    ("day", "2024-02-30", "date"),
    ("day", "2024/05/01", "date"),
    ("day", "2024-05-01T00:00:00Z", "date"),
    ("at", "25:00", "time"),
    ("at", "12:30+02:00", "without offset"),
    ("amount", "NaN", "Decimal"),
    ("amount", "Infinity", "Decimal"),
    ("amount", "12,50", "Decimal"),
    ("amount", "1e131072", "numeric"),
    ("amount", "1e-16384", "numeric"),
    ("amount", True, "Decimal"),
    ("amount", math.inf, "finite"),
    ("extra", {"a": "x\x00"}, "NUL"),
    ("extra", {"k\x00": 1}, "NUL"),
    ("extra", [math.nan], "NaN"),
    ("link", "https://x/\x00", "NUL"),
    ("link", "\ud800", "surrogate"),
    ("mood", "happy", 'did you mean "HAPPY"?'),
    ("mood", "SAD", "HAPPY, GRUMPY"),
    ("mood", 1, "Mood"),
    ("labels", ["a", None], "must not be null"),
    ("labels", ["a", 1], "String"),
]


@pytest.mark.parametrize(("name", "value", "words"), REFUSED, ids=[f"{r[0]}={r[1]!r}"[:40] for r in REFUSED])
def test_values_not_of_their_type_are_400_naming_the_argument(blog: Blog, name: str, value: Any, words: str) -> None:
    result = probe(blog, **{name: value})
    path = f'"{name}[1]"' if name == "labels" else f'"{name}"'
    assert bad(result, "BAD_ARGUMENT", path, words)


def test_limit_is_checked_before_sql(blog: Blog) -> None:
    token = blog.token(ALICE)
    # a list query's limit is its paging's: between 0 and its max_limit, refused (never clamped) above it
    assert bad(blog.run("posts", token, limit=-1), "BAD_ARGUMENT", '"limit"', "between 0 and 100")
    assert bad(blog.run("posts", token, limit=1e20), "LIMIT_TOO_LARGE", '"limit"', "max_limit")
    assert bad(blog.run("posts", token, limit=2**31), "LIMIT_TOO_LARGE", '"limit"', "max_limit")
    assert bad(blog.run("posts", token, limit=1.5), "BAD_ARGUMENT", '"limit"', "Int")
    assert blog.run("posts", token, limit=0) == []
    assert len(blog.run("posts", token, limit=1)) == 1
    assert bad(blog.run("deletePost", blog.token(ALICE, "admin:posts"), id="notauuid"), "BAD_ARGUMENT", '"id"')
    assert bad(blog.run("revokeAll", token, sub="alice"), "BAD_ARGUMENT", '"sub"', "UUID")


# --- the CLI: `fraiseql query --var` values reach the same checks --------------------------------------------


@pytest.fixture
def cli(blog: Blog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    manifest = tmp_path / MANIFEST_FILE
    manifest.write_text(dumps(blog.manifest), encoding="utf-8")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, Any, str]:
        result = CliRunner().invoke(app, ["query", "--manifest", str(manifest), "--database", blog.url, *args])
        return result.exit_code, json.loads(result.stdout) if result.stdout else None, result.stderr

    return run


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["posts", "--var", "limit=1e20"], ['"limit"', "max_limit"]),
        (["posts", "--var", "limit=-1"], ['"limit"', "between 0 and 100"]),
        (["posts", "--var", "limit=NaN"], ['"limit"', "NaN"]),
        (["posts", "--var", "limit=ten"], ['"limit"', '"ten"']),
        (["deletePost", "--var", "id=notauuid"], ['"id"', "UUID"]),
        (["createPost", "--var", 'input={"title": "t\\u0000", "body": "b"}'], ['"input.title"', "NUL"]),
        (["refreshToken", "--var", 'input={"refresh_token": "x"}'], ['"refresh_token"', '"refreshToken"']),
    ],
)
def test_fraiseql_query_answers_400_not_500(blog: Blog, cli: Any, args: list[str], words: list[str]) -> None:
    token = blog.token(ALICE, "write:posts", "admin:posts")
    code, out, err = cli(*args, "--token", token)
    assert code == 1 and err == "", err  # refused: exit 1, JSON errors on stdout, no traceback
    (error,) = out["errors"]
    assert error["http"] == 400 and error["code"] in ("BAD_ARGUMENT", "UNKNOWN_ARGUMENT", "LIMIT_TOO_LARGE"), error
    assert "sqlstate" not in error
    assert all(w in error["message"] for w in words), error["message"]


def test_fraiseql_query_refresh_token_by_its_sdl_name(blog: Blog, cli: Any) -> None:
    first = blog.run("login", input={"email": "alice@example.com", "password": "alice-password"})["refreshToken"]
    code, out, _ = cli("refreshToken", "--var", "input=" + json.dumps({"refreshToken": first}))
    assert code == 0 and out["data"]["accessToken"], out


def test_a_json_argument_reaches_a_jsonb_parameter(tmp_path: Path, pg_url: str) -> None:
    """A JSON argument bound to a row_filter parameter is sent as jsonb (psycopg cannot adapt a bare dict)."""
    schema = (REPO / "examples" / "blog" / "schema.py").read_text(encoding="utf-8") + '''

from fraiseql.scalars import JSON


@fraiseql.type(table="tb_doc", access={"anonymous": fraiseql.access(read="true")})
class Doc:
    id: ID
    meta: JSON


@fraiseql.query(sql_source="v_doc", row_filter="meta = {arg:meta}")
def docs_with(meta: JSON) -> list[Doc]: ...
'''
    ddl = (REPO / "examples" / "blog" / "db" / "migrations" / "0001_base.sql").read_text(encoding="utf-8") + (
        "\nCREATE TABLE public.tb_doc (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), meta jsonb NOT NULL);"
        "\nINSERT INTO public.tb_doc (meta) VALUES ('{\"a\": 1}'), ('{\"a\": 2}');\n"
    )
    blog = build_blog(tmp_path, pg_url, files={"schema.py": schema, "db/migrations/0001_base.sql": ddl})
    try:
        found = blog.run("docsWith", meta={"a": 1})
        assert [d["meta"] for d in found] == [{"a": 1}], found
    finally:
        blog.admin.close()
