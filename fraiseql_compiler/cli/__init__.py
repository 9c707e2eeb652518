"""The ``fraiseql`` command: thin click commands over ``fraiseql_compiler.api``.

Heavy modules (jinja2, psycopg, pydantic, rich) are imported inside the commands so ``--help`` is fast.
"""

from __future__ import annotations

from fraiseql_compiler.cli.app import app, main

__all__ = ["app", "main"]
