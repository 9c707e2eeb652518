"""The database objects a build creates, one by one: what ``fraiseql migrate`` creates, re-creates when its
content changes, and drops when it leaves the build.

Each object is a block of the generated SQL files, preceded by a marker line naming it::

    -- fraiseql:object {"kind":"view","name":"view:public.v_post"}

so the reviewed files are what ``migrate`` applies: it cuts them at the markers and checks each block
against the hash the manifest records. Kinds:

- ``setup``: roles, schemas, the claim helpers, the auth functions. Idempotent; re-run when changed, never
  dropped.
- ``versioned``: a step that holds data (the credential tables of ``fraiseql``). Applied once, in order;
  a released step is never edited (a later compiler adds a new step).
- ``view``, ``rls`` (a table's policies and privileges), ``user_sources``, ``api_view``, ``api_function``,
  ``mutation``: repeatable. Re-created (dropped, then created) when changed, together with the objects that
  depend on them; dropped when they leave the build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

ObjectKind = Literal["setup", "versioned", "view", "rls", "user_sources", "api_view", "api_function", "mutation"]
MARKER = "-- fraiseql:object "


@dataclass(frozen=True)
class SqlObject:
    kind: ObjectKind
    name: str  # unique in a build, e.g. "view:public.v_post"
    sql: str  # the block, as the file holds it (no trailing newline)
    drop: str | None = None  # how to remove it (None: setup and versioned steps are never removed)
    depends_on: tuple[str, ...] = ()  # names of objects of the build it needs
    # rls: policy name → what it allows ("SELECT TO role USING (…)"), for migrate's hazard checks
    details: dict[str, str] | None = None

    @property
    def hash(self) -> str:
        return object_hash(self.sql)

    def block(self) -> str:
        return marker(self.kind, self.name) + "\n" + self.sql


def object_hash(sql: str) -> str:
    """The hash of what an object does: its SQL without whole-line comments, so that a comment that moved
    (``-- Post (schema.py:67)`` after an edit above it) re-creates nothing. The file's own hash, in the
    manifest's ``artifacts``, still covers every byte."""
    meaningful = "\n".join(line for line in sql.split("\n") if not line.lstrip().startswith("--"))
    return "sha256:" + hashlib.sha256(meaningful.encode("utf-8")).hexdigest()


def marker(kind: str, name: str) -> str:
    return MARKER + json.dumps({"kind": kind, "name": name}, separators=(",", ":"))


def split_blocks(text: str) -> list[tuple[str, str, str, int]]:
    """(kind, name, sql, line of the block's first line) of every marked block of a generated file."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(MARKER)]
    out = []
    for n, i in enumerate(starts):
        head = json.loads(lines[i][len(MARKER) :])
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        sql = "\n".join(lines[i + 1 : end]).rstrip("\n")
        out.append((str(head["kind"]), str(head["name"]), sql, i + 2))
    return out
