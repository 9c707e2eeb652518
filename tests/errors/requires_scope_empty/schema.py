import fraiseql
from fraiseql.auth import requires_scope
from fraiseql.scalars import ID


@fraiseql.type(table="tb_post")
class Post:
    id: ID
    title: str


@fraiseql.mutation
@requires_scope()
def create_post(info, title: str) -> Post: ...
