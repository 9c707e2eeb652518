"""Parsing and checking of user-written predicates (`row_filter`, RLS policies).

This module is the SQL-injection boundary of fraiseql-compiler. User text goes
through three independent gates, and is never pasted into the output:

1. our own scanner, which knows exactly which characters and words may occur
   (strings, placeholders, lowercase columns, a few keywords and operators) and
   rejects everything else with a precise offset;
2. sqlglot (PostgreSQL dialect), which only ever sees a *sanitized* token
   stream: every column, literal, placeholder and function name is replaced by
   an opaque sentinel `__fql_t<N>`, so it decides structure and nothing else;
3. an allow-list conversion of the sqlglot tree into our own node classes
   (`predicate_render`), followed by a conservation check that every token of
   the input is accounted for exactly once in the tree, so a lenient parser can
   never silently drop part of a filter.

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

import bisect
import dataclasses
import keyword
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

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
# sqlglot's recursive descent takes ~21 frames per parenthesis level (~10 per NOT): 32 levels stay well
# inside Python's default recursion limit of 1000, which the compiler never changes (it is process-wide).
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
_SENTINEL_RE = re.compile(r"__fql_t([0-9]+)\Z")
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
_COMPARE_NODES: dict[type[exp.Expression], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}


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
    tree = _Converter(text, toks, context).convert()
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
            # sqlglot reads `x NOT IS NULL` as `x IS NOT NULL`; PostgreSQL rejects it, so do we.
            raise self.err("NOT IS is not valid SQL", start, offset + len(tok_text) - start, "write IS NOT")
        if (kind == "," and prev in ("(", ",")) or (kind == ")" and prev == ","):  # sqlglot would drop it
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


class _Converter:
    """Allow-list conversion of sqlglot's tree over the sanitized text into our nodes."""

    def __init__(self, text: str, toks: list[_Tok], context: str) -> None:
        self.text, self.toks, self.ctx = text, toks, context
        self.used: Counter[str] = Counter()  # tokens the tree accounts for, see `convert`
        self.implied_parens = 0  # `a = b IS NULL`: sqlglot adds the parentheses PostgreSQL implies
        self.seen: set[int] = set()

    def err(self, message: str, offset: int, length: int, hint: str | None = None) -> PredicateError:
        return PredicateError(SYNTAX, message, offset, length, hint)

    def convert(self) -> Node:
        parts = [
            f"__fql_t{n}" if t.kind in ("str", "num", "ph", "col", "fn") else t.value for n, t in enumerate(self.toks)
        ]
        starts = [0]
        for part in parts[:-1]:
            starts.append(starts[-1] + len(part) + 1)
        try:
            tree = sqlglot.parse_one(" ".join(parts), read="postgres")
        except ParseError as e:
            raise self.parse_error(e, starts) from None
        except RecursionError:  # only from a caller already deep in its own stack: MAX_DEPTH fits the default
            raise self.err(f"the {self.ctx} is nested too deeply", 0, len(self.text)) from None
        except SqlglotError:
            raise self.err(f"could not parse the {self.ctx}", 0, len(self.text)) from None
        if not isinstance(tree, exp.Expression):
            raise self.err(f"could not parse the {self.ctx}", 0, len(self.text))
        result = self.cond(tree)
        # Conservation: every token must be accounted for by exactly one node,
        # so nothing the user wrote was silently dropped by the parser.
        atoms = {n for n, t in enumerate(self.toks) if t.kind in ("str", "num", "ph", "col", "fn")}
        expected = Counter(t.value for t in self.toks if t.kind in ("kw", "op", "(", ","))
        extra_parens = self.used.pop("(", 0) - expected.pop("(", 0)
        if self.seen != atoms or self.used != expected or not 0 <= extra_parens <= self.implied_parens:
            raise self.err(f"could not parse the {self.ctx} unambiguously", 0, len(self.text))
        return result

    def parse_error(self, e: ParseError, starts: list[int]) -> PredicateError:
        info = e.errors[0] if e.errors else {}
        highlight, col = info.get("highlight") or "", info.get("col")
        if not highlight or not isinstance(col, int):
            return self.err(f"could not parse the {self.ctx}", 0, len(self.text))
        tok = self.toks[max(0, bisect.bisect_right(starts, col - len(highlight)) - 1)]
        if str(info.get("description", "")).startswith("Required keyword"):
            return self.err(f'incomplete expression after "{tok.text}"', tok.offset, len(tok.text))
        return self.err(f'unexpected "{tok.text}"', tok.offset, len(tok.text))

    def span(self, node: exp.Expression) -> tuple[int, int]:
        """Best-effort (offset, length) of `node` in the original text, from the sentinels under it."""
        found = [
            int(m.group(1))
            for n in node.walk()
            if isinstance(n, exp.Identifier | exp.Anonymous)
            if (m := _SENTINEL_RE.match(str(n.this))) and int(m.group(1)) < len(self.toks)
        ]
        if not found:
            return 0, len(self.text)
        lo, hi = min(found), max(found)
        depth = sum({"(": 1, ")": -1}.get(t.kind, 0) for t in self.toks[lo : hi + 1])
        while depth > 0 and hi + 1 < len(self.toks):  # include the ')' closing a call or an IN list
            hi += 1
            depth += {"(": 1, ")": -1}.get(self.toks[hi].kind, 0)
        while depth < 0 and lo > 0:  # and the '(' opening a parenthesised operand
            lo -= 1
            depth += {"(": 1, ")": -1}.get(self.toks[lo].kind, 0)
        start, last = self.toks[lo].offset, self.toks[hi]
        return start, last.offset + len(last.text) - start

    def atom(self, name: object, kinds: tuple[str, ...]) -> _Tok:
        m = _SENTINEL_RE.match(str(name))
        if not m or int(m.group(1)) >= len(self.toks) or self.toks[int(m.group(1))].kind not in kinds:
            raise self.err(f"could not parse the {self.ctx}", 0, len(self.text))
        self.seen.add(int(m.group(1)))
        return self.toks[int(m.group(1))]

    def only(self, node: exp.Expression, *keys: str) -> None:
        if any(v not in (None, False, []) for k, v in node.args.items() if k not in keys):
            raise self.err(f"unsupported construct in a {self.ctx}", *self.span(node))

    def cond(self, node: exp.Expression) -> Node:
        result = self.node(node)
        boolish = (
            isinstance(result, ColumnRef)
            or (isinstance(result, Literal) and result.kind == "bool")
            or (isinstance(result, Placeholder) and result.kind == "scope")
            or (isinstance(result, Func) and result.name == "coalesce")
        )
        if isinstance(result, VALUE_TYPES) and not boolish:
            raise self.err("expected a boolean condition here", *self.span(node), "compare the value, e.g. `x = ...`")
        return result

    def value(self, node: exp.Expression) -> Value:
        result = self.node(node)
        if not isinstance(result, VALUE_TYPES):
            raise self.err("expected a value (column, literal, placeholder or function call) here", *self.span(node))
        return result

    def node(self, node: exp.Expression) -> Node:
        if isinstance(node, exp.Paren):
            self.only(node, "this")
            self.used["("] += 1
            return self.node(node.this)
        if isinstance(node, exp.And | exp.Or):
            cls, stack = type(node), [node]
            items: list[Node] = []
            while stack:  # flatten iteratively: long AND chains must not hit the recursion limit
                n = stack.pop()
                if type(n) is cls:
                    self.only(n, "this", "expression")
                    self.used[n.key.upper()] += 1
                    stack += [n.expression, n.this]
                else:
                    items.append(self.cond(n))
            return BoolOp(node.key.upper(), tuple(items))
        if isinstance(node, exp.Not):
            self.only(node, "this")
            self.used["NOT"] += 1
            inner = self.cond(node.this)
            # `NOT x IS NULL` is `x IS NOT NULL`, `NOT x IN (...)` is `x NOT IN (...)`, etc.
            negatable = isinstance(node.this, exp.Is | exp.In | exp.Like | exp.ILike | exp.Between)
            if negatable and isinstance(inner, IsTest | InList | Like | Between):
                return dataclasses.replace(inner, negated=not inner.negated)
            return Not(inner)
        if type(node) in _COMPARE_NODES:
            self.only(node, "this", "expression")
            op = _COMPARE_NODES[type(node)]
            self.used[op] += 1
            return Compare(op, self.value(node.this), self.value(node.expression))
        if isinstance(node, exp.Is):
            self.only(node, "this", "expression", "negate")
            test = node.expression
            if not isinstance(test, exp.Null | exp.Boolean):
                raise self.err("IS must be followed by NULL, TRUE or FALSE", *self.span(node))
            word = "NULL" if isinstance(test, exp.Null) else "TRUE" if test.this else "FALSE"
            self.implied_parens += isinstance(node.this, exp.Paren)
            self.used.update(["IS", word] + ["NOT"] * bool(node.args.get("negate")))
            return IsTest(self.node(node.this), word, bool(node.args.get("negate")))
        if isinstance(node, exp.In):
            self.only(node, "this", "expressions")
            self.used.update(["IN", "("] + [","] * (len(node.expressions) - 1))
            members = tuple(self.value(i) for i in node.expressions)
            if not members:
                raise self.err("IN needs a non-empty list", *self.span(node))
            for item, raw in zip(members, node.expressions, strict=True):
                if not isinstance(item, Literal | Placeholder):
                    raise self.err("IN lists may only contain literals and placeholders", *self.span(raw))
            return InList(self.value(node.this), members, False)
        if isinstance(node, exp.Like | exp.ILike):
            self.only(node, "this", "expression", "negate")
            op = node.key.upper()
            self.used.update([op] + ["NOT"] * bool(node.args.get("negate")))
            pattern = self.value(node.expression)
            string = isinstance(pattern, Literal) and pattern.kind == "str"
            if not string and not isinstance(pattern, Placeholder):
                raise self.err(
                    f"the {op} pattern must be a string literal or a placeholder", *self.span(node.expression)
                )
            return Like(self.value(node.this), op, pattern, bool(node.args.get("negate")))
        if isinstance(node, exp.Between):
            self.only(node, "this", "low", "high")
            self.used.update(["BETWEEN", "AND"])
            low, high = self.value(node.args["low"]), self.value(node.args["high"])
            return Between(self.value(node.this), low, high, False)
        return self.leaf(node)

    def leaf(self, node: exp.Expression) -> Node:
        if isinstance(node, exp.Column):
            self.only(node, "this")
            if not isinstance(node.this, exp.Identifier) or node.this.quoted:
                raise self.err(f"could not parse the {self.ctx}", *self.span(node))
            tok = self.atom(node.this.this, ("str", "num", "ph", "col"))
            return Literal(tok.kind, tok.value) if tok.kind in ("str", "num") else tok.value
        if isinstance(node, exp.Boolean):
            self.used["TRUE" if node.this else "FALSE"] += 1
            return Literal("bool", "TRUE" if node.this else "FALSE")
        if isinstance(node, exp.Null):
            self.used["NULL"] += 1
            return Literal("null", "NULL")
        if isinstance(node, exp.Anonymous):
            self.only(node, "this", "expressions")
            tok = self.atom(node.this, ("fn",))
            self.used.update(["("] + [","] * (len(node.expressions) - 1))
            low, high = ALLOWED_FUNCTIONS[tok.value]
            if not low <= len(node.expressions) <= high:
                message = f'wrong number of arguments for function "{tok.text}"'
                raise self.err(message, tok.offset, len(tok.text))
            return Func(tok.value, tuple(self.value(a) for a in node.expressions))
        if isinstance(node, exp.Alias) and isinstance(node.args.get("alias"), exp.Identifier):
            start, length = self.span(node.args["alias"])
            raise self.err(
                f'unexpected "{self.text[start : start + length]}"',
                start,
                length,
                f"a {self.ctx} must be a single expression",
            )
        raise self.err(f"unsupported construct in a {self.ctx}", *self.span(node))
