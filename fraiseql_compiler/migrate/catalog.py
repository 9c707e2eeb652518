"""Fingerprints of what an object made, read from the catalog: drift is a fingerprint that changed since
migrate made the object (a policy edited, a function replaced, row-level security turned off, a grant added
or revoked for an API role).

What an object made is read from its own SQL: the functions it creates (every overload of the name), the
views it creates, and the tables whose row-level security it sets (their ``fql*`` policies, the flags, and
the privileges the API roles and ``PUBLIC`` hold on them and their columns). Privileges of other roles and
policies of your own (not ``fql*``) are yours, and never drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

_FUNCTION = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION\s+([^\s(]+)\s*\(", re.I)
_VIEW = re.compile(r"CREATE (?:OR REPLACE )?VIEW\s+([^\s(]+)", re.I)
_TABLE = re.compile(r"ALTER TABLE\s+([^\s]+)\s+ENABLE ROW LEVEL SECURITY", re.I)

_GIVEN = """
SELECT * FROM ROWS FROM (
    pg_catalog.unnest(%(objs)s::text[]), pg_catalog.unnest(%(whats)s::text[]), pg_catalog.unnest(%(idents)s::text[])
) AS d(obj, what, ident)
"""
# The fingerprint of every (obj, what, ident) of t: what_ident's catalog entries, hashed per obj.
_FINGERPRINT_CTES = """
     r(oid) AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY(%(roles)s::text[]) UNION ALL SELECT 0),
     n AS (
         SELECT t.*, pg_catalog.parse_ident(t.ident) AS parts FROM t
     ),
     fp AS (
         SELECT n.obj, n.what || ' ' || n.ident || ': ' || COALESCE(CASE n.what
             WHEN 'function' THEN (
                 SELECT pg_catalog.string_agg(
                     pg_catalog.pg_get_functiondef(p.oid) || COALESCE((
                         SELECT pg_catalog.string_agg(a.grantee::text || '=' || a.privilege_type, ',' ORDER BY 1)
                         FROM pg_catalog.aclexplode(p.proacl) AS a WHERE a.grantee IN (SELECT oid FROM r)), ''),
                     '|' ORDER BY p.oid::regprocedure::text)
                 FROM pg_catalog.pg_proc AS p
                 WHERE p.pronamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident(n.parts[1]))
                   AND p.proname = n.parts[2])
             WHEN 'view' THEN (
                 SELECT pg_catalog.pg_get_viewdef(c.oid) || COALESCE(c.reloptions::text, '') || COALESCE((
                     SELECT pg_catalog.string_agg(a.grantee::text || '=' || a.privilege_type, ',' ORDER BY 1)
                     FROM pg_catalog.aclexplode(c.relacl) AS a WHERE a.grantee IN (SELECT oid FROM r)), '')
                 FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass(n.ident))
             WHEN 'table' THEN (
                 SELECT c.relrowsecurity::text || c.relforcerowsecurity::text
                     || COALESCE((
                         SELECT pg_catalog.string_agg(
                             pol.polname::text || pol.polcmd::text || pol.polpermissive::text || pol.polroles::text
                             || COALESCE(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '')
                             || COALESCE(pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), ''),
                             ',' ORDER BY pol.polname)
                         FROM pg_catalog.pg_policy AS pol WHERE pol.polrelid = c.oid AND pol.polname LIKE 'fql%%'), '')
                     || COALESCE((
                         SELECT pg_catalog.string_agg(a.grantee::text || '=' || a.privilege_type, ',' ORDER BY 1)
                         FROM pg_catalog.aclexplode(c.relacl) AS a WHERE a.grantee IN (SELECT oid FROM r)), '')
                     || COALESCE((
                         SELECT pg_catalog.string_agg(
                             att.attname::text || ':' || a.grantee::text || '=' || a.privilege_type, ',' ORDER BY 1)
                         FROM pg_catalog.pg_attribute AS att, pg_catalog.aclexplode(att.attacl) AS a
                         WHERE att.attrelid = c.oid AND a.grantee IN (SELECT oid FROM r)), '')
                 FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass(n.ident))
         END, 'missing') AS text
         FROM n
     ),
     fps AS (
         SELECT fp.obj, pg_catalog.md5(pg_catalog.string_agg(fp.text, E'\\n' ORDER BY fp.text)) AS md5,
                pg_catalog.bool_or(fp.text NOT LIKE '%%: missing') AS found
         FROM fp GROUP BY fp.obj
     )
"""

FINGERPRINTS = "WITH t(obj, what, ident) AS (" + _GIVEN + ")," + _FINGERPRINT_CTES + "SELECT obj, md5, found FROM fps"
# The same, stored in the history's objects in the same statement (nothing travels back and forth).
STORE_FINGERPRINTS = (
    "WITH t(obj, what, ident) AS ("
    + _GIVEN
    + "),"
    + _FINGERPRINT_CTES
    + "UPDATE fraiseql.tb_schema_object AS s SET fingerprint = fps.md5 FROM fps WHERE s.name = fps.obj"
)

# Everything --check needs, in one round trip: the history, the managed objects, and the fingerprints of the
# recorded objects (from their stored targets) and of the build's objects that are not recorded (given).
STATE = (
    """
WITH rec AS (
         SELECT name, kind, hash, fingerprint, depends_on, drop_sql, details, targets FROM fraiseql.tb_schema_object
     ),
     t(obj, what, ident) AS (
         SELECT rec.name, pg_catalog.split_part(x.t, ':', 1), pg_catalog.substr(x.t, pg_catalog.strpos(x.t, ':') + 1)
         FROM rec, pg_catalog.unnest(rec.targets) AS x(t)
         UNION ALL
         SELECT g.obj, g.what, g.ident FROM ("""
    + _GIVEN
    + """) AS g WHERE g.obj NOT IN (SELECT name FROM rec)
     ),"""
    + _FINGERPRINT_CTES
    + """
SELECT 'step', m.id, m.kind, m.name, m.checksum, m.chain, NULL::text[], NULL::text, NULL::jsonb, NULL::text[],
       NULL::text, NULL::boolean
FROM fraiseql.tb_migration AS m WHERE m.kind IN ('user', 'versioned')
UNION ALL
SELECT 'object', 0, kind, name, hash, fingerprint, depends_on, drop_sql, details, targets, NULL, NULL FROM rec
UNION ALL
SELECT 'print', 0, NULL, obj, NULL, NULL, NULL, NULL, NULL, NULL, md5, found FROM fps
ORDER BY 1, 2, 4
"""
)


def target_list(sql: str) -> list[str]:
    """``function:…``, ``view:…`` and ``table:…`` (qualified names) of everything ``sql`` creates or secures."""
    found = {f"function:{m}" for m in _FUNCTION.findall(sql)}
    found |= {f"view:{m}" for m in _VIEW.findall(sql)}
    found |= {f"table:{m}" for m in _TABLE.findall(sql)}
    return sorted(found)


def _params(objects: Iterable[tuple[str, Sequence[str]]], roles: Sequence[str]) -> dict[str, Any]:
    objs, whats, idents = [], [], []
    for name, targets in objects:
        for target in targets:
            what, _, ident = target.partition(":")
            objs.append(name)
            whats.append(what)
            idents.append(ident)
    return {"objs": objs, "whats": whats, "idents": idents, "roles": list(roles)}


def state(conn: Any, desired: Iterable[tuple[str, Sequence[str]]], roles: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of :data:`STATE` (raises psycopg's UndefinedTable where migrate never ran)."""
    return list(conn.execute(STATE, _params(desired, roles)).fetchall())


def store_fingerprints(conn: Any, objects: Iterable[tuple[str, Sequence[str]]], roles: Sequence[str]) -> None:
    """Record the fingerprint of what ``objects`` made (right after making them)."""
    params = _params(objects, roles)
    if params["objs"]:
        conn.execute(STORE_FINGERPRINTS, params)


def fingerprints(
    conn: Any, objects: Iterable[tuple[str, Sequence[str]]], roles: Sequence[str]
) -> dict[str, tuple[str, bool]]:
    """object name → (fingerprint of what it made, whether any of it exists), for objects that make
    something the catalog shows."""
    params = _params(objects, roles)
    if not params["objs"]:
        return {}
    return {name: (fp, bool(there)) for name, fp, there in conn.execute(FINGERPRINTS, params).fetchall()}
