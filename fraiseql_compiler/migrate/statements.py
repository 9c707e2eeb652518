"""Splitting a block of SQL into its statements, each with the line it starts on, so that a failing one is
reported with its file and line. A small lexer: quoted strings (``'…'``, ``E'…'``), quoted identifiers,
dollar quotes (``$fn$…$fn$``), ``--`` and ``/* */`` comments (nested), and ``;`` at the top level."""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split(sql: str) -> list[tuple[str, int]]:
    """(statement, 0-based line of its first character) of every statement in ``sql``."""
    out: list[tuple[str, int]] = []
    start, i, n = 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif ch == "'":
            escaped = i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            i += 1
            while i < n:
                if escaped and sql[i] == "\\":
                    i += 2
                elif sql[i] == "'":
                    if sql.startswith("''", i):
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
        elif ch == '"':
            end = sql.find('"', i + 1)
            while end >= 0 and sql.startswith('""', end):
                end = sql.find('"', end + 2)
            i = n if end < 0 else end + 1
        elif (
            ch == "$"
            and (match := _DOLLAR.match(sql, i))
            and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_"))
        ):
            tag = match.group(0)
            end = sql.find(tag, match.end())
            i = n if end < 0 else end + len(tag)
        elif ch == ";":
            _add(out, sql, start, i + 1)
            start = i = i + 1
        else:
            i += 1
    _add(out, sql, start, n)
    return out


def _add(out: list[tuple[str, int]], sql: str, start: int, end: int) -> None:
    text = sql[start:end]
    body = _strip_comments(text).strip()
    if body and body != ";":
        skipped = 0  # blank and comment lines before the statement itself
        for line in text.split("\n"):
            if line.strip() and not line.strip().startswith("--"):
                break
            skipped += 1
        out.append((text.strip(), sql.count("\n", 0, start) + skipped))


def _strip_comments(text: str) -> str:
    lines = [line for line in text.split("\n") if not line.strip().startswith("--")]
    return "\n".join(lines)
