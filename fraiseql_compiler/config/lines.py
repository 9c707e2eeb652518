"""Line numbers for TOML key paths (tomllib keeps no positions).

A small scanner over text that tomllib has already accepted: it follows ``[table]`` and ``[[array]]``
headers (so the second ``[[security.providers]]`` is ``("security", "providers", 1)``), dotted and quoted
keys, multi-line strings, and arrays and inline tables, whose elements and keys get their own lines.
"""

from __future__ import annotations

import bisect
import contextlib
import re

Loc = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r"\\.", re.S)


class LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.lines: dict[Loc, int] = {}
        self._arrays: dict[Loc, int] = {}
        # never fail a build over a line number: on a surprise, line_of falls back to prefixes
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def line_of(self, loc: Loc) -> int:
        """The line of ``loc``, else of its closest recorded ancestor, else of its first descendant."""
        loc = tuple(loc)
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        below = [line for key, line in self.lines.items() if key[: len(loc)] == loc]
        return min(below) if below else 1

    # -- scanning ---------------------------------------------------------------------------------------

    def _line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _record(self, loc: Loc, pos: int) -> None:
        self.lines.setdefault(loc, self._line(pos))

    def _skip(self, pos: int, newlines: bool) -> int:
        text = self.text
        while pos < len(text):
            c = text[pos]
            if c in " \t\r" or (newlines and c == "\n"):
                pos += 1
            elif c == "#":
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end
            else:
                break
        return pos

    def _resolve(self, parts: list[str]) -> Loc:
        out: Loc = ()
        for part in parts:
            out += (part,)
            if out in self._arrays:
                out += (self._arrays[out],)
        return out

    def _document(self) -> None:
        text, pos = self.text, 0
        current: Loc = ()
        while True:
            pos = self._skip(pos, newlines=True)
            if pos >= len(text):
                return
            start = pos
            if text.startswith("[[", pos):
                parts, pos = self._key(pos + 2)
                table = (*self._resolve(parts[:-1]), parts[-1])
                self._arrays[table] = self._arrays.get(table, -1) + 1
                current = (*table, self._arrays[table])
                self._record(table, start)
                self._record(current, start)
                pos = self._skip(pos, newlines=False) + 2  # "]]"
            elif text[pos] == "[":
                parts, pos = self._key(pos + 1)
                current = self._resolve(parts)
                self._record(current, start)
                pos = self._skip(pos, newlines=False) + 1  # "]"
            else:
                parts, pos = self._key(pos)
                loc = (*current, *parts)
                self._record(loc, start)
                pos = self._skip(pos, newlines=False)
                if text[pos] != "=":
                    raise ValueError("expected =")
                pos = self._value(self._skip(pos + 1, newlines=False), loc)
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1

    def _key(self, pos: int) -> tuple[list[str], int]:
        parts: list[str] = []
        while True:
            pos = self._skip(pos, newlines=False)
            c = self.text[pos]
            if c == '"':
                end = self._string_end(pos, '"')
                parts.append(_unescape(self.text[pos + 1 : end - 1]))
                pos = end
            elif c == "'":
                end = self.text.index("'", pos + 1) + 1
                parts.append(self.text[pos + 1 : end - 1])
                pos = end
            else:
                match = _BARE.match(self.text, pos)
                if not match:
                    raise ValueError("expected a key")
                parts.append(match.group())
                pos = match.end()
            pos = self._skip(pos, newlines=False)
            if self.text[pos] != ".":
                return parts, pos
            pos += 1

    def _string_end(self, pos: int, quote: str) -> int:
        """Index just past the string starting at ``pos`` (basic, literal, or multi-line)."""
        text = self.text
        if text.startswith(quote * 3, pos):
            i = pos + 3
            while True:
                i = text.index(quote * 3, i)
                if quote == '"' and _escaped(text, i):
                    i += 1
                    continue
                end = i + 3
                while end < len(text) and text[end] == quote:  # """a"""" ends with the last three quotes
                    end += 1
                return end
        if quote == "'":
            return text.index("'", pos + 1) + 1
        i = pos + 1
        while text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        return i + 1

    def _value(self, pos: int, loc: Loc) -> int:
        text = self.text
        c = text[pos]
        if c in "\"'":
            return self._string_end(pos, c)
        if c == "[":
            pos, index = pos + 1, 0
            while True:
                pos = self._skip(pos, newlines=True)
                if text[pos] == "]":
                    return pos + 1
                self._record((*loc, index), pos)
                pos = self._skip(self._value(pos, (*loc, index)), newlines=True)
                index += 1
                if text[pos] == ",":
                    pos += 1
        if c == "{":
            pos += 1
            while True:
                pos = self._skip(pos, newlines=False)
                if text[pos] == "}":
                    return pos + 1
                start = pos
                parts, pos = self._key(pos)
                self._record((*loc, *parts), start)
                pos = self._skip(pos, newlines=False) + 1  # "="
                pos = self._skip(self._value(self._skip(pos, newlines=False), (*loc, *parts)), newlines=False)
                if text[pos] == ",":
                    pos += 1
        while pos < len(text) and text[pos] not in ",]}#\n":
            pos += 1
        return pos


def _escaped(text: str, i: int) -> bool:
    backslashes = 0
    while i > 0 and text[i - 1] == "\\":
        backslashes += 1
        i -= 1
    return backslashes % 2 == 1


def _unescape(raw: str) -> str:
    return _ESCAPE.sub(lambda m: {"\\n": "\n", "\\t": "\t"}.get(m.group(), m.group()[1:]), raw)


def dotted(loc: Loc) -> str:
    """``security.providers[1].issuer``; keys that are not bare (namespaced claims) are quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _BARE.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            out += ("." if out else "") + name
    return out
