"""Name conventions shared by the builder, the checks and the emitters."""

from __future__ import annotations

import re
from functools import lru_cache

IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The scope grammar: action:resource, e.g. read:posts, admin:*, write:reports/daily
SCOPE_RE = re.compile(r"^[a-z][a-z0-9_.-]*:([a-z0-9_.*-]+)(/[a-z0-9_.*-]+)*$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=4096)
def camel(name: str) -> str:
    """snake_case → camelCase (the GraphQL convention); leading underscores are kept."""
    stripped = name.lstrip("_")
    head, *rest = stripped.split("_")
    return "_" * (len(name) - len(stripped)) + head + "".join(p[:1].upper() + p[1:] for p in rest if p)


def snake(name: str) -> str:
    """CamelCase → snake_case (BlogPost → blog_post)."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()
