"""Registry → IR. The only code that touches live Python objects."""

from __future__ import annotations

import enum
import inspect
import sys
from typing import Any

from fraiseql._registry import Entry
from fraiseql._spec import (
    ACCESS_ACTIONS,
    AUTH_FLOW_CONVENTIONS,
    SPEC_ATTR,
    FieldOptions,
    Location,
    MiddlewareSpec,
    OperationSpec,
    TypeSpec,
)
from fraiseql_compiler.diagnostics import Diagnostic, Related, Span, diag, did_you_mean
from fraiseql_compiler.introspect.hints import (
    HintError,
    Known,
    evaluate,
    json_default,
    split_annotated,
    to_typeref,
)
from fraiseql_compiler.ir import (
    Argument,
    Auth,
    ClaimUse,
    ColumnUse,
    EnumType,
    EnumValue,
    Field,
    InputType,
    Middleware,
    Mutation,
    ObjectType,
    Policy,
    Query,
    RowFilter,
    Schema,
    TypeRef,
)
from fraiseql_compiler.load import LoadResult
from fraiseql_compiler.load.sourcemap import SourceMap
from fraiseql_compiler.naming import camel, snake
from fraiseql_compiler.scalars import SCALAR_NAMES
from fraiseql_compiler.sql.predicate_render import Predicate

_EMPTY = inspect.Parameter.empty
_ROW_FILTER_PLACEHOLDERS = frozenset({"current_user_id", "jwt", "arg"})
_POLICY_PLACEHOLDERS = frozenset({"current_user_id", "jwt", "scope"})


def _parameters(fn: Any) -> list[tuple[str, str, Any]]:
    """(name, "*" or "**" for a variadic one else "", default) of each parameter, in order, read from the
    code object: as exact as inspect.signature for plain functions, and much cheaper across thousands."""
    code = fn.__code__
    positional = code.co_varnames[: code.co_argcount]
    kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    defaults = fn.__defaults__ or ()
    kwdefaults = fn.__kwdefaults__ or {}
    first_default = len(positional) - len(defaults)
    out: list[tuple[str, str, Any]] = [
        (name, "", defaults[i - first_default] if i >= first_default else _EMPTY) for i, name in enumerate(positional)
    ]
    index = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & inspect.CO_VARARGS:
        out.append((code.co_varnames[index], "*", _EMPTY))
        index += 1
    out += [(name, "", kwdefaults.get(name, _EMPTY)) for name in kwonly]
    if code.co_flags & inspect.CO_VARKEYWORDS:
        out.append((code.co_varnames[index], "**", _EMPTY))
    return out


def _guess(default: Any) -> str:
    """A plausible annotation for a parameter, from its default value."""
    if default is _EMPTY or default is None:
        return "str" if default is _EMPTY else "str | None"
    if isinstance(default, bool | int | float | str):
        return f"{type(default).__name__} = {default!r}"
    return f"{type(default).__name__}"


class Builder:
    def __init__(self, result: LoadResult, sources: SourceMap) -> None:
        self.result = result
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []
        self.entries = result.registry.entries
        self.known: dict[int, Known] = {}
        self.type_names: dict[str, Any] = {}
        for entry in self.entries:
            spec = getattr(entry.obj, SPEC_ATTR)
            if isinstance(spec, TypeSpec):
                kind = "object" if spec.kind == "type" else spec.kind
                self.known[id(entry.obj)] = Known(kind, spec.name, "text" if kind == "enum" else None)
                self.type_names[spec.python_name] = entry.obj
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._predicates: dict[tuple[str, str], Predicate] = {}
        self._hints: dict[tuple[str, Any, str], tuple[TypeRef, FieldOptions | None] | HintError] = {}

    # --- helpers -------------------------------------------------------------------------------------

    def _namespace(self, module_name: str) -> dict[str, Any]:
        ns = self._namespaces.get(module_name)
        if ns is None:
            # Module globals win; registered types and fraiseql scalars fill in forward references to
            # names the module never imported (a type defined in a sibling module).
            ns = {**SCALAR_NAMES, **self.type_names}
            module = sys.modules.get(module_name)
            if module is not None:
                ns.update(vars(module))
            self._namespaces[module_name] = ns
        return ns

    def _hint_error(self, exc: HintError, span: Span) -> None:
        hint = exc.hint
        if exc.missing_name:
            candidates = {*self.type_names, *SCALAR_NAMES}
            hint = did_you_mean(exc.missing_name, candidates) or (
                f'define or import "{exc.missing_name}", or decorate it with @fraiseql.type'
            )
        self.diagnostics.append(diag(exc.code, exc.message, span, hint))

    def _resolve(self, raw: Any, module: str, span: Span, position: str) -> tuple[TypeRef, FieldOptions | None] | None:
        # Schemas repeat their annotations (ID, "list[Post]"): each is resolved once per module and
        # position; its result (or its error) is the same every time. Not an annotation that carries
        # fraiseql.field(...): its options know where they were written, and equal ones compare equal.
        key: tuple[str, Any, str] | None = (module, raw, position)
        try:
            cached = self._hints.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable annotation object: resolved every time
            key = cached = None
        if cached is None:
            try:
                hint = evaluate(raw, self._namespace(module))
                cached = (to_typeref(hint, self.known, position), split_annotated(hint)[1])  # type: ignore[arg-type]
            except HintError as exc:
                cached = exc
            if key is not None and (isinstance(cached, HintError) or cached[1] is None):
                self._hints[key] = cached
        if isinstance(cached, HintError):
            self._hint_error(cached, span)
            return None
        return cached

    def _span_of(self, spec: TypeSpec | OperationSpec | MiddlewareSpec) -> Span:
        return self.sources.definition(spec.location.file, spec.location.line)

    def _keyword_span(self, spec: TypeSpec | OperationSpec, keyword: str) -> Span | None:
        """Where the decorator's ``keyword=`` is, when the user wrote it (``name=`` on a type: the GraphQL
        name differs from the class name)."""
        given = spec.name != spec.python_name if isinstance(spec, TypeSpec) else spec.name is not None
        return self.sources.keyword(spec.location.file, spec.location.line, keyword) if given else None

    def _option_span(self, location: Location | None, keyword: str) -> Span | None:
        return self.sources.keyword(location.file, location.line, keyword) if location is not None else None

    def _member_span(self, spec: TypeSpec | OperationSpec, name: str) -> Span:
        return self.sources.member(spec.location.file, spec.location.line, name) or self._span_of(spec)

    # --- types ---------------------------------------------------------------------------------------

    def _fields(self, cls: type, spec: TypeSpec, position: str) -> tuple[Field, ...]:
        fields: list[Field] = []
        seen: set[str] = set()
        for base in reversed(cls.__mro__):
            if base is object:
                continue
            for name, raw in vars(base).get("__annotations__", {}).items():
                if name.startswith("_") or name in seen:
                    continue
                seen.add(name)
                span = self._member_span(spec, name)
                default = base.__dict__.get(name, inspect.Parameter.empty)
                if isinstance(default, FieldOptions):
                    self.diagnostics.append(
                        diag(
                            "FQL108",
                            f'field "{name}" uses fraiseql.field(...) as a default value',
                            span,
                            f"write `{name}: Annotated[T, fraiseql.field(...)]`",
                        )
                    )
                    continue
                resolved = self._resolve(raw, base.__module__, span, position)
                if resolved is None:
                    continue
                ref, opts = resolved
                opts = opts or FieldOptions()
                has_default = default is not inspect.Parameter.empty
                try:
                    default_json = json_default(default) if has_default else None
                except HintError as exc:
                    self._hint_error(exc, span)
                    continue
                named = ref.named()
                column = None
                if position == "output":
                    if named.kind == "object" and ref.kind != "list":
                        column = opts.column or f"{name}_id"
                    elif ref.kind != "list" or named.kind != "object":
                        column = opts.column or name
                fields.append(
                    Field(
                        name=name,
                        graphql_name=opts.name or camel(name),
                        type=ref,
                        span=span,
                        name_span=self._option_span(opts.location, "name") if opts.name else None,
                        description=opts.description,
                        deprecation_reason=opts.deprecation_reason,
                        column=column,
                        foreign_key=opts.foreign_key,
                        has_default=has_default and position == "input",
                        default=default_json if position == "input" else None,
                        read_only=opts.read_only,
                        order=opts.order,
                        filter=opts.filter,
                        option_span=self._option_span(opts.location, "filter" if opts.filter else "order")
                        if opts.order or opts.filter
                        else None,
                    )
                )
        return tuple(fields)

    def _object(self, entry: Entry, spec: TypeSpec) -> ObjectType:
        cls = entry.obj
        assert isinstance(cls, type)
        view = spec.view or (f"v_{snake(spec.python_name)}" if spec.table else None)
        return ObjectType(
            id=f"type.{spec.name}",
            name=spec.name,
            python_name=spec.python_name,
            module=cls.__module__,
            fields=self._fields(cls, spec, "output"),
            span=self._span_of(spec),
            name_span=self._keyword_span(spec, "name"),
            description=spec.description,
            table=spec.table,
            view=view,
            table_span=self.sources.keyword(spec.location.file, spec.location.line, "table") if spec.table else None,
            view_span=self.sources.keyword(spec.location.file, spec.location.line, "view") if spec.view else None,
        )

    def _input(self, entry: Entry, spec: TypeSpec) -> InputType:
        cls = entry.obj
        assert isinstance(cls, type)
        return InputType(
            id=f"input.{spec.name}",
            name=spec.name,
            python_name=spec.python_name,
            module=cls.__module__,
            fields=self._fields(cls, spec, "input"),
            span=self._span_of(spec),
            name_span=self._keyword_span(spec, "name"),
            description=spec.description,
        )

    def _enum(self, entry: Entry, spec: TypeSpec) -> EnumType:
        cls = entry.obj
        assert isinstance(cls, type) and issubclass(cls, enum.Enum)
        values = []
        for member in cls:
            span = self._member_span(spec, member.name)
            try:
                value = json_default(member.value)
            except HintError as exc:
                self._hint_error(exc, span)
                continue
            values.append(EnumValue(name=member.name, value=value, span=span))
        return EnumType(
            id=f"enum.{spec.name}",
            name=spec.name,
            python_name=spec.python_name,
            module=cls.__module__,
            values=tuple(values),
            span=self._span_of(spec),
            name_span=self._keyword_span(spec, "name"),
            description=spec.description,
        )

    # --- operations ----------------------------------------------------------------------------------

    def _arguments(self, fn: Any, spec: OperationSpec) -> tuple[Argument, ...] | None:
        params = _parameters(fn)
        if params and params[0][0] == "info":
            params = params[1:]  # the resolver context, not a GraphQL argument
        args: list[Argument] = []
        ok = True
        for name, variadic, default_value in params:
            span = self._member_span(spec, name)
            if variadic:
                self.diagnostics.append(
                    diag(
                        "FQL221",
                        f"{variadic}{name} cannot be a GraphQL argument",
                        span,
                        "declare each argument by name",
                    )
                )
                ok = False
                continue
            if name not in fn.__annotations__:
                self.diagnostics.append(
                    diag(
                        "FQL219",
                        f'argument "{name}" of {spec.kind} "{spec.python_name}" has no type hint',
                        span,
                        f"annotate it, e.g. `{name}: {_guess(default_value)}`",
                    )
                )
                ok = False
                continue
            resolved = self._resolve(fn.__annotations__[name], fn.__module__, span, "input")
            if resolved is None:
                ok = False
                continue
            ref, opts = resolved
            has_default = default_value is not _EMPTY
            try:
                default = json_default(default_value) if has_default else None
            except HintError as exc:
                self._hint_error(exc, span)
                ok = False
                continue
            args.append(
                Argument(
                    name=name,
                    graphql_name=(opts.name if opts and opts.name else camel(name)),
                    type=ref,
                    span=span,
                    has_default=has_default,
                    default=default,
                )
            )
        return tuple(args) if ok else None

    def _auth(self, spec: OperationSpec) -> Auth:
        spans = []
        for scope in spec.auth.scopes:
            loc = next(o[2] for o in spec.auth.origins if o[0] == "requires_scope" and o[1] == scope)
            spans.append(self.sources.string_argument(loc.file, loc.line, scope))
        public = next((o[2] for o in spec.auth.origins if o[0] == "public"), None)
        return Auth(
            authenticated=spec.auth.authenticated,
            scopes=spec.auth.scopes,
            api_key=spec.auth.api_key,
            public=spec.auth.public,
            public_span=self.sources.decorator(public.file, public.line) if public is not None else None,
            scope_spans=tuple(spans),
        )

    def _returns(self, fn: Any, spec: OperationSpec) -> TypeRef | None:
        span = self.sources.returns(spec.location.file, spec.location.line) or self._span_of(spec)
        resolved = self._resolve(fn.__annotations__["return"], fn.__module__, span, "output")
        return resolved[0] if resolved else None

    def _policies(self, t: ObjectType, spec: TypeSpec) -> tuple[Policy, ...]:
        from fraiseql_compiler.sql.predicate import PredicateError

        policies: list[Policy] = []
        for role, rules in spec.access or ():
            loc = rules.location or spec.location
            for action in ACCESS_ACTIONS:
                text = getattr(rules, action)
                if text is None:
                    continue
                try:
                    predicate = self._parse(text, "policy")
                except PredicateError as exc:
                    span = self.sources.string_offset(loc.file, loc.line, action, exc.offset, exc.length)
                    self.diagnostics.append(diag(exc.code, exc.message, span, exc.hint))
                    continue
                columns = tuple(
                    ColumnUse(
                        name=c.name, span=self.sources.string_offset(loc.file, loc.line, action, c.offset, c.length)
                    )
                    for c in predicate.columns
                )
                claims = tuple(
                    ClaimUse(
                        name=str(ph.name),
                        span=self.sources.string_offset(loc.file, loc.line, action, ph.offset, ph.length),
                    )
                    for ph in predicate.placeholders
                    if ph.kind == "jwt"
                )
                policies.append(
                    Policy(
                        id=f"{t.id}.policy.{role}.{action}",
                        role=role,
                        action=action,
                        source=text,
                        predicate=predicate,
                        columns=columns,
                        claims=claims,
                        span=self.sources.keyword(loc.file, loc.line, action),
                    )
                )
        return tuple(policies)

    def _parse(self, text: str, context: str) -> Predicate:
        """Schemas repeat the same predicates (author_id = {current_user_id}): each text is parsed once."""
        from fraiseql_compiler.sql.predicate import parse_predicate

        key = (text, context)
        predicate = self._predicates.get(key)
        if predicate is None:
            allowed = _POLICY_PLACEHOLDERS if context == "policy" else _ROW_FILTER_PLACEHOLDERS
            predicate = self._predicates[key] = parse_predicate(text, allowed=allowed, context=context)
        return predicate

    def _row_filter(self, spec: OperationSpec, args: tuple[Argument, ...]) -> RowFilter | None:
        from fraiseql_compiler.sql.predicate import PredicateError

        text = spec.row_filter
        assert text is not None
        file, line = spec.location.file, spec.location.line
        try:
            predicate = self._parse(text, "row_filter")
        except PredicateError as exc:
            span = self.sources.string_offset(file, line, "row_filter", exc.offset, exc.length)
            self.diagnostics.append(diag(exc.code, exc.message, span, exc.hint))
            return None
        columns = tuple(
            ColumnUse(name=c.name, span=self.sources.string_offset(file, line, "row_filter", c.offset, c.length))
            for c in predicate.columns
        )
        # {arg:x} placeholders must name an argument: checked here, where the offsets are known.
        arg_names = {a.name for a in args}
        for ph in predicate.placeholders:
            if ph.kind == "arg" and ph.name not in arg_names:
                span = self.sources.string_offset(file, line, "row_filter", ph.offset, ph.length)
                hint = did_you_mean(str(ph.name), arg_names) or (
                    f'add an argument "{ph.name}" to {spec.python_name}()' if ph.name else None
                )
                self.diagnostics.append(
                    diag(
                        "FQL226",
                        f'row_filter uses {{arg:{ph.name}}} but "{spec.python_name}" has no such argument',
                        span,
                        hint,
                    )
                )
        claims = tuple(
            ClaimUse(name=str(ph.name), span=self.sources.string_offset(file, line, "row_filter", ph.offset, ph.length))
            for ph in predicate.placeholders
            if ph.kind == "jwt"
        )
        return RowFilter(
            source=text,
            predicate=predicate,
            params=predicate.arg_names(),
            columns=columns,
            claims=claims,
            span=self.sources.keyword(file, line, "row_filter"),
        )

    def _operation(self, entry: Entry, spec: OperationSpec, types: dict[str, ObjectType]) -> Query | Mutation | None:
        fn = entry.obj
        args = self._arguments(fn, spec)
        returns = self._returns(fn, spec)
        if args is None or returns is None:
            return None
        file, line = spec.location.file, spec.location.line
        common: dict[str, Any] = {
            "name": spec.python_name,
            "graphql_name": spec.name or camel(spec.python_name),
            "module": fn.__module__,
            "arguments": args,
            "returns": returns,
            "span": self._span_of(spec),
            "name_span": self._keyword_span(spec, "name"),
            "auth": self._auth(spec),
            "description": spec.description,
        }
        if spec.kind == "mutation":
            # The guide's names bind by convention, unless the user named a function of their own.
            flow = spec.auth_flow
            if flow is None and spec.function is None:
                flow = AUTH_FLOW_CONVENTIONS.get(spec.python_name)
            return Mutation(
                id=f"mutation.{common['graphql_name']}",
                function=spec.function or f"fn_{spec.python_name}",
                function_span=self.sources.keyword(file, line, "function") if spec.function else None,
                auth_flow=flow,
                **common,
            )
        sql_source = spec.sql_source
        if sql_source is None:
            target = types.get(str(returns.named().name))
            sql_source = target.view if target is not None else None
        row_filter = self._row_filter(spec, args) if spec.row_filter is not None else None
        if spec.row_filter is not None and row_filter is None:
            return None
        return Query(
            id=f"query.{common['graphql_name']}",
            sql_source=sql_source or "",
            sql_source_span=self.sources.keyword(file, line, "sql_source"),
            id_arg=spec.id_arg,
            id_arg_span=self.sources.keyword(file, line, "id_arg") if spec.id_arg else None,
            row_filter=row_filter,
            order_by=spec.order_by,
            order_by_span=self.sources.keyword(file, line, "order_by") if spec.order_by is not None else None,
            paging="keyset" if spec.paging == "keyset" else "offset",
            paging_span=self.sources.keyword(file, line, "paging") if spec.paging is not None else None,
            max_limit=spec.max_limit,
            max_limit_span=self.sources.keyword(file, line, "max_limit") if spec.max_limit is not None else None,
            **common,
        )

    # --- the whole schema ----------------------------------------------------------------------------

    def registry_problems(self) -> None:
        registry = self.result.registry
        for first, dup in registry.duplicates:
            span = self.sources.decorator(dup.location.file, dup.location.line)
            where = self.sources.decorator(first.location.file, first.location.line)
            kind = "type" if dup.namespace == "type" else dup.namespace
            self.diagnostics.append(
                diag(
                    "FQL202",
                    f'duplicate {kind} name "{dup.name}"',
                    span,
                    "rename one of them",
                    related=(Related(where, "first defined here"),),
                )
            )
        for obj, loc in registry.auth_targets:
            if not isinstance(getattr(obj, SPEC_ATTR, None), OperationSpec):
                name = getattr(obj, "__name__", "?")
                self.diagnostics.append(
                    diag(
                        "FQL109",
                        f'auth decorator on "{name}", which is not a query or mutation',
                        self.sources.decorator(loc.file, loc.line),
                        "add @fraiseql.query(...) or @fraiseql.mutation; an auth check that guards nothing is refused",
                    )
                )

    def build(self) -> Schema:
        self.registry_problems()
        types: dict[str, ObjectType] = {}
        inputs: list[InputType] = []
        enums: list[EnumType] = []
        ops: list[tuple[Entry, OperationSpec]] = []
        middleware: list[Middleware] = []
        for entry in self.entries:
            spec = getattr(entry.obj, SPEC_ATTR)
            if isinstance(spec, TypeSpec):
                if spec.kind == "type":
                    types[spec.name] = self._object(entry, spec)
                elif spec.kind == "input":
                    inputs.append(self._input(entry, spec))
                else:
                    enums.append(self._enum(entry, spec))
            elif isinstance(spec, OperationSpec):
                ops.append((entry, spec))
            elif isinstance(spec, MiddlewareSpec):
                middleware.append(
                    Middleware(
                        id=f"middleware.{spec.python_name}",
                        name=spec.python_name,
                        module=getattr(entry.obj, "__module__", ""),
                        span=self._span_of(spec),
                        description=spec.description,
                    )
                )
        for entry in self.entries:
            spec = getattr(entry.obj, SPEC_ATTR)
            if isinstance(spec, TypeSpec) and spec.kind == "type" and spec.access is not None:
                t = types[spec.name]
                types[spec.name] = t.model_copy(update={"access_declared": True, "policies": self._policies(t, spec)})
        queries: list[Query] = []
        mutations: list[Mutation] = []
        for entry, spec in ops:
            op = self._operation(entry, spec, types)
            if isinstance(op, Query):
                queries.append(op)
            elif isinstance(op, Mutation):
                mutations.append(op)
        return Schema(
            types=tuple(sorted(types.values(), key=lambda t: t.name)),
            inputs=tuple(sorted(inputs, key=lambda t: t.name)),
            enums=tuple(sorted(enums, key=lambda t: t.name)),
            queries=tuple(sorted(queries, key=lambda q: q.graphql_name)),
            mutations=tuple(sorted(mutations, key=lambda m: m.graphql_name)),
            middleware=tuple(middleware),  # definition order is the order the runtime chains them
        )


def build_schema(result: LoadResult, sources: SourceMap) -> tuple[Schema, list[Diagnostic]]:
    builder = Builder(result, sources)
    schema = builder.build()
    return schema, builder.diagnostics
