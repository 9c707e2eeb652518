"""One table of scope cases, for the Python rule (fraiseql_compiler.scopes) and the SQL one
(fraiseql.scope_covers) alike: (granted, required, covered)."""

from __future__ import annotations

CASES: list[tuple[str, str, bool]] = [
    ("read:posts", "read:posts", True),
    ("read:posts", "write:posts", False),
    ("read:posts", "read:post", False),
    ("read:post", "read:posts", False),
    ("admin:*", "admin:posts", True),
    ("admin:*", "admin:revoke", True),
    ("admin:*", "admin:posts/drafts", True),
    ("admin:*", "admin:*", True),
    ("admin:*", "adminx:posts", False),
    ("admin:*", "admin", False),
    ("admin:*", "write:posts", False),
    ("admin:posts:*", "admin:revoke", False),  # not a scope: covers nothing (was: every admin:…)
    ("admin:posts:*", "admin:posts:x", False),
    ("write:reports/*", "write:reports/daily", True),
    ("write:reports/*", "write:reports/daily/x", True),
    ("write:reports/*", "write:reports", False),
    ("write:reports/*", "write:reportsx", False),
    ("write:po*", "write:posts", False),  # a star inside a resource is not a wildcard
    ("write:po*", "write:po*", True),
    ("*", "read:posts", False),
    ("*:*", "read:posts", False),
    ("", "read:posts", False),
    ("READ:posts", "read:posts", False),
    ("read:posts ", "read:posts", False),
    ("read:posts", "read:posts ", False),
    ("read:*", "", False),
]
