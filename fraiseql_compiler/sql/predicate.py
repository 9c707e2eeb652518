"""Parsing and checking of user-written predicates (`row_filter`, RLS policies).

This module is the SQL-injection boundary of fraiseql-compiler. User text goes
through three gates, and is never pasted into the output:

1. our own scanner, which knows exactly which characters and words may occur
   (strings, placeholders, lowercase columns, a few keywords and operators) and
   rejects everything else with a precise offset;
2. our own recursive-descent parser over those tokens, which knows only the
   predicate grammar (with PostgreSQL's precedence) and builds our node classes
   (`predicate_render`) directly: a construct outside it cannot be represented;
3. a conservation check that every token of the input is accounted for exactly
   once in the tree, so a parser bug can never silently drop part of a filter.

The test suite holds the parser to PostgreSQL's own (pglast): whatever is
accepted must mean, to PostgreSQL, exactly what is rendered. (Until 2026-12 the
structure came from sqlglot over a sanitized token stream; importing it cost
~100 ms of every build and lint, for a grammar of a dozen productions.)

SQL is then rendered from our own nodes by `predicate_render.Renderer`.

Decisions:
- arithmetic (+ - * / ...) is rejected; the only `-` accepted is the sign of a number;
- IS [NOT] NULL/TRUE/FALSE are accepted; `NOT x IS NULL` renders as `x IS NOT NULL`;
- a condition is a comparison/test, a boolean column, TRUE/FALSE, `{scope:...}` or
  `coalesce(...)`; `{jwt:...}` alone is not (claims are text: compare them);
- CURRENT_USER & co. are refused (bare, they mean the *database* role); columns
  named like reserved words (`order`, `user`) are double-quoted in the output;
- constant comparisons such as `'1' = '1'` are legal: the predicate is written by
  the schema author, and it is rendered safely.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fraiseql_compiler.sql.predicate_render import (
    VALUE_TYPES,
    Between,
    BoolOp,
    ColumnRef,
    Compare,
    Func,
    InList,
    IsTest,
    Like,
    Literal,
    Node,
    Not,
    Placeholder,
    Predicate,
    Value,
)

__all__ = [
    "MAX_DEPTH",
    "PLACEHOLDER_KINDS",
    "ColumnRef",
    "Placeholder",
    "Predicate",
    "PredicateError",
    "parse_predicate",
]

PLACEHOLDER_KINDS = frozenset({"current_user_id", "jwt", "arg", "scope"})
DEFAULT_ALLOWED = frozenset({"current_user_id", "jwt", "arg"})
ALLOWED_FUNCTIONS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"coalesce": (1, 100), "length": (1, 1), "lower": (1, 1), "now": (0, 0), "trim": (1, 1), "upper": (1, 1)}
)
MAX_LENGTH = 4000
# The parser takes ~10 frames per parenthesis level (1 per NOT): 32 levels stay well inside Python's default
# recursion limit of 1000, which the compiler never changes (it is process-wide).
MAX_DEPTH = 32
SYNTAX, BAD_PLACEHOLDER = "FQL209", "FQL210"

_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false", "like", "ilike", "between"})
# A `-` right after one of these (or an operator, `(` or `,`) is the sign of a number.
_PREFIX_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "like", "ilike", "between"})
_CMP_OPS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_OP_CHARS = frozenset("+-*/<>=~!@#%^&|`?")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUM_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COLUMN_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")
_QUALIFIED_RE = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_DOLLAR_RE = re.compile(r"\$(?:[0-9]+|[A-Za-z_][A-Za-z0-9_]*\$|\$)")
# NUL cannot be stored in text; bidi controls make a literal read differently
# from what it is ("Trojan Source"); lone surrogates cannot be encoded.
_BAD_IN_STRING = re.compile("[\x00\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_PH_NAME_RE = {
    "jwt": re.compile(r"[A-Za-z0-9_.:/#-]+\Z"),
    "arg": re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z"),
    # exactly the scopes fraiseql.scope_covers accepts (naming.SCOPE_RE): another could never match
    "scope": re.compile(r"[a-z][a-z0-9_.-]*:[a-z0-9_.*-]+(?:/[a-z0-9_.*-]+)*\Z"),
}
_PH_FORMS = {
    "current_user_id": "{current_user_id}",
    "jwt": "{jwt:<claim>}",
    "arg": "{arg:<name>}",
    "scope": "{scope:<action>:<resource>}",
}
_SUBQUERY = (
    "subqueries are not allowed in a {ctx}",
    "compare this row's columns with literals and placeholders; to look rows up elsewhere, "
    "read from a view (sql_source) that joins them",
)
_CLAUSE = ("SQL clause {kw} is not allowed in a {ctx}", "a {ctx} is a single boolean expression")
_CASE = ("CASE expressions are not allowed in a {ctx}", None)
_BLOCKED: dict[str, tuple[str, str | None]] = {
    **dict.fromkeys(("select", "with", "values", "table", "lateral"), _SUBQUERY),
    **dict.fromkeys(("from", "where", "having", "limit", "offset", "into", "returning", "fetch", "window"), _CLAUSE),
    **dict.fromkeys(("case", "when", "then", "else", "end"), _CASE),
    "exists": ("EXISTS subqueries are not allowed in a {ctx}", None),
    **dict.fromkeys(("union", "intersect", "except"), ("set operations ({kw}) are not allowed in a {ctx}", None)),
    **dict.fromkeys(("any", "all", "some"), ("{kw} is not allowed in a {ctx}", "use IN (...) with a list")),
    "array": ("arrays are not allowed in a {ctx}", None),
    "cast": ("type casts are not allowed in a {ctx}", "the compiler adds the casts a comparison needs"),
    "collate": ("COLLATE is not allowed in a {ctx}", None),
    **dict.fromkeys(("over", "within"), ("window functions and aggregates are not allowed in a {ctx}", None)),
    "distinct": ("IS DISTINCT FROM is not supported in a {ctx}", "use = or <> together with IS NULL"),
    "similar": ("SIMILAR TO is not allowed in a {ctx}", "use LIKE or ILIKE"),
    "escape": ("LIKE ... ESCAPE is not allowed in a {ctx}", None),
    **dict.fromkeys(("symmetric", "asymmetric"), ("BETWEEN {kw} is not allowed in a {ctx}", None)),
    **dict.fromkeys(("isnull", "notnull"), ("{kw} is not allowed in a {ctx}", "use IS NULL / IS NOT NULL")),
    "unknown": ("IS UNKNOWN is not allowed in a {ctx}", "use IS NULL"),
    **dict.fromkeys(("overlaps", "at", "row", "as"), ("{kw} is not allowed in a {ctx}", None)),
}
# Bare, these are function calls in PostgreSQL (CURRENT_USER is the *database*
# role, not the application user), so they must not pass as column names.
_VALUE_KEYWORDS = frozenset(
    {
        "current_user",
        "session_user",
        "current_role",
        "system_user",
        "current_catalog",
        "current_schema",
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
    }
)


class PredicateError(Exception):
    """A rejected predicate; `text[offset:offset + length]` is the offending part."""

    def __init__(self, code: str, message: str, offset: int, length: int, hint: str | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f" ({hint})" if hint else ""))
        self.code = code
        self.message = message
        self.offset = max(0, offset)
        self.length = max(1, length)
        self.hint = hint


@dataclass
class _Tok:
    kind: str  # str num ph col fn kw op ( ) ,
    text: str  # the original text of the token
    offset: int
    value: Any = None  # str/num: literal value; ph: Placeholder; col: ColumnRef; fn/kw/op: normalised


def parse_predicate(text: str, *, allowed: frozenset[str] = DEFAULT_ALLOWED, context: str = "row_filter") -> Predicate:
    """Parse and check `text`; raise PredicateError (FQL209/FQL210) if anything is not allow-listed."""
    if not allowed <= PLACEHOLDER_KINDS:
        raise ValueError(f"unknown placeholder kinds {sorted(allowed - PLACEHOLDER_KINDS)}")
    if not text.strip():
        raise PredicateError(SYNTAX, f"the {context} is empty", 0, len(text))
    if len(text) > MAX_LENGTH:
        raise PredicateError(
            SYNTAX,
            f"the {context} is longer than {MAX_LENGTH} characters",
            MAX_LENGTH,
            len(text) - MAX_LENGTH,
        )
    toks = _Scanner(text, allowed, context).scan()
    tree = _Parser(text, toks, context).convert()
    return Predicate(
        source=text,
        columns=tuple(t.value for t in toks if t.kind == "col"),
        placeholders=tuple(t.value for t in toks if t.kind == "ph"),
        tree=tree,
    )


def _string_end(text: str, start: int) -> int | None:
    """End (exclusive) of the '...' literal opening at `start`, with '' as the only escape."""
    j = start + 1
    while True:
        k = text.find("'", j)
        if k < 0:
            return None
        if text.startswith("''", k):
            j = k + 2
            continue
        return k + 1


class _Scanner:
    def __init__(self, text: str, allowed: frozenset[str], context: str) -> None:
        self.text, self.allowed, self.ctx = text, allowed, context
        self.toks: list[_Tok] = []
        self.parens: list[int] = []  # offsets of the currently open '('
        self.not_chain = 0

    def err(self, message: str, offset: int, length: int, hint: str | None = None) -> PredicateError:
        # str.replace, not str.format: messages quote user text, which may contain braces.
        fill = self.ctx
        return PredicateError(
            SYNTAX,
            message.replace("{ctx}", fill),
            offset,
            length,
            hint.replace("{ctx}", fill) if hint else None,
        )

    def scan(self) -> list[_Tok]:
        text, i = self.text, 0
        while i < len(text):
            c = text[i]
            if c in " \t\r\n":
                i += 1
            elif c == "'":
                i = self.string(i)
            elif c == "{":
                i = self.placeholder(i)
            elif c in _WORD_CHARS and not c.isdigit():
                i = self.word(i)
            elif (c.isdigit() and c.isascii()) or (c == "." and text[i + 1 : i + 2].isdigit()):
                i = self.number(i, i)
            elif c in "(),":
                self.push(c, c, i, c)
                i += 1
            elif c in _OP_CHARS:
                i = self.operator(i)
            else:
                raise self.bad_char(i)
        if self.parens:
            raise self.err("unclosed parenthesis", self.parens[-1], 1)
        return self.toks

    def push(self, kind: str, tok_text: str, offset: int, value: Any) -> None:
        if kind == ")" and not self.parens:
            raise self.err("unbalanced closing parenthesis", offset, 1, "a {ctx} must be a single expression")
        if kind == "," and not self.parens:
            raise self.err("unexpected ','", offset, 1, "a {ctx} must be a single expression")
        prev = self.toks[-1].kind if self.toks else None
        if kind == "kw" and value == "IS" and prev == "kw" and self.toks[-1].value == "NOT":
            start = self.toks[-1].offset
            # `x NOT IS NULL` is not SQL (PostgreSQL rejects it): say so rather than guess IS NOT.
            raise self.err("NOT IS is not valid SQL", start, offset + len(tok_text) - start, "write IS NOT")
        if (kind == "," and prev in ("(", ",")) or (kind == ")" and prev == ","):  # an empty item: not SQL
            where = offset if kind == "," else self.toks[-1].offset
            raise self.err("unexpected ','", where, 1)
        if kind == "(":
            self.parens.append(offset)
        elif kind == ")":
            self.parens.pop()
        is_not = kind == "kw" and value == "NOT"
        self.not_chain = self.not_chain + 1 if is_not else self.not_chain if kind == "(" else 0
        if len(self.parens) + self.not_chain > MAX_DEPTH:
            raise self.err(f"the {{ctx}} is nested deeper than {MAX_DEPTH} levels", offset, len(tok_text))
        self.toks.append(_Tok(kind, tok_text, offset, value))

    def string(self, i: int) -> int:
        end = _string_end(self.text, i)
        if end is None:
            raise self.err("unterminated string literal", i, len(self.text) - i)
        bad = _BAD_IN_STRING.search(self.text, i, end)
        if bad:
            char = ord(bad.group())
            raise self.err(f"character U+{char:04X} is not allowed in a string literal", bad.start(), 1)
        self.push("str", self.text[i:end], i, self.text[i + 1 : end - 1].replace("''", "'"))
        return end

    def placeholder(self, i: int) -> int:
        text, j = self.text, i + 1
        while j < len(text) and text[j] not in "{}":
            j += 1
        if j == len(text) or text[j] == "{":
            raise self.ph_err("unbalanced '{' in placeholder", i, 1)
        raw, (kind, sep, name) = text[i : j + 1], text[i + 1 : j].partition(":")
        if kind not in PLACEHOLDER_KINDS:
            raise self.ph_err(f'unknown placeholder "{raw}"', i, len(raw))
        if kind not in self.allowed:
            raise self.ph_err(f"placeholder {_PH_FORMS[kind]} is not allowed in a {self.ctx}", i, len(raw))
        ok = not sep if kind == "current_user_id" else bool(sep and _PH_NAME_RE[kind].match(name))
        if not ok or (kind == "arg" and keyword.iskeyword(name)):
            raise self.ph_err(f'malformed placeholder "{raw}"', i, len(raw))
        self.push("ph", raw, i, Placeholder(kind, name if sep else None, i, len(raw)))
        return j + 1

    def ph_err(self, message: str, offset: int, length: int) -> PredicateError:
        forms = ", ".join(form for kind, form in _PH_FORMS.items() if kind in self.allowed)
        return PredicateError(BAD_PLACEHOLDER, message, offset, length, f"accepted placeholders: {forms}")

    def word(self, i: int) -> int:
        text = self.text
        end = _WORD_RE.match(text, i).end()  # type: ignore[union-attr]
        word, low = text[i:end], text[i:end].lower()
        if text.startswith("'", end) or (low == "u" and text.startswith("&'", end)):
            close = _string_end(text, text.index("'", end)) or len(text)
            prefix = text[i : text.index("'", end)]
            raise self.err(
                f"{prefix}'' string literals are not allowed in a {{ctx}}",
                i,
                close - i,
                "use a plain '...' literal",
            )
        if text.startswith(".", end):
            qual = _QUALIFIED_RE.match(text, end)
            stop = qual.end() if qual else end + 1
            raise self.err(
                "qualified names are not allowed in a {ctx}",
                i,
                stop - i,
                "write the bare column name; the compiler qualifies it",
            )
        after = len(text) - len(text[end:].lstrip(" \t\r\n"))  # next non-blank character
        if low in _KEYWORDS:
            self.push("kw", word, i, word.upper())
        elif low in _BLOCKED:
            message, hint = _BLOCKED[low]
            raise self.err(message.replace("{kw}", word.upper()), i, len(word), hint)
        elif low in _VALUE_KEYWORDS:
            raise self.err(
                f'SQL value function "{word}" is not allowed in a {{ctx}}',
                i,
                len(word),
                "use {current_user_id}, a {jwt:<claim>} placeholder or now()",
            )
        elif text.startswith("(", after):
            if low not in ALLOWED_FUNCTIONS:
                raise self.err(
                    f'function "{word}" is not allowed in a {{ctx}}',
                    i,
                    len(word),
                    "allowed functions: " + ", ".join(ALLOWED_FUNCTIONS),
                )
            self.push("fn", word, i, low)
        elif text.startswith("'", after):
            close = _string_end(text, after) or len(text)
            raise self.err("typed literals are not allowed in a {ctx}", i, close - i, "use a plain '...' literal")
        elif not _COLUMN_RE.match(word):
            raise self.err(
                f'column names must be lowercase SQL identifiers, got "{word}"',
                i,
                len(word),
                f'write "{low}"' if _COLUMN_RE.match(low) else None,
            )
        elif word.startswith("__fql"):
            raise self.err("names starting with __fql are reserved", i, len(word))
        elif len(word) > 63:
            raise self.err("column names are limited to 63 characters", i, len(word))
        else:
            self.push("col", word, i, ColumnRef(word, i, len(word)))
        return end

    def number(self, start: int, digits_at: int) -> int:
        text = self.text
        end = _NUM_RE.match(text, digits_at).end()  # type: ignore[union-attr]
        if end < len(text) and (text[end] in _WORD_CHARS or text[end] == "."):
            stop = end
            while stop < len(text) and (text[stop] in _WORD_CHARS or text[stop] == "."):
                stop += 1
            raise self.err(f'invalid number "{text[start:stop]}"', start, stop - start)
        sign = "-" if start != digits_at else ""
        self.push("num", text[start:end], start, sign + text[digits_at:end])
        return end

    def operator(self, i: int) -> int:
        text, j = self.text, i
        while j < len(text) and text[j] in _OP_CHARS:
            j += 1
        run = text[i:j]
        for k in range(i, j - 1):
            if text.startswith(("--", "/*"), k):
                raise self.err("SQL comments are not allowed in a {ctx}", k, 2, "remove the comment")
        if run in _CMP_OPS:
            self.push("op", run, i, _CMP_OPS[run])
            return j
        if len(run) > 1 and run.endswith("-") and run[:-1] in _CMP_OPS:  # `a=-1`: PostgreSQL splits it too
            self.push("op", run[:-1], i, _CMP_OPS[run[:-1]])
            return j - 1
        if run == "-":
            prev = self.toks[-1] if self.toks else None
            signed = (
                prev is None
                or prev.kind in ("op", "(", ",")
                or (prev.kind == "kw" and prev.value.lower() in _PREFIX_KEYWORDS)
            )
            k = len(text) - len(text[j:].lstrip(" \t\r\n"))
            if signed and _NUM_RE.match(text, k):
                return self.number(i, k)
        if run in ("+", "-", "*", "/", "%", "^"):
            raise self.err(
                "arithmetic is not allowed in a {ctx}",
                i,
                len(run),
                "only a minus sign directly before a number is accepted",
            )
        if any(s in run for s in ("->", "#>", "@>", "<@", "?")):
            raise self.err(f'JSON operator "{run}" is not allowed in a {{ctx}}', i, len(run))
        raise self.err(f'operator "{run}" is not allowed in a {{ctx}}', i, len(run))

    def bad_char(self, i: int) -> PredicateError:
        text, c = self.text, self.text[i]
        if c == ";":
            return self.err("';' is not allowed in a {ctx}", i, 1, "a {ctx} is a single boolean expression")
        if c == '"':
            close = text.find('"', i + 1)
            return self.err(
                "double-quoted identifiers are not allowed in a {ctx}",
                i,
                (close + 1 if close > 0 else len(text)) - i,
                "write the column name in lowercase; reserved words are quoted automatically",
            )
        if c == "$":
            m = _DOLLAR_RE.match(text, i)
            if m and m.group()[1:2].isdigit():
                return self.err(
                    "positional parameters are not allowed in a {ctx}",
                    i,
                    m.end() - i,
                    "use an {arg:<name>} placeholder",
                )
            if m:
                return self.err("dollar-quoted strings are not allowed in a {ctx}", i, m.end() - i)
        if c == ":" and text.startswith("::", i):
            return self.err(
                "type casts ('::') are not allowed in a {ctx}",
                i,
                2,
                "the compiler adds the casts a comparison needs",
            )
        if c in "[]":
            return self.err("array subscripts are not allowed in a {ctx}", i, 1)
        if c == "}":
            return self.ph_err("unmatched '}'", i, 1)
        if not c.isascii() or not c.isprintable():
            return self.err(
                f"character U+{ord(c):04X} is not allowed outside string literals",
                i,
                1,
                "only ASCII is accepted outside quotes; look for look-alikes or invisible ones",
            )
        return self.err(f"'{c}' is not allowed in a {{ctx}}", i, 1)


_NEGATABLE = (IsTest, InList, Like, Between)


class _Parser:
    """Recursive descent over the scanner's tokens, with PostgreSQL's precedence (lowest first): OR, AND,
    NOT, IS, comparison (non-associative), then IN / LIKE / ILIKE / BETWEEN (non-associative). It builds our
    nodes directly and knows no other construct, so anything outside the grammar is an error at the token
    where it starts; a conservation check then proves that every token was consumed exactly once.

    Each production returns ``(node, bare)``: ``bare`` is true for a test built by IS / IN / LIKE / BETWEEN
    right there (not parenthesised, not already under a NOT), which a NOT in front folds into (``NOT x IS
    NULL`` is ``x IS NOT NULL``), as PostgreSQL reads it."""

    def __init__(self, text: str, toks: list[_Tok], context: str) -> None:
        self.text, self.toks, self.ctx = text, toks, context
        self.pos = 0
        self.seen: set[int] = set()  # atoms (literals, placeholders, columns, functions) in the tree
        self.used: Counter[str] = Counter()  # keywords, operators and punctuation in the tree

    def err(self, message: str, offset: int, length: int, hint: str | None = None) -> PredicateError:
        return PredicateError(SYNTAX, message, offset, length, hint)

    def convert(self) -> Node:
        result = self.cond(*self.disjunction())
        if self.pos < len(self.toks):
            tok = self.toks[self.pos]
            raise self.err(
                f'unexpected "{tok.text}"', tok.offset, len(tok.text), f"a {self.ctx} must be a single expression"
            )
        atoms = {n for n, t in enumerate(self.toks) if t.kind in ("str", "num", "ph", "col", "fn")}
        expected = Counter(t.value for t in self.toks if t.kind in ("kw", "op", "(", ")", ","))
        if self.seen != atoms or self.used != expected:
            raise self.err(f"could not parse the {self.ctx} unambiguously", 0, len(self.text))
        return result

    # --- tokens ---------------------------------------------------------------------------------------------

    def peek(self, kind: str, value: str | None = None, ahead: int = 0) -> bool:
        i = self.pos + ahead
        if i >= len(self.toks):
            return False
        tok = self.toks[i]
        return tok.kind == kind and (value is None or tok.value == value)

    def take(self, kind: str, value: str | None = None) -> _Tok:
        if not self.peek(kind, value):
            raise self.unexpected()
        tok = self.toks[self.pos]
        self.pos += 1
        if kind in ("kw", "op", "(", ")", ","):
            self.used[tok.value] += 1
        return tok

    def unexpected(self) -> PredicateError:
        if self.pos >= len(self.toks):
            last = self.toks[-1]
            return self.err(f'incomplete expression after "{last.text}"', last.offset, len(last.text))
        tok = self.toks[self.pos]
        return self.err(f'unexpected "{tok.text}"', tok.offset, len(tok.text))

    def span(self, first: int) -> tuple[int, int]:
        """(offset, length) of the tokens from index ``first`` to the last one consumed."""
        start, last = self.toks[first].offset, self.toks[max(first, self.pos - 1)]
        return start, last.offset + len(last.text) - start

    # --- checks on what a production returned ---------------------------------------------------------------

    def cond(self, result: Node, bare: bool = False, first: int = 0) -> Node:
        boolish = (
            isinstance(result, ColumnRef)
            or (isinstance(result, Literal) and result.kind == "bool")
            or (isinstance(result, Placeholder) and result.kind == "scope")
            or (isinstance(result, Func) and result.name == "coalesce")
        )
        if isinstance(result, VALUE_TYPES) and not boolish:
            raise self.err("expected a boolean condition here", *self.span(first), "compare the value, e.g. `x = ...`")
        return result

    def value(self, result: Node, first: int) -> Value:
        if not isinstance(result, VALUE_TYPES):
            raise self.err("expected a value (column, literal, placeholder or function call) here", *self.span(first))
        return result

    # --- productions, lowest precedence first ---------------------------------------------------------------

    def disjunction(self) -> tuple[Node, bool, int]:
        return self.chain("OR", self.conjunction)

    def conjunction(self) -> tuple[Node, bool, int]:
        return self.chain("AND", self.negation)

    def chain(self, op: str, operand: Any) -> tuple[Node, bool, int]:
        first = self.pos
        node, bare, at = operand()
        if not self.peek("kw", op):
            return node, bare, first
        items = [self.cond(node, bare, at)]
        while self.peek("kw", op):  # a flat chain: `a AND b AND c` is one node (parentheses nest)
            self.take("kw", op)
            node, bare, at = operand()
            items.append(self.cond(node, bare, at))
        return BoolOp(op, tuple(items)), False, first

    def negation(self) -> tuple[Node, bool, int]:
        first = self.pos
        if not self.peek("kw", "NOT"):
            return self.test()
        self.take("kw", "NOT")
        node, bare, at = self.negation()
        inner = self.cond(node, bare, at)
        if bare and isinstance(inner, _NEGATABLE):
            return dataclasses.replace(inner, negated=not inner.negated), False, first
        return Not(inner), False, first

    def test(self) -> tuple[Node, bool, int]:
        """``x IS [NOT] NULL|TRUE|FALSE``, left-associative (``a = b IS NULL`` is ``(a = b) IS NULL``)."""
        first = self.pos
        node, bare, _ = self.comparison()
        while self.peek("kw", "IS"):
            self.take("kw", "IS")
            negated = self.peek("kw", "NOT")
            if negated:
                self.take("kw", "NOT")
            if not any(self.peek("kw", word) for word in ("NULL", "TRUE", "FALSE")):
                if self.pos < len(self.toks):
                    raise self.err("IS must be followed by NULL, TRUE or FALSE", *self.span(first))
                raise self.unexpected()
            word = self.take("kw").value
            node, bare = IsTest(node, word, negated), True
        return node, bare, first

    def comparison(self) -> tuple[Node, bool, int]:
        first = self.pos
        node, bare, _ = self.membership()
        if not self.peek("op"):
            return node, bare, first
        op = self.take("op").value
        left = self.value(node, first)
        at = self.pos
        right, _, _ = self.membership()
        if self.peek("op"):  # `a = b = c`: comparisons do not associate, in PostgreSQL either
            raise self.err("expected a value (column, literal, placeholder or function call) here", *self.span(first))
        return Compare(op, left, self.value(right, at)), False, first

    def membership(self) -> tuple[Node, bool, int]:
        """``x [NOT] IN (…)``, ``x [NOT] LIKE|ILIKE p``, ``x [NOT] BETWEEN a AND b``: non-associative."""
        first = self.pos
        node = self.primary()
        negated = self.peek("kw", "NOT") and any(
            self.peek("kw", word, 1) for word in ("IN", "LIKE", "ILIKE", "BETWEEN")
        )
        if negated:
            self.take("kw", "NOT")
        if self.peek("kw", "IN"):
            self.take("kw", "IN")
            operand = self.value(node, first)
            self.take("(")
            if self.peek(")"):
                raise self.err("IN needs a non-empty list", *self.span(first))
            items = []
            while True:
                at = self.pos
                item = self.value(self.primary(), at)
                if not isinstance(item, Literal | Placeholder):
                    raise self.err("IN lists may only contain literals and placeholders", *self.span(at))
                items.append(item)
                if not self.peek(","):
                    break
                self.take(",")
            self.take(")")
            result: Node = InList(operand, tuple(items), negated)
        elif self.peek("kw", "LIKE") or self.peek("kw", "ILIKE"):
            op = self.take("kw").value
            operand = self.value(node, first)
            at = self.pos
            pattern = self.value(self.primary(), at)
            string = isinstance(pattern, Literal) and pattern.kind == "str"
            if not string and not isinstance(pattern, Placeholder):
                raise self.err(f"the {op} pattern must be a string literal or a placeholder", *self.span(at))
            result = Like(operand, op, pattern, negated)
        elif self.peek("kw", "BETWEEN"):
            self.take("kw", "BETWEEN")
            operand = self.value(node, first)
            at = self.pos
            low = self.value(self.primary(), at)
            self.take("kw", "AND")
            at = self.pos
            high = self.value(self.primary(), at)
            result = Between(operand, low, high, negated)
        else:
            return node, False, first
        if any(self.peek("kw", word) for word in ("IN", "LIKE", "ILIKE", "BETWEEN")) or (
            self.peek("kw", "NOT") and any(self.peek("kw", w, 1) for w in ("IN", "LIKE", "ILIKE", "BETWEEN"))
        ):
            raise self.unexpected()  # `a IN (1) IN (2)`: these do not associate, in PostgreSQL either
        return result, True, first

    def primary(self) -> Node:
        if self.pos >= len(self.toks):
            raise self.unexpected()
        tok = self.toks[self.pos]
        if tok.kind == "(":
            self.take("(")
            node, _, at = self.disjunction()
            self.take(")")
            return node
        if tok.kind in ("str", "num", "ph", "col"):
            self.seen.add(self.pos)
            self.pos += 1
            return Literal(tok.kind, tok.value) if tok.kind in ("str", "num") else tok.value
        if tok.kind == "kw" and tok.value in ("TRUE", "FALSE", "NULL"):
            self.take("kw")
            return Literal("null", "NULL") if tok.value == "NULL" else Literal("bool", tok.value)
        if tok.kind == "fn":
            self.seen.add(self.pos)
            self.pos += 1
            self.take("(")
            args: list[Value] = []
            while not self.peek(")"):
                at = self.pos
                args.append(self.value(self.disjunction()[0], at))
                if not self.peek(","):
                    break
                self.take(",")
            self.take(")")
            low, high = ALLOWED_FUNCTIONS[tok.value]
            if not low <= len(args) <= high:
                raise self.err(f'wrong number of arguments for function "{tok.text}"', tok.offset, len(tok.text))
            return Func(tok.value, tuple(args))
        raise self.unexpected()
