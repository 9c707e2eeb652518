import fraiseql
from fraiseql.scalars import ID


@fraiseql.type
def post() -> ID:
    return ID("post")
