"""Which granted scope covers which required one: the rule ``fraiseql.scope_covers`` applies in SQL.

A scope is ``action:resource`` (``naming.SCOPE_RE``). A granted scope ending in ``:*`` or ``/*`` covers
exactly the scopes under its prefix: ``admin:*`` covers ``admin:posts`` and ``admin:posts/drafts`` but
not ``adminx:posts``; ``write:reports/*`` covers ``write:reports/daily`` but not ``write:reports``. Any
other granted scope covers only itself, and one that is not a scope (``admin:posts:*``, ``*``) covers
nothing. The tests hold this function and the SQL one to the same table of cases.
"""

from __future__ import annotations

from fraiseql_compiler.naming import SCOPE_RE

WILDCARD_ENDINGS = (":*", "/*")


def is_scope(value: object) -> bool:
    return isinstance(value, str) and SCOPE_RE.match(value) is not None


def covers(granted: str, required: str) -> bool:
    if not (is_scope(granted) and is_scope(required)):
        return False
    if granted == required:
        return True
    if granted.endswith(WILDCARD_ENDINGS):
        prefix = granted[:-1]
        return required.startswith(prefix) and len(required) > len(prefix)
    return False
