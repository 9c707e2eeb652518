"""The order migrate drops objects in: dependents first, stable, and linear on long chains."""

from __future__ import annotations

from fraiseql_compiler.migrate.plan import closure, drop_order


def test_dependents_are_dropped_before_what_they_depend_on() -> None:
    graph = {"a": (), "b": ("a",), "c": ("b",), "d": ("a",), "e": ()}
    assert drop_order({"a", "b", "c", "d", "e"}, graph) == ["c", "b", "d", "a", "e"]
    assert closure({"b"}, graph) == {"b", "c"}


def test_a_chain_thousands_deep() -> None:  # a type embedding the previous one, 5,000 times
    graph = {f"v{i}": ((f"v{i - 1}",) if i else ()) for i in range(5000)}
    order = drop_order(set(graph), graph)
    assert order[0] == "v4999" and order[-1] == "v0" and len(order) == 5000
    assert closure({"v0"}, graph) == set(graph)
