"""Rules over SQL: squawk on the generated files and your migrations, and the live catalog (``--database``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.lint.rule import Context, Rule


class Squawk(Rule):
    """squawk, a PostgreSQL migration linter, over the generated SQL and your migrations.

    Its findings keep squawk's own rule names (``squawk:adding-not-nullable-field``, …; see
    https://squawkhq.com/docs/rules). Rules that do not apply to how ``fraiseql migrate`` runs SQL (one
    transaction, ``lock_timeout`` and ``statement_timeout`` set) are left out, each for a stated reason
    (``fraiseql_compiler/lint/squawk.py``). Select or ignore them as ``squawk`` (all) or ``squawk:<rule>``.

    *Anti-pattern*: ``ALTER TABLE tb_post ADD COLUMN views integer NOT NULL;`` (fails on a table with rows).

    *Best practice*: add the column with a default, or nullable, then backfill.
    """

    code = "squawk"
    needs = "sql"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        import dataclasses
        import os
        import tempfile

        from fraiseql_compiler.lint.squawk import squawk_findings

        out = ctx.analysis.project.out
        with tempfile.TemporaryDirectory(prefix="fraiseql-lint-") as tmp:
            shown: dict[str, str] = {}  # the generated files are checked in memory, shown where they build to
            for path, text in sorted(ctx.artifacts.items()):
                if path.endswith(".sql"):
                    target = Path(tmp) / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                    built = out / path
                    shown[os.path.normpath(target)] = (
                        built.relative_to(ctx.root).as_posix() if built.is_relative_to(ctx.root) else built.as_posix()
                    )
            generated = [Path(p) for p in shown]
            findings = squawk_findings([*ctx.migrations, *generated], root=ctx.root, generated=generated)
        for d in findings:
            span = d.span
            where = os.path.normpath(ctx.root / span.file) if span is not None else ""
            if span is not None and where in shown:
                d = dataclasses.replace(d, span=dataclasses.replace(span, file=shown[where]))
            yield d


class Catalog(Rule):
    """Base of the catalog rules: one read of the database, each rule keeping its own code."""

    needs = "database"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        yield from (d for d in ctx.catalog if d.code == self.code)


def _catalog_rule(code: str, doc: str) -> type[Catalog]:
    return type(f"Catalog{code}", (Catalog,), {"code": code, "__doc__": doc})


CATALOG_DOCS = {
    "FQL330": """A table with policies and row-level security turned off.

    Policies do nothing until ``ENABLE ROW LEVEL SECURITY``: every role with a privilege on the table reads
    every row. Someone turned it off by hand, or a migration created policies and forgot.

    *Anti-pattern*: ``ALTER TABLE tb_post DISABLE ROW LEVEL SECURITY;``

    *Best practice*: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (``fraiseql migrate --repair`` restores the
    build's).""",
    "FQL331": """A view an API role may read, without ``security_invoker``.

    A view runs with its owner's privileges unless ``security_invoker = true``: the tables' row-level
    security is then checked against the owner (who usually bypasses it), and the view leaks every row.

    *Anti-pattern*: ``CREATE VIEW v_all_users AS SELECT * FROM tb_user; GRANT SELECT ON v_all_users TO
    fraiseql_anonymous;``

    *Best practice*: ``CREATE VIEW … WITH (security_invoker = true) AS …``.""",
    "FQL332": """A function an API role may call, or a SECURITY DEFINER function, without a pinned ``search_path``.

    Unqualified names in its body resolve through the caller's ``search_path``, which the caller controls:
    a function or operator of the same name in a schema the caller can create objects in runs instead.

    *Anti-pattern*: ``CREATE FUNCTION fn_x() … SECURITY DEFINER AS $$ … now() … $$;``

    *Best practice*: ``SET search_path = pg_catalog, pg_temp`` on the function, and qualified names.""",
    "FQL333": """A SECURITY DEFINER function an API role may execute.

    It runs with its owner's privileges, bypassing row-level security, for whoever may call it. The auth
    functions fraiseql generates are designed for that; anything else needs a reason.

    *Anti-pattern*: ``GRANT EXECUTE ON FUNCTION fn_admin_reset() TO fraiseql_authenticated;``

    *Best practice*: SECURITY INVOKER, or revoke EXECUTE from the API roles.""",
    "FQL334": """A policy calls a helper once per row.

    ``USING (author_id = fraiseql.current_user_id())`` calls the helper for every row the policy filters;
    ``(SELECT fraiseql.current_user_id())`` runs it once per statement (an initPlan): 85 times faster in
    ``benchmarks/rls_overhead.py``.

    *Anti-pattern*: ``USING (author_id = fraiseql.current_user_id()::uuid)``

    *Best practice*: ``USING (author_id = (SELECT fraiseql.current_user_id()::uuid))``.""",
    "FQL335": """A policy compares a column that no index leads.

    The policy's lookup (``author_id = (SELECT fraiseql.current_user_id())``) runs on every statement; without
    an index on the column the table is read in full.

    *Anti-pattern*: a policy on ``tb_comment.author_id`` with no index on it.

    *Best practice*: ``CREATE INDEX ON tb_comment (author_id);``""",
    "FQL336": """Several permissive policies for one role and action.

    PostgreSQL ORs permissive policies: each is evaluated, and any one of them lets a row through. Two for
    the same role and command usually mean one was added without seeing the other.

    *Anti-pattern*: ``fql_authenticated_select`` and a hand-written ``p_authors_select`` on one table.

    *Best practice*: one policy per role and command, combining the conditions.""",
}

RULES: tuple[type[Rule], ...] = (Squawk, *(_catalog_rule(code, doc) for code, doc in CATALOG_DOCS.items()))
