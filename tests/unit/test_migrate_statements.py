"""The statement splitter migrate uses to name a failing statement's line: it must cut every generated file
exactly where PostgreSQL's own parser does (pglast), and handle what SQL allows inside a statement."""

from __future__ import annotations

from pathlib import Path

import pglast
import pytest

from fraiseql_compiler.emit.objects import split_blocks
from fraiseql_compiler.migrate.statements import split
from tests.cases import REPO, cases, sql_files

FILES = [(c.name, path, sql) for c in cases() for path, sql in sql_files(c)]


@pytest.mark.parametrize(("case", "path", "sql"), FILES, ids=[f"{c}:{p}" for c, p, _ in FILES])
def test_the_splitter_agrees_with_postgresqls_parser(case: str, path: str, sql: str) -> None:
    for _, name, block, _ in split_blocks(sql):
        ours = [s for s, _ in split(block)]
        theirs = pglast.split(block)
        assert len(ours) == len(theirs), name
        for mine, pg in zip(ours, theirs, strict=True):
            assert pglast.parse_sql(mine), name
            assert " ".join(mine.rstrip(";").split()).endswith(" ".join(pg.split())[-40:]), name


def test_the_user_migration_splits_too() -> None:
    text = (REPO / "examples" / "blog" / "db" / "migrations" / "0001_base.sql").read_text(encoding="utf-8")
    assert len(split(text)) == len(pglast.split(text))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2", [("SELECT 1;", 0), ("SELECT 2", 0)]),
        (
            "-- a;\nSELECT 'a;b'';c';\n/* x; /* nested; */ */ SELECT 2;",
            [("-- a;\nSELECT 'a;b'';c';", 1), ("/* x; /* nested; */ */ SELECT 2;", 2)],
        ),
        (
            "DO $do$ BEGIN PERFORM 1; END $do$;\nSELECT $a$;$a$, $$;$$;",
            [("DO $do$ BEGIN PERFORM 1; END $do$;", 0), ("SELECT $a$;$a$, $$;$$;", 1)],
        ),
        ("SELECT E'\\';', \"a;\"\"b\";", [("SELECT E'\\';', \"a;\"\"b\";", 0)]),
        ("SELECT a$1; SELECT 1", [("SELECT a$1;", 0), ("SELECT 1", 0)]),
        ("\n\n-- only a comment;\n", []),
    ],
)
def test_what_sql_allows_inside_a_statement(sql: str, expected: list[tuple[str, int]]) -> None:
    assert split(sql) == expected


def test_a_migration_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    from fraiseql_compiler.diagnostics import FraiseQLError
    from fraiseql_compiler.migrate.source import user_migrations

    (tmp_path / "0001_latin1.sql").write_bytes("SELECT 1;\nSELECT 'caf\xe9';\n".encode("latin-1"))
    with pytest.raises(FraiseQLError) as raised:
        user_migrations(tmp_path)
    [d] = raised.value.diagnostics
    assert d.code == "FQL400" and "0001_latin1.sql:2: not UTF-8" in d.message
