"""The catalog checks of ``fraiseql lint --database URL``: what the database itself says about row-level
security, views, functions and policies, whoever created them (the build, a migration of the user's, a hand).

:func:`catalog_findings` connects once, in a read-only transaction (``default_transaction_read_only`` and a
``READ ONLY`` transaction, ``jit`` off, ``search_path`` pinned to ``pg_catalog`` so that ``format_type``
qualifies every type outside ``pg_catalog``), sends the four statements below (:data:`STATEMENTS`) and
nothing else, and returns diagnostics without a source span: each message names the object, schema-qualified.

=========  ==========================================================================================
FQL330     :data:`POLICIES_SQL`: a table in ``schemas`` with policies (``pg_policy``) whose row-level
           security is disabled (``relrowsecurity``): the policies do nothing.
FQL331     :data:`VIEWS_SQL`: a view that an API role may read (``has_any_column_privilege``, directly or
           through ``PUBLIC``, with ``USAGE`` on its schema) and that lacks ``security_invoker``.
FQL332     :data:`FUNCTIONS_SQL`: a function that an API role may execute (``has_function_privilege`` and
           ``USAGE`` on its schema; trigger functions cannot be called, so they do not count), or any
           ``SECURITY DEFINER`` function, whose ``proconfig`` has no ``search_path=`` setting.
FQL333     :data:`FUNCTIONS_SQL`: a ``SECURITY DEFINER`` function that an API role may execute.
FQL334     :data:`POLICIES_SQL`: a policy (``USING`` or ``WITH CHECK``) that calls a row-independent helper
           (any function of schema ``fraiseql``, or ``current_setting``) outside a subquery that
           PostgreSQL evaluates once per statement.
FQL335     :data:`POLICIES_SQL`: a policy's ``USING`` compares a column with ``=`` (or ``= ANY`` / ``IN``) to
           a helper's value, in a top-level ``AND`` conjunct, and no index of the table leads with that
           column (``pg_index.indkey[0]``).
FQL336     :data:`POLICIES_SQL`: several ``PERMISSIVE`` policies of one table apply to one role for one
           command (``ALL`` counts for every command, ``PUBLIC`` for every role named on the table).
=========  ==========================================================================================

:data:`CONTEXT_SQL` reads the oids the policy checks need: the helper functions and the ``=`` operators.

Decisions:

* Policies are read from their stored node trees (``pg_policy.polqual::text``), not from the deparsed text:
  the tree says which function an oid is, which node is a subquery, and which column a ``Var`` is, exactly.
  A tree that cannot be read (a layout this reader does not know) yields no FQL334/FQL335 finding for that
  policy: a false negative, never a false positive.
* FQL334 counts a helper call as evaluated once when it sits inside a subquery that does not refer to the
  policy's row (``(SELECT fraiseql.current_user_id())``, or an uncorrelated ``EXISTS`` / ``IN``): PostgreSQL
  runs such a subquery once per statement (an InitPlan). A helper whose arguments read a column is
  row-dependent and never reported.
* FQL335 looks only at ``USING`` (``WITH CHECK`` is evaluated against the new row: no scan to speed up), and
  only at top-level ``AND`` conjuncts: an index on a column that sits under ``OR`` cannot serve the policy
  on its own, so its absence is not what makes the scan slow. Only a bare column (or one relabelled to a
  binary-compatible type) counts; any index whose first key is the column counts as an index on it.
* What fraiseql grants on purpose is not a finding. The ``SECURITY DEFINER`` auth functions of schema
  ``fraiseql`` may be executable by exactly the API roles :data:`~fraiseql_compiler.emit.auth_sql.GRANTS`
  gives them (read at call time, by signature); ``fraiseql.claims_proven`` (which checks the claims' proof
  against the key only its owner may read, and answers yes or no) may be executed by every API role; and the
  view ``fraiseql.request_identity`` (which runs as its owner on purpose, to read the revocation and identity
  tables) may be read by every API role but the anonymous one, as ``emit/privileges.py`` grants it. Any
  other role with EXECUTE or SELECT on them, or any other object of schema ``fraiseql``, is reported like
  the user's own objects.
* Objects that belong to an extension (``pg_depend.deptype = 'e'``, e.g. pgcrypto's functions in
  ``public``) are the extension's business and are skipped; so are functions in language ``internal``.
* ``api_schema`` is always inspected, even when ``schemas`` omits it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fraiseql_compiler import claims_proof
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, diag
from fraiseql_compiler.sql.quoting import quote_ident

__all__ = [
    "CONTEXT_SQL",
    "FUNCTIONS_SQL",
    "POLICIES_SQL",
    "STATEMENTS",
    "VIEWS_SQL",
    "catalog_findings",
]

# The connection's settings: read-only whatever the statement, no JIT for catalog queries, and a search_path
# that makes format_type qualify every type outside pg_catalog (signatures are then unambiguous).
SESSION_OPTIONS = "-c default_transaction_read_only=on -c jit=off -c search_path=pg_catalog"
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise

# Rows the checks read. Parameters: %(schemas)s (the schemas to inspect), %(roles)s (the API roles' names).
_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.classid = '{catalog}'::pg_catalog.regclass"
    " AND d.objid = {oid} AND d.deptype = 'e')"
)

# The helper functions (schema fraiseql, and current_setting) and the = operators, by oid.
CONTEXT_SQL = """
SELECT 'helper' AS kind, p.oid::pg_catalog.int8 AS oid,
       CASE WHEN n.nspname = 'pg_catalog' THEN p.proname::text
            ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) END AS name
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'fraiseql' OR (n.nspname = 'pg_catalog' AND p.proname = 'current_setting')
UNION ALL
SELECT 'eq', o.oid::pg_catalog.int8, o.oprname::text
FROM pg_catalog.pg_operator AS o
WHERE o.oprname = '='
"""

# Every policy on a table of the schemas, with its table's row-level security flag, column names (position
# = attnum) and the first key column of each of its indexes. (FQL330, FQL334, FQL335, FQL336)
POLICIES_SQL = """
SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS tbl,
       c.relrowsecurity AS rls,
       pol.polname::text AS policy,
       pol.polpermissive AS permissive,
       pol.polcmd::text AS cmd,
       ARRAY(
           SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r.oid)::text END
           FROM pg_catalog.unnest(pol.polroles) WITH ORDINALITY AS r(oid, i) ORDER BY r.i
       ) AS roles,
       pol.polqual::text AS using_tree,
       pol.polwithcheck::text AS check_tree,
       ARRAY(
           SELECT a.attname::text FROM pg_catalog.pg_attribute AS a
           WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum
       ) AS columns,
       ARRAY(
           SELECT i.indkey[0]::integer FROM pg_catalog.pg_index AS i WHERE i.indrelid = c.oid
       ) AS leading
FROM pg_catalog.pg_policy AS pol
JOIN pg_catalog.pg_class AS c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s::text[])
ORDER BY 1, 3
"""

# Views of the schemas without security_invoker that an API role may read, and who. (FQL331)
VIEWS_SQL = (
    """
WITH r AS (SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%(roles)s::text[]))
SELECT * FROM (
    SELECT n.nspname::text AS schema, c.relname::text AS name,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS view,
           pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
           ARRAY(
               SELECT r.rolname::text FROM r
               WHERE pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
                 AND pg_catalog.has_any_column_privilege(r.oid, c.oid, 'SELECT')
               ORDER BY r.rolname
           ) AS readers
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind = 'v'
      AND n.nspname = ANY(%(schemas)s::text[])
      AND NOT COALESCE((
          SELECT o.option_value::boolean FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
          WHERE o.option_name = 'security_invoker'), false)
      AND """
    + _NOT_EXTENSION.format(catalog="pg_catalog.pg_class", oid="c.oid")
    + """
) AS v
WHERE pg_catalog.cardinality(v.readers) > 0
ORDER BY v.view
"""
)

# Functions of the schemas that are SECURITY DEFINER or that an API role may execute: their signature,
# whether their search_path is pinned, and who may execute them. (FQL332, FQL333)
FUNCTIONS_SQL = (
    """
WITH r AS (SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%(roles)s::text[]))
SELECT * FROM (
    SELECT n.nspname::text AS schema,
           p.proname || '(' || pg_catalog.array_to_string(ARRAY(
               SELECT pg_catalog.format_type(t.oid, NULL)
               FROM pg_catalog.unnest(p.proargtypes) WITH ORDINALITY AS t(oid, i) ORDER BY t.i
           ), ', ') || ')' AS signature,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' ||
           pg_catalog.array_to_string(ARRAY(
               SELECT pg_catalog.format_type(t.oid, NULL)
               FROM pg_catalog.unnest(p.proargtypes) WITH ORDINALITY AS t(oid, i) ORDER BY t.i
           ), ', ') || ')' AS function,
           p.prosecdef AS definer,
           pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
           EXISTS (
               SELECT 1 FROM pg_catalog.unnest(p.proconfig) AS s(setting) WHERE s.setting LIKE 'search\\_path=%%'
           ) AS pinned,
           p.prorettype IN ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
               AS is_trigger,
           ARRAY(
               SELECT r.rolname::text FROM r
               WHERE pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
                 AND pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')
               ORDER BY r.rolname
           ) AS executors
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
    WHERE n.nspname = ANY(%(schemas)s::text[])
      AND p.prokind IN ('f', 'p')
      AND l.lanname <> 'internal'
      AND """
    + _NOT_EXTENSION.format(catalog="pg_catalog.pg_proc", oid="p.oid")
    + """
) AS f
WHERE f.definer OR (NOT f.is_trigger AND pg_catalog.cardinality(f.executors) > 0)
ORDER BY f.function
"""
)

STATEMENTS: dict[str, str] = {
    "context": CONTEXT_SQL,
    "policies": POLICIES_SQL,
    "views": VIEWS_SQL,
    "functions": FUNCTIONS_SQL,
}

# Granted on purpose (see the module docstring): the view fraiseql.request_identity, to every API role but
# the anonymous one.
_IDENTITY_VIEW = ("fraiseql", "request_identity")
_ANONYMOUS = "anonymous"

_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def catalog_findings(
    url: str, *, api_roles: Mapping[str, str], api_schema: str, schemas: Sequence[str]
) -> list[Diagnostic]:
    """The catalog findings (FQL330 to FQL336) of the database at ``url``, read in one read-only transaction.

    ``api_roles``: role key → role name of the API roles (not the authenticator); ``schemas``: the schemas
    to inspect (``api_schema`` is always one of them). Raises FQL165 when the database cannot be reached."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row

    inspected = list(dict.fromkeys([*schemas, api_schema]))
    params = {"schemas": inspected, "roles": sorted(set(api_roles.values()))}
    hint = "check --database (or DATABASE_URL): host, port, database name, role and password"
    try:
        given = conninfo_to_dict(url)
        options = " ".join(filter(None, [str(given.get("options") or ""), SESSION_OPTIONS]))
        extra: dict[str, Any] = {"options": options}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        conn = psycopg.connect(url, autocommit=False, **extra)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()).removeprefix("connection failed: ")
        raise FraiseQLError([diag("FQL165", f"cannot connect to the database: {reason}", hint=hint)]) from None
    try:
        conn.read_only = True
        rows: dict[str, list[dict[str, Any]]] = {}
        with conn.cursor(row_factory=dict_row) as cur:
            for name, sql in STATEMENTS.items():
                cur.execute(sql, params if "%(" in sql else None)
                rows[name] = cur.fetchall()
        conn.rollback()
    finally:
        conn.close()

    helpers = {int(r["oid"]): str(r["name"]) for r in rows["context"] if r["kind"] == "helper"}
    equals = {int(r["oid"]) for r in rows["context"] if r["kind"] == "eq"}
    found = [
        *_policy_findings(rows["policies"], helpers, equals),
        *_view_findings(rows["views"], api_roles),
        *_function_findings(rows["functions"], api_roles),
    ]
    return sorted(found, key=lambda d: (d.code, d.message))


# --- views and functions --------------------------------------------------------------------------------------


def _view_findings(rows: list[dict[str, Any]], api_roles: Mapping[str, str]) -> Iterator[Diagnostic]:
    identified = {name for key, name in api_roles.items() if key != _ANONYMOUS}
    for row in rows:
        readers = list(row["readers"])
        if (row["schema"], row["name"]) == _IDENTITY_VIEW:
            readers = [r for r in readers if r not in identified]
        if not readers:
            continue
        view, owner = row["view"], row["owner"]
        yield diag(
            "FQL331",
            f"view {view} is readable by {_idents(readers)} but runs with the privileges of its owner {owner} "
            f"(no security_invoker): row-level security on the tables it reads is checked for {owner}, "
            "not for the caller",
            hint=f"ALTER VIEW {view} SET (security_invoker = true), or REVOKE SELECT ON {view} FROM "
            f"PUBLIC, {_idents(readers)}",
        )


def _function_findings(rows: list[dict[str, Any]], api_roles: Mapping[str, str]) -> Iterator[Diagnostic]:
    granted = _auth_function_grants(api_roles)
    for row in rows:
        function, owner = row["function"], row["owner"]
        executors = [] if row["is_trigger"] else list(row["executors"])
        if not row["pinned"]:
            why = (
                f"it runs as its owner {owner} (SECURITY DEFINER)"
                if row["definer"]
                else f"{_idents(executors)} may execute it"
            )
            yield diag(
                "FQL332",
                f"function {function} has no pinned search_path, and {why}: the unqualified names in its body "
                "resolve through the caller's search_path, which the caller can point at objects of its own",
                hint=f"ALTER FUNCTION {function} SET search_path = pg_catalog, pg_temp "
                "(and qualify the names in its body with their schema)",
            )
        if not row["definer"] or not executors:
            continue
        intended = granted.get(row["signature"], frozenset()) if row["schema"] == "fraiseql" else frozenset()
        exposed = [r for r in executors if r not in intended]
        if not exposed:
            continue
        note = ""
        if row["schema"] == "fraiseql" and row["signature"] in granted:
            note = (
                f" (fraiseql grants it to {_idents(sorted(intended))})"
                if intended
                else " (fraiseql grants it to no API role)"
            )
        yield diag(
            "FQL333",
            f"function {function} is SECURITY DEFINER and executable by {_idents(exposed)}{note}: any caller runs "
            "it with the "
            f"privileges of its owner {owner}, past the grants and row-level security that bind the caller",
            hint=f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, {_idents(exposed)}; or make it "
            "SECURITY INVOKER, so that the caller's own privileges and policies apply",
        )


# The SECURITY DEFINER functions of 0001 (templates/fraiseql_schema.sql.j2) that fraiseql grants to every API
# role on purpose, as auth_sql.GRANTS lists 0002's.
_SCHEMA_DEFINERS_FOR_EVERY_API_ROLE = (
    # Checks the request's claims against the claims key (docs/claims-proof.md). It must run as its owner to
    # read fraiseql.tb_claims_key, which no API role may read, and every helper calls it as the caller; it
    # answers only true or false, so it reveals nothing of the key.
    claims_proof.SQL_FUNCTION,
)


def _auth_function_grants(api_roles: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """signature (in schema fraiseql) → the API roles the build grants EXECUTE: auth_sql.GRANTS, and
    :data:`_SCHEMA_DEFINERS_FOR_EVERY_API_ROLE`."""
    from fraiseql_compiler.emit.auth_sql import API, GRANTS, IDENTIFIED

    out: dict[str, frozenset[str]] = {}
    for signature, keys in GRANTS + tuple((s, (API,)) for s in _SCHEMA_DEFINERS_FOR_EVERY_API_ROLE):
        roles: set[str] = set()
        for key in keys:
            if key == API:
                roles.update(api_roles.values())
            elif key == IDENTIFIED:
                roles.update(name for k, name in api_roles.items() if k != _ANONYMOUS)
            elif key in api_roles:
                roles.add(api_roles[key])
        out[signature] = frozenset(roles)
    return out


# --- policies -------------------------------------------------------------------------------------------------


def _policy_findings(rows: list[dict[str, Any]], helpers: Mapping[int, str], equals: set[int]) -> Iterator[Diagnostic]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        tables.setdefault(row["tbl"], []).append(row)
    for table, policies in tables.items():
        if not policies[0]["rls"]:
            names = [p["policy"] for p in policies]
            yield diag(
                "FQL330",
                f"{table} has {_count(len(names), 'policy', 'policies')} ({_idents(names)}) but row-level "
                "security is disabled on it: PostgreSQL ignores the policies, and every role with a privilege "
                "on the table reads and writes every row",
                hint=f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL "
                "SECURITY (or drop the policies, if the table is meant to be open)",
            )
        yield from _unwrapped_findings(table, policies, helpers)
        yield from _unindexed_findings(table, policies, helpers, equals)
        yield from _permissive_findings(table, policies)


def _unwrapped_findings(table: str, policies: list[dict[str, Any]], helpers: Mapping[int, str]) -> Iterator[Diagnostic]:
    for policy in policies:
        called: set[str] = set()
        try:
            for text in (policy["using_tree"], policy["check_tree"]):
                if text:
                    called.update(helpers[f] for f in _unwrapped_helpers(read_node_tree(text), set(helpers)))
        except UnreadableTree:
            continue
        if not called:
            continue
        calls = ", ".join(sorted(called))
        first = sorted(called)[0]
        yield diag(
            "FQL334",
            f"policy {_ident(policy['policy'])} on {table} calls {calls} outside a scalar subquery: PostgreSQL "
            f"evaluates {'it' if len(called) == 1 else 'each'} again for every row it checks, instead of once per "
            "statement",
            hint=f"wrap each call in a scalar subquery, as the generated policies do: (SELECT {first}(...)) "
            "instead of the bare call (ALTER POLICY ... USING (...) / WITH CHECK (...))",
        )


def _unindexed_findings(
    table: str, policies: list[dict[str, Any]], helpers: Mapping[int, str], equals: set[int]
) -> Iterator[Diagnostic]:
    first_keys = set(policies[0]["leading"])
    columns: list[str] = list(policies[0]["columns"])
    unindexed: dict[int, list[str]] = {}
    for policy in policies:
        if not policy["using_tree"]:
            continue
        try:
            compared = _compared_columns(read_node_tree(policy["using_tree"]), set(helpers), equals)
        except UnreadableTree:
            continue
        for attnum in sorted(compared - first_keys):
            if 0 < attnum <= len(columns):
                unindexed.setdefault(attnum, []).append(policy["policy"])
    for attnum, names in sorted(unindexed.items()):
        column = _ident(columns[attnum - 1])
        yield diag(
            "FQL335",
            f"{'policy' if len(names) == 1 else 'policies'} {_idents(names)} on {table} "
            f"{'compares' if len(names) == 1 else 'compare'} column {column} with a per-request value, but no "
            f"index of {table} starts with {column}: PostgreSQL reads the whole table to find the caller's rows",
            hint=f"CREATE INDEX ON {table} ({column})",
        )


def _permissive_findings(table: str, policies: list[dict[str, Any]]) -> Iterator[Diagnostic]:
    permissive = [p for p in policies if p["permissive"]]
    roles = sorted({r for p in permissive for r in p["roles"]}, key=lambda r: (r != "PUBLIC", r))
    overlaps: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for role in roles:
        for cmd, command in _COMMANDS.items():
            applying = tuple(
                p["policy"]
                for p in permissive
                if p["cmd"] in (cmd, "*") and (role in p["roles"] or "PUBLIC" in p["roles"])
            )
            if len(applying) > 1:
                overlaps.setdefault((role, applying), []).append(command)
    for (role, names), commands in overlaps.items():
        who = "PUBLIC (every role)" if role == "PUBLIC" else _ident(role)
        yield diag(
            "FQL336",
            f"{table} has {len(names)} permissive policies for {who} on {', '.join(commands)} ({_idents(names)}): "
            "PostgreSQL evaluates every one of them for each row and ORs the results",
            hint="combine them into one policy (USING (a OR b)), or make the ones that must all hold AS RESTRICTIVE",
        )


# --- reading policies' node trees -----------------------------------------------------------------------------


class UnreadableTree(ValueError):
    """A stored node tree in a layout this reader does not know."""


_TOKEN = re.compile(r"[(){}]|(?:\\.|[^\s(){}\\])+", re.S)
_ANY_SUBLINK = 2


def read_node_tree(text: str) -> Any:
    """A ``pg_node_tree`` (``nodeToString`` output) as Python values: a node is a dict whose ``""`` key is its
    type (``OPEXPR``) and whose other keys are its fields; a list is a list; ``<>`` is None; anything else is
    its token (a string)."""
    tokens = _TOKEN.findall(text)
    try:
        value, end = _read(tokens, 0)
    except (IndexError, ValueError, RecursionError) as exc:
        raise UnreadableTree(str(exc)) from None
    if end != len(tokens):
        raise UnreadableTree("trailing tokens")
    return value


def _read(tokens: list[str], pos: int) -> tuple[Any, int]:
    token = tokens[pos]
    if token == "{":
        node: dict[str, Any] = {"": tokens[pos + 1]}
        pos += 2
        while tokens[pos] != "}":
            field = tokens[pos]
            if not field.startswith(":") or len(field) < 2:
                raise ValueError(f"expected a field, found {field!r}")
            node[field[1:]], pos = _read(tokens, pos + 1)
        return node, pos + 1
    if token == "(":
        items: list[Any] = []
        pos += 1
        while tokens[pos] != ")":
            item, pos = _read(tokens, pos)
            items.append(item)
        return items, pos + 1
    if token in (")", "}"):
        raise ValueError(f"unexpected {token!r}")
    if token == "<>":
        return None, pos + 1
    if pos + 1 < len(tokens) and tokens[pos + 1] == "[":  # a Const's datum: length [ bytes ]
        return token, tokens.index("]", pos + 1) + 1
    return token, pos + 1


def _kind(value: Any) -> str | None:
    return value.get("") if isinstance(value, dict) else None


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from (v for k, v in value.items() if k)
    elif isinstance(value, list):
        yield from value


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        raise UnreadableTree(f"expected a number, found {value!r}") from None


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
    for child in _children(value):
        yield from _nodes(child)


def _reads_row(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` reads a column of the row being checked: a Var at subquery depth ``depth`` whose
    varlevelsup reaches the policy's level (or any level outside the subquery ``value`` starts in)."""
    kind = _kind(value)
    if kind == "VAR" and _int(value.get("varlevelsup")) >= depth:
        return True
    if kind == "QUERY":
        depth += 1
    return any(_reads_row(child, depth) for child in _children(value))


def _unwrapped_helpers(value: Any, helpers: set[int], once: bool = False) -> Iterator[int]:
    """The helper calls (function oids) with row-independent arguments that PostgreSQL evaluates per row:
    not inside a subquery that does not read the row (which runs once per statement)."""
    kind = _kind(value)
    if kind == "SUBLINK":
        yield from _unwrapped_helpers(value.get("testexpr"), helpers, once)
        subselect = value.get("subselect")
        yield from _unwrapped_helpers(subselect, helpers, once or not _reads_row(subselect))
        return
    funcid = _int(value.get("funcid"), -1) if kind == "FUNCEXPR" else -1
    if not once and funcid in helpers and not _reads_row(value.get("args")):
        yield funcid
    for child in _children(value):
        yield from _unwrapped_helpers(child, helpers, once)


def _conjuncts(value: Any) -> Iterator[Any]:
    if _kind(value) == "BOOLEXPR" and value.get("boolop") == "and":
        for arg in value.get("args") or []:
            yield from _conjuncts(arg)
    else:
        yield value


def _column(value: Any) -> int | None:
    """The attnum of a column of the policy's table, bare or relabelled (binary-compatible), else None."""
    while _kind(value) == "RELABELTYPE":
        value = value.get("arg")
    if _kind(value) == "VAR" and _int(value.get("varlevelsup")) == 0 and _int(value.get("varattno")) > 0:
        return _int(value.get("varattno"))
    return None


def _helper_valued(value: Any, helpers: set[int]) -> bool:
    """Whether ``value`` is computed from a helper without reading the row."""
    if value is None or _reads_row(value):
        return False
    return any(n.get("") == "FUNCEXPR" and _int(n.get("funcid"), -1) in helpers for n in _nodes(value))


def _compared_columns(value: Any, helpers: set[int], equals: set[int]) -> set[int]:
    """Columns that a top-level conjunct compares with = (= ANY, IN) to a helper's value."""
    found: set[int] = set()
    for term in _conjuncts(value):
        kind = _kind(term)
        args = term.get("args") if isinstance(term, dict) else None
        if kind == "OPEXPR" and _int(term.get("opno"), -1) in equals and isinstance(args, list) and len(args) == 2:
            for column_side, value_side in ((args[0], args[1]), (args[1], args[0])):
                column = _column(column_side)
                if column is not None and _helper_valued(value_side, helpers):
                    found.add(column)
        elif (
            kind == "SCALARARRAYOPEXPR"
            and term.get("useOr") == "true"
            and _int(term.get("opno"), -1) in equals
            and isinstance(args, list)
            and len(args) == 2
        ):
            column = _column(args[0])
            if column is not None and _helper_valued(args[1], helpers):
                found.add(column)
        elif kind == "SUBLINK" and _int(term.get("subLinkType"), -1) == _ANY_SUBLINK:
            test = term.get("testexpr")
            test_args = test.get("args") if isinstance(test, dict) else None
            if (
                _kind(test) == "OPEXPR"
                and _int(test.get("opno"), -1) in equals
                and isinstance(test_args, list)
                and len(test_args) == 2
                and _kind(test_args[1]) == "PARAM"
            ):
                column = _column(test_args[0])
                if column is not None and _helper_valued(term.get("subselect"), helpers):
                    found.add(column)
    return found


# --- message helpers ------------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return quote_ident(name)


def _idents(names: Sequence[str]) -> str:
    return ", ".join(_ident(n) for n in names)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
