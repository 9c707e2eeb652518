"""``fraiseql migrate``: apply the committed build (and your own migrations folder) to PostgreSQL safely.

Stages: :func:`load_build` (the build, verified against the manifest's hashes) → :func:`inspect` (the plan,
read-only) → :func:`apply` (under an advisory lock, in one transaction). See ``docs/migrate.md``.
"""

from __future__ import annotations

from fraiseql_compiler.migrate.apply import Options, Outcome, apply, inspect
from fraiseql_compiler.migrate.source import Build, load_build

__all__ = ["Build", "Options", "Outcome", "apply", "inspect", "load_build"]
