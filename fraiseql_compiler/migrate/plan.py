"""The plan: what ``migrate`` would do to reach the build's state, computed from the build, the history and
the catalog's fingerprints. Pure: no database, no clock.

Order: objects that leave the build, changed objects and every object depending on them are dropped first
(dependents before what they depend on); then the user's pending migrations; then, in the build's order, the
pending versioned steps, the setup objects that changed (re-run: they are idempotent), and every object that
is new or was dropped above (created again). So a view whose columns changed is replaced together with the
views, API objects and privileges built on it, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fraiseql_compiler.migrate.errors import refused
from fraiseql_compiler.migrate.history import History, Recorded, chain
from fraiseql_compiler.migrate.source import Build, UserMigration

ActionKind = Literal["user", "versioned", "drop", "create", "replace", "rerun", "repair"]
HAZARDS = {
    "drop-data": "drops a table or a column, or empties a table: the data it holds would be lost",
    "disable-rls": "turns row-level security off: every row would be visible to whoever may read the table",
    "remove-policy": "removes a row-level security policy: what it allowed is denied from then on",
    "widen-policy": "changes a policy's predicate: it may let more rows through than before",
    "add-policy": "adds a permissive policy to a table that had policies: more rows may be visible",
}
_DROP_DATA = re.compile(r"\b(DROP\s+TABLE|DROP\s+COLUMN|TRUNCATE)\b", re.I)
_DISABLE_RLS = re.compile(r"\b(DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\b", re.I)
REPEATABLE = frozenset({"view", "rls", "user_sources", "api_view", "api_function", "mutation"})


@dataclass(frozen=True)
class Action:
    action: ActionKind
    name: str
    kind: str
    sql: str
    checksum: str
    file: str | None = None  # where the SQL comes from: a build file, or the user's migration
    line: int = 1
    reason: str = ""


@dataclass(frozen=True)
class Hazard:
    id: str
    object: str
    what: str


@dataclass(frozen=True)
class Drift:
    name: str
    kind: str


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    drift: tuple[Drift, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    recorded: Mapping[str, Recorded] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        return not self.actions and not self.drift


def _check_steps(applied: list[tuple[str, str, str | None]], wanted: list[tuple[str, str]], what: str) -> int:
    """How many of ``wanted`` are applied; refuses an applied step edited, missing or reordered."""
    previous: str | None = None
    for i, (name, checksum, stored_chain) in enumerate(applied):
        if i >= len(wanted) or wanted[i][0] != name:
            there = wanted[i][0] if i < len(wanted) else "nothing"
            raise refused(
                "FQL402",
                f"the {what} {name} was applied here, but the build has {there} in its place",
                "another branch applied other migrations: restore the applied file in its place and renumber yours",
            )
        if wanted[i][1] != checksum:
            raise refused(
                "FQL402",
                f"the {what} {name} was edited after it was applied (its checksum differs)",
                "restore it as applied, and put the change in a new migration",
            )
        previous = chain(previous, checksum)
        if stored_chain is not None and stored_chain != previous:
            raise refused("FQL402", f"the history's checksum chain breaks at {name}: the history was altered")
    return len(applied)


def closure(start: Iterable[str], graph: Mapping[str, tuple[str, ...]]) -> set[str]:
    """``start`` and everything depending on it, transitively (``graph``: name → what it depends on)."""
    dependents: dict[str, set[str]] = {}
    for name, needs in graph.items():
        for need in needs:
            dependents.setdefault(need, set()).add(name)
    out, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo.extend(dependents.get(name, ()))
    return out


def drop_order(names: set[str], graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    """``names`` with dependents before what they depend on (ties by name, for a stable plan)."""
    dependents: dict[str, list[str]] = {}
    for other in sorted(names):
        for need in graph.get(other, ()):
            dependents.setdefault(need, []).append(other)
    done: list[str] = []
    seen: set[str] = set()
    for root in sorted(names):  # post-order on dependents, without recursion (chains run thousands deep)
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(dependents.get(root, ())))]
        while stack:
            name, rest = stack[-1]
            for other in rest:
                if other not in seen:
                    seen.add(other)
                    stack.append((other, iter(dependents.get(other, ()))))
                    break
            else:
                stack.pop()
                done.append(name)
    return done


def _hazards(build: Build, pending_user: list[UserMigration], recorded: Mapping[str, Recorded]) -> list[Hazard]:
    out: list[Hazard] = []
    texts = [(u.name, u.sql) for u in pending_user]
    texts += [(o.name, o.sql) for o in build.objects if o.kind == "versioned" and o.name not in recorded]
    for name, sql in texts:
        if match := _DROP_DATA.search(sql):
            out.append(Hazard("drop-data", name, match.group(0)))
        if match := _DISABLE_RLS.search(sql):
            out.append(Hazard("disable-rls", name, match.group(0)))
    desired = {o.name: o for o in build.objects}
    for name, rec in recorded.items():
        if rec.kind != "rls":
            continue
        before = rec.details or {}
        after = (desired[name].details or {}) if name in desired else {}
        for policy in sorted(before.keys() - after.keys()):
            out.append(Hazard("remove-policy", name, f"{policy}: {before[policy]}"))
        for policy in sorted(after.keys() & before.keys()):
            if after[policy] != before[policy]:
                out.append(Hazard("widen-policy", name, f"{policy}: {before[policy]} → {after[policy]}"))
        if before:
            for policy in sorted(after.keys() - before.keys()):
                out.append(Hazard("add-policy", name, f"{policy}: {after[policy]}"))
    return out


def plan(
    build: Build,
    history: History,
    current: Mapping[str, str],
    exists: set[str] | None = None,
    repair: bool = False,
) -> Plan:
    """``current``: the catalog fingerprint of every recorded object (and of the build's objects that are
    not recorded); ``exists``: those of the unrecorded ones the catalog has (a build applied before migrate
    kept a history: adopted by dropping and creating them)."""
    recorded = history.objects
    exists = exists or set()
    applied_user = [(s.name, s.checksum, s.chain) for s in history.steps if s.kind == "user"]
    done_user = _check_steps(applied_user, [(u.name, u.checksum) for u in build.user], "migration")
    pending_user = list(build.user[done_user:])
    versioned = [o for o in build.objects if o.kind == "versioned"]
    applied_versioned = [(s.name, s.checksum, s.chain) for s in history.steps if s.kind == "versioned"]
    done_versioned = _check_steps(applied_versioned, [(o.name, o.hash) for o in versioned], "versioned step")
    pending_versioned = {o.name for o in versioned[done_versioned:]}

    drift = [
        Drift(name, rec.kind)
        for name, rec in sorted(recorded.items())
        if rec.fingerprint is not None and current.get(name) is not None and current[name] != rec.fingerprint
    ]
    desired = {o.name: o for o in build.objects if o.kind != "versioned"}
    graph: dict[str, tuple[str, ...]] = {n: r.depends_on for n, r in recorded.items()}
    graph.update({n: o.depends_on for n, o in desired.items() if n not in graph or n not in recorded})
    repaired = {d.name for d in drift} if repair else set()
    removed = {n for n in recorded if n not in desired and recorded[n].kind in REPEATABLE}
    changed = {n for n, o in desired.items() if n in recorded and recorded[n].hash != o.hash}
    adopted = {n for n, o in desired.items() if n not in recorded and n in exists and o.kind in REPEATABLE}
    seeds = removed | {n for n in changed | repaired | adopted if desired[n].kind in REPEATABLE}
    to_drop = {n for n in closure(seeds, graph) if n in recorded or n in adopted or n in exists}
    to_drop = {n for n in to_drop if (recorded[n].kind if n in recorded else desired[n].kind) in REPEATABLE}

    actions: list[Action] = []
    for name in drop_order(to_drop, graph):
        rec = recorded.get(name)
        sql = rec.drop if rec is not None else desired[name].drop
        if sql:
            why = "left the build" if name in removed else ("adopted" if rec is None else "re-created")
            kind = rec.kind if rec is not None else desired[name].kind
            actions.append(Action("drop", name, kind, sql, rec.hash if rec else desired[name].hash, reason=why))
    for u in pending_user:
        actions.append(Action("user", u.name, "user", u.sql, u.checksum, str(u.path), 1))
    for o in build.objects:
        if o.kind == "versioned":
            if o.name in pending_versioned:
                actions.append(Action("versioned", o.name, o.kind, o.sql, o.hash, o.file, o.line))
            continue
        if o.kind == "setup":
            if o.name not in recorded:
                actions.append(Action("create", o.name, o.kind, o.sql, o.hash, o.file, o.line))
            elif o.name in changed or o.name in repaired:
                action: ActionKind = "repair" if o.name in repaired and o.name not in changed else "rerun"
                actions.append(Action(action, o.name, o.kind, o.sql, o.hash, o.file, o.line))
            continue
        if o.name in to_drop or o.name not in recorded:
            if o.name in repaired and o.name not in changed:
                action = "repair"
            elif o.name in recorded:
                action = "replace"
            else:
                action = "create"
            actions.append(Action(action, o.name, o.kind, o.sql, o.hash, o.file, o.line))
    hazards = _hazards(build, pending_user, recorded)
    return Plan(tuple(actions), tuple(drift), tuple(hazards), recorded)
