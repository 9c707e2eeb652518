"""The registry decorators write into.

It lives in a ``ContextVar`` so every build (and every test) collects into its own registry and two
schemas can be compiled in one process. Outside a build, decorators only attach their specs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from fraiseql._spec import Location

# Namespaces: GraphQL type names (types, inputs, enums) share one; queries, mutations and middleware each
# have their own.
NAMESPACES = ("type", "query", "mutation", "middleware")


@dataclass
class Entry:
    namespace: str
    name: str
    obj: object
    location: Location


@dataclass
class Registry:
    entries: list[Entry] = field(default_factory=list)
    duplicates: list[tuple[Entry, Entry]] = field(default_factory=list)
    # functions that carry an auth decorator; checked at the end for ones that never became operations
    auth_targets: list[tuple[object, Location]] = field(default_factory=list)
    _index: dict[tuple[str, str], Entry] = field(default_factory=dict)
    # id(code object) → (the code object, bytecode start offsets, line numbers): see _decorators._line_of
    line_tables: dict[int, tuple[object, list[int], list[int | None]]] = field(default_factory=dict)

    def add(self, namespace: str, name: str, obj: object, location: Location) -> None:
        entry = Entry(namespace, name, obj, location)
        first = self._index.get((namespace, name))
        if first is not None:
            # Reported later with both locations, together with every other problem.
            self.duplicates.append((first, entry))
            return
        self._index[(namespace, name)] = entry
        self.entries.append(entry)

    def add_auth_target(self, obj: object, location: Location) -> None:
        self.auth_targets.append((obj, location))


_current: ContextVar[Registry | None] = ContextVar("fraiseql_registry", default=None)


def current_registry() -> Registry | None:
    return _current.get()


@contextmanager
def collecting() -> Iterator[Registry]:
    """Collect every definition made inside the block into a fresh registry."""
    registry = Registry()
    token = _current.set(registry)
    try:
        yield registry
    finally:
        _current.reset(token)
