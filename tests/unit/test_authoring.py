"""The public decorators: shape checks at import time, order independence, isolation between builds."""

from __future__ import annotations

import inspect

import pytest

import fraiseql
from fraiseql import _decorators
from fraiseql._registry import collecting, current_registry
from fraiseql._spec import SPEC_ATTR, OperationSpec, TypeSpec
from fraiseql.auth import api_key_required, authenticated, requires_scope


def spec(obj: object) -> object:
    return getattr(obj, SPEC_ATTR)


def test_bare_and_called_forms_give_the_same_spec() -> None:
    @fraiseql.type
    class A:
        x: int

    @fraiseql.type()
    class B:
        x: int

    a, b = spec(A), spec(B)
    assert isinstance(a, TypeSpec) and isinstance(b, TypeSpec)
    assert (a.kind, a.table, a.view, a.name) == ("type", None, None, "A")
    assert (b.kind, b.table, b.view, b.name) == ("type", None, None, "B")


def test_decorators_return_the_object_unchanged() -> None:
    def f() -> int: ...

    assert fraiseql.query(f) is f
    assert authenticated(f) is f

    class C:
        pass

    assert fraiseql.type(table="tb_c")(C) is C


@pytest.mark.parametrize("order", ["auth-outside", "auth-inside", "mixed"])
def test_stacking_order_does_not_matter(order: str) -> None:
    def make() -> OperationSpec:
        def create_post(info: object, title: str) -> bool: ...

        if order == "auth-outside":
            f = requires_scope("write:posts")(authenticated(fraiseql.mutation(create_post)))
        elif order == "auth-inside":
            f = fraiseql.mutation(authenticated(requires_scope("write:posts")(create_post)))
        else:
            f = authenticated(fraiseql.mutation(requires_scope("write:posts")(create_post)))
        s = spec(f)
        assert isinstance(s, OperationSpec)
        return s

    s = make()
    assert (s.auth.authenticated, s.auth.scopes, s.auth.api_key) == (True, ("write:posts",), False)


def test_scopes_accumulate_sorted_and_deduplicated() -> None:
    @fraiseql.query(sql_source="v_x")
    @requires_scope("write:b", "read:a")
    @requires_scope("read:a")
    @api_key_required
    def q() -> int: ...

    s = spec(q)
    assert isinstance(s, OperationSpec)
    assert s.auth.scopes == ("read:a", "write:b")
    assert s.auth.api_key


@pytest.mark.parametrize(
    ("decorator", "options", "accepted"),
    [
        (fraiseql.type, {"tabel": "tb_x"}, _decorators.TYPE_OPTIONS),
        (fraiseql.input, {"table": "tb_x"}, _decorators.INPUT_OPTIONS),
        (fraiseql.enum, {"values": "x"}, _decorators.ENUM_OPTIONS),
        (fraiseql.query, {"sqlsource": "v_x"}, _decorators.QUERY_OPTIONS),
        (fraiseql.query, {"row_filters": "x = 1"}, _decorators.QUERY_OPTIONS),
        (fraiseql.mutation, {"sql_source": "v_x"}, _decorators.MUTATION_OPTIONS),
        (fraiseql.field, {"colum": "x"}, _decorators.FIELD_OPTIONS),
    ],
)
def test_unknown_keyword_is_an_error_naming_decorator_keyword_and_accepted(
    decorator: object, options: dict[str, str], accepted: tuple[str, ...]
) -> None:
    line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
    with pytest.raises(fraiseql.AuthoringError) as info:
        decorator(**options)  # type: ignore[operator]
    err = info.value
    key = next(iter(options))
    assert err.code == "FQL101"
    assert f'"{key}"' in err.message and decorator.__name__ in err.message  # type: ignore[attr-defined]
    assert err.hint is not None and all(a in err.hint for a in accepted)
    assert err.file == __file__ and err.line == line


def test_every_accepted_keyword_reaches_the_spec() -> None:
    # The "silently dropped" guard: each accepted option is stored, not ignored.
    @fraiseql.query(
        sql_source="v_a", id_arg="id", row_filter="id = 1", name="allOfThem", description="d",
        order_by="-id", paging="keyset", max_limit=5,
    )
    def a(id: int) -> int: ...

    s = spec(a)
    assert isinstance(s, OperationSpec)
    for key in _decorators.QUERY_OPTIONS:
        assert getattr(s, key) is not None, key

    @fraiseql.mutation(function="fn_b", name="bee", description="d", auth_flow="login")
    def b() -> int: ...

    m = spec(b)
    assert isinstance(m, OperationSpec)
    for key in _decorators.MUTATION_OPTIONS:
        assert getattr(m, key) is not None, key

    @fraiseql.type(table="tb_c", view="v_cc", name="Cee", description="d", access={"anonymous": fraiseql.access()})
    class C:
        x: int

    t = spec(C)
    assert isinstance(t, TypeSpec)
    for key in _decorators.TYPE_OPTIONS:
        assert getattr(t, key) is not None, key

    f = fraiseql.field(
        name="n", description="d", column="c", foreign_key="k", deprecation_reason="r", read_only=True, order=True,
        filter=["eq"],
    )
    for key in _decorators.FIELD_OPTIONS:
        assert getattr(f, key) is not None, key


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: fraiseql.type(lambda: 1), "FQL102"),  # a function given to a class decorator
        (lambda: fraiseql.query(type("K", (), {})), "FQL102"),  # a class given to a function decorator
        (lambda: fraiseql.type("tb_post"), "FQL110"),  # positional instead of keyword
        (lambda: fraiseql.enum(type("NotEnum", (), {})), "FQL102"),
        (lambda: fraiseql.query(sql_source=3), "FQL107"),
        (lambda: requires_scope(), "FQL111"),
        (lambda: requires_scope(3), "FQL107"),  # type: ignore[arg-type]
        (lambda: authenticated(type("K", (), {})), "FQL102"),
    ],
)
def test_shape_errors(make: object, code: str) -> None:
    with pytest.raises(fraiseql.AuthoringError) as info:
        make()  # type: ignore[operator]
    assert info.value.code == code


def test_missing_return_annotation() -> None:
    def no_return(): ...  # type: ignore[no-untyped-def]

    with pytest.raises(fraiseql.AuthoringError) as info:
        fraiseql.query(no_return)
    assert info.value.code == "FQL103" and "no_return" in info.value.message


def test_registry_is_per_build_and_absent_outside() -> None:
    assert current_registry() is None
    with collecting() as first:

        @fraiseql.type
        class Same:
            x: int

    with collecting() as second:

        @fraiseql.type  # the same name again: a different build, no duplicate
        class Same:  # type: ignore[no-redef]
            x: int

    assert [e.name for e in first.entries] == ["Same"] == [e.name for e in second.entries]
    assert first.entries[0].obj is not second.entries[0].obj
    assert not first.duplicates and not second.duplicates
    assert current_registry() is None


def test_duplicates_are_recorded_with_both_locations() -> None:
    with collecting() as reg:

        @fraiseql.query(sql_source="v_a")
        def a() -> int: ...

        @fraiseql.query(sql_source="v_b", name="a")
        def b() -> int: ...

    assert len(reg.duplicates) == 1
    first, dup = reg.duplicates[0]
    assert first.location.line < dup.location.line


def test_auth_scalars_and_reexports() -> None:
    from fraiseql import auth, scalars

    assert auth.authenticated is fraiseql.authenticated
    assert {"ID", "Email", "UUID", "DateTime", "Date", "JSON", "Decimal"} <= set(scalars.__all__)


def test_authoring_package_imports_only_the_standard_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import fraiseql, fraiseql.auth, fraiseql.scalars;"
        "heavy = {'jinja2','sqlglot','psycopg','pglast','pydantic','typer','click','rich'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_decorator_lines_are_right_across_many_modules(tmp_path: object) -> None:
    # A module's top-level code object is freed after import, and a new one can reuse its address: the
    # line-table cache must never give one module's line numbers to another.
    from pathlib import Path

    from fraiseql_compiler.load import isolated_imports, load

    root = Path(str(tmp_path))
    for i in range(40):
        padding = "\n" * (i % 7)
        (root / f"m{i}.py").write_text(
            f"import fraiseql\n{padding}\n@fraiseql.type(name='T{i}')\nclass T{i}:\n    x: int\n"
        )
    files = sorted(root.glob("m*.py"), key=lambda p: int(p.stem[1:]))
    with isolated_imports(root):
        result = load(files, root)
    assert not result.diagnostics
    for entry in result.registry.entries:
        i = int(entry.name[1:])
        assert entry.location.line == 3 + i % 7, entry
