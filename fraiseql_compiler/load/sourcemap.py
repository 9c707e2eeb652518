"""Precise spans in the user's source: decorator keywords, class fields, function parameters.

Each file is parsed with ``ast`` once; specs record the decorator line, which keys the lookups.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from fraiseql_compiler.diagnostics import Span
from fraiseql_compiler.diagnostics.suppress import Suppression, comments


@dataclass
class _Def:
    node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    keywords: dict[str, ast.expr] = field(default_factory=dict)  # of the decorator on this line
    args: list[ast.expr] = field(default_factory=list)
    members: dict[str, ast.stmt | ast.arg] | None = None  # by name, built on first use: see _members


def _members(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.stmt | ast.arg]:
    """A class's fields (annotated assignments, enum members) or a function's parameters, by name (the
    first, where a name repeats)."""
    found: dict[str, ast.stmt | ast.arg] = {}
    if isinstance(node, ast.ClassDef):
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                found.setdefault(stmt.target.id, stmt)
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, stmt)
        return found
    args = node.args
    for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
        if arg is not None:
            found.setdefault(arg.arg, arg)
    return found


# Statements that can hold a decorated definition; the walk skips every other statement.
_COMPOUND = (
    ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try,
    ast.TryStar, ast.With, ast.AsyncWith, ast.Match, ast.ExceptHandler, ast.match_case,
)  # fmt: skip


def _record_calls(exprs: list[ast.expr], keywords: dict[int, dict[str, ast.expr]]) -> None:
    """line → keyword → value for every call in ``exprs``, nested ones included (fraiseql.access(...) in
    an access={...} dict), descending only through the expressions that can hold a call."""
    stack: list[ast.AST] = list(exprs)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call):
            found = keywords.setdefault(node.lineno, {})
            for k in node.keywords:
                if k.arg:
                    found.setdefault(k.arg, k.value)
                stack.append(k.value)
            stack.extend(node.args)
            stack.append(node.func)
        elif isinstance(node, ast.Dict):
            stack.extend(v for v in node.values if v is not None)
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            stack.extend(node.elts)
        elif isinstance(node, ast.Subscript):
            stack.append(node.slice)


def _is_annotated(annotation: ast.expr) -> bool:
    """``Annotated[...]`` / ``typing.Annotated[...]``: the only annotations that carry fraiseql.field(...)."""
    if not isinstance(annotation, ast.Subscript):
        return False
    value = annotation.value
    return (value.id if isinstance(value, ast.Name) else getattr(value, "attr", None)) == "Annotated"


class SourceMap:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_resolved = root.resolve()
        self._files: dict[str, tuple[list[str], dict[int, _Def]]] = {}
        # line → keyword arguments of every call written inside a decorator on that line, nested ones
        # included (fraiseql.access(read=...) inside @fraiseql.type(access={...}))
        self._keywords: dict[str, dict[int, dict[str, ast.expr]]] = {}
        self._rel: dict[str, str] = {}  # resolving paths is slow; every span needs one
        self._texts: dict[str, str] = {}
        self._adopted: dict[str, tuple[str, ast.Module]] = {}

    def relpath(self, file: str) -> str:
        rel = self._rel.get(file)
        if rel is None:
            path = Path(file)
            try:
                rel = path.resolve().relative_to(self._root_resolved).as_posix()
            except ValueError:
                rel = path.as_posix()
            self._rel[file] = rel
        return rel

    def adopt(self, file: str, text: str, tree: ast.Module) -> None:
        """The text and tree of ``file`` as the import parsed them (``load._ProjectLoader``)."""
        self._adopted[file] = (text, tree)

    def _load(self, file: str) -> tuple[list[str], dict[int, _Def]]:
        cached = self._files.get(file)
        if cached is not None:
            return cached
        keywords: dict[int, dict[str, ast.expr]] = {}
        self._keywords[file] = keywords
        adopted = self._adopted.pop(file, None)
        try:
            text, tree = adopted or self._parse(file)
        except (OSError, SyntaxError, ValueError):
            self._files[file] = ([], {})
            return self._files[file]
        self._texts[file] = text
        defs: dict[int, _Def] = {}
        # Decorated definitions live in statement bodies only: walking statements, not every
        # expression node, keeps this linear in the number of statements.
        pending: list[ast.AST] = [tree]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list:
                # calls inside decorators and field annotations (fraiseql.field(name=...)): small expressions
                _record_calls(node.decorator_list, keywords)
                if isinstance(node, ast.ClassDef):
                    annotated = [s.annotation for s in node.body if isinstance(s, ast.AnnAssign)]
                    _record_calls([a for a in annotated if _is_annotated(a)], keywords)
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call):
                        kws = {k.arg: k.value for k in dec.keywords if k.arg}
                        defs[dec.lineno] = _Def(node, kws, list(dec.args))
                    else:
                        defs[dec.lineno] = _Def(node)
            for name in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(stmt for stmt in getattr(node, name, ()) if isinstance(stmt, _COMPOUND))
        self._files[file] = (text.splitlines(), defs)
        return self._files[file]

    @staticmethod
    def _parse(file: str) -> tuple[str, ast.Module]:
        text = Path(file).read_text(encoding="utf-8")
        return text, ast.parse(text, filename=file)

    def suppressions(self, file: str) -> list[Suppression]:
        """The ``# fraiseql: ignore[...]`` comments of ``file``, each with the lines it covers."""
        _, defs = self._load(file)
        found = comments(self._texts.get(file, ""))
        if not found:
            return []
        # a decorated definition: (first decorator line, last header line, last line)
        scopes = {
            id(d.node): (
                min(dec.lineno for dec in d.node.decorator_list),
                d.node.body[0].lineno - 1 if d.node.body[0].lineno > d.node.lineno else d.node.lineno,
                d.node.end_lineno or d.node.lineno,
            )
            for d in defs.values()
        }
        out = []
        for line, column, codes in found:
            covering = [(first, end) for first, header, end in scopes.values() if first <= line <= header]
            first, last = max(covering) if covering else (line, line)  # the innermost definition
            out.append(Suppression(Span(self.relpath(file), line, column, 1), codes, first, last))
        return out

    def line_text(self, file: str, line: int) -> str | None:
        lines, _ = self._load(file)
        return lines[line - 1] if 0 < line <= len(lines) else None

    def _span(self, file: str, node: ast.expr | ast.stmt | ast.arg) -> Span:
        """The node's place: called for nearly every IR node, so it reads the node's attributes directly."""
        lines = self._files[file][0]  # loaded by whoever found the node
        line, col, end = node.lineno, node.col_offset, node.end_col_offset
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if not text.isascii():  # ast columns count UTF-8 bytes; spans count characters
            raw = text.encode()
            col = len(raw[:col].decode(errors="replace"))
            end = len(raw[:end].decode(errors="replace")) if end is not None else None
        length = end - col if end is not None and node.end_lineno == line else len(text) - col
        return Span(self.relpath(file), line, col + 1, max(length, 1))

    def decorator(self, file: str, line: int) -> Span:
        text = self.line_text(file, line) or ""
        col = len(text) - len(text.lstrip())
        return Span(self.relpath(file), line, col + 1 if text else 0, max(len(text.strip()), 1) if text else 0)

    def keyword(self, file: str, line: int, name: str, *, name_too: bool = False) -> Span:
        """The value of keyword ``name`` in the decorator call on ``line`` (else the decorator line);
        with ``name_too``, from the keyword's name (``sqlsource="v_post"``)."""
        node = self._keyword_node(file, line, name)
        if node is None:
            return self.decorator(file, line)
        value = self._span(file, node)
        if not name_too:
            return value
        text = self.line_text(file, value.line) or ""
        start = text.rfind(name, 0, value.column - 1)
        if start < 0:
            return value
        return Span(value.file, value.line, start + 1, value.column - 1 - start + value.length)

    def _keyword_node(self, file: str, line: int, name: str) -> ast.expr | None:
        _, defs = self._load(file)
        d = defs.get(line)
        if d is not None and name in d.keywords:
            return d.keywords[name]
        return self._keywords.get(file, {}).get(line, {}).get(name)

    def string_argument(self, file: str, line: int, value: str) -> Span:
        """The positional string argument equal to ``value`` in the decorator call on ``line``."""
        _, defs = self._load(file)
        d = defs.get(line)
        for arg in d.args if d is not None else ():
            if isinstance(arg, ast.Constant) and arg.value == value:
                return self._span(file, arg)
        return self.decorator(file, line)

    def string_offset(self, file: str, line: int, name: str, offset: int, length: int) -> Span:
        """A character range inside the string literal given as keyword ``name``; exact when the literal
        has no escapes, else the whole literal."""
        whole = self.keyword(file, line, name)
        node = self._keyword_node(file, line, name)
        if node is None:
            return whole
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or node.lineno != node.end_lineno:
            return whole
        lines, _ = self._load(file)
        text = lines[node.lineno - 1]
        start = whole.column - 1
        segment = text[start : start + whole.length]
        prefix = len(segment) - len(segment.lstrip("rRuU"))
        quote = 3 if segment[prefix:].startswith(('"""', "'''")) else 1
        body = segment[prefix + quote : len(segment) - quote]
        if body != node.value:
            return whole
        return Span(whole.file, whole.line, whole.column + prefix + quote + offset, max(length, 1))

    def member(self, file: str, line: int, name: str) -> Span | None:
        """A class field (annotated assignment or enum member) or a function parameter named ``name``."""
        _, defs = self._load(file)
        d = defs.get(line)
        if d is None:
            return None
        if d.members is None:
            d.members = _members(d.node)
        member = d.members.get(name)
        return self._span(file, member) if member is not None else None

    def definition(self, file: str, line: int) -> Span:
        """The ``class``/``def`` line of the definition decorated on ``line``."""
        _, defs = self._load(file)
        d = defs.get(line)
        if d is None:
            return self.decorator(file, line)
        text = self.line_text(file, d.node.lineno) or ""
        col = len(text) - len(text.lstrip())
        return Span(self.relpath(file), d.node.lineno, col + 1, max(len(text.strip()), 1))

    def returns(self, file: str, line: int) -> Span | None:
        _, defs = self._load(file)
        d = defs.get(line)
        if d is None or isinstance(d.node, ast.ClassDef) or d.node.returns is None:
            return None
        return self._span(file, d.node.returns)
