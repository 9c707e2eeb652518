"""Row access: what the access rules and row filters let through."""

from __future__ import annotations

from collections.abc import Iterator

from fraiseql_compiler.diagnostics import Diagnostic, Span
from fraiseql_compiler.ir import ColumnUse, Policy, Query
from fraiseql_compiler.lint import ddl
from fraiseql_compiler.lint.rule import Context, Rule
from fraiseql_compiler.sql.predicate_render import (
    Between,
    BoolOp,
    ColumnRef,
    Compare,
    Func,
    InList,
    IsTest,
    Like,
    Node,
    Not,
    Placeholder,
)

IDENTITY = frozenset({"current_user_id", "jwt"})
CALLER = IDENTITY | {"scope"}


class UnconditionalWriteRule(Rule):
    """A write rule (insert, update, delete) that does not depend on the caller.

    A rule such as ``update="true"`` or ``update="published = false"`` names no ``{current_user_id}``, claim
    or scope: every caller the role covers may write every row it matches — anyone signed in may edit
    anyone's post. Read rules that admit everyone are common (published content); write rules almost never
    are.

    *Anti-pattern*: ``"authenticated": fraiseql.access(read="true", update="true")``.

    *Best practice*: tie writes to the caller: ``update="author_id = {current_user_id}"``, or to a scope:
    ``delete="{scope:admin:posts}"``.
    """

    code = "FQL309"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for t in ctx.analysis.schema.types:
            for p in t.policies:
                if p.action == "read" or any(ph.kind in CALLER for ph in p.predicate.placeholders):
                    continue
                what = "every row" if p.source.strip().lower() == "true" else f"every row where {p.source}"
                yield self.diag(
                    f"{t.name}: the {p.role} {p.action} rule lets every {p.role} caller {p.action} {what}",
                    p.span,
                    "tie it to the caller ({current_user_id}, a {jwt:claim}) or to a scope ({scope:admin:x})",
                )


def _fail_open(node: Node, positive: bool = True) -> Placeholder | None:
    """An identity placeholder that makes ``node`` true when it is missing (NULL): ``{current_user_id} IS
    NULL`` where it counts positively, or a ``coalesce`` that replaces a missing identity with a value."""
    if isinstance(node, IsTest):
        operand = node.operand
        if isinstance(operand, Placeholder) and operand.kind in IDENTITY and node.test == "NULL":
            return operand if (not node.negated) == positive else None
        return _fail_open(operand, positive)
    if isinstance(node, Not):
        return _fail_open(node.operand, not positive)
    if isinstance(node, BoolOp):
        return next((found for item in node.items if (found := _fail_open(item, positive))), None)
    if positive:
        values: tuple[Node, ...] = ()
        if isinstance(node, Compare):
            values = (node.left, node.right)
        elif isinstance(node, InList):
            values = (node.operand, *node.items)
        elif isinstance(node, Like):
            values = (node.operand, node.pattern)
        elif isinstance(node, Between):
            values = (node.operand, node.low, node.high)
        for value in values:
            if isinstance(value, Func) and value.name == "coalesce":
                first = value.args[0] if value.args else None
                if isinstance(first, Placeholder) and first.kind in IDENTITY and len(value.args) > 1:
                    return first
    return None


class FailOpenPredicate(Rule):
    """A row filter or access rule that lets rows through when the caller's identity is missing.

    ``{current_user_id} IS NULL OR author_id = {current_user_id}`` reads as "mine", but for a caller
    without an identity (anonymous, an unlinked provider identity, a service key) the first branch is true
    for every row. ``coalesce({jwt:org_id}, org_id) = org_id`` does the same for a missing claim. A missing
    identity must match nothing.

    *Anti-pattern*: ``row_filter="{current_user_id} IS NULL OR author_id = {current_user_id}"``.

    *Best practice*: compare directly (``author_id = {current_user_id}`` is NULL, so false, without an
    identity); to show public rows, test a column of the row: ``published OR author_id = {current_user_id}``.
    """

    code = "FQL310"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        schema = ctx.analysis.schema
        for q in schema.queries:
            if q.row_filter is not None and (ph := _fail_open(q.row_filter.predicate.tree)):
                yield self._found(f'the row_filter of query "{q.name}"', ph, q.row_filter.span)
        for t in schema.types:
            for p in t.policies:
                if ph := _fail_open(p.predicate.tree):
                    yield self._found(f"{t.name}: the {p.role} {p.action} rule", ph, p.span)

    def _found(self, what: str, ph: Placeholder, span: Span) -> Diagnostic:
        written = "{current_user_id}" if ph.kind == "current_user_id" else f"{{jwt:{ph.name}}}"
        return self.diag(
            f"{what} admits rows when {written} is missing: a caller without that identity passes it",
            span,
            "compare the identity directly (a missing identity is NULL and matches nothing); test a column of "
            "the row for public rows",
        )


def _lookups(node: Node) -> list[ColumnRef]:
    """Columns compared for equality (=, IN) with a caller's identity or an argument: index lookups."""
    if isinstance(node, BoolOp):
        return [c for item in node.items for c in _lookups(item)]
    if isinstance(node, Compare) and node.op == "=":
        pairs = ((node.left, node.right), (node.right, node.left))
        return [a for a, b in pairs if isinstance(a, ColumnRef) and isinstance(b, Placeholder) and b.kind != "scope"]
    if isinstance(node, InList) and not node.negated and isinstance(node.operand, ColumnRef):
        return [node.operand] if any(isinstance(i, Placeholder) for i in node.items) else []
    return []


class UnindexedFilterColumn(Rule):
    """A row filter or access rule looks rows up by a column that no index leads.

    ``author_id = {current_user_id}`` runs on every request; without an index whose first column is
    ``author_id``, PostgreSQL reads the whole table to find the caller's rows, and the query slows down as
    the table grows. Checked for row filters and read rules (write rules check rows that an UPDATE or DELETE
    already picked, usually by key), and only for tables whose ``CREATE TABLE`` is in your migrations folder
    (the only DDL the compiler can read); primary keys and unique constraints count as indexes.

    *Anti-pattern*: ``access={"authenticated": fraiseql.access(read="author_id = {current_user_id}")}`` on a
    table with no index on ``author_id``.

    *Best practice*: ``CREATE INDEX tb_comment_author_id_idx ON public.tb_comment (author_id);`` in a new
    migration.
    """

    code = "FQL311"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tables = ddl.read(path.read_text(encoding="utf-8") for path in ctx.migrations)
        if not tables.defined:
            return
        schema, facts = ctx.analysis.schema, ctx.analysis.facts
        seen: set[tuple[str, str]] = set()
        for t in schema.types:
            if not t.table:
                continue
            for p in t.policies:
                if p.action == "read":  # write rules check rows the statement already picked (by key)
                    yield from self._report(tables, t.table, _lookups(p.predicate.tree), p.columns, p, seen)
        for q in schema.queries:
            source = facts.query_sources.get(q.id)
            if q.row_filter is None or source is None or not source.generated or source.type_name is None:
                continue
            owner = schema.object_type(source.type_name)
            if owner is None or not owner.table:
                continue
            lookups = [
                ColumnRef(source.columns[c.name].table_column, c.offset, c.length)
                for c in _lookups(q.row_filter.predicate.tree)
                if c.name in source.columns
            ]
            yield from self._report(tables, owner.table, lookups, q.row_filter.columns, q, seen)

    def _report(
        self,
        tables: ddl.Tables,
        table: str,
        lookups: list[ColumnRef],
        uses: tuple[ColumnUse, ...],
        where: Policy | Query,
        seen: set[tuple[str, str]],
    ) -> Iterator[Diagnostic]:
        if not tables.knows(table):
            return
        for column in lookups:
            if tables.indexed(table, column.name) or (table, column.name) in seen:
                continue
            seen.add((table, column.name))
            span = next((u.span for u in uses if u.name == column.name), where.span)
            what = f'query "{where.name}"' if isinstance(where, Query) else f"the {where.role} {where.action} rule"
            name = ddl.qualified(table)
            yield self.diag(
                f"{what} looks rows up by {name}.{column.name}, which no index of your migrations leads",
                span,
                f"add a migration: CREATE INDEX ON {name} ({column.name});",
            )


class UnboundedListQuery(Rule):
    """A list query whose callers may ask for a very large page (``max_limit`` over 1,000).

    Every list query pages (a ``limit`` with a maximum, refused above it), but a maximum in the thousands
    lets one request read, build the JSON of and send thousands of rows: a cheap way to load the database
    and the runtime, and rarely what a client needs. Page with smaller pages, keyset paging for deep ones.

    *Anti-pattern*: ``@fraiseql.query(sql_source="v_post", max_limit=50000)`` (or ``[paging] max_limit``)

    *Best practice*: ``@fraiseql.query(sql_source="v_post", paging="keyset")`` with the default maximum
    (100), or a ``max_limit`` sized to what a client shows at once.
    """

    code = "FQL312"
    threshold = 1000

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.analysis.facts
        for q in ctx.analysis.schema.queries:
            paging = facts.paging.get(q.id)
            if paging is not None and paging.max_limit > self.threshold:
                yield self.diag(
                    f'list query "{q.name}" lets callers ask for {paging.max_limit} rows at once',
                    q.max_limit_span or q.span,
                    f"lower max_limit to {self.threshold} or less (here or in [paging]), and page through more rows "
                    'with paging="keyset"',
                )


RULES = (UnconditionalWriteRule, FailOpenPredicate, UnindexedFilterColumn, UnboundedListQuery)
