import fraiseql
from fraiseql.auth import authenticated, requires_scope
from fraiseql.scalars import ID


@fraiseql.mutation
@authenticated
@requires_scope("admin:users")
def revoke_all(info, sub: ID) -> int:
    """Meant for admins only, but the decorator would not be enforced."""
