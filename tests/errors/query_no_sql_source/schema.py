import fraiseql
from fraiseql.scalars import ID


@fraiseql.type
class Report:
    author_id: ID
    post_count: int


@fraiseql.query
def reports(limit: int = 100) -> list[Report]: ...
