"""The reference executor: applies a manifest exactly as a runtime must, so the contract is tested end to end.

``tokens`` verifies and mints JWTs, ``claims`` normalizes them, ``static_keys`` matches static API keys,
``arguments`` checks arguments against their GraphQL types, ``run`` executes one operation on PostgreSQL as
the caller's API role. ``fraiseql token`` and ``fraiseql query`` wrap them.
"""

from __future__ import annotations

from fraiseql_compiler.executor.errors import ExecutionError

__all__ = ["ExecutionError"]
