"""The public decorators. Each checks its shape at once, attaches a frozen spec and returns the object."""

from __future__ import annotations

import bisect
import builtins
import inspect
import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, Literal, TypeVar, overload

from fraiseql._registry import current_registry
from fraiseql._spec import (
    ACCESS_ACTIONS,
    AUTH_FLOWS,
    PENDING_AUTH_ATTR,
    SPEC_ATTR,
    AccessSpec,
    AuthSpec,
    FieldOptions,
    Location,
    MiddlewareSpec,
    OperationSpec,
    TypeSpec,
)
from fraiseql.errors import AuthoringError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))  # co_filename of our frames starts with it

TYPE_OPTIONS = ("table", "view", "name", "description", "access")
ACCESS_OPTIONS = ACCESS_ACTIONS
INPUT_OPTIONS = ("name", "description")
ENUM_OPTIONS = ("name", "description")
QUERY_OPTIONS = ("sql_source", "id_arg", "row_filter", "name", "description", "order_by", "paging", "max_limit")
MUTATION_OPTIONS = ("function", "name", "description", "auth_flow")
FIELD_OPTIONS = ("name", "description", "column", "foreign_key", "deprecation_reason", "read_only", "order", "filter")
_BOOLEAN_OPTIONS = frozenset({"read_only", "order"})
# What ``fraiseql.field(filter=[...])`` may list; ``filter=True`` means the type's default set (see
# fraiseql_compiler.analysis.paging), which leaves out like/ilike: a pattern is opt-in.
FILTER_OPERATORS = ("eq", "neq", "lt", "lte", "gt", "gte", "in", "isNull", "like", "ilike")
PAGING_STYLES = ("offset", "keyset")


def caller_location() -> Location:
    """The first frame outside this package: the line where the user wrote the decorator."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR + os.sep):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:  # pragma: no cover - only when called from inside the package itself
        return Location("<unknown>", 0)
    return Location(frame.f_code.co_filename, _line_of(frame))


def _line_of(frame: FrameType) -> int:
    """``frame.f_lineno`` without its cost: CPython decodes the line table from the start of the code
    object on every access, so thousands of decorators in one big module would be quadratic. During a
    build each module's table is decoded once and looked up by bytecode offset."""
    registry = current_registry()
    if registry is None:
        return frame.f_lineno
    code = frame.f_code
    # Keyed by id because hashing a code object hashes its bytecode. The entry holds the code object
    # itself: a module's top-level code is freed after its import, and without that reference the next
    # module's code could reuse the address and read this module's line numbers.
    entry = registry.line_tables.get(id(code))
    if entry is None or entry[0] is not code:
        starts: list[int] = []
        lines: list[int | None] = []
        for start, _end, line in code.co_lines():
            starts.append(start)
            lines.append(line)
        entry = registry.line_tables[id(code)] = (code, starts, lines)
    _, starts, lines = entry
    index = bisect.bisect_right(starts, frame.f_lasti) - 1
    line = lines[index] if index >= 0 else None
    return line if line is not None else frame.f_lineno


def _kind(obj: object) -> str:
    """What the user passed, in words: "class", "function", or the type's name."""
    if inspect.isclass(obj):
        return "class"
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return "function"
    # this module defines its own `type` decorator, so the builtin is reached explicitly
    return builtins.type(obj).__name__


def _check_options(decorator: str, options: dict[str, Any], accepted: tuple[str, ...], loc: Location) -> None:
    for key, value in options.items():
        if key not in accepted:
            import difflib

            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            raise AuthoringError(
                "FQL101",
                f'@{decorator} got an unknown keyword "{key}"',
                file=loc.file,
                line=loc.line,
                hint=hint + "accepted keywords: " + ", ".join(accepted),
                keyword=key,
            )
        if key == "access":
            _check_access(decorator, value, loc)
            continue
        if key == "auth_flow" and value not in AUTH_FLOWS:
            raise AuthoringError(
                "FQL107",
                f"@{decorator}(auth_flow=...) must be one of: {', '.join(AUTH_FLOWS)}",
                file=loc.file,
                line=loc.line,
                keyword=key,
            )
        if key in ("filter", "order_by", "paging", "max_limit"):
            _check_paging_option(decorator, key, value, loc)
            continue
        if key in _BOOLEAN_OPTIONS:
            if not isinstance(value, bool):
                raise AuthoringError(
                    "FQL107",
                    f"{decorator}({key}=...) must be True or False, got {_kind(value)}",
                    file=loc.file,
                    line=loc.line,
                    keyword=key,
                )
            continue
        if value is not None and not isinstance(value, str):
            raise AuthoringError(
                "FQL107",
                f"@{decorator}({key}=...) must be a string, got {_kind(value)}",
                file=loc.file,
                line=loc.line,
                keyword=key,
            )


def _check_paging_option(decorator: str, key: str, value: object, loc: Location) -> None:
    def bad(message: str, hint: str) -> AuthoringError:
        return AuthoringError(
            "FQL107", f"{decorator}({key}=...) {message}", file=loc.file, line=loc.line, hint=hint, keyword=key
        )

    if key == "filter":
        if isinstance(value, bool):
            return
        items = list(value) if isinstance(value, list | tuple) else None
        if not items or not all(isinstance(v, str) for v in items):
            raise bad(
                f"takes True or a list of operators, got {_kind(value)}", 'write filter=True or filter=["eq", "in"]'
            )
        unknown = [v for v in items if v not in FILTER_OPERATORS]
        if unknown:
            raise bad(
                f"names unknown operator(s) {', '.join(map(repr, unknown))}",
                "operators: " + ", ".join(FILTER_OPERATORS),
            )
    elif key == "order_by":
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
        if not items or not all(isinstance(v, str) and v.strip("-") for v in items):
            raise bad(
                f"takes a field name or a list of them, got {_kind(value)}",
                'write order_by="-created_at" (a leading "-" sorts descending) or order_by=["-created_at", "title"]',
            )
    elif key == "paging":
        if value not in PAGING_STYLES:
            raise bad(
                f"must be one of {', '.join(map(repr, PAGING_STYLES))}, got {value!r}",
                'paging="keyset" makes the query a Relay connection (first/after); "offset" (the default) takes '
                "limit/offset",
            )
    elif key == "max_limit" and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000):
        raise bad(f"must be an integer from 1 to 10000, got {value!r}", "write max_limit=100")


_WRONG_KIND_HINTS = {
    "class": "use @fraiseql.query or @fraiseql.mutation on functions",
    "function": "declare classes with @fraiseql.type, @fraiseql.input or @fraiseql.enum",
}


def _expect(decorator: str, obj: object, want: Literal["class", "function"], loc: Location) -> None:
    """FQL102 unless ``obj`` is the kind of object the decorator applies to."""
    if inspect.isclass(obj) if want == "class" else inspect.isfunction(obj):
        return
    got = _kind(obj)
    raise AuthoringError(
        "FQL102",
        f"@{decorator} decorates a {want}, not a {got}",
        file=loc.file,
        line=loc.line,
        hint=_WRONG_KIND_HINTS[want] if got in ("class", "function") else None,
    )


def _check_access(decorator: str, value: object, loc: Location) -> None:
    ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, AccessSpec) for k, v in value.items())
    if not ok:
        raise AuthoringError(
            "FQL107",
            f"@{decorator}(access=...) takes a dict of role → fraiseql.access(...)",
            file=loc.file,
            line=loc.line,
            hint='write access={"authenticated": fraiseql.access(read="author_id = {current_user_id}")}',
            keyword="access",
        )


# The keyword a positional string most likely meant, per decorator.
_LIKELY_KEYWORD = {
    "fraiseql.type": "table",
    "fraiseql.query": "sql_source",
    "fraiseql.mutation": "function",
    "fraiseql.field": "name",
    "fraiseql.access": "read",
}


def _positional_misuse(decorator: str, target: object, loc: Location) -> AuthoringError:
    import json

    keyword = _LIKELY_KEYWORD.get(decorator, "name")
    shown = json.dumps(target) if isinstance(target, str) and len(target) <= 40 else '"..."'
    call = decorator if decorator in ("fraiseql.field", "fraiseql.access") else f"@{decorator}"
    bare = "" if call == decorator else f", or bare {call}"
    return AuthoringError(
        "FQL110",
        f"{call} takes keyword options only, got a positional {_kind(target)}",
        file=loc.file,
        line=loc.line,
        hint=f"write {call}({keyword}={shown}){bare}",
    )


def _doc(obj: object, explicit: str | None) -> str | None:
    if explicit is not None:
        return explicit
    doc = inspect.getdoc(obj) if getattr(obj, "__doc__", None) else None
    return doc or None


def _register(namespace: str, name: str, obj: object, loc: Location) -> None:
    registry = current_registry()
    if registry is not None:
        registry.add(namespace, name, obj, loc)


def _class_decorator(
    kind: Literal["type", "input", "enum"], accepted: tuple[str, ...], target: Any, options: dict[str, Any]
) -> Any:
    decorator = f"fraiseql.{kind}"
    loc = caller_location()
    _check_options(decorator, options, accepted, loc)
    if target is not None and not (inspect.isclass(target) or inspect.isfunction(target)):
        raise _positional_misuse(decorator, target, loc)

    def wrap(cls: Any) -> Any:
        _expect(decorator, cls, "class", loc)
        if kind == "enum":
            import enum as _enum

            if not issubclass(cls, _enum.Enum):
                raise AuthoringError(
                    "FQL102",
                    f"@{decorator} decorates an enum.Enum subclass; {cls.__name__} is not one",
                    file=loc.file,
                    line=loc.line,
                    hint=f"write `class {cls.__name__}(enum.Enum):`",
                )
        spec = TypeSpec(
            kind=kind,
            python_name=cls.__name__,
            name=options.get("name") or cls.__name__,
            location=loc,
            description=_doc(cls, options.get("description")),
            table=options.get("table"),
            view=options.get("view"),
            access=tuple(options["access"].items()) if options.get("access") is not None else None,
        )
        setattr(cls, SPEC_ATTR, spec)
        _register("type", spec.name, cls, loc)
        return cls

    return wrap(target) if target is not None else wrap


@overload
def type(cls: T, /) -> T: ...
@overload
def type(
    *,
    table: str | None = ...,
    view: str | None = ...,
    name: str | None = ...,
    description: str | None = ...,
    access: dict[str, AccessSpec] | None = ...,
) -> Callable[[T], T]: ...
def type(cls: Any = None, /, **options: Any) -> Any:
    """Declare a GraphQL object type.

    With ``table=``, the type is backed by a table and its JSONB read view is generated::

        @fraiseql.type(table="tb_post")      # generates view v_post
        class Post:
            id: ID
            title: str
    """
    return _class_decorator("type", TYPE_OPTIONS, cls, options)


@overload
def input(cls: T, /) -> T: ...
@overload
def input(*, name: str | None = ..., description: str | None = ...) -> Callable[[T], T]: ...
def input(cls: Any = None, /, **options: Any) -> Any:
    """Declare a GraphQL input type::

    @fraiseql.input
    class CreatePostInput:
        title: str
        body: str = ""
    """
    return _class_decorator("input", INPUT_OPTIONS, cls, options)


@overload
def enum(cls: T, /) -> T: ...
@overload
def enum(*, name: str | None = ..., description: str | None = ...) -> Callable[[T], T]: ...
def enum(cls: Any = None, /, **options: Any) -> Any:
    """Declare a GraphQL enum from an ``enum.Enum`` subclass (member names become GraphQL values)::

    @fraiseql.enum
    class PostStatus(enum.Enum):
        DRAFT = "draft"
        PUBLISHED = "published"
    """
    return _class_decorator("enum", ENUM_OPTIONS, cls, options)


def _order_by(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


def _operation_decorator(
    kind: Literal["query", "mutation"], accepted: tuple[str, ...], target: Any, options: dict[str, Any]
) -> Any:
    decorator = f"fraiseql.{kind}"
    loc = caller_location()
    _check_options(decorator, options, accepted, loc)
    if target is not None and not (inspect.isclass(target) or inspect.isfunction(target)):
        raise _positional_misuse(decorator, target, loc)

    def wrap(fn: F) -> F:
        _expect(decorator, fn, "function", loc)
        if "return" not in getattr(fn, "__annotations__", {}):
            raise AuthoringError(
                "FQL103",
                f'{kind} "{fn.__name__}" has no return annotation',
                file=loc.file,
                line=loc.line,
                hint=f'declare what it returns, e.g. `def {fn.__name__}(...) -> "Post":`',
                at_definition=True,
            )
        pending = getattr(fn, PENDING_AUTH_ATTR, None)
        spec = OperationSpec(
            kind=kind,
            python_name=fn.__name__,
            location=loc,
            name=options.get("name"),
            description=_doc(fn, options.get("description")),
            sql_source=options.get("sql_source"),
            id_arg=options.get("id_arg"),
            row_filter=options.get("row_filter"),
            order_by=_order_by(options.get("order_by")),
            paging=options.get("paging"),
            max_limit=options.get("max_limit"),
            function=options.get("function"),
            auth_flow=options.get("auth_flow"),
            auth=pending if isinstance(pending, AuthSpec) else AuthSpec(),
        )
        setattr(fn, SPEC_ATTR, spec)
        _register(kind, spec.name or fn.__name__, fn, loc)
        return fn

    return wrap(target) if target is not None else wrap


@overload
def query(fn: F, /) -> F: ...
@overload
def query(
    *,
    sql_source: str | None = ...,
    id_arg: str | None = ...,
    row_filter: str | None = ...,
    name: str | None = ...,
    description: str | None = ...,
    order_by: str | list[str] | None = ...,
    paging: Literal["offset", "keyset"] | None = ...,
    max_limit: int | None = ...,
) -> Callable[[F], F]: ...
def query(fn: Any = None, /, **options: Any) -> Any:
    """Declare a query that reads from a view::

    @fraiseql.query(sql_source="v_user", id_arg="id", row_filter="id = {current_user_id}")
    def me() -> "User | None": ...

    A list query always pages in a defined order: ``order_by=`` gives its default order (fields of the
    returned type, ``"-"`` for descending; the key ``id`` always ends it), callers may pass ``orderBy`` and
    ``where`` over the fields declared ``fraiseql.field(order=True, filter=True)``, ``limit`` up to
    ``max_limit=`` (else ``[paging] max_limit``), and ``paging="keyset"`` makes it a Relay connection::

    @fraiseql.query(sql_source="v_post", order_by="-created_at", paging="keyset")
    def feed(first: int = 20) -> list[Post]: ...
    """
    return _operation_decorator("query", QUERY_OPTIONS, fn, options)


@overload
def mutation(fn: F, /) -> F: ...
@overload
def mutation(
    *,
    function: str | None = ...,
    name: str | None = ...,
    description: str | None = ...,
    auth_flow: str | None = ...,
) -> Callable[[F], F]: ...
def mutation(fn: Any = None, /, **options: Any) -> Any:
    """Declare a mutation; it calls the SQL function ``fn_<name>`` unless ``function=`` says otherwise::

        @fraiseql.mutation
        def create_post(info, input: CreatePostInput) -> Post: ...

    ``auth_flow=`` binds it to one of the generated auth functions instead (``"login"``,
    ``"refresh_token"``, ``"oauth_callback"``, ``"create_api_key"``, ``"revoke_token"``, ``"revoke_all"``,
    ``"revoke_api_key"``); a mutation named like one of them binds by convention::

        @fraiseql.mutation(auth_flow="login")
        def sign_in(info, input: LoginInput) -> AuthPayload: ...
    """
    return _operation_decorator("mutation", MUTATION_OPTIONS, fn, options)


def middleware(fn: F, /) -> F:
    """Register request middleware by name (the runtime runs it)::

    @fraiseql.middleware
    def set_user_context(request, next):
        return next(request)
    """
    loc = caller_location()
    _expect("fraiseql.middleware", fn, "function", loc)
    spec = MiddlewareSpec(python_name=fn.__name__, location=loc, description=_doc(fn, None))
    setattr(fn, SPEC_ATTR, spec)
    _register("middleware", fn.__name__, fn, loc)
    return fn


def field(*positional: Any, **options: Any) -> FieldOptions:
    """Per-field options, used through ``typing.Annotated``::

    title: Annotated[str, fraiseql.field(description="Headline", column="headline")]
    author: Annotated[User, fraiseql.field(column="writer_id")]
    posts: Annotated[list[Post], fraiseql.field(foreign_key="author_id")]
    created_at: Annotated[DateTime, fraiseql.field(read_only=True)]   # API roles may read, never write it
    published: Annotated[bool, fraiseql.field(filter=True)]     # callers may filter list queries on it
    created_at: Annotated[DateTime, fraiseql.field(order=True)] # ... and order them by it

    ``filter=True`` allows the operators of the field's type (eq, neq, in, isNull, and lt/lte/gt/gte where
    values are ordered); ``filter=["eq", "like"]`` lists them (like/ilike on text are only ever opt-in).

    API roles may insert and update the columns of a table-backed type's fields (as its access rules
    allow), except read-only ones: ``read_only=True`` fields and the key field ``id`` (``read_only=False``
    lets callers choose ids on insert; a key is never updated).
    """
    loc = caller_location()
    if positional:
        raise _positional_misuse("fraiseql.field", positional[0], loc)
    _check_options("fraiseql.field", options, FIELD_OPTIONS, loc)
    return FieldOptions(location=loc, **options)


def access(*positional: Any, **rules: Any) -> AccessSpec:
    """Row-level security for one API role of a table-backed type: a predicate per action over the
    table's columns, with ``{current_user_id}``, ``{jwt:<claim>}`` and ``{scope:<name>}``. An action left
    out is denied; the policies are enforced by PostgreSQL, whatever the runtime does::

        @fraiseql.type(table="tb_post", access={
            "anonymous": fraiseql.access(read="published"),
            "authenticated": fraiseql.access(
                read="published OR author_id = {current_user_id}",
                insert="author_id = {current_user_id} AND {scope:write:posts}",
                update="author_id = {current_user_id}",
                delete="author_id = {current_user_id} OR {scope:admin:posts}",
            ),
        })
        class Post: ...
    """
    loc = caller_location()
    if positional:
        raise _positional_misuse("fraiseql.access", positional[0], loc)
    _check_options("fraiseql.access", rules, ACCESS_OPTIONS, loc)
    return AccessSpec(location=loc, **rules)


# --- auth decorators ---------------------------------------------------------------------------------


def _apply_auth(decorator: str, fn: Any, auth: AuthSpec, loc: Location) -> Any:
    _expect(decorator, fn, "function", loc)
    spec = getattr(fn, SPEC_ATTR, None)
    if isinstance(spec, OperationSpec):
        setattr(fn, SPEC_ATTR, spec.with_auth(auth))
    else:
        # Applied below @query/@mutation: keep it until the operation decorator picks it up.
        pending = getattr(fn, PENDING_AUTH_ATTR, None)
        setattr(fn, PENDING_AUTH_ATTR, pending.merge(auth) if isinstance(pending, AuthSpec) else auth)
        registry = current_registry()
        if registry is not None:
            registry.add_auth_target(fn, loc)
    return fn


def authenticated(fn: F | None = None, /) -> Any:
    """Require a valid token (JWT or API key) for a query or mutation; stack in any order::

    @fraiseql.query(sql_source="v_post")
    @authenticated
    def posts(limit: int = 20) -> list[Post]: ...
    """
    loc = caller_location()
    auth = AuthSpec(authenticated=True, origins=(("authenticated", "", loc),))
    if fn is None:
        return lambda f: _apply_auth("authenticated", f, auth, loc)
    return _apply_auth("authenticated", fn, auth, loc)


def api_key_required(fn: F | None = None, /) -> Any:
    """Require an API key (not a user JWT)::

    @fraiseql.query(sql_source="v_report")
    @api_key_required
    def reports(limit: int = 100) -> list[Report]: ...
    """
    loc = caller_location()
    auth = AuthSpec(api_key=True, origins=(("api_key_required", "", loc),))
    if fn is None:
        return lambda f: _apply_auth("api_key_required", f, auth, loc)
    return _apply_auth("api_key_required", fn, auth, loc)


def public(fn: F | None = None, /) -> Any:
    """Declare that every caller, anonymous ones included, may run this operation, on purpose: ``fraiseql
    lint`` reports a mutation with no auth decorator (FQL304) unless it says so::

    @fraiseql.mutation
    @fraiseql.public
    def subscribe_newsletter(info, email: str) -> bool: ...
    """
    loc = caller_location()
    auth = AuthSpec(public=True, origins=(("public", "", loc),))
    if fn is None:
        return lambda f: _apply_auth("public", f, auth, loc)
    return _apply_auth("public", fn, auth, loc)


def requires_scope(*scopes: str) -> Callable[[F], F]:
    """Require every listed scope (``action:resource``)::

    @fraiseql.mutation
    @authenticated
    @requires_scope("write:posts")
    def create_post(info, input: CreatePostInput) -> Post: ...
    """
    loc = caller_location()
    if not scopes or any(callable(s) for s in scopes):
        raise AuthoringError(
            "FQL111",
            "@requires_scope needs at least one scope string",
            file=loc.file,
            line=loc.line,
            hint='write @requires_scope("write:posts")',
        )
    for scope in scopes:
        if not isinstance(scope, str):
            raise AuthoringError(
                "FQL107",
                f"@requires_scope takes strings, got {_kind(scope)}",
                file=loc.file,
                line=loc.line,
            )
    auth = AuthSpec(scopes=tuple(sorted(set(scopes))), origins=tuple(("requires_scope", s, loc) for s in scopes))
    return lambda f: _apply_auth("requires_scope", f, auth, loc)
