"""Turn resolved Python type hints into IR type references."""

from __future__ import annotations

import collections.abc
import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from fraiseql._spec import FieldOptions
from fraiseql_compiler.ir import TypeRef
from fraiseql_compiler.scalars import scalar_for

Position = Literal["output", "input"]
_LIST_ORIGINS = (list, collections.abc.Sequence, collections.abc.Iterable, collections.abc.Collection)


class HintError(Exception):
    def __init__(self, code: str, message: str, hint: str | None = None, missing_name: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.missing_name = missing_name


@dataclass(frozen=True)
class Known:
    kind: Literal["object", "input", "enum"]
    name: str
    sql_type: str | None = None


class _Shim:
    __annotations__: dict[str, Any]


def _needs_evaluation(raw: Any) -> bool:
    """Whether ``raw`` holds a forward reference (a string) anywhere; an annotation that does not is its
    own value, and typing.get_type_hints would only return it (at a cost, for thousands of fields)."""
    if raw is None or isinstance(raw, str | typing.ForwardRef):
        return True
    return any(_needs_evaluation(arg) for arg in typing.get_args(raw) if not isinstance(arg, FieldOptions))


def evaluate(raw: Any, namespace: dict[str, Any]) -> Any:
    """Evaluate one annotation (a string under ``from __future__ import annotations``, or an object)."""
    if not _needs_evaluation(raw):
        return raw
    shim = _Shim()
    shim.__annotations__ = {"x": raw}
    try:
        # A distinct (empty) localns matters: typing caches Optional["Order"] and friends, and a cached
        # ForwardRef re-evaluates only when globalns is not localns. Passing the same dict twice would
        # hand the second build in this process the first build's classes.
        return typing.get_type_hints(shim, globalns=namespace, localns={}, include_extras=True)["x"]
    except NameError as exc:
        missing = getattr(exc, "name", None)
        raise HintError("FQL201", f'unknown type "{missing}"', missing_name=missing) from None
    except SyntaxError as exc:
        raise HintError("FQL206", f"type hint {raw!r} is not valid Python: {exc.msg}") from None
    except TypeError as exc:
        raise HintError("FQL206", f"unsupported type hint {raw!r}: {exc}") from None


def split_annotated(hint: Any) -> tuple[Any, FieldOptions | None]:
    if typing.get_origin(hint) is typing.Annotated:
        options = [m for m in hint.__metadata__ if isinstance(m, FieldOptions)]
        return hint.__origin__, (options[-1] if options else None)
    return hint, None


def _describe(hint: Any) -> str:
    """A hint as the user would write it: `Post | User`, `set[int]`, `Any`."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or isinstance(hint, types.UnionType):
        return " | ".join("None" if a is type(None) else _describe(a) for a in args)
    if origin is not None and args:
        name = getattr(origin, "__name__", None) or repr(origin).replace("typing.", "")
        return f"{name}[{', '.join(_describe(a) for a in args)}]"
    if hint is Ellipsis:
        return "..."
    return getattr(hint, "__name__", None) or repr(hint).replace("typing.", "")


def _suggestion(hint: Any) -> str:
    origin = typing.get_origin(hint) or hint
    if origin in (set, frozenset, tuple, collections.abc.Set):
        return "GraphQL has lists only: write list[...]"
    if hint is typing.Any or hint is object:
        return "say what it is; for arbitrary JSON use fraiseql.scalars.JSON"
    if origin is typing.Literal:
        return "declare an enum.Enum decorated with @fraiseql.enum"
    return "use str, int, float, bool, a fraiseql.scalars type, a decorated type, list[...] or `X | None`"


def to_typeref(hint: Any, known: dict[int, Known], position: Position) -> TypeRef:
    hint, _ = split_annotated(hint)
    origin = typing.get_origin(hint)
    if origin is typing.Union or isinstance(hint, types.UnionType):
        args = typing.get_args(hint)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return to_typeref(rest[0], known, position).model_copy(update={"nullable": True})
        raise HintError(
            "FQL207",
            f"union {_describe(hint)} is not supported",
            "only `X | None` is supported; GraphQL unions of several types are not",
        )
    if hint is type(None) or hint is None:
        raise HintError("FQL206", "a bare None type is not supported", "write `X | None` for a nullable X")
    if origin in _LIST_ORIGINS or hint in _LIST_ORIGINS or hint is typing.List:  # noqa: UP006
        args = typing.get_args(hint)
        if not args:
            raise HintError("FQL206", f"{_describe(hint)} needs an item type", "write e.g. `list[Post]`")
        return TypeRef(kind="list", nullable=False, of=to_typeref(args[0], known, position))
    if origin in (dict, collections.abc.Mapping) or hint in (dict, typing.Dict):  # noqa: UP006
        hint = dict
    scalar = scalar_for(hint)
    if scalar is not None:
        return TypeRef(kind="scalar", nullable=False, name=scalar.graphql, sql_type=scalar.sql_type)
    entry = known.get(id(hint))
    if entry is not None:
        return TypeRef(kind=entry.kind, nullable=False, name=entry.name, sql_type=entry.sql_type)
    if inspect.isclass(hint):
        if issubclass(hint, enum.Enum):
            raise HintError(
                "FQL218",
                f"enum {hint.__name__} is not a FraiseQL enum",
                f"decorate {hint.__name__} with @fraiseql.enum",
            )
        if hint.__module__ not in ("builtins", "typing", "datetime", "decimal", "uuid"):
            deco = "@fraiseql.input" if position == "input" else "@fraiseql.type"
            raise HintError(
                "FQL218", f"{hint.__name__} is not a FraiseQL type", f"decorate {hint.__name__} with {deco}"
            )
    raise HintError("FQL206", f"unsupported type hint {_describe(hint)}", _suggestion(hint))


def json_default(value: Any) -> Any:
    """The JSON form of a Python default value (manifest and SDL)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list | tuple):
        return [json_default(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_default(v) for k, v in value.items()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    hint = "GraphQL has lists only: write a list" if isinstance(value, set | frozenset) else None
    raise HintError(
        "FQL222",
        f"default value {value!r} cannot be expressed in GraphQL",
        hint or "use None, a bool, number or string, a list, a dict, an enum member, a date, time or Decimal",
    )
