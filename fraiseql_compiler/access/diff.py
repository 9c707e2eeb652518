"""What changed in who can run what between two manifests (a base branch's and a pull request's).

Each change has a stable ``id`` (for baselines and suppressions), a ``kind``, whether it ``widens`` access,
and a sentence. What counts as widening is decided conservatively:

- ``gained`` (widens), ``lost`` (narrows): an identity can now, or can no longer, run an operation; id
  ``query.posts anonymous``. An operation added is a gain for every identity that reaches it, one removed
  a loss.
- ``scopes_changed``: the scopes a scoped credential (``api_key``, an extra role) must hold to run an
  operation changed; id ``mutation.createPost api_key scopes``. It widens unless the new scopes include
  the old ones (dropping or replacing a scope lets other keys in).
- ``row_filter_added`` (narrows), ``row_filter_removed`` (widens), ``row_filter_changed`` (widens: the new
  predicate may select more); id ``query.me row_filter``.
- ``source_changed`` (widens): a query reads another relation; id ``query.posts source``.
- ``policy_added`` (widens: the generated policies are permissive), ``policy_removed`` (narrows),
  ``policy_changed`` (widens: its predicate, or the SQL it compiles to, changed); id the policy's own,
  ``type.Post.policy.anonymous.read``.

Identities are the union of both manifests' matrix columns, each evaluated in both manifests (a scope
that only the new manifest uses still compares the old access of a user holding it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fraiseql_compiler.access.matrix import ANONYMOUS, Cell, Facts, Identity, Operation, evaluate, identities
from fraiseql_compiler.manifest.models import Manifest, PolicyEntry, QueryEntry

ChangeKind = Literal[
    "gained",
    "lost",
    "scopes_changed",
    "row_filter_added",
    "row_filter_removed",
    "row_filter_changed",
    "source_changed",
    "policy_added",
    "policy_removed",
    "policy_changed",
]


ANONYMOUS_CALLER = Identity(ANONYMOUS, ANONYMOUS, ANONYMOUS, (), False, "a request without credentials")


@dataclass(frozen=True)
class Change:
    id: str  # stable: "query.posts anonymous", "query.me row_filter", "type.Post.policy.anonymous.read"
    kind: ChangeKind
    widens: bool
    message: str  # one sentence; names, scopes and predicates in `backticks`
    subject: str  # the operation's id ("query.posts") or the policy's id
    identity: str | None = None  # gained, lost, scopes_changed: the identity's key
    old: str | None = None  # the previous predicate, relation or scopes, when there was one
    new: str | None = None


@dataclass(frozen=True)
class AccessDiff:
    changes: tuple[Change, ...]  # sorted by id

    @property
    def widenings(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.widens)

    @property
    def narrowings(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.widens)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def change(self, id: str) -> Change:
        for c in self.changes:
            if c.id == id:
                return c
        raise KeyError(f"no change {id!r}")


def code(text: str) -> str:
    """``text`` as a Markdown code span (which plain text shows as well)."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def access_diff(old: Manifest, new: Manifest) -> AccessDiff:
    old_facts, new_facts = Facts(old), Facts(new)
    columns: dict[str, Identity] = {}
    for i in (*identities(old, old_facts), *identities(new, new_facts)):
        columns.setdefault(i.key, i)
    old_ops = {op.id: (kind, op) for kind, op in old_facts.operations()}
    new_ops = {op.id: (kind, op) for kind, op in new_facts.operations()}
    changes: list[Change] = []
    for op_id in sorted(old_ops.keys() | new_ops.keys()):
        before, after = old_ops.get(op_id), new_ops.get(op_id)
        kind, op = after or old_ops[op_id]
        what = f"{kind} {code(op.graphql_name)}"
        # Any caller may leave its credentials out: what anonymous callers can run, everyone can. An auth flow
        # run as another role than the caller's (anonymous, the authenticator) gives a caller what it gives
        # anonymous callers, so gaining or losing it matters only when anonymous callers gain or lose it.
        public = (_public(old_facts, before), _public(new_facts, after))
        for identity in columns.values():
            was = evaluate(old_facts, before[1], identity) if before else Cell(identity.key, False)
            now = evaluate(new_facts, after[1], identity) if after else Cell(identity.key, False)
            if (now.runs_as and not was.allowed and public[0]) or (was.runs_as and not now.allowed and public[1]):
                continue
            changes += _cell_changes(op_id, what, identity, was, now, added=before is None, removed=after is None)
        if before is not None and after is not None:
            changes += _query_changes(op_id, what, before[1], after[1])
    changes += _policy_changes(old_facts, new_facts)
    return AccessDiff(tuple(sorted(changes, key=lambda c: c.id)))


def _public(facts: Facts, entry: tuple[str, Operation] | None) -> bool:
    return entry is not None and evaluate(facts, entry[1], ANONYMOUS_CALLER).allowed


def _who(identity: Identity, needs: tuple[str, ...]) -> str:
    holding = f" holding {_scopes(needs)}" if needs else ""
    return f"{code(identity.label)}{holding}"


def _cell_changes(
    op_id: str, what: str, identity: Identity, was: Cell, now: Cell, added: bool, removed: bool
) -> list[Change]:
    key = f"{op_id} {identity.key}"
    if now.allowed and not was.allowed:
        detail = _rows(now)
        message = (
            f"new {what}: {_who(identity, now.needs)} can run it{detail}"
            if added
            else f"{_who(identity, now.needs)} can now run {what}{detail}"
        )
        return [Change(key, "gained", True, message, op_id, identity.key)]
    if was.allowed and not now.allowed:
        message = (
            f"{what} was removed: {_who(identity, was.needs)} could run it"
            if removed
            else f"{_who(identity, was.needs)} can no longer run {what}"
        )
        return [Change(key, "lost", False, message, op_id, identity.key)]
    if was.allowed and now.allowed and was.needs != now.needs:
        widens = not set(now.needs) >= set(was.needs)
        old, new = ", ".join(was.needs), ", ".join(now.needs)
        message = f"{code(identity.label)} needs {_scopes(now.needs)} for {what} (it needed {_scopes(was.needs)})"
        return [
            Change(f"{key} scopes", "scopes_changed", widens, message, op_id, identity.key, old or None, new or None)
        ]
    return []


def _scopes(scopes: tuple[str, ...]) -> str:
    return " and ".join(code(s) for s in scopes) if scopes else "no scope"


def _rows(cell: Cell) -> str:
    notes = [f"rows: {code(cell.row_filter)}"] if cell.row_filter else []
    if cell.runs_as:
        notes.append(f"as {code(cell.runs_as)}")
    if cell.no_rows:
        notes.append("no read policy on its table: it sees no row")
    return f" ({'; '.join(notes)})" if notes else ""


def _query_changes(op_id: str, what: str, before: Operation, after: Operation) -> list[Change]:
    if not (isinstance(before, QueryEntry) and isinstance(after, QueryEntry)):
        return []
    out = []
    key = f"{op_id} row_filter"
    old = before.row_filter.source if before.row_filter is not None else None
    new = after.row_filter.source if after.row_filter is not None else None
    if old is None and new is not None:
        out.append(
            Change(key, "row_filter_added", False, f"{what} now filters its rows: {code(new)}", op_id, None, old, new)
        )
    elif old is not None and new is None:
        message = f"{what} no longer filters its rows (it filtered {code(old)})"
        out.append(Change(key, "row_filter_removed", True, message, op_id, None, old, new))
    elif old is not None and new is not None and old != new:
        message = f"{what} filters its rows by {code(new)} instead of {code(old)}"
        out.append(Change(key, "row_filter_changed", True, message, op_id, None, old, new))
    if before.sql_source != after.sql_source:
        message = f"{what} reads {code(after.sql_source)} instead of {code(before.sql_source)}"
        out.append(
            Change(f"{op_id} source", "source_changed", True, message, op_id, None, before.sql_source, after.sql_source)
        )
    return out


def _policies(facts: Facts) -> dict[str, tuple[str, str, PolicyEntry]]:
    """policy id → (type, table, policy)."""
    return {p.id: (t, table, p) for table, entries in facts.table_policies.items() for t, p in entries}


def _policy_changes(old_facts: Facts, new_facts: Facts) -> list[Change]:
    before, after = _policies(old_facts), _policies(new_facts)
    out = []
    for pid in sorted(before.keys() | after.keys()):
        was, now = before.get(pid), after.get(pid)
        if was is None and now is not None:
            _, table, p = now
            message = f"{code(p.role)} may now {p.action} rows of {code(table)} where {code(p.predicate)}"
            out.append(Change(pid, "policy_added", True, message, pid, None, None, p.predicate))
        elif was is not None and now is None:
            _, table, p = was
            message = (
                f"{code(p.role)} may no longer {p.action} rows of {code(table)} (it could where {code(p.predicate)})"
            )
            out.append(Change(pid, "policy_removed", False, message, pid, None, p.predicate, None))
        elif was is not None and now is not None:
            (_, _, p), (_, table, q) = was, now
            if p.predicate != q.predicate:
                message = (
                    f"{code(q.role)} may {q.action} rows of {code(table)} where {code(q.predicate)}, "
                    f"instead of where {code(p.predicate)}"
                )
                out.append(Change(pid, "policy_changed", True, message, pid, None, p.predicate, q.predicate))
            elif p.sql != q.sql:
                message = (
                    f"{code(q.role)}'s {q.action} rule on {code(table)} ({code(q.predicate)}) compiles to other SQL: "
                    f"{code(q.sql)} instead of {code(p.sql)}"
                )
                out.append(Change(pid, "policy_changed", True, message, pid, None, p.sql, q.sql))
    return out


__all__ = ["AccessDiff", "Change", "ChangeKind", "access_diff"]
