"""fraiseql-compiler: compiles FraiseQL schema modules into SQL, a runtime manifest and GraphQL SDL."""

from __future__ import annotations

__version__ = "0.1.0"
