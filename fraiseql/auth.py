"""Auth decorators, as the FraiseQL authentication guide imports them."""

from __future__ import annotations

from fraiseql._decorators import api_key_required, authenticated, public, requires_scope

__all__ = ["api_key_required", "authenticated", "public", "requires_scope"]
